"""searchlib check: every flipped byte and every truncation is found, naming the file."""

from __future__ import annotations

import json
import random
from pathlib import Path


from searchlib import ID, KEYWORD, TEXT, Index, Schema
from searchlib.check import check_index, index_info
from searchlib.errors import SearchlibError
from tests.conftest import SHARED

CRANFIELD = SHARED / "datasets" / "cranfield" / "corpus.jsonl"


def build(path: Path) -> None:
    """Two segments and a deletes file, from 120 real documents."""
    index = Index.create(path, Schema(id=ID(), title=TEXT(), text=TEXT(), tag=KEYWORD()))
    with open(CRANFIELD, encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(120), handle)]
    for batch in (documents[:60], documents[60:]):
        with index.writer() as writer:
            for document in batch:
                writer.add_document(id=document["id"], title=document["title"], text=document["text"], tag="t")
    with index.writer() as writer:
        writer.delete_by_term("id", documents[3]["id"])


def found(path: Path, damaged: str) -> bool:
    """Whether opening or checking the index reports a problem in the file ``damaged``."""
    try:
        report = check_index(path)
    except SearchlibError as exc:
        return damaged in str(exc)
    return any(Path(p.path).name == damaged for p in report.problems)


def test_a_sound_index_passes(tmp_path: Path) -> None:
    build(tmp_path / "i")
    report = check_index(tmp_path / "i")
    assert report.ok and report.segments == 2 and report.documents == 119
    assert report.files_checked == 11  # 5 files a segment and one deletes file


def test_every_flipped_byte_is_found_naming_its_file(tmp_path: Path) -> None:
    build(tmp_path / "i")
    files = sorted(p for p in (tmp_path / "i").iterdir() if not p.name.endswith(".lock"))
    rng = random.Random(7)
    for file in files:
        original = file.read_bytes()
        offsets = {0, len(original) // 2, len(original) - 1, *rng.sample(range(len(original)), 5)}
        for offset in sorted(offsets):
            damaged = bytearray(original)
            damaged[offset] ^= 0x5A
            file.write_bytes(bytes(damaged))
            assert found(tmp_path / "i", file.name), f"{file.name} byte {offset}"
        file.write_bytes(original)
    assert check_index(tmp_path / "i").ok


def test_every_truncation_is_found_naming_its_file(tmp_path: Path) -> None:
    build(tmp_path / "i")
    for file in sorted(p for p in (tmp_path / "i").iterdir() if not p.name.endswith(".lock")):
        original = file.read_bytes()
        for keep in (0, len(original) // 3, len(original) - 1):
            file.write_bytes(original[:keep])
            assert found(tmp_path / "i", file.name), f"{file.name} cut to {keep}"
        file.write_bytes(original)


def test_searching_a_damaged_index_raises_a_clear_error_not_wrong_results(tmp_path: Path) -> None:
    build(tmp_path / "i")
    post = next((tmp_path / "i").glob("*.post"))
    data = bytearray(post.read_bytes())
    data[len(data) // 3] ^= 0xFF
    post.write_bytes(bytes(data))
    assert found(tmp_path / "i", post.name)


def test_info_reports_the_index(tmp_path: Path) -> None:
    build(tmp_path / "i")
    info = index_info(tmp_path / "i")
    assert info["documents"] == 119 and info["deleted_documents"] == 1
    assert len(info["segments"]) == 2 and info["format_version"] >= 2
    assert info["fields"]["text"]["analyzer"] == {
        "name": "english", "params": {"stemmer": "snowball", "stemmer_version": "rust-stemmers 1.2.0"},
    }
    assert info["fields"]["text"]["terms"] > 500 and info["size_bytes"] > 0


def test_check_and_info_commands(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    build(tmp_path / "i")
    assert run_cli(["check", "--index", "i"], cwd=tmp_path).returncode == 0
    info = json.loads(run_cli(["info", "--index", "i", "--json"], cwd=tmp_path).stdout)
    assert info["documents"] == 119
    store = next((tmp_path / "i").glob("*.store"))
    data = bytearray(store.read_bytes())
    data[20] ^= 1
    store.write_bytes(bytes(data))
    result = run_cli(["check", "--index", "i", "--json"], cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert not report["ok"] and store.name in report["problems"][0]["path"]
    missing = run_cli(["check", "--index", "nowhere"], cwd=tmp_path)
    assert missing.returncode == 2 and "no index at nowhere" in missing.stderr


def test_a_changed_deletion_bit_is_found(tmp_path: Path) -> None:
    build(tmp_path / "i")
    deletes = next((tmp_path / "i").glob("*.del"))
    data = bytearray(deletes.read_bytes())
    body = data.index(b"\x10", 16)  # the bits of segment 0: its 4th document (0b00010000) is deleted
    data[body] ^= 0x18  # moves a deletion to a neighbouring document; the count stays
    deletes.write_bytes(bytes(data))
    assert found(tmp_path / "i", deletes.name)
