"""An index writer with ``threads=N`` indexes on N cores in one process: the same
documents give the same search results, scores and stored fields as with one thread,
deletes and updates reach documents in every buffer, and the RAM budget bounds all the
buffers together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib.check import check_index
from tests.conftest import SHARED

QUERIES = ["boundary layer", '"heat transfer"', "supersonic OR hypersonic", "shock~", "pressure dist*"]


def cranfield(limit: int = 1400) -> list[dict[str, str]]:
    with open(SHARED / "datasets" / "cranfield" / "corpus.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(limit), handle)]


def build(path: Path, documents: list[dict[str, str]], threads: int, ram_buffer_mb: float = 64.0) -> Index:
    index = Index.create(path, Schema(id=ID(), title=TEXT(), text=TEXT()))
    with index.writer(threads=threads, ram_buffer_mb=ram_buffer_mb) as writer:
        for document in documents:
            writer.add_document(id=document["id"], title=document["title"], text=document["text"])
        writer.delete_by_term("id", documents[3]["id"])  # buffered in the first buffer
        writer.update_document(id=documents[300]["id"], title="Replaced", text="boundary layer replaced")
    return index.reopen()


def results(index: Index) -> list[list[tuple[str, float]]]:
    with Searcher(index) as searcher:
        return [
            sorted((hit.id, round(hit.score, 9)) for hit in searcher.search(query, limit=2000))
            for query in QUERIES
        ]


@pytest.mark.parametrize("threads", [2, 3])
def test_several_threads_index_what_one_thread_does(tmp_path: Path, threads: int) -> None:
    documents = cranfield()
    one = build(tmp_path / "one", documents, threads=1)
    many = build(tmp_path / "many", documents, threads=threads)
    assert many.doc_count == one.doc_count == len(documents) - 1
    assert len(many.segments) >= min(threads, 2)  # one segment per buffer, before merges
    assert results(many) == results(one)
    with Searcher(many) as searcher:
        assert searcher.search(f"id:{documents[3]['id']}").total == 0
        replaced = searcher.search(f"id:{documents[300]['id']}")
        assert replaced.total == 1 and replaced[0]["title"] == "Replaced"
    assert check_index(many.path).ok


def test_the_ram_budget_bounds_every_buffer_together(tmp_path: Path) -> None:
    """A small budget flushes often: every flush writes one segment per buffer that
    holds documents, and each stays far below the budget."""
    documents = cranfield(1200)
    index = build(tmp_path / "i", documents, threads=2, ram_buffer_mb=0.5)
    assert len(index.segments) >= 4
    assert results(index) == results(build(tmp_path / "one", documents, threads=1))


def test_threads_must_be_a_positive_whole_number(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT()))
    for threads in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads"):
            index.writer(threads=threads)  # type: ignore[arg-type]
