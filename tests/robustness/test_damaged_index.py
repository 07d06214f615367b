"""A damaged index gives a clear error naming the file, never a traceback or wrong hits."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchlib import Index, Searcher
from searchlib.errors import CorruptIndexError


def segment_files(index: Index) -> list[Path]:
    return sorted(p for p in index.path.iterdir() if p.name.startswith("seg-"))


def test_every_truncated_segment_file_is_named(news_index: Index) -> None:
    for path in segment_files(news_index):
        original = path.read_bytes()
        for keep in (0, len(original) // 2, len(original) - 1):
            path.write_bytes(original[:keep])
            with pytest.raises(CorruptIndexError, match=path.name):
                Searcher(news_index).search("talks")
        path.write_bytes(original)
    assert Searcher(news_index).search("talks").total == 2


def test_missing_segment_file_is_named(news_index: Index) -> None:
    victim = segment_files(news_index)[0]
    victim.unlink()
    with pytest.raises(CorruptIndexError, match=f"{victim.name}: file is missing"):
        Searcher(news_index)


def test_damaged_manifest_is_named(news_index: Index) -> None:
    manifest = news_index.path / f"manifest-{news_index.generation}.json"
    manifest.write_text(manifest.read_text().replace('"doc_count": 2', '"doc_count": 3'))
    with pytest.raises(CorruptIndexError, match=f"{manifest.name}: manifest fails its checksum"):
        Index.open(news_index.path)


def test_cli_reports_damage_without_a_traceback(news_index: Index, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    victim = segment_files(news_index)[0]
    victim.write_bytes(victim.read_bytes()[:10])
    result = run_cli(["query", "talks", "--index", str(news_index.path)], cwd=tmp_path)
    assert result.returncode == 2
    assert victim.name in result.stderr and "corrupt" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "old,new",
    [
        ('"deletes": null', '"deletes": 5'),
        ('"generation": 3', '"generation": "x"'),
        ('"doc_count": 2', '"doc_count": 1000000000000'),
    ],
)
def test_malformed_manifest_fields_are_named(news_index: Index, old: str, new: str) -> None:
    """Even with a valid checksum, wrong types or sizes in a manifest are reported as damage."""
    import json as json_module

    from searchlib import codec

    path = news_index.path / f"manifest-{news_index.generation}.json"
    text = path.read_text()
    assert old in text
    body = json_module.loads(text.replace(old, new, 1))
    body.pop("crc32")
    body.pop("format")
    body.pop("format_version")
    path.write_bytes(codec.encode_manifest(body))
    with pytest.raises(CorruptIndexError, match=path.name):
        Searcher(news_index)
