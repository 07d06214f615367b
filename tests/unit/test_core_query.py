"""Searches as the compiled core runs them: the pruned top k against every match, the
cheaper total, and the checks a hand-made plan meets."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from searchlib import ID, TEXT, Index, Schema, Searcher, _core
from searchlib.query.plan import query_segments

WORDS = [f"w{i}" for i in range(60)]


@pytest.fixture
def index(tmp_path: Path) -> Index:
    """Three segments of random words (a Zipf-like skew), with deletions."""
    rng = random.Random(7)
    index = Index.create(tmp_path / "index", Schema(id=ID(), title=TEXT(), body=TEXT()))
    doc = 0
    for _ in range(3):
        with index.writer() as writer:
            for _ in range(400):
                def words(count: int) -> str:
                    return " ".join(WORDS[min(int(rng.paretovariate(1.0)) - 1, 59)] for _ in range(count))
                writer.add_document(id=str(doc), title=words(rng.randint(1, 5)), body=words(rng.randint(0, 120)))
                doc += 1
    with index.writer() as writer:
        for victim in range(0, doc, 7):
            writer.delete_by_term("id", str(victim))
    return index


def test_the_pruned_top_k_is_the_top_of_every_match(index: Index) -> None:
    rng = random.Random(3)
    with Searcher(index) as searcher:
        for _ in range(40):
            text = " ".join(rng.sample(WORDS[:40], rng.randint(1, 6)))
            ranked = searcher.search(text, limit=1000)
            everything = sorted(
                ((hit.score, -hit.segment, -hit.doc) for hit in ranked), reverse=True
            )
            for limit in (1, 10):
                top = searcher.search(text, limit=limit)
                assert top.total == ranked.total
                assert [(hit.segment, hit.doc) for hit in top] == [(-s, -d) for _, s, d in everything[:limit]]
                cheap = searcher.search(text, limit=limit, exact_total=False)
                assert top.total_is_exact
                # A segment summed whole counts exactly anyway; a pruned one gives a lower bound.
                assert len(cheap.hits) <= cheap.total <= top.total
                assert cheap.total == top.total or not cheap.total_is_exact
                assert [(hit.segment, hit.doc, hit.score) for hit in cheap] == [
                    (hit.segment, hit.doc, hit.score) for hit in top
                ]


def test_a_hand_made_plan_is_refused_with_a_clear_error(index: Index) -> None:
    with Searcher(index) as searcher:
        segments = query_segments(searcher.readers)
        for plan, message in [
            (("nope",), "unknown node kind"),
            ([], "a node must be a tuple"),
            (("term", [], "x", 1.0, -1, 1.0), "names no field"),
            (("docs", [(b"", b"")]), "precomputed matches for 1 segments"),
            (("bool", "x", [], [], [], 1), "clauses must be a list"),
        ]:
            with pytest.raises(ValueError, match=message):
                _core.search(segments, plan, "lucene", 1.2, 0.75, 10)
        with pytest.raises(ValueError, match="unknown BM25 variant"):
            _core.search(segments, ("none",), "okapi", 1.2, 0.75, 10)
