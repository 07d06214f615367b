"""Every query type's scores and rankings against a brute-force oracle (tests/oracle.py).

A few hundred Cranfield documents are indexed in several segments, some deleted and
some updated; the oracle recomputes BM25 from the live documents' texts alone, without
the index, for every query node, BM25 variant and a spread of k1 and b. Scores must
agree to 1e-5 relative, the matching documents exactly, and searchlib's ranking must
never put a document above one the oracle scores higher. ``explain()`` must give the
same values as the scores.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from typing import Any

import pytest

from searchlib import ID, KEYWORD, NUMERIC, TEXT, Index, Schema, Searcher
from searchlib.analysis import get_analyzer
from searchlib.query import (
    And,
    Bool,
    Boost,
    CombinedTerm,
    Filter,
    Fuzzy,
    MatchAll,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    Range,
    Regex,
    ScoringContext,
    Term,
    Wildcard,
)
from searchlib.scoring import SIMILARITIES, Similarity
from tests.conftest import SHARED
from tests.oracle import Oracle, Params, Scores, tokens_of

CRANFIELD = SHARED / "datasets" / "cranfield"
DOCUMENTS = 300
PER_COMMIT = 60
TAGS = ("aero", "heat", "noise", "struct", "wing")
ANALYZER = get_analyzer("english")


def derived_fields(document: dict[str, str], position: int) -> dict[str, Any]:
    """The indexed form of a Cranfield document, with a year and a tag derived from its id.

    Every fifth document loses its title and two lose their text, so N differs between
    fields; some have no year or no tag, so columns and keyword fields have gaps.
    """
    number = int(document["id"])
    fields: dict[str, Any] = {
        "id": document["id"],
        "title": "" if position % 5 == 4 else document["title"],
        "text": "" if position in (11, 130) else document["text"],
    }
    if number % 11:
        fields["year"] = 1950 + number % 40
    if number % 13:
        fields["tag"] = TAGS[number % len(TAGS)]
    return fields


def load_cranfield() -> list[dict[str, Any]]:
    with open(CRANFIELD / "corpus.jsonl", encoding="utf-8") as handle:
        raw = [json.loads(line) for _, line in zip(range(DOCUMENTS), handle)]
    return [derived_fields(document, position) for position, document in enumerate(raw)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Index, Oracle]:
    """The index (several segments, deletions, updates) and the oracle of its live docs."""
    documents = load_cranfield()
    live = {d["id"]: d for d in documents}
    written = list(documents)  # every version indexed: the lexicons' words come from them
    index = Index.create(tmp_path_factory.mktemp("oracle") / "idx", Schema(
        id=ID(), title=TEXT(), text=TEXT(), year=NUMERIC("int"), tag=KEYWORD(),
    ))
    for start in range(0, DOCUMENTS, PER_COMMIT):
        with index.writer() as writer:
            for document in documents[start : start + PER_COMMIT]:
                writer.add_document(document)
    with index.writer() as writer:  # deletions spread over every segment
        for document in documents[3::7]:
            assert writer.delete_by_term("id", document["id"]) == 1
            del live[document["id"]]
    with index.writer() as writer:
        # New versions: a longer text with more of the frequent words, a title moved into
        # the text, a version replaced twice in one writer, and a deleted id brought back.
        for document in documents[25:31]:
            changed = {**live[document["id"]], "text": document["text"] + " boundary layer heat transfer layer"}
            writer.update_document(changed)
            written.append(changed)
            live[document["id"]] = changed
        changed = {**live["100"], "title": "", "text": documents[99]["title"] + " " + documents[99]["text"]}
        writer.update_document(changed)
        written.append(changed)
        live["100"] = changed
        for text in ("mach number flow", "flow past a cone at mach number 2, boundary layer flow"):
            changed = {**live["201"], "text": text}
            writer.update_document(changed)
            written.append(changed)
        live["201"] = changed
        revived = {**documents[3], "text": "boundary layer transition on a cone"}
        assert revived["id"] not in live
        writer.update_document(revived)
        written.append(revived)
        live[revived["id"]] = revived
        writer.add_document(id="ghost", title="boundary layer", text="boundary layer flow", year=1960, tag="aero")
        assert writer.delete_by_term("id", "ghost") == 1
        for document in documents[250:253]:
            writer.delete_by_term("id", document["id"])
            del live[document["id"]]
    index = index.reopen()
    assert len(index.segments) >= 3 and all(meta.deleted_count for meta in index.segments)
    assert index.doc_count == len(live)
    written.append({"title": "boundary layer", "text": "boundary layer flow"})  # the ghost
    return index, Oracle(live, ANALYZER, ("title", "text"), ("id", "tag"), written)


def phrase(field: str, text: str, slop: int = 0, boost: float = 1.0) -> Phrase:
    """A phrase as the query parser makes it: analyzed, stop words leaving gaps."""
    terms, positions = tokens_of(ANALYZER, text)
    return Phrase(field, terms, slop, positions, boost)


BOTH = ("title", "text")

#: name -> query; each matches several live documents unless named in MAY_BE_EMPTY.
QUERIES: dict[str, Query] = {
    # Terms and BM25F
    "term-text": Term("text", "boundari"),
    "term-title": Term("title", "flow"),
    "term-rare": Term("text", "cylind"),
    "term-boosted": Term("text", "pressur", boost=2.5),
    "combined": CombinedTerm(BOTH, "boundari"),
    "combined-weighted": CombinedTerm(BOTH, "heat", (2.0, 1.0)),
    "combined-weighted-boosted": CombinedTerm(BOTH, "flow", (0.5, 1.5), boost=1.5),
    "combined-rare": CombinedTerm(BOTH, "cone", (3.0, 0.7)),
    "combined-one-field": CombinedTerm(("text",), "mach"),
    # Phrases: exact, with a stop word's gap, sloppy, reversed, repeated terms
    "phrase": phrase("text", "boundary layer"),
    "phrase-title": phrase("title", "boundary layer"),
    "phrase-three": phrase("text", "laminar boundary layer"),
    "phrase-one-term": phrase("text", "flow"),
    "phrase-boosted": phrase("text", "mach number", boost=2.0),
    "phrase-gap": phrase("text", "angle of attack"),
    "phrase-gap-two": phrase("text", "bodies of revolution"),
    "phrase-gap-three": phrase("text", "rate of heat transfer"),
    "phrase-gap-slop1": phrase("text", "angle of attack", slop=1),
    "phrase-slop1": phrase("text", "boundary layer", slop=1),
    "phrase-slop2": phrase("text", "heat transfer", slop=2),
    "phrase-slop3": phrase("text", "turbulent boundary layer", slop=3),
    "phrase-reversed-slop1": phrase("text", "layer boundary", slop=1),
    "phrase-reversed-slop2": phrase("text", "layer boundary", slop=2),
    "phrase-reversed-slop3": phrase("text", "number mach", slop=3),
    "phrase-repeated-slop1": Phrase("text", ("flow", "flow"), slop=1),
    "phrase-repeated-exact": phrase("text", "boundary layer heat transfer layer"),
    "phrase-repeated-first-slop2": Phrase("text", ("layer", "heat", "layer"), slop=2),
    "phrase-repeated-later-slop3": Phrase("text", ("boundari", "layer", "layer"), slop=3),
    "phrase-repeated-wide": Phrase("text", ("flow", "layer", "flow", "flow"), slop=40),
    # Patterns: the sum of every matching term's BM25
    "prefix": Prefix("text", "bound"),
    "prefix-many": Prefix("text", "com"),
    "prefix-title-boosted": Prefix("title", "super", boost=1.5),
    "wildcard-star": Wildcard("text", "h*t"),
    "wildcard-question": Wildcard("text", "?low"),
    "wildcard-both": Wildcard("text", "c?mp*ss*"),
    "fuzzy-1-transposed": Fuzzy("text", "flwo", max_edits=1),
    "fuzzy-1": Fuzzy("text", "layr", max_edits=1),
    "fuzzy-2": Fuzzy("text", "bondari", max_edits=2),
    "fuzzy-2-prefix": Fuzzy("title", "haet", max_edits=2, prefix_length=1),
    "regex": Regex("text", "comp(ress|ut).*"),
    "regex-class": Regex("text", "[a-c]on."),
    "regex-digits": Regex("text", "[0-9]{3}"),
    # Constant scores
    "range-year": Range("year", 1960, 1970),
    "range-year-exclusive": Range("year", 1960, 1970, include_low=False, include_high=False),
    "range-year-open-low": Range("year", None, 1955),
    "range-year-open-high-boosted": Range("year", 1985, None, boost=2.0),
    "range-year-float-bounds": Range("year", 1960.5, 1962.5),
    "range-tag": Range("tag", "b", "m"),
    "range-tag-exclusive": Range("tag", "aero", "noise", include_low=True, include_high=False),
    "range-id": Range("id", "10", "12"),
    "range-text-terms": Range("title", "wa", "wz"),
    "match-all": MatchAll(),
    "match-all-boosted": MatchAll(0.7),
    # Compounds
    "and": And([Term("text", "boundari"), Term("text", "heat")]),
    "and-not": And([Term("text", "flow"), Not(Term("text", "superson"))]),
    "and-only-not": And([Not(Term("text", "flow"))]),
    "and-mixed": And([CombinedTerm(BOTH, "heat"), phrase("text", "heat transfer"), Range("year", 1955, 1980)]),
    "not": Not(Term("text", "flow")),
    "or": Or([Term("text", "shock"), Term("title", "cone"), CombinedTerm(BOTH, "wing")]),
    "or-of-one-combined": Or([CombinedTerm(BOTH, "wing")]),
    "or-of-combined-terms": Or([CombinedTerm(BOTH, "heat"), CombinedTerm(BOTH, "flow"), CombinedTerm(BOTH, "cone")]),
    # Three (field, weight) spans: the title at two weights and the text.
    "or-of-differently-weighted-fields": Or([
        CombinedTerm(BOTH, "heat", (2.0, 1.0)), CombinedTerm(BOTH, "flow"), Term("text", "shock"),
        Term("title", "flow", 0.5),
    ]),
    "or-min-match-2": Or([Term("text", "boundari"), Term("text", "heat"), Term("text", "mach")], min_match=2),
    "or-of-patterns-and-phrases": Or([Prefix("text", "turbul"), phrase("text", "skin friction"), Fuzzy("title", "wign", 1)]),
    "bool": Bool(
        must=[Term("text", "flow")],
        should=[Term("text", "heat"), Term("title", "superson")],
        must_not=[Term("text", "shock")],
        filter=[Range("year", 1955, 1980)],
    ),
    "bool-min-should": Bool(
        should=[Term("text", "pressur"), Term("text", "veloc"), Term("text", "temperatur")],
        min_should_match=2, filter=[Range("tag", "a", "m")],
    ),
    "bool-must-and-required-should": Bool(
        must=[CombinedTerm(BOTH, "layer")], should=[Term("text", "laminar"), Term("text", "turbul")],
        min_should_match=1,
    ),
    "bool-filter-only": Bool(filter=[Term("text", "mach")]),
    "bool-too-few-should": Bool(should=[Term("text", "mach")], min_should_match=2),
    "filter": Filter(Term("text", "pressur"), phrase("text", "pressure distribution")),
    "boost": Boost(Or([Term("text", "heat"), Term("text", "transfer")]), 3.0),
    "boost-phrase": Boost(phrase("text", "shock wave"), 0.5),
    "nested": Or([
        And([Term("text", "superson"), Not(Range("year", 1960, 1965))]),
        Boost(Bool(must=[phrase("text", "flat plate")], should=[Prefix("text", "lamin")]), 1.7),
        Filter(Wildcard("title", "wing*"), Range("tag", "aero", "heat")),
    ]),
}
#: Empty by design: too few should clauses; a reversed pair needs slop 2, not 1.
MAY_BE_EMPTY = {"bool-too-few-should", "phrase-reversed-slop1"}

#: A KEYWORD or ID field keeps no field lengths: N counts documents with a posting in the
#: field, and every value counts as being of average length (Lucene's norm of 1).
KEYWORD_SCORING: dict[str, Query] = {
    "term-keyword": Term("tag", "heat"),
    "term-id": Term("id", "42"),
    "prefix-keyword": Prefix("tag", "a"),
    "or-text-and-keyword": Or([Term("text", "heat"), Term("tag", "heat")]),
}

LUCENE_PARAMS = [Params(1.2, 0.75), Params(0.9, 0.4), Params(2.0, 1.0), Params(0.5, 0.0)]

#: The queries every BM25 variant is checked on, with other k1 and b too.
VARIANT_QUERIES = [
    "term-text", "term-title", "term-rare", "combined", "combined-weighted", "combined-rare",
    "phrase-gap", "phrase-slop2", "prefix", "or-min-match-2", "bool",
]
VARIANT_PARAMS = [
    Params(k1, b, name) for name in SIMILARITIES for k1, b in ((1.2, 0.75), (0.9, 0.4), (1.6, 1.0))
]


def label(params: Params) -> str:
    return f"{params.similarity}-k1={params.k1}-b={params.b}"


Ranked = list[tuple[str, float]]


def run_in_context(searcher: Searcher, query: Query, params: Params) -> Ranked:
    """Run a query node over the searcher's segments with a BM25 variant (what Searcher
    does, with a Similarity it does not take), ranked by score; explain() is checked on
    the top hits."""
    tree = query.rewrite(searcher)
    context = ScoringContext(
        searcher.collection_stats(tree), params.k1, params.b, Similarity(params.similarity), schema=searcher.schema,
    )
    found = []
    for reader, matches in zip(searcher.readers, tree.matches_in(searcher.readers, context)):
        for doc, score in zip(matches.docs.tolist(), matches.scores.tolist()):
            found.append((-score, reader.id_value(doc), reader, doc))
    found.sort(key=lambda item: (item[0], item[1]))
    for negated, doc_id, reader, doc in found[:5]:
        explained = tree.explain(reader, doc, context)
        assert explained is not None, f"explain() says {doc_id} does not match"
        assert math.isclose(explained.value, -negated, rel_tol=1e-9, abs_tol=1e-12), f"explain() of {doc_id}"
    return [(doc_id, -negated) for negated, doc_id, _, _ in found]


def assert_agrees(expected: Scores, ranked: Ranked, allow_empty: bool = False) -> None:
    """Same documents, the same scores (1e-5 relative), a ranking the oracle agrees with."""
    assert allow_empty or expected, "the oracle finds nothing: the comparison would be vacuous"
    got = dict(ranked)
    assert len(got) == len(ranked), "a document is ranked twice"
    assert sorted(got.keys() - expected.keys()) == [], "matched, but not by the oracle"
    assert sorted(expected.keys() - got.keys()) == [], "the oracle's matches, missed"
    wrong = [
        (doc_id, got[doc_id], score) for doc_id, score in expected.items()
        if not math.isclose(got[doc_id], score, rel_tol=1e-5, abs_tol=1e-9)
    ]
    assert wrong == [], "(id, searchlib, oracle) scores differ"
    along = [expected[doc_id] for doc_id, _ in ranked]
    inversions = [
        (ranked[i][0], ranked[i + 1][0]) for i, (a, b) in enumerate(pairwise(along))
        if a < b and not math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-9)
    ]
    assert inversions == [], "ranked above a document the oracle scores higher"


@pytest.fixture(scope="module")
def searchers(corpus: tuple[Index, Oracle]):  # type: ignore[no-untyped-def]
    index, _ = corpus
    opened = {(p.k1, p.b): Searcher(index, k1=p.k1, b=p.b) for p in [*LUCENE_PARAMS, *VARIANT_PARAMS]}
    yield opened
    for searcher in opened.values():
        searcher.close()


def check(corpus: tuple[Index, Oracle], searchers, name: str, query: Query, params: Params) -> None:  # type: ignore[no-untyped-def]
    _, oracle = corpus
    searcher = searchers[(params.k1, params.b)]
    expected = oracle.scores(query, params)
    allow_empty = name in MAY_BE_EMPTY
    assert_agrees(expected, run_in_context(searcher, query, params), allow_empty)
    if params.similarity == "lucene":  # Searcher's own path: its top-k, ties and totals
        results = searcher.search(query, limit=searcher.doc_count)
        assert results.total == len(expected)
        ranked = [(hit.id, hit.score) for hit in results]
        assert [score for _, score in ranked] == sorted((score for _, score in ranked), reverse=True)
        assert_agrees(expected, ranked, allow_empty)


@pytest.mark.parametrize("params", LUCENE_PARAMS, ids=label)
@pytest.mark.parametrize("name", QUERIES)
def test_every_query_type_matches_the_oracle(corpus, searchers, name: str, params: Params) -> None:  # type: ignore[no-untyped-def]
    check(corpus, searchers, name, QUERIES[name], params)


@pytest.mark.parametrize("params", VARIANT_PARAMS, ids=label)
@pytest.mark.parametrize("name", VARIANT_QUERIES)
def test_every_bm25_variant_matches_the_oracle(corpus, searchers, name: str, params: Params) -> None:  # type: ignore[no-untyped-def]
    check(corpus, searchers, name, QUERIES[name], params)


@pytest.mark.parametrize("name", KEYWORD_SCORING)
def test_terms_of_keyword_fields_match_the_oracle(corpus, searchers, name: str) -> None:  # type: ignore[no-untyped-def]
    check(corpus, searchers, name, KEYWORD_SCORING[name], Params())


def test_the_oracle_sees_the_index_as_built(corpus: tuple[Index, Oracle]) -> None:
    """The oracle's statistics are the live documents', and they differ between fields."""
    index, oracle = corpus
    assert len(oracle.documents) == index.doc_count
    assert oracle.n(("title",)) < oracle.n(("text",)) < len(oracle.documents)
    assert oracle.n(BOTH) == len(oracle.documents)
    assert "ghost" not in oracle.documents and "4" in oracle.documents  # "4" deleted, then revived
    assert oracle.phrase_frequency("text", "4", ("boundari", "layer"), (0, 1), 0) == 1
    # "b a" needs slop 2 to match "a b" (Lucene's measure)
    assert oracle.phrase_frequency("text", "4", ("layer", "boundari"), (0, 1), 1) == 0
    assert oracle.phrase_frequency("text", "4", ("layer", "boundari"), (0, 1), 2) == 1
