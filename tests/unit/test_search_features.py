"""Searcher features around ranking: sorting, filters, pages, explain, BM25 settings,
pattern expansion bounds, suggestions and more-like-this, on real indexes on disk."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from searchlib import ID, KEYWORD, NUMERIC, TEXT, Index, Schema, Searcher
from searchlib.errors import QueryError, SchemaError, SearchlibError
from searchlib.explain import Explanation
from searchlib.query import (
    And, Bool, CombinedTerm, Expansion, Fuzzy, MatchAll, Not, Or, Phrase, Prefix, Range, Regex, Term, Wildcard,
)
from searchlib.scoring import BM25Settings, CollectionStats

DOCS = [
    ("d1", "Boundary layers", "The boundary layer thickens downstream of the plate.", 1961, "theory"),
    ("d2", "Heat transfer", "Heat transfer in a laminar boundary layer at high mach number.", 1955, "experiment"),
    ("d3", "Shock waves", "Shock waves and boundary layer interaction near the wing.", 1970, "experiment"),
    ("d4", "Supersonic flow", "Supersonic flow over a cone; the shock is attached.", 1966, "theory"),
    ("d5", "Wings", "Slender wings at supersonic speeds, with boundary effects.", 1958, "design"),
    ("d6", "Plates", "Flat plate flow; boundary layer transition and heat transfer.", None, "theory"),
]


@pytest.fixture
def index(tmp_path: Path) -> Index:
    schema = Schema(id=ID(), title=TEXT(), body=TEXT(), year=NUMERIC("int"), kind=KEYWORD())
    index = Index.create(tmp_path / "index", schema)
    for start in (0, 3):  # two commits: two segments
        with index.writer() as writer:
            for doc_id, title, body, year, kind in DOCS[start : start + 3]:
                fields = {"id": doc_id, "title": title, "body": body, "kind": kind}
                if year is not None:
                    fields["year"] = year
                writer.add_document(**fields)
    return index


def ids(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.id for hit in results]


def test_sort_by_numeric_field_both_ways_with_missing_values_last(index: Index) -> None:
    with Searcher(index) as searcher:
        assert len(searcher.readers) == 2
        ascending = searcher.search("boundary", sort="year")
        descending = searcher.search("boundary", sort="-year")
    years = [hit.fields.get("year") for hit in ascending]
    assert years == [1955, 1958, 1961, 1970, None]
    assert [hit.fields.get("year") for hit in descending] == [1970, 1961, 1958, 1955, None]


def test_sort_by_keyword_breaks_ties_by_score(index: Index) -> None:
    with Searcher(index) as searcher:
        results = searcher.search("boundary heat", sort="kind")
    kinds = [hit["kind"] for hit in results]
    assert kinds == sorted(kinds)
    experiments = [hit for hit in results if hit["kind"] == "experiment"]
    assert [h.score for h in experiments] == sorted((h.score for h in experiments), reverse=True)


def test_sort_by_text_field_is_refused(index: Index) -> None:
    with Searcher(index) as searcher, pytest.raises(QueryError, match="cannot sort by 'body'"):
        searcher.search("boundary", sort="body")


def test_filter_restricts_without_changing_scores(index: Index) -> None:
    with Searcher(index) as searcher:
        plain = {hit.id: hit.score for hit in searcher.search("boundary layer")}
        filtered = searcher.search("boundary layer", filter=Range("year", 1960, None))
    assert ids(filtered) and set(ids(filtered)) < set(plain)
    for hit in filtered:
        assert hit.fields["year"] >= 1960
        assert hit.score == pytest.approx(plain[hit.id], rel=1e-12)


def test_pages_concatenate_to_the_full_ranking(index: Index) -> None:
    with Searcher(index) as searcher:
        full = ids(searcher.search("boundary layer flow supersonic", limit=100))
        pages = [ids(searcher.search("boundary layer flow supersonic", limit=2, offset=o)) for o in (0, 2, 4)]
        total = searcher.search("boundary layer flow supersonic", limit=2, offset=4).total
    assert sum(pages, []) == full
    assert total == len(full) == 6


@pytest.mark.parametrize("query", [
    Term("body", "boundari"),
    CombinedTerm(("title", "body"), "heat", (2.0, 1.0)),
    Phrase("body", ("boundari", "layer")),
    Phrase("body", ("layer", "boundari"), slop=2),
    Prefix("body", "super"),
    Or([Term("body", "shock"), Term("title", "wing")], min_match=1),
    And([Term("body", "boundari"), Not(Term("body", "heat"))]),
    Bool(must=[Term("body", "flow")], should=[Term("body", "supersonic")], filter=[Range("year", None, 1970)]),
])
def test_explanations_add_up_to_the_scores(index: Index, query) -> None:  # type: ignore[no-untyped-def]
    with Searcher(index) as searcher:
        results = searcher.search(query)
        assert results.hits
        for hit in results:
            explanation = hit.explain()
            assert math.isclose(explanation.value, hit.score, rel_tol=1e-9)
            text = explanation.format()
            if isinstance(query, Prefix):  # constant-scored: the boost is the score
                assert "constant score of prefix super*" in text and "boost" in text
            elif not isinstance(query, (Bool, And)):
                for name in ("idf", "k1", "b", "dl, field length", "avgdl", "boost"):
                    assert name in text


def test_index_scoring_settings_persist_and_queries_can_override(tmp_path: Path) -> None:
    schema = Schema(id=ID(), body=TEXT())
    plain = Index.create(tmp_path / "plain", schema)
    tuned = Index.create(tmp_path / "tuned", schema, scoring=BM25Settings("bm25+", k1=2.0, b=0.3))
    for target in (plain, tuned):
        with target.writer() as writer:
            writer.add_document(id="a", body="flow flow over the plate")
            writer.add_document(id="b", body="flow near a long flat plate with a wake")
    with Searcher(tuned) as searcher:
        assert searcher.scoring == BM25Settings("bm25+", 2.0, 0.3)
        tuned_scores = [h.score for h in searcher.search("flow")]
        overridden = [h.score for h in searcher.search("flow", similarity="lucene", k1=1.2, b=0.75)]
    with Searcher(plain) as searcher:
        default_scores = [h.score for h in searcher.search("flow")]
    assert overridden == pytest.approx(default_scores, rel=1e-12)
    assert tuned_scores != pytest.approx(default_scores)
    # A later commit keeps the settings.
    with tuned.writer() as writer:
        writer.add_document(id="c", body="plate")
    assert Index.open(tuned.path).scoring == BM25Settings("bm25+", 2.0, 0.3)


def test_unknown_similarity_is_a_clear_error(index: Index) -> None:
    with pytest.raises(ValueError, match="unknown BM25 variant 'bm26'"):
        Searcher(index, similarity="bm26")


def test_pattern_expansion_is_bounded(index: Index) -> None:
    with Searcher(index) as searcher:
        everything = searcher.search(Regex("body", ".*"))
        with pytest.raises(QueryError, match=r"matches \d+ terms, more than the limit of 3"):
            searcher.search(Prefix("body", "", expansion=Expansion(3)))
        kept = searcher.search(Regex("body", ".*", expansion=Expansion(3, "keep_frequent")))
    assert len(everything.query.terms()) > 3
    assert set(kept.query.terms()) == {("body", "boundari"), ("body", "layer"), ("body", "flow")}


@pytest.mark.parametrize("limit, on_too_many", [(0, "error"), (-5, "error"), (2.5, "error"), (10, "drop")])
def test_a_bad_expansion_setting_is_refused_by_name(limit: int, on_too_many: str) -> None:
    with pytest.raises(ValueError, match="expansion limit" if on_too_many == "error" else "on_too_many"):
        Expansion(limit, on_too_many)  # type: ignore[arg-type]


def test_wildcard_fuzzy_and_regex_find_their_terms(index: Index) -> None:
    with Searcher(index) as searcher:
        assert set(ids(searcher.search(Wildcard("body", "sh?ck")))) == {"d3", "d4"}
        assert set(ids(searcher.search(Fuzzy("body", "shokc", 1)))) == {"d3", "d4"}  # a transposition
        assert ids(searcher.search(Fuzzy("body", "shokc", 0))) == []
        assert set(ids(searcher.search(Regex("body", "sup.*")))) == {"d4", "d5"}
        assert ids(searcher.search(Range("kind", "design", "design"))) == ["d5"]


def test_did_you_mean_replaces_unknown_words_with_frequent_neighbours(index: Index) -> None:
    with Searcher(index) as searcher:
        suggestions = searcher.suggest("boundray")
        assert suggestions[0].word == "boundary"
        assert searcher.did_you_mean("boundray layr") == "boundary layer"
        assert searcher.did_you_mean("boundary layer") is None
        assert searcher.suggest("xq") == []  # too short to guess


@pytest.mark.parametrize("text, corrected", [
    ("/boundray.*/ layr", "/boundray.*/ layer"),
    ("boundr* layr", "boundr* layer"),
    ("year:[1950 TO 1960] layr", "year:[1950 TO 1960] layer"),
    ("kind:theory layr^2", "kind:theory layer^2"),
    ('"boundray layr"~2', '"boundary layer"~2'),
])
def test_did_you_mean_keeps_query_syntax_as_typed(index: Index, text: str, corrected: str) -> None:
    with Searcher(index) as searcher:
        assert searcher.did_you_mean(text) == corrected


def test_suggestions_count_live_documents_only(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT()))
    with index.writer() as writer:  # segment 1: "tall" is the more frequent neighbour of "talc"
        for number in range(6):
            writer.add_document(id=f"tall{number}", body="a tall building")
        for number in range(30):
            writer.add_document(id=f"other{number}", body="rain on monday")
    with index.writer() as writer:  # segment 2
        for number in range(3):
            writer.add_document(id=f"talk{number}", body="we talk today")
    with index.writer() as writer:  # every "tall" document deleted; segment 1 keeps them
        for number in range(6):
            writer.delete_by_term("id", f"tall{number}")
    with Searcher(index) as searcher:
        assert searcher.search("tall").total == 0
        assert [(s.word, s.doc_freq) for s in searcher.suggest("talc")] == [("talk", 3)]
        assert searcher.did_you_mean("talc") == "talk"
        assert searcher.did_you_mean("tall monday") == "talk monday"  # a word only deleted documents hold is unknown
        assert searcher.did_you_mean("talk monday") is None


def test_a_known_word_stays_known_when_a_segment_lacks_its_field(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(id=ID(), title=TEXT(), body=TEXT()))
    with index.writer() as writer:  # segment 1: no document has a title
        writer.add_document(id="a", body="plain notes about weather")
        writer.add_document(id="b", body="a comentary typo")
    with index.writer() as writer:  # segment 2: "running commentary" only in titles
        writer.add_document(id="c", title="Running commentary", body="The runners were fast.")
    with index.writer() as writer:  # a deletion makes counts live ones
        writer.delete_by_term("id", "a")
    with Searcher(index) as searcher:
        assert searcher.did_you_mean("commentary running") is None
        assert searcher.did_you_mean("runing") == "running"


def test_more_like_this_finds_similar_documents_but_not_itself(index: Index) -> None:
    with Searcher(index) as searcher:
        similar = searcher.more_like_this("d2")
        assert "d2" not in ids(similar)
        assert ids(similar)[0] == "d6"  # shares heat transfer and boundary layer


def test_more_like_this_leaves_out_its_document_without_an_id_field(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(title=TEXT(), body=TEXT()))
    for start in (0, 3):  # two segments: the source is excluded in its own only
        with index.writer() as writer:
            for _, title, body, _, _ in DOCS[start : start + 3]:
                writer.add_document(title=title, body=body)
    with Searcher(index) as searcher:
        for source in searcher.search("boundary", limit=10):
            similar = searcher.more_like_this(source)
            assert similar.total > 0
            assert all((hit.segment, hit.doc) != (source.segment, source.doc) for hit in similar)
            with_itself = searcher.search(Or(similar.query.should), limit=0)  # type: ignore[attr-defined]
            assert similar.total == with_itself.total - 1


def test_more_like_this_needs_stored_text(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT(stored=False)))
    with index.writer() as writer:
        writer.add_document(id="a", body="flow")
    with Searcher(index) as searcher, pytest.raises(SchemaError, match="stored text"):
        searcher.more_like_this("a", fields=["body"])


def test_a_field_named_score_sorts_by_its_values(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT("whitespace"), score=NUMERIC("int")))
    with index.writer() as writer:
        for doc_id, body, score in [("a", "x", 9), ("b", "x x x", 5), ("c", "x x", 3)]:
            writer.add_document(id=doc_id, body=body, score=score)
    with Searcher(index) as searcher:
        assert ids(searcher.search("body:x")) == ["b", "c", "a"]  # by relevance
        assert ids(searcher.search("body:x", sort="score")) == ["c", "b", "a"]
        assert ids(searcher.search("body:x", sort="-score")) == ["a", "b", "c"]


def test_score_sorts_by_relevance_without_such_a_field(index: Index) -> None:
    with Searcher(index) as searcher:
        ranked = ids(searcher.search("boundary layer"))
        assert ids(searcher.search("boundary layer", sort="score")) == ranked
        assert ids(searcher.search("boundary layer", sort="-score")) == ranked


def test_score_sorts_by_relevance_when_a_field_named_score_cannot_sort(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT("whitespace"), score=TEXT()))
    with index.writer() as writer:
        for doc_id, body in [("a", "x"), ("b", "x x x"), ("c", "x x")]:
            writer.add_document(id=doc_id, body=body, score="A+")
    with Searcher(index) as searcher:
        assert ids(searcher.search("body:x", sort="score")) == ids(searcher.search("body:x")) == ["b", "c", "a"]


def test_a_filter_may_be_query_text(index: Index) -> None:
    with Searcher(index) as searcher:
        as_text = searcher.search("boundary", filter="kind:theory")
        as_tree = searcher.search("boundary", filter=Term("kind", "theory"))
        assert [(hit.id, hit.score) for hit in as_text] == [(hit.id, hit.score) for hit in as_tree]
        assert set(ids(as_text)) == {"d1", "d6"}
        unfiltered = [(hit.id, hit.score) for hit in searcher.search("boundary")]
        assert [(hit.id, hit.score) for hit in searcher.search("boundary", filter=" ")] == unfiltered
        with pytest.raises(QueryError, match="a filter must be a string or a Query, got int"):
            searcher.search("boundary", filter=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("page", [{"limit": 2.5}, {"offset": 1.0}, {"limit": None}, {"limit": True}])
def test_a_page_bound_that_is_not_a_whole_number_is_refused_by_name(index: Index, page: dict[str, object]) -> None:
    with Searcher(index) as searcher, pytest.raises(TypeError, match="limit and offset must be whole numbers"):
        searcher.search("boundary", **page)  # type: ignore[arg-type]


def test_reopening_a_closed_searcher_opens_a_new_one(index: Index) -> None:
    searcher = Searcher(index)
    searcher.close()
    reopened = searcher.reopen()
    assert reopened is not searcher and not reopened.is_closed
    assert reopened.search("boundary").total == 5


def _descriptions(explanation: Explanation) -> list[str]:
    return [explanation.description, *(text for part in explanation.details for text in _descriptions(part))]


def test_explanations_name_every_factor_they_use(index: Index) -> None:
    with Searcher(index) as searcher:
        keyword = searcher.search("kind:theory boundary").hits[0].explain()
        assert any("KEYWORD or ID field keeps no lengths" in text for text in _descriptions(keyword))
        for text in ("year:[1950 TO 1960]^3", "*:*^2"):
            hit = searcher.search(text).hits[0]
            explained = hit.explain()
            assert explained.value == hit.score and "constant score" in explained.description
            assert [(part.value, part.description) for part in explained.details] == [(hit.score, "boost")]
        for variant, has_delta in (("lucene", False), ("robertson", False), ("bm25l", True), ("bm25+", True)):
            explained = searcher.search("boundary", similarity=variant).hits[0].explain()
            assert any("delta" in text for text in _descriptions(explained)) == has_delta, variant


def test_any_document_can_be_explained_by_its_id(index: Index) -> None:
    with Searcher(index) as searcher:
        ranked = {hit.id: hit.score for hit in searcher.search("boundary layer heat", limit=10)}
        for doc_id, score in ranked.items():
            explained = searcher.explain_document("boundary layer heat", doc_id)
            assert explained is not None and explained.value == pytest.approx(score, rel=1e-12)
        assert searcher.explain_document("boundary layer heat", "d4") is None  # it does not match
        other = searcher.search("supersonic").hits[0]  # a hit of another query names a document too
        explained = searcher.explain_document("boundary layer heat", other)
        assert (explained is None) == (other.id not in ranked)
        with pytest.raises(SearchlibError, match="no document has id 'nowhere'"):
            searcher.explain_document("boundary", "nowhere")
        settings = {"k1": 3.0, "b": 0.1, "similarity": "bm25l"}
        for hit in searcher.search("boundary layer heat", **settings):  # type: ignore[arg-type]
            explained = searcher.explain_document("boundary layer heat", hit.id, **settings)  # type: ignore[arg-type]
            assert explained is not None and explained.value == pytest.approx(hit.score, rel=1e-12)


def test_query_objects_compose_with_operators() -> None:
    a, b, c = Term("body", "a"), Term("body", "b"), Term("body", "c")
    assert a & b & c == And([a, b, c])
    assert a | b | c == Or([a, b, c])
    assert ~a == Not(a)
    assert (a & ~b) == And([a, Not(b)])


def test_query_objects_refuse_what_is_not_a_query() -> None:
    with pytest.raises(TypeError):
        Term("body", "a") & "b"  # type: ignore[operator]
    with pytest.raises(TypeError):
        Term("body", "a") | 2  # type: ignore[operator]
    with pytest.raises(TypeError, match="not the string 'direct'"):
        Phrase("body", "direct")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not the string 'body'"):
        CombinedTerm("body", "direct")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="names a field twice"):
        CombinedTerm(("body", "body"), "direct")


def test_a_combined_term_built_from_lists_equals_the_parsed_one(index: Index) -> None:
    with Searcher(index, fields={"title": 2.0, "body": 1.0}) as searcher:
        from_lists = CombinedTerm(["title", "body"], "boundari", [2.0, 1.0])  # type: ignore[arg-type]
        parsed = searcher.parse("boundary")
        assert from_lists == parsed and hash(from_lists) == hash(parsed)
        assert [(h.id, h.score) for h in searcher.search(from_lists)] == [(h.id, h.score) for h in searcher.search(parsed)]


def test_match_all_and_pure_exclusion(index: Index) -> None:
    with Searcher(index) as searcher:
        assert searcher.search(MatchAll()).total == 6
        assert set(ids(searcher.search(And([Not(Term("body", "boundari"))])))) == {"d4"}


def test_delete_by_query_expands_patterns(index: Index) -> None:
    with index.writer() as writer:
        assert writer.delete_by_query("body:super*") == 2
    with Searcher(index) as searcher:
        assert searcher.doc_count == 4
        assert searcher.search("supersonic").total == 0


def test_default_operator_and_field_weights_survive_reopen(index: Index) -> None:
    searcher = Searcher(index, fields={"title": 3.0, "body": 1.0}, default_operator="AND")
    before = [(h.id, h.score) for h in searcher.search("boundary layer")]
    with index.writer() as writer:
        writer.add_document(id="d7", title="Layers", body="A boundary layer again.", kind="theory")
    reopened = searcher.reopen()
    assert reopened is not searcher
    after = {h.id: h.score for h in reopened.search("boundary layer")}
    assert set(after) == {h for h, _ in before} | {"d7"}
    assert {h for h, _ in before} == {"d1", "d2", "d3", "d6"}


def test_searcher_expansion_setting_reaches_query_strings(index: Index) -> None:
    with Searcher(index, expansion=Expansion(2)) as searcher, pytest.raises(QueryError, match="limit of 2"):
        searcher.search("body:/.*/")
    with Searcher(index, expansion=Expansion(2, "keep_frequent")) as searcher:
        assert searcher.search("body:/.*/").query.terms() == {("body", "boundari"), ("body", "layer")}


def test_statistics_read_lazily_equal_the_ones_gathered_up_front(index: Index) -> None:
    with Searcher(index) as searcher:
        query = searcher.parse("boundary layer shock wing")
        gathered = searcher.collection_stats(query)
        lazily = searcher.search(query, limit=10)
        given = searcher.search(query, limit=10, stats=gathered)
        assert [(hit.id, hit.score) for hit in lazily] == [(hit.id, hit.score) for hit in given]
        assert lazily.context is not None
        assert lazily.context.stats.doc_freqs == gathered.doc_freqs  # the same record, once scored


@pytest.mark.parametrize("text", ["bound*", "lay?r shock", "boundry~1 wing", "body:/lay.*/", "title:sho* AND body:wing"])
def test_own_statistics_of_a_pattern_query_give_its_own_scores(index: Index, text: str) -> None:
    with Searcher(index) as searcher:
        query = searcher.parse(text)
        own = searcher.collection_stats(query)
        # A prefix or regex alone scores its matches alike: it needs no document frequency.
        assert own.doc_freqs or text in ("bound*", "body:/lay.*/")
        assert all(count > 0 for count in own.doc_freqs.values())
        local = [(hit.id, hit.score) for hit in searcher.search(query, limit=10)]
        assert local
        assert [(hit.id, hit.score) for hit in searcher.search(query, limit=10, stats=own)] == local


def _summed(parts: list[CollectionStats]) -> CollectionStats:
    """What a sharded search passes every shard: each statistic added up over the shards."""
    total = CollectionStats(sum(part.doc_count for part in parts))
    for part in parts:
        for mine, theirs in ((total.field_doc_counts, part.field_doc_counts), (total.total_lengths, part.total_lengths),
                             (total.doc_freqs, part.doc_freqs)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value  # type: ignore[index,operator]
    return total


@pytest.mark.parametrize("text", ["title:boundar* shock", "title:/wing.*/", "title:lay* OR title:heat*", "body:supersonic~1"])
def test_shards_scored_with_summed_statistics_rank_as_one_index(tmp_path: Path, text: str) -> None:
    whole = Index.create(tmp_path / "whole", Schema(id=ID(), title=TEXT(), body=TEXT()))
    shards = [Index.create(tmp_path / f"shard{n}", Schema(id=ID(), title=TEXT(), body=TEXT())) for n in (1, 2)]
    for index, rows in ((whole, DOCS), (shards[0], DOCS[:3]), (shards[1], DOCS[3:])):
        with index.writer() as writer:
            for doc_id, title, body, _, _ in rows:
                writer.add_document(id=doc_id, title=title, body=body)
    with Searcher(whole) as searcher:
        expected = {hit.id: hit.score for hit in searcher.search(text, limit=10)}
    searchers = [Searcher(shard) for shard in shards]
    merged = _summed([searcher.collection_stats(searcher.parse(text)) for searcher in searchers])
    found = {hit.id: hit.score for searcher in searchers for hit in searcher.search(text, limit=10, stats=merged)}
    assert found.keys() == expected.keys()
    for doc_id, score in expected.items():
        assert found[doc_id] == pytest.approx(score, rel=1e-9)


def test_statistics_passed_in_replace_the_snapshots(index: Index) -> None:
    with Searcher(index) as searcher:
        query = searcher.parse("boundary shock")
        own = searcher.collection_stats(query)
        # As a shard would see them: ten times the documents, the same frequencies.
        wider = CollectionStats(
            own.doc_count * 10,
            {fields: count * 10 for fields, count in own.field_doc_counts.items()},
            {name: total * 10 for name, total in own.total_lengths.items()},
            dict(own.doc_freqs),
        )
        local = {hit.id: hit.score for hit in searcher.search(query, limit=10)}
        hits = searcher.search(query, limit=10, stats=wider)
        assert {hit.id for hit in hits} == set(local)
        for hit in hits:
            assert hit.score > local[hit.id]  # rarer terms: a higher idf, the same lengths
            assert hit.explain().value == pytest.approx(hit.score, rel=1e-9)
