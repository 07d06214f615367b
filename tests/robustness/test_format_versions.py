"""Format versions: the index frozen in ``tests/data/format5`` (written by this format's
first release and never rewritten) opens, searches, checks and takes new writes, so a
change of the segment format without a new version number fails here; an index of an
older format is refused with the advice to rebuild it.

``python -m tests.robustness.test_format_versions DIR`` writes the frozen index again (only
ever for a new format version, into a new directory).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from searchlib import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Index, Schema, Searcher, codec
from searchlib.check import check_index
from searchlib.errors import IncompatibleFormatError
from searchlib.query import Range
from tests.conftest import SHARED

FROZEN = Path(__file__).resolve().parents[1] / "data" / "format5"
CRANFIELD = SHARED / "datasets" / "cranfield" / "corpus.jsonl"

SCHEMA = Schema(
    id=ID(), title=TEXT(), body=TEXT(stored=False), year=NUMERIC("int"), tag=KEYWORD(),
    when=DATETIME(), draft=BOOLEAN(), note=STORED(),
)

HAND_MADE = [
    {"id": "a", "title": "Talks", "body": "Direct talks resumed in Geneva.", "year": 2024, "tag": "news",
     "when": "2024-03-01T10:00:00+00:00", "draft": False, "note": "first"},
    {"id": "b", "title": "Deleted", "body": "This one is deleted.", "year": 2023, "tag": "news"},
    {"id": "c", "title": "Draft", "body": "Talks about direct flights.", "year": 2023, "tag": "draft",
     "draft": True, "note": "third"},
]


def write_frozen(path: Path, cranfield: Path) -> None:
    """The frozen index: 300 Cranfield abstracts (so common terms fill postings blocks
    of 128 with skip entries) and three hand-made documents with every field kind, in
    two segments, one document deleted."""
    with open(cranfield, encoding="utf-8") as handle:
        abstracts = [json.loads(line) for _, line in zip(range(300), handle)]
    index = Index.create(path, SCHEMA)
    with index.writer() as writer:
        for document in HAND_MADE:
            writer.add_document(document)
        for document in abstracts[:150]:
            writer.add_document(id=document["id"], title=document["title"], body=document["text"], year=1950)
    with index.writer() as writer:
        for document in abstracts[150:]:
            writer.add_document(id=document["id"], title=document["title"], body=document["text"], year=1960)
        writer.delete_by_term("id", "b")


@pytest.fixture
def frozen(tmp_path: Path) -> Path:
    path = tmp_path / "format5"
    shutil.copytree(FROZEN, path)
    return path


def _ids(path: Path, query: object, **options: object) -> list[str]:
    with Searcher(Index.open(path)) as searcher:
        return [hit.id for hit in searcher.search(query, limit=10, **options)]  # type: ignore[arg-type]


def test_the_frozen_index_is_in_this_format() -> None:
    manifest = max(FROZEN.glob("manifest-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    assert f'"format_version": {codec.FORMAT_VERSION}' in manifest.read_text()
    assert sum(p.stat().st_size for p in FROZEN.iterdir()) < 400_000


def test_the_frozen_index_searches_as_it_did(frozen: Path) -> None:
    index = Index.open(frozen)
    assert index.doc_count == 302 and len(index.segments) == 2  # b was deleted
    assert sorted(_ids(frozen, "talks")) == ["a", "c"]
    assert _ids(frozen, Range("year", 2024, 2025)) == ["a"]
    assert _ids(frozen, "talks", sort="-year") == ["a", "c"]
    assert _ids(frozen, "draft:true") == ["c"]
    assert _ids(frozen, "tag:news") == ["a"]
    with Searcher(index) as searcher:
        hit = searcher.search('"direct talks"', limit=1)[0]
        assert hit.id == "a" and hit["note"] == "first"
        results = searcher.search("boundary layer", limit=5)
        assert results.total == 131 and [h.id for h in results] == ["4", "134", "72", "256", "16"]
        assert round(results[0].score, 4) == 1.6477
        assert searcher.search("title:boundary", limit=1)[0]["title"].lower().count("boundary")
        assert searcher.did_you_mean("boundray") == "boundary"
    assert check_index(frozen).ok


def test_new_writes_to_the_frozen_index_merge_with_it(frozen: Path) -> None:
    with Index.open(frozen).writer() as writer:
        writer.add_document(id="d", title="Aid", body="Aid convoys and direct talks.", year=2024)
    assert sorted(_ids(frozen, Range("year", 2024, 2024))) == ["a", "d"]
    with Index.open(frozen).writer() as writer:
        writer.optimize()
    merged = Index.open(frozen)
    assert len(merged.segments) == 1 and merged.doc_count == 303
    assert sorted(_ids(frozen, "talks")) == ["a", "c", "d"]
    assert _ids(frozen, Range("year", 2023, 2023)) == ["c"]
    assert check_index(frozen).ok


def test_an_older_format_is_refused_with_the_advice_to_rebuild(frozen: Path) -> None:
    """An index of format 4 (or earlier) cannot be read: every way in says so and what
    to do, and nothing is changed."""
    for manifest in frozen.glob("manifest-*.json"):
        body = json.loads(manifest.read_text())
        body["format_version"] = 4
        body.pop("crc32")
        manifest.write_bytes(codec.encode_manifest(body))
    before = sorted(p.name for p in frozen.iterdir())
    for open_it in (Index.open, lambda p: Index.open(p).writer(), lambda p: Searcher(Index.open(p))):
        with pytest.raises(IncompatibleFormatError, match="rebuild the index"):
            open_it(frozen)
    with pytest.raises(IncompatibleFormatError, match="rebuild"):
        check_index(frozen)
    assert sorted(p.name for p in frozen.iterdir()) == before


if __name__ == "__main__":
    write_frozen(Path(sys.argv[1]), CRANFIELD)
