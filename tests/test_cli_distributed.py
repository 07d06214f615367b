"""``searchlib index --shards``, and ``query``, ``info`` and ``check`` on a sharded index,
through the real entry point: they answer as they do for one index over the same files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from tests.test_distributed import corpus  # noqa: E402

QUERIES = ["boundary layer", "pressure distribution", '"heat transfer"', "superson*"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forty text files (Cranfield abstracts), the same every run."""
    root = tmp_path_factory.mktemp("files")
    for document in corpus("cranfield")[:40]:
        (root / f"doc{document['id']}.txt").write_text(f"{document['title']}\n\n{document['text']}\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def indexes(files: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One index and a sharded index of 3 shards over the files, each made by the CLI
    (the shards on a local cluster of two worker processes)."""
    from tests.conftest import searchlib_command
    import subprocess

    root = tmp_path_factory.mktemp("indexes")
    for args in (["index", str(files), "--index", "single"],
                 ["index", str(files), "--index", "sharded", "--shards", "3", "--workers", "2"]):
        process = subprocess.run(searchlib_command() + args, cwd=root, capture_output=True, text=True, timeout=300)
        assert process.returncode == 0, process.stderr[-3000:]
        assert "indexed 40 documents from 40 files" in process.stderr
    return root / "single", root / "sharded"


def hits(run_cli: Any, index: Path, text: str, *extra: str) -> tuple[int, list[tuple[str, float]], dict[str, Any]]:
    process = run_cli(["query", text, "--index", str(index), "--json", "--no-snippets", "-n", "8", *extra],
                      cwd=index.parent)
    document = json.loads(process.stdout)
    return process.returncode, [(hit["id"], hit["score"]) for hit in document["hits"]], document


def test_a_sharded_index_answers_queries_as_one_index(indexes: tuple[Path, Path], run_cli: Any) -> None:
    single, sharded = indexes
    assert (sharded / "shards.json").is_file() and (sharded / "shard-002").is_dir()
    for text in QUERIES:
        status, expected, _ = hits(run_cli, single, text)
        found_status, found, document = hits(run_cli, sharded, text)
        assert (found_status, status) == (0, 0)
        assert [i for i, _ in found] == [i for i, _ in expected], text
        assert all(abs(a - b) <= 1e-9 for (_, a), (_, b) in zip(found, expected)), text
        assert document["missing_shards"] == []
    _, page_two, _ = hits(run_cli, sharded, "flow", "--page", "2")
    _, expected_two, _ = hits(run_cli, single, "flow", "--page", "2")
    assert [i for i, _ in page_two] == [i for i, _ in expected_two]
    text_output = run_cli(["query", "boundary layer", "--index", str(sharded), "-n", "2"], cwd=sharded.parent)
    assert text_output.returncode == 0 and text_output.stdout.startswith(" 1.")
    assert "[boundary] [layer]" in text_output.stdout
    assert "1-2 of" in text_output.stderr
    explained = run_cli(["query", "boundary layer", "--index", str(sharded), "-n", "1", "--explain"],
                        cwd=sharded.parent)
    single_explained = run_cli(["query", "boundary layer", "--index", str(single), "-n", "1", "--explain"],
                               cwd=single.parent)
    assert "idf" in explained.stdout and explained.stdout == single_explained.stdout
    none = run_cli(["query", "zzzqqqxx", "--index", str(sharded)], cwd=sharded.parent)
    assert none.returncode == 1 and "no matches" in none.stderr


def test_info_and_check_cover_every_shard(indexes: tuple[Path, Path], run_cli: Any) -> None:
    _, sharded = indexes
    info = run_cli(["info", "--index", str(sharded), "--json"], cwd=sharded.parent)
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["documents"] == 40 and summary["shard_count"] == 3 and len(summary["shards"]) == 3
    assert "searchlib_order" not in summary["fields"] and "body" in summary["fields"]
    text = run_cli(["info", "--index", str(sharded)], cwd=sharded.parent)
    assert "3 shards routed by path" in text.stdout
    check = run_cli(["check", "--index", str(sharded)], cwd=sharded.parent)
    assert check.returncode == 0 and check.stdout.strip().endswith("ok"), check.stdout


def test_a_damaged_shard_is_named_by_check_and_query(indexes: tuple[Path, Path], run_cli: Any, tmp_path: Path) -> None:
    import shutil

    damaged = tmp_path / "sharded"
    shutil.copytree(indexes[1], damaged)
    victim = sorted((damaged / "shard-001").glob("seg-*"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    check = run_cli(["check", "--index", str(damaged)], cwd=tmp_path)
    assert check.returncode == 1 and "shard-001" in check.stdout and "problem" in check.stdout
    query = run_cli(["query", "boundary layer", "--index", str(damaged)], cwd=tmp_path)
    assert query.returncode == 2 and "shard 1 (" in query.stderr and "shard-001" in query.stderr, query.stderr


def test_indexing_again_updates_the_sharded_index_and_keeps_its_count(
    indexes: tuple[Path, Path], files: Path, run_cli: Any, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "sharded"
    shutil.copytree(indexes[1], copy)
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "new.txt").write_text("A zyxwvut note\n\nzyxwvut words\n", encoding="utf-8")
    wrong = run_cli(["index", str(changed), "--index", str(copy), "--shards", "2"], cwd=tmp_path)
    assert wrong.returncode == 2 and "has 3 shards, not 2" in wrong.stderr
    again = run_cli(["index", str(changed), "--index", str(copy), "--workers", "1"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    status, found, document = hits(run_cli, copy, "zyxwvut")
    assert status == 0 and document["total"] == 1
    plain = run_cli(["index", str(changed), "--index", str(indexes[0]), "--shards", "2"], cwd=tmp_path)
    assert plain.returncode == 2 and "index of one shard" in plain.stderr


def test_a_query_loads_no_dask_and_a_query_of_one_index_nothing_of_the_shards(indexes: tuple[Path, Path]) -> None:
    from tests.test_cli_startup import imported_modules, loaded

    single, sharded = indexes
    process, modules = imported_modules(["query", "boundary layer", "--index", str(sharded)], sharded.parent)
    assert process.returncode == 0, process.stderr[-2000:]
    assert "searchlib.distributed.search" in modules  # the report is read correctly
    assert loaded(modules, ("dask", "distributed", "searchlib.distributed.build")) == []
    process, modules = imported_modules(["query", "boundary layer", "--index", str(single)], single.parent)
    assert process.returncode == 0, process.stderr[-2000:]
    assert loaded(modules, ("dask", "distributed", "searchlib.distributed")) == []


def test_the_command_line_looks_for_the_manifest_the_shards_write() -> None:
    from searchlib.cli import SHARDS_MANIFEST
    from searchlib.distributed.manifest import MANIFEST_NAME

    assert SHARDS_MANIFEST == MANIFEST_NAME
