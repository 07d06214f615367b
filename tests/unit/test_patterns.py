"""Pattern queries expanded by the core's automata, on real indexes: written words on
stemmed fields, fuzzy words against brute force, bounds, and bounded did-you-mean."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib.errors import QueryError
from searchlib.query import Expansion, Fuzzy, Prefix, Regex, Wildcard

STEMMED = [
    ("1", "They are negotiating a ceasefire."),
    ("2", "The negotiations stalled overnight."),
    ("3", "A license to export was granted."),
    ("4", "Her licence was renewed, and licensing rules changed."),
    ("5", "Talks about talking: the talkative negotiator."),
]


def hits(searcher: Searcher, text: str, **options: object) -> list[str]:
    return sorted(hit["id"] for hit in searcher.search(text, limit=100, **options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def stemmed(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """An English (stemmed) body over two segments, the second with a deletion."""
    index = Index.create(tmp_path_factory.mktemp("stemmed") / "index", Schema(id=ID(), body=TEXT()))
    with index.writer() as writer:
        for doc_id, body in STEMMED[:3]:
            writer.add_document(id=doc_id, body=body)
    with index.writer() as writer:
        for doc_id, body in STEMMED[3:]:
            writer.add_document(id=doc_id, body=body)
        writer.add_document(id="gone", body="negotiators negotiate")
    with index.writer() as writer:
        writer.delete_by_term("id", "gone")
    return index.reopen()


def test_a_prefix_on_a_stemmed_field_matches_the_words_as_written(stemmed: Index) -> None:
    # The stems are negoti and licens: matched against them, both patterns found nothing.
    with Searcher(stemmed) as searcher:
        assert hits(searcher, "negotiat*") == ["1", "2", "5"]
        assert hits(searcher, "/licen[cs]e/") == ["3", "4"]
        assert hits(searcher, "licen?e") == ["3", "4"]
        assert hits(searcher, "talkat*") == ["5"]  # talkative, whose stem is talk
        # A word's term brings every document with that term: licensing is licens too.
        assert hits(searcher, "/license/") == ["3", "4"]
        assert hits(searcher, "/negotiat/") == []  # no written word is exactly that


def test_a_stemmed_fields_pattern_expands_to_the_terms_of_its_words(stemmed: Index) -> None:
    with Searcher(stemmed) as searcher:
        tree, _ = searcher.prepare("negotiat*")
        assert tree.terms() == {("body", "negoti")}  # negotiating, negotiations, negotiator
        tree, _ = searcher.prepare("lic*")
        assert tree.terms() == {("body", "licens"), ("body", "licenc")}  # license, licensing; licence
        assert all(hit["id"] != "gone" for hit in searcher.search("negotiat*", limit=10))


def test_deleting_by_a_pattern_reads_the_written_words_too(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index", Schema(id=ID(), body=TEXT()))
    with index.writer() as writer:
        for doc_id, body in STEMMED:
            writer.add_document(id=doc_id, body=body)
    with index.writer() as writer:
        assert writer.delete_by_query("body:negotiat*") == 3
    with Searcher(index.reopen()) as searcher:
        assert hits(searcher, "licen*") == ["3", "4"]
        assert hits(searcher, "negotiat*") == []


def test_a_regex_an_automaton_cannot_run_is_refused_naming_it(stemmed: Index) -> None:
    with Searcher(stemmed) as searcher:
        for pattern, named in [("/a(?=b)/", "look-around"), ("/(a)\\1/", "backreference"), ("/(?>ab)/", "atomic")]:
            with pytest.raises(QueryError, match=named):
                searcher.search(pattern)
        with pytest.raises(QueryError, match="look-around"):
            Regex("body", "ne(?!g).*")


def test_a_catastrophic_regex_shape_costs_what_a_plain_one_does(stemmed: Index) -> None:
    with Searcher(stemmed) as searcher:
        assert hits(searcher, "/(n|n)+e.*/") == hits(searcher, "/ne.*/")
        assert hits(searcher, "/((((t)*)*)*)alk.*/") == hits(searcher, "/t*alk.*/")


def osa(a: str, b: str) -> int:
    """The optimal string alignment distance by its recurrence: the reference."""
    rows = [[max(i, j) if min(i, j) == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """A standard (unstemmed) field of seeded random words over a small alphabet, so that
    many lie within an edit or two of each other."""
    rng = random.Random(19)
    index = Index.create(tmp_path_factory.mktemp("words") / "index", Schema(id=ID(), body=TEXT("standard")))
    with index.writer() as writer:
        for doc in range(200):
            text = " ".join("".join(rng.choice("abcdé") for _ in range(rng.randint(1, 7))) for _ in range(8))
            writer.add_document(id=str(doc), body=text)
    return index


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text("abcdéx", min_size=0, max_size=8), st.integers(0, 2), st.integers(0, 3))
def test_a_fuzzy_word_selects_the_terms_brute_force_finds(words: Index, word: str, edits: int, prefix: int) -> None:
    reader = Index.open_snapshot(words.path)[1][0]
    dictionary = reader.dictionary("body")
    assert dictionary is not None
    expected = [
        term for term in dictionary.terms() if term.startswith(word[:prefix]) and osa(term, word) <= edits
    ]
    terms, doc_freqs = Fuzzy("body", word, edits, prefix).select(reader, "body")
    assert terms == expected
    assert doc_freqs.tolist() == [reader.doc_freq_at("body", dictionary.find(term)) for term in terms]


def test_a_broad_pattern_keeps_the_most_frequent_terms_of_each_segment(words: Index) -> None:
    with Searcher(words, expansion=Expansion(5, "keep_frequent")) as searcher:
        results = searcher.search("a*", strict=False)
        assert any("searched the 5 most frequent" in warning for warning in results.warnings)
        tree, _ = searcher.prepare("a*", strict=False)
        kept = sorted(term for _, term in tree.terms())
        reader = searcher.readers[0]
        dictionary = reader.dictionary("body")
        assert dictionary is not None
        ranked = sorted(
            (t for t in dictionary.terms() if t.startswith("a")),
            key=lambda t: (-reader.doc_freq_at("body", dictionary.find(t)), t),
        )
        assert kept == sorted(ranked[:5])
        with pytest.raises(QueryError, match="more than the limit of 5"):
            Searcher(words, expansion=Expansion(5)).search("a*")


def test_patterns_built_in_python_select_like_the_parser(words: Index) -> None:
    reader = Index.open_snapshot(words.path)[1][0]
    assert Prefix("body", "ab").select(reader, "body")[0] == Wildcard("body", "ab*").select(reader, "body")[0]
    assert Regex("body", "ab.*").select(reader, "body")[0] == Wildcard("body", "ab*").select(reader, "body")[0]


def test_did_you_mean_stops_at_its_time_bound(stemmed: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    from searchlib import suggest

    from searchlib.limits import QueryLimits

    with Searcher(stemmed) as searcher:
        assert searcher.did_you_mean("negotaitions") == "negotiations"
        monkeypatch.setattr(suggest, "SUGGEST_SECONDS", 0.0)
        # Each walk reads its first QueryLimits.untimed_visits words whatever the
        # clock says: a dictionary this small is corrected alike on any machine.
        assert searcher.did_you_mean("negotaitions") == "negotiations"
        assert searcher.vocabulary("body").suggest("negotaitions", seconds=0.0)[0].word == "negotiations"
    with Searcher(stemmed, limits=QueryLimits(untimed_visits=0)) as searcher:
        assert searcher.did_you_mean("negotaitions") is None  # no time to look: left as typed
        assert searcher.vocabulary("body").suggest("negotaitions", seconds=0.0) == []


def test_did_you_mean_over_a_long_pasted_query_is_bounded(stemmed: Index) -> None:
    # 3,000 unknown words: each looked at costs a few automaton walks, and the whole
    # query is cut at SUGGEST_SECONDS, so this returns (no timing is asserted here).
    from searchlib.limits import QueryLimits

    rng = random.Random(3)
    text = " ".join("".join(rng.choice("qxzjkv") for _ in range(6)) for _ in range(3000))
    limits = QueryLimits(max_length=100_000, suggest_words=100_000)
    with Searcher(stemmed, limits=limits) as searcher:
        assert searcher.did_you_mean(text + " negotaitions") in (None, text + " negotiations")
