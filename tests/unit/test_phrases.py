"""Phrase matching against an exhaustive search, Lucene's rule for repeated words, and
bounds on the work a phrase does over documents of many positions: the core's matcher
(what ``Phrase`` runs) through real indexes, and the numpy one
(:mod:`tests.phrase_reference`, the rule written out over numpy arrays), held to each other."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib._core import phrase_matches as core_phrase_matches
from searchlib.analysis import get_analyzer
from searchlib.highlight import find_marks, phrase_occurrences
from tests.phrase_reference import PhraseMatch, TermPositions, match_phrase
from searchlib.query import Phrase
from tests.oracle import phrase_frequency


def match(docs: Sequence[Sequence[str]], terms: Sequence[str], offsets: Sequence[int], slop: int) -> PhraseMatch:
    """The matcher over ``docs`` (lists of words; a word's index is its position)."""
    distinct = sorted(set(terms))
    found = [
        TermPositions.of(
            [rank for rank, doc in enumerate(docs) for word in doc if word == term],
            [pos for doc in docs for pos, word in enumerate(doc) if word == term],
        )
        for term in distinct
    ]
    return match_phrase(found, [distinct.index(t) for t in terms], offsets, slop, with_positions=True)


def brute(doc: Sequence[str], terms: Sequence[str], offsets: Sequence[int], slop: int) -> int:
    where: dict[str, list[int]] = {}
    for pos, word in enumerate(doc):
        where.setdefault(word, []).append(pos)
    return phrase_frequency(where, terms, offsets, slop)


def assert_valid_layouts(result: PhraseMatch, docs: Sequence[Sequence[str]], terms: Sequence[str],
                         offsets: Sequence[int], slop: int) -> None:
    """Every occurrence shown obeys the rule, and starts at the first-word position counted."""
    assert result.chosen is not None and len(result.chosen) == len(result.counted)
    for index, row in zip(result.counted.tolist(), result.chosen.tolist()):
        doc = docs[int(result.first.ranks[index])]
        assert row[0] == int(result.first.positions[index])
        assert [doc[q] for q in row] == list(terms)
        values = [q - o for q, o in zip(row, offsets)]
        assert max(values) - min(values) <= slop
        for i in range(len(terms)):
            for j in range(i):
                if terms[i] == terms[j]:
                    assert row[i] != row[j], "two query words on one position"
            if i and terms[i] == terms[0]:
                assert row[i] > row[0]


@st.composite
def phrases(draw: st.DrawFn) -> tuple[list[list[str]], list[str], list[int], int]:
    words = draw(st.sampled_from(["ab", "abc", "aab"]))  # few words: many repeats
    docs = draw(st.lists(st.lists(st.sampled_from(words), max_size=12), min_size=1, max_size=4))
    terms = draw(st.lists(st.sampled_from("abc"), min_size=1, max_size=5))
    gaps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 0]), min_size=len(terms) - 1, max_size=len(terms) - 1))
    offsets = [0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    slop = draw(st.sampled_from([0, 0, 1, 2, 3, 4, 6, 30, 10**12]))
    return docs, terms, offsets, slop


@settings(max_examples=400)
@given(phrases())
def test_the_matcher_agrees_with_an_exhaustive_search(case: tuple[list[list[str]], list[str], list[int], int]) -> None:
    docs, terms, offsets, slop = case
    result = match(docs, terms, offsets, slop)
    assert result.frequencies(len(docs)).tolist() == [brute(doc, terms, offsets, slop) for doc in docs]
    assert_valid_layouts(result, docs, terms, offsets, slop)


def test_documents_beyond_one_key_space_are_matched_in_slices() -> None:
    # Positions near 2**58 leave room for a few documents per int64 key space.
    base = 1 << 58
    docs = [["a", "b"], ["b", "a"], ["a", "x", "b"], ["a", "a", "b"]] * 5
    terms, offsets = ["a", "b"], [0, 1]
    found = [
        TermPositions.of(
            [rank for rank, doc in enumerate(docs) for word in doc if word == term],
            [base + pos for doc in docs for pos, word in enumerate(doc) if word == term],
        )
        for term in terms
    ]
    for slop in (0, 1, 2):
        result = match_phrase(found, [0, 1], offsets, slop, with_positions=True)
        assert result.frequencies(len(docs)).tolist() == [brute(doc, terms, offsets, slop) for doc in docs]
        assert result.chosen is not None and all(row[0] >= base for row in result.chosen.tolist())


# --- repeated words, through the index, the parser and the highlighter --------------------


@pytest.fixture(scope="module")
def alfa() -> Searcher:  # type: ignore[misc]
    with tempfile.TemporaryDirectory() as path:
        index = Index.create(path, Schema(body=TEXT("standard")))
        with index.writer() as writer:
            for text in ("alfa", "alfa alfa", "alfa alfa alfa", "alfa bravo alfa", "alfa bravo bravo alfa"):
                writer.add_document(body=text)
        with Searcher(index.reopen()) as searcher:
            yield searcher


def found(searcher: Searcher, query: str) -> list[str]:
    return sorted(hit["body"] for hit in searcher.search(query, limit=10))


def test_a_repeated_word_needs_its_own_occurrences(alfa: Searcher) -> None:
    # Each query word takes its own position: one alfa is not "alfa alfa", at any slop.
    assert found(alfa, '"alfa alfa"~1') == ["alfa alfa", "alfa alfa alfa", "alfa bravo alfa"]
    assert found(alfa, '"alfa alfa alfa"~1') == ["alfa alfa alfa"]
    assert found(alfa, '"alfa alfa"~100') == ["alfa alfa", "alfa alfa alfa", "alfa bravo alfa", "alfa bravo bravo alfa"]
    assert found(alfa, '"alfa alfa alfa"~100') == ["alfa alfa alfa"]
    assert found(alfa, '"alfa alfa"') == ["alfa alfa", "alfa alfa alfa"]


def test_a_repeated_word_counts_where_its_occurrences_start(alfa: Searcher) -> None:
    # "alfa alfa alfa" holds "alfa alfa" twice (at 0 and at 1); "alfa alfa" once.
    reader = alfa.readers[0]
    docs, freqs = Phrase("body", ("alfa", "alfa")).frequencies(reader)
    by_text = {reader.stored_fields(int(doc))["body"]: int(freq) for doc, freq in zip(docs, freqs)}
    assert by_text == {"alfa alfa": 1, "alfa alfa alfa": 2}


def test_the_core_call_takes_candidates_and_refuses_bad_input(alfa: Searcher) -> None:
    # What a query plan calls per segment: (doc ids, frequencies) as uint32 bytes.
    reader = alfa.readers[0]
    core = reader.core

    def u32(data: bytes) -> list[int]:
        return np.frombuffer(data, dtype="<u4").tolist()

    docs, freqs = core_phrase_matches(core, "body", ["alfa", "alfa"], [0, 1], 1)
    assert [reader.stored_fields(doc)["body"] for doc in u32(docs)] == ["alfa alfa", "alfa alfa alfa", "alfa bravo alfa"]
    assert u32(freqs) == [1, 2, 1]
    only = np.array([0, 2, 3], dtype="<u4").tobytes()
    docs, freqs = core_phrase_matches(core, "body", ["alfa", "alfa"], [0, 1], 1, only)
    assert (u32(docs), u32(freqs)) == ([2, 3], [2, 1])
    with pytest.raises(ValueError, match="ascending"):
        core_phrase_matches(core, "body", ["alfa"], [0], 0, np.array([3, 1], dtype="<u4").tobytes())
    with pytest.raises(ValueError, match="decrease"):
        core_phrase_matches(core, "body", ["alfa", "alfa"], [2, 1], 0)
    assert core_phrase_matches(core, "nowhere", ["alfa"], [0], 0) == (b"", b"")


def test_the_highlighter_marks_a_repeated_phrase_only_where_it_occurs() -> None:
    analyzer = get_analyzer("standard")
    marks = find_marks("alfa bravo alfa alfa", analyzer, set(), [Phrase("body", ("alfa", "alfa"))])
    assert [(start, end) for start, end, _ in marks] == [(11, 15), (16, 20)]
    assert find_marks("alfa bravo", analyzer, set(), [Phrase("body", ("alfa", "alfa"), slop=5)]) == []
    found_three = list(phrase_occurrences(Phrase("body", ("alfa", "alfa", "alfa"), slop=1), {"alfa": [0, 2]}))
    assert found_three == []


# --- bounded work ---------------------------------------------------------------------------


def repeated_words(count: int, words: Sequence[str]) -> list[list[str]]:
    return [[words[i % len(words)] for i in range(count)]]


@pytest.mark.parametrize("words", [("layer", "flow"), ("layer",)])
def test_a_sloppy_phrase_visits_each_position_a_bounded_number_of_times(words: Sequence[str]) -> None:
    # Work is counted in positions and window starts visited: it grows with the document's
    # positions (times the slots of repeated words), never with the slop. The former
    # matcher tried (slop + 1) * words window shifts over every first-word occurrence.
    doc = repeated_words(20_000, words)
    for terms in (["layer", "flow"], ["flow", "layer"], ["layer", "layer"], ["layer", "flow"] * 15, ["layer"] * 30):
        if not set(terms) <= set(words):
            continue
        offsets = list(range(len(terms)))
        repeated_slots = sum(1 for t in terms if terms.count(t) > 1)
        bound = 8 * len(doc[0]) * (len(terms) + repeated_slots)
        for slop in (1, 10, 1000, 10**9):  # one bound, whatever the slop
            result = match(doc, terms, offsets, slop)
            assert result.work <= bound, (terms, slop, result.work, bound)
            assert slop < 1000 or result.frequencies(1)[0] > 0


def test_the_core_and_the_highlighters_matcher_agree_over_segments_with_deletions() -> None:
    # The query runs in the core; the highlighter marks phrases with the numpy matcher.
    # Both follow one rule: over random documents of three words (repeats everywhere),
    # in several segments with deletions, they give the same documents and frequencies.
    rng = random.Random(19)
    vocabulary = ["alfa", "bravo", "charlie"]
    texts = [" ".join(rng.choice(vocabulary) for _ in range(rng.randrange(1, 14))) for _ in range(240)]
    with tempfile.TemporaryDirectory() as path:
        index = Index.create(path, Schema(id=ID(), body=TEXT("standard")))
        for start in range(0, len(texts), 80):
            with index.writer() as writer:
                for number in range(start, start + 80):
                    writer.add_document(id=str(number), body=texts[number])
                for number in range(start, start + 80, 7):
                    writer.delete_by_term("id", str(number))
        deleted = {str(number) for start in range(0, len(texts), 80) for number in range(start, start + 80, 7)}
        readers = Index.open_snapshot(path)[1]
        assert len(readers) > 1
        for _ in range(120):
            terms = [rng.choice(vocabulary) for _ in range(rng.randrange(1, 5))]
            offsets = [0]
            for _ in terms[1:]:
                offsets.append(offsets[-1] + rng.choice([0, 1, 1, 2]))
            slop = rng.choice([0, 0, 1, 2, 5, 10**12])
            phrase = Phrase("body", tuple(terms), slop=slop, positions=tuple(offsets))
            got: dict[str, int] = {}
            for reader in readers:
                docs, freqs = phrase.frequencies(reader)
                got.update({str(reader.stored_fields(int(doc))["id"]): int(freq) for doc, freq in zip(docs, freqs)})
            live = [(str(number), text.split()) for number, text in enumerate(texts) if str(number) not in deleted]
            result = match([words for _, words in live], terms, offsets, slop)
            expected = {number: int(freq) for (number, _), freq in zip(live, result.frequencies(len(live))) if freq}
            assert got == expected, (terms, offsets, slop)


def test_gaps_left_by_stop_words_and_slop_through_the_index() -> None:
    with tempfile.TemporaryDirectory() as path:
        index = Index.create(path, Schema(body=TEXT("english")))
        with index.writer() as writer:
            for text in ("talks of peace", "talks peace", "peace talks", "talks about the peace", "talks on peace"):
                writer.add_document(body=text)
        with Searcher(index.reopen()) as searcher:
            # "of" is dropped and leaves its gap: one word between, whichever it is.
            assert found(searcher, '"talks of peace"') == ["talks of peace", "talks on peace"]
            assert found(searcher, '"talks of peace"~1') == ["talks about the peace", "talks of peace", "talks on peace", "talks peace"]
            # Reversed order takes two moves, plus the gap's.
            assert found(searcher, '"peace talks"') == ["peace talks"]
            assert found(searcher, '"peace talks"~1') == ["peace talks"]
            assert found(searcher, '"peace talks"~2') == ["peace talks", "talks peace"]


def test_phrase_positions_must_not_decrease() -> None:
    with pytest.raises(ValueError, match="must not decrease"):
        Phrase("body", ("a", "b"), positions=(3, 1))
    assert Phrase("body", ("a", "b"), positions=(3, 5)).positions == (0, 2)


def test_a_huge_slop_means_anywhere_in_any_order() -> None:
    doc = ["flow"] + ["x"] * 500 + ["layer"]
    for slop in (10**6, 10**30):
        result = match([doc], ["layer", "flow"], [0, 1], slop)
        assert result.frequencies(1).tolist() == [1]
    assert match([doc], ["layer", "flow"], [0, 1], 501).frequencies(1).tolist() == [0]
    assert match([doc], ["layer", "flow"], [0, 1], 502).frequencies(1).tolist() == [1]
