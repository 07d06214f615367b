"""An index written by the release before format version 3 (``tests/data/format2``, made
by searchlib at 871b934 and frozen) still opens, searches, checks and takes new writes:
its files have no per-array checksums, no recorded block sizes, and presence arrays
under their old names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from searchlib import Index, Searcher, codec
from searchlib.check import check_index
from searchlib.query import Range

FROZEN = Path(__file__).resolve().parents[1] / "data" / "format2"


@pytest.fixture
def old_index(tmp_path: Path) -> Path:
    path = tmp_path / "format2"
    shutil.copytree(FROZEN, path)
    return path


def _ids(path: Path, query: object, **options: object) -> list[str]:
    with Searcher(Index.open(path)) as searcher:
        return [hit.id for hit in searcher.search(query, limit=10, **options)]  # type: ignore[arg-type]


def test_the_frozen_index_is_in_format_2() -> None:
    manifest = max(FROZEN.glob("manifest-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    assert '"format_version": 2' in manifest.read_text()
    assert codec.FORMAT_VERSION == 3 and codec.OLDEST_READABLE_VERSION == 2


def test_a_format_2_index_searches_as_it_did(old_index: Path) -> None:
    assert Index.open(old_index).doc_count == 2  # b was deleted
    assert sorted(_ids(old_index, "direct talks")) == ["a", "c"]
    assert _ids(old_index, Range("year", 2024, 2025)) == ["a"]  # presence read by its old name
    assert _ids(old_index, "talks", sort="-year") == ["a", "c"]
    assert _ids(old_index, "draft:true") == ["c"]
    with Searcher(Index.open(old_index)) as searcher:
        hit = searcher.search('"direct talks"', limit=1)[0]
        assert hit.id == "a" and hit["note"] == "first"  # a stored block with no recorded size
        assert "[direct] [talks]" in hit.snippet()
    assert check_index(old_index).ok


def test_new_writes_to_a_format_2_index_keep_every_column(old_index: Path) -> None:
    index = Index.open(old_index)
    with index.writer() as writer:
        writer.add_document(id="d", title="Aid", body="Aid convoys and talks.", year=2024)
    assert sorted(_ids(old_index, Range("year", 2024, 2024))) == ["a", "d"]
    with Index.open(old_index).writer() as writer:
        writer.optimize()  # old and new segments merged into one of format 3
    merged = Index.open(old_index)
    assert len(merged.segments) == 1
    assert sorted(_ids(old_index, Range("year", 2024, 2024))) == ["a", "d"]
    assert _ids(old_index, Range("year", 2023, 2023)) == ["c"]
    assert check_index(old_index).ok
