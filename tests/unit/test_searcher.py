"""Searcher: BM25 scores and rankings against a brute-force computation on real text."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from searchlib import ID, TEXT, CombinedTerm, Index, Or, Schema, Searcher, SearchlibError, Term
from searchlib.analysis import get_analyzer
from searchlib.parser import escape
from tests.conftest import SHARED

CRANFIELD = SHARED / "datasets" / "cranfield"


def load_cranfield(limit: int) -> tuple[list[dict[str, str]], list[str]]:
    with open(CRANFIELD / "corpus.jsonl", encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(limit), handle)]
    with open(CRANFIELD / "queries.jsonl", encoding="utf-8") as handle:
        queries = [json.loads(line)["text"] for _, line in zip(range(25), handle)]
    return documents, queries


def brute_force_scores(
    documents: list[dict[str, str]], query: str, k1: float, b: float
) -> dict[str, float]:
    """BM25F (Lucene idf) over title and text, straight from the texts.

    Per field, tf is normalized by ``1 - b + b * dl / avgdl`` with avgdl over documents
    that have the field; the sum over fields is saturated once; N and df count documents
    with the field, or the term, in either field.
    """
    analyzer = get_analyzer("english")
    fields = ("title", "text")
    counts = {f: [Counter(t for t in analyzer.terms(d[f]) if t) for d in documents] for f in fields}
    avgdl = {f: sum(sum(c.values()) for c in counts[f]) / sum(1 for c in counts[f] if c) for f in fields}
    n = sum(1 for i in range(len(documents)) if any(counts[f][i] for f in fields))
    scores: dict[str, float] = {}
    for term in (t for t in analyzer.terms(query) if t):
        df = sum(1 for i in range(len(documents)) if any(term in counts[f][i] for f in fields))
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, document in enumerate(documents):
            pseudo_tf = 0.0
            for f in fields:
                tf = counts[f][i].get(term, 0)
                if tf:
                    pseudo_tf += tf / (1 - b + b * sum(counts[f][i].values()) / avgdl[f])
            if pseudo_tf:
                score = idf * pseudo_tf / (pseudo_tf + k1)
                scores[document["id"]] = scores.get(document["id"], 0.0) + score
    return scores


@pytest.fixture(scope="module")
def cranfield_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Index, list[dict[str, str]], list[str]]:
    """300 Cranfield documents over three segments, with some deleted and re-added."""
    documents, queries = load_cranfield(300)
    for document in documents[::5]:  # some documents lack a title, as real ones do
        document["title"] = ""
    index = Index.create(tmp_path_factory.mktemp("cran") / "idx", Schema(id=ID(), title=TEXT(), text=TEXT()))
    for start in (0, 100, 200):
        with index.writer() as writer:
            for document in documents[start : start + 100]:
                writer.add_document(id=document["id"], title=document["title"], text=document["text"])
    deleted = {d["id"] for d in documents[::7]}
    with index.writer() as writer:
        for document_id in sorted(deleted):
            writer.delete_by_term("id", document_id)
    live = [d for d in documents if d["id"] not in deleted]
    return index.reopen(), live, queries


@pytest.mark.parametrize("k1,b", [(0.9, 0.4), (1.2, 0.75)])
def test_scores_and_ranking_match_brute_force(cranfield_index, k1: float, b: float) -> None:  # type: ignore[no-untyped-def]
    index, live, queries = cranfield_index
    assert len(index.segments) == 3 and index.deleted_count > 0
    with Searcher(index, k1=k1, b=b) as searcher:
        for query in queries:
            expected = brute_force_scores(live, query, k1, b)
            results = searcher.search(escape(query), limit=len(live))  # plain words, like the reference
            assert results.total == len(expected), query
            got = {hit.id: hit.score for hit in results}
            assert got.keys() == expected.keys()
            for doc_id, score in expected.items():
                assert got[doc_id] == pytest.approx(score, rel=1e-9)
            ranked = [hit.score for hit in results]
            assert ranked == sorted(ranked, reverse=True)


def test_pagination_is_consistent_with_one_big_page(cranfield_index) -> None:  # type: ignore[no-untyped-def]
    index, _, queries = cranfield_index
    with Searcher(index) as searcher:
        everything = [h.id for h in searcher.search(queries[0], limit=40)]
        paged = [h.id for offset in (0, 10, 20, 30) for h in searcher.search(queries[0], limit=10, offset=offset)]
        assert paged == everything
        assert searcher.search(queries[0], limit=10, offset=20)[0].rank == 21


def test_query_objects_equal_parsed_queries(news_index: Index) -> None:
    with Searcher(news_index, fields=["body"]) as searcher:
        parsed = searcher.search("direct talks")
        built = searcher.search(Or([Term("body", "direct"), Term("body", "talk")]))
        assert [(h.id, h.score) for h in parsed] == [(h.id, h.score) for h in built]
    with Searcher(news_index) as searcher:
        parsed = searcher.search("direct talks")
        built = searcher.search(
            Or([CombinedTerm(("title", "body"), "direct"), CombinedTerm(("title", "body"), "talk")])
        )
        assert [(h.id, h.score) for h in parsed] == [(h.id, h.score) for h in built]


def test_combined_term_on_one_field_scores_like_a_term(news_index: Index) -> None:
    with Searcher(news_index) as searcher:
        single = searcher.search(Term("body", "talk"))
        combined = searcher.search(CombinedTerm(("body",), "talk"))
        assert [(h.id, h.score) for h in single] == [(h.id, pytest.approx(h.score)) for h in combined]


def test_a_word_in_title_and_body_is_not_counted_twice(tmp_path: Path) -> None:
    """BM25F saturates once: matching in both fields beats one field, but by less than double."""
    index = Index.create(tmp_path / "f", Schema(id=ID(), title=TEXT(), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(id="both", title="glacier", body="the glacier melts")
        writer.add_document(id="body", title="ice", body="the glacier melts")
        for number in range(20):
            writer.add_document(id=f"n{number}", title="other", body="nothing here")
    with Searcher(index) as searcher:
        scores = {h.id: h.score for h in searcher.search("glacier")}
    assert scores["body"] < scores["both"] < 2 * scores["body"]


def test_stop_words_only_query_matches_nothing(news_index: Index) -> None:
    with Searcher(news_index) as searcher:
        results = searcher.search("the and of")
        assert results.total == 0 and len(results) == 0


def test_empty_index_answers_with_no_hits(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "empty", Schema(body=TEXT()))
    with Searcher(index) as searcher:
        assert searcher.search("anything").total == 0


def test_pages_never_overlap_when_scores_tie(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ties", Schema(id=ID(), body=TEXT()))
    with index.writer() as writer:
        for number in range(200):
            body = "apple pie" if number % 3 else "apple apple pie"
            writer.add_document(id=f"d{number:03d}", body=body)
    with Searcher(index) as searcher:
        full = [h.id for h in searcher.search("apple", limit=200)]
        paged = [h.id for offset in range(0, 200, 10) for h in searcher.search("apple", limit=10, offset=offset)]
    assert paged == full and len(set(full)) == 200
    tied = [i for i in full if int(i[1:]) % 3]
    assert tied == sorted(tied)  # equal scores keep document order


def test_hits_stay_usable_after_the_searcher_closes(news_index: Index) -> None:
    with Searcher(news_index) as searcher:
        hits = list(searcher.search("direct talks"))
    assert hits[0]["body"] and "[direct]" in hits[0].snippet()


def test_hit_id_comes_from_the_id_column_even_when_not_stored(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "ids", Schema(key=ID(stored=False), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(key="k-1", body="glacier")
    with Searcher(index) as searcher:
        hit = searcher.search("glacier")[0]
    assert hit.id == "k-1" and "key" not in hit.fields


def test_closed_searcher_and_bad_parameters_are_refused(news_index: Index) -> None:
    searcher = Searcher(news_index)
    searcher.close()
    with pytest.raises(SearchlibError, match="searcher is closed"):
        searcher.search("talks")
    with pytest.raises(ValueError, match="k1 >= 0 and 0 <= b <= 1"):
        Searcher(news_index, b=1.5)
    for k1 in (float("inf"), float("nan"), -0.5):
        with pytest.raises(ValueError, match="a finite k1 >= 0"):
            Searcher(news_index, k1=k1)
