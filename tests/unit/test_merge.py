"""A RAM-bounded writer and merges give the same index, as seen by searches, as one big segment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchlib import ID, NUMERIC, TEXT, Index, Schema, Searcher
from searchlib.errors import SchemaError
from searchlib.analysis import get_analyzer
from searchlib.check import check_index
from searchlib.segment import SegmentMeta, merge
from searchlib.segment.policy import choose_merges
from tests.conftest import SHARED

CRANFIELD = SHARED / "datasets" / "cranfield"


def cranfield(limit: int = 300) -> tuple[list[dict[str, str]], list[str]]:
    with open(CRANFIELD / "corpus.jsonl", encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(limit), handle)]
    with open(CRANFIELD / "queries.jsonl", encoding="utf-8") as handle:
        queries = [json.loads(line)["text"] for _, line in zip(range(25), handle)]
    return documents, queries


#: NLTK's Snowball, whose segments keep lexicons (merged too): the compiled default needs none.
NLTK = {"stemmer": "nltk-snowball"}
SCHEMA = Schema(id=ID(), title=TEXT(analyzer_params=NLTK), text=TEXT(analyzer_params=NLTK))
DELETED = {"7", "42", "150", "151", "299"}


def build_in_one_segment(path: Path, documents: list[dict[str, str]]) -> Index:
    index = Index.create(path, SCHEMA)
    with index.writer() as writer:
        for document in documents:
            if document["id"] not in DELETED:
                writer.add_document(document)
    return index


def build_in_pieces(path: Path, documents: list[dict[str, str]], **options: float) -> Index:
    """25-document commits through a tiny RAM buffer, deleting some documents later."""
    index = Index.create(path, SCHEMA)
    for start in range(0, len(documents), 25):
        with index.writer(**options) as writer:  # type: ignore[arg-type]
            for document in documents[start : start + 25]:
                writer.add_document(document)
            for doc_id in DELETED:
                writer.delete_by_term("id", doc_id)
    return index


def ranked(index: Index, queries: list[str]) -> list[list[tuple[str, float, str]]]:
    with Searcher(index) as searcher:
        return [
            [(hit.id, hit.score, hit.snippet()) for hit in searcher.search(query, limit=10)]
            for query in queries
        ]


def assert_same_rankings(left: list[list[tuple[str, float, str]]], right: list[list[tuple[str, float, str]]]) -> None:
    for a, b in zip(left, right, strict=True):
        assert [(i, s) for i, _, s in a] == [(i, s) for i, _, s in b]
        assert [score for _, score, _ in a] == pytest.approx([score for _, score, _ in b], rel=1e-9)


def test_merged_segments_rank_exactly_like_one_segment(tmp_path: Path) -> None:
    documents, queries = cranfield()
    single = build_in_one_segment(tmp_path / "single", documents)
    pieces = build_in_pieces(tmp_path / "pieces", documents, ram_buffer_mb=0.05, merge_factor=3)
    assert len(single.reopen().segments) == 1
    segments = pieces.reopen().segments
    # All under MIN_MERGE_DOCS, so one level: merged in threes at every commit.
    assert 1 < len(segments) <= 2 * 3
    assert pieces.reopen().doc_count == single.reopen().doc_count == 295
    assert_same_rankings(ranked(single, queries), ranked(pieces, queries))
    assert check_index(tmp_path / "pieces").ok
    assert not list((tmp_path / "pieces").glob("*.tmp"))  # spill files are gone


def test_a_small_ram_buffer_writes_several_segments_in_one_commit(tmp_path: Path) -> None:
    documents, _ = cranfield(200)
    index = Index.create(tmp_path / "i", SCHEMA)
    with index.writer(ram_buffer_mb=0.05, merge_factor=1000) as writer:
        for document in documents:
            writer.add_document(document)
        writer.update_document(id="3", title="zyxwv", text="a zyxwv document")  # in a flushed segment
    reopened = index.reopen()
    assert len(reopened.segments) > 3 and reopened.doc_count == 200
    with Searcher(reopened) as searcher:
        assert [hit.id for hit in searcher.search("zyxwv")] == ["3"]


def test_abort_removes_flushed_segments(tmp_path: Path) -> None:
    documents, _ = cranfield(100)
    index = Index.create(tmp_path / "i", SCHEMA)
    before = sorted(p.name for p in (tmp_path / "i").iterdir())
    writer = index.writer(ram_buffer_mb=0.02)
    for document in documents:
        writer.add_document(document)
    assert any(p.name.startswith("seg-") for p in (tmp_path / "i").iterdir())
    writer.abort()
    assert sorted(p.name for p in (tmp_path / "i").iterdir()) == before
    assert index.reopen().doc_count == 0


def test_optimize_leaves_one_segment_without_deletions(tmp_path: Path) -> None:
    documents, queries = cranfield()
    single = build_in_one_segment(tmp_path / "single", documents)
    index = build_in_pieces(tmp_path / "pieces", documents, merge_factor=1000)
    assert index.reopen().deleted_count > 0
    with index.writer() as writer:
        writer.optimize()
    optimized = index.reopen()
    assert len(optimized.segments) == 1 and optimized.deleted_count == 0 and optimized.doc_count == 295
    assert_same_rankings(ranked(single, queries), ranked(optimized, queries))
    report = check_index(tmp_path / "pieces")
    assert report.ok, report.problems


def test_merged_lexicons_still_give_the_stemmers_answers(tmp_path: Path) -> None:
    documents, _ = cranfield(120)
    index = build_in_pieces(tmp_path / "i", documents, merge_factor=1000)
    with index.writer() as writer:
        writer.optimize()
    _, readers = Index.open_snapshot(tmp_path / "i")
    analyzer = get_analyzer("english", **NLTK)
    lexicon = readers[0].lexicon("text")
    assert lexicon is not None and len(lexicon) > 500
    for key in (lexicon[i].decode() for i in range(0, len(lexicon), 7)):
        assert readers[0].lexicon_term("text", key) == analyzer.costly_term(key)


def meta(name: str, docs: int, deleted: int = 0) -> SegmentMeta:
    return SegmentMeta(name=name, doc_count=docs, files={}, deleted_count=deleted)


def test_the_policy_merges_neighbours_level_by_level() -> None:
    small = [meta(f"s{i}", 5) for i in range(10)]
    assert choose_merges(small, 10) == [[f"s{i}" for i in range(10)]]
    assert choose_merges(small[:9], 10) == []
    # A big segment is not merged with small ones; the small ones wait for a full run.
    assert choose_merges([meta("big", 50_000), *small[:9]], 10) == []
    assert choose_merges([meta("big", 50_000), *small], 10) == [[f"s{i}" for i in range(10)]]
    # Ten big neighbours of one level merge; a mostly deleted segment is rewritten alone.
    bigs = [meta(f"b{i}", 20_000 + i) for i in range(10)]
    assert choose_merges([*bigs, meta("gone", 100, deleted=80)], 10) == [[f"b{i}" for i in range(10)], ["gone"]]


def test_indexing_on_two_cores_ranks_like_one(tmp_path: Path) -> None:
    documents, queries = cranfield()
    kept = [d for d in documents if d["id"] not in DELETED]
    single = build_in_one_segment(tmp_path / "single", documents)
    index = Index.create(tmp_path / "parallel", SCHEMA)
    with index.writer() as writer:
        writer.add_document(kept[0])  # buffered first: the order must hold
        assert writer.add_documents(kept[1:], workers=2, batch_size=40) == len(kept) - 1
    parallel = index.reopen()
    assert parallel.doc_count == 295 and len(parallel.segments) <= 10
    _, readers = Index.open_snapshot(tmp_path / "parallel")
    assert [r.id_value(d) for r in readers for d in range(r.doc_count)] == [d["id"] for d in kept]
    assert_same_rankings(ranked(single, queries), ranked(parallel, queries))
    assert check_index(tmp_path / "parallel").ok


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bad_document_is_named_and_those_before_it_stay(tmp_path: Path, workers: int) -> None:
    index = Index.create(tmp_path / "i", SCHEMA)
    documents: list[dict[str, str]] = [{"id": str(i), "text": "talks"} for i in range(20)]
    documents[7] = {"id": "x", "nope": "y"}
    with index.writer() as writer:
        with pytest.raises(SchemaError, match="document 7: unknown field 'nope'"):
            writer.add_documents(documents, workers=workers, batch_size=3)
    _, readers = Index.open_snapshot(tmp_path / "i")
    assert [r.id_value(d) for r in readers for d in range(r.doc_count)] == [str(i) for i in range(7)]
    assert check_index(tmp_path / "i").ok
    assert not [p for p in (tmp_path / "i").iterdir() if p.name.endswith(".tmp")]


def test_merged_away_flushed_segments_do_not_linger(tmp_path: Path) -> None:
    documents, _ = cranfield(150)
    index = Index.create(tmp_path / "i", SCHEMA)
    with index.writer(ram_buffer_mb=0.02, merge_factor=3) as writer:
        for document in documents:
            writer.add_document(document)
    referenced: set[str] = set()
    for manifest in (tmp_path / "i").glob("manifest-*.json"):  # this generation and the one before
        for segment in json.loads(manifest.read_text())["segments"]:
            referenced.update(segment["files"])
            if segment["deletes"]:
                referenced.add(segment["deletes"])
    on_disk = {p.name for p in (tmp_path / "i").iterdir() if p.name.startswith("seg-")}
    assert on_disk == referenced


def test_a_rewritten_segment_is_not_jumped_over_by_a_merge(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", SCHEMA)
    with index.writer(merge_factor=2) as writer:
        writer.add_document(id="a1", text="talks")
        writer.flush()
        for doc_id in ("b1", "b2", "b3"):
            writer.add_document(id=doc_id, text="talks")
        writer.flush()
        writer.add_document(id="c1", text="talks")
        writer.delete_by_term("id", "b1")
        writer.delete_by_term("id", "b2")
    with Searcher(index) as searcher:  # equal scores: ties come in the order documents were added
        assert [hit.id for hit in searcher.search("talks")] == ["a1", "b3", "c1"]
    assert choose_merges([meta("a", 1), meta("b", 10, deleted=8), meta("c", 1)], 2) == [["b"]]


def test_a_rejected_new_version_keeps_the_old_one(tmp_path: Path) -> None:
    schema = Schema(id=ID(), text=TEXT(), n=NUMERIC("int"))
    index = Index.create(tmp_path / "i", schema)
    with index.writer() as writer:
        writer.add_document(id="x", text="talks", n=1)
    with index.writer() as writer:
        with pytest.raises(SchemaError, match="takes an int"):
            writer.update_document(id="x", text="talks", n=1.5)
    assert index.reopen().doc_count == 1
