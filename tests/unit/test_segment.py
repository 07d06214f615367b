"""Segment writing and reading: bulk inversion gives exact postings, positions, norms."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib.analysis import get_analyzer
from searchlib.schema import ID, STORED, TEXT, FieldAnalyzers, Schema
from searchlib.segment import SegmentReader, SegmentWriter, TermDictionary
from searchlib.segment import writer as writer_module
from searchlib.segment.termdict import utf8_sorted
from searchlib.storage import Directory
from tests.conftest import SHARED


def build(tmp_path: Path, documents: list[dict[str, object]]) -> SegmentReader:
    schema = Schema(path=ID(), body=TEXT(), extra=STORED())
    analyzers = {"path": get_analyzer("keyword"), "body": get_analyzer("english")}
    writer = SegmentWriter(schema, analyzers)
    for document in documents:
        writer.add(document)
    directory = Directory(tmp_path)
    return SegmentReader(directory, writer.write(directory, "seg-00000000"))


def test_postings_positions_and_norms_match_the_text(tmp_path: Path) -> None:
    reader = build(
        tmp_path,
        [
            {"path": "a", "body": "talks about talks"},
            {"path": "b", "body": "no match here"},
            {"path": "c", "body": "Talking, then the talks"},
        ],
    )
    postings = reader.postings("body", "talk")
    assert postings is not None
    np.testing.assert_array_equal(postings.docs, [0, 2])
    np.testing.assert_array_equal(postings.freqs, [2, 2])
    found = reader.positions("body", "talk")
    assert found is not None
    np.testing.assert_array_equal(found[1], [0, 2, 0, 3])  # "about", "then", "the" are stop words
    np.testing.assert_array_equal(reader.field_lengths("body"), [2, 1, 2])
    assert reader.postings("body", "absent") is None
    assert reader.postings("path", "b") is not None


def test_dictionary_is_sorted_by_bytes(tmp_path: Path) -> None:
    reader = build(tmp_path, [{"path": "a", "body": "zebra apple émigré mango"}])
    dictionary = reader.dictionary("body")
    assert dictionary is not None
    terms = dictionary.terms()
    assert terms == sorted(terms, key=lambda t: t.encode("utf-8"))
    assert all(dictionary.find(t) == i for i, t in enumerate(terms))


def random_dictionary(seed: int) -> tuple[set[str], list[str], TermDictionary]:
    """A dictionary of made-up words (up to 3,000, of 1 to 6 letters, one of them two
    bytes in UTF-8): the words, the terms in byte order, the dictionary over them."""
    random = np.random.default_rng(seed)
    letters = np.array(list("abcdeéz"))
    words = {"".join(random.choice(letters, size=random.integers(1, 7))) for _ in range(3000)}
    terms = sorted(words, key=lambda word: word.encode("utf-8"))
    encoded = [term.encode("utf-8") for term in terms]
    offsets = np.cumsum([0] + [len(term) for term in encoded]).astype(np.uint64)
    return words, terms, TermDictionary(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets, "test.terms")


def test_every_term_is_found_across_many_sampled_blocks() -> None:
    """A dictionary of many blocks: each term is found at its own index, whether it is a
    block's sampled first term or not, and words that sort between, before or after the
    terms (or are prefixes of them) are not found."""
    words, terms, dictionary = random_dictionary(seed=7)
    assert len(terms) > 20 * TermDictionary.SAMPLE_EVERY
    assert [dictionary.find(term) for term in terms] == list(range(len(terms)))
    absent = {term + suffix for term in terms for suffix in ("\x00", "ä")} | {term[:-1] for term in terms}
    absent |= {"", "0", "\uffff"}
    for word in sorted(absent - words):
        assert dictionary.find(word) == -1, word


def test_many_terms_are_found_together_as_one_by_one() -> None:
    """find_many gives what find gives, term by term: for a run of neighbouring terms
    (read as one range), for terms spread over the whole dictionary (found one by one),
    and with absent words, duplicates and an unsorted order mixed in."""
    words, terms, dictionary = random_dictionary(seed=11)
    neighbours = terms[500:700]
    absent = sorted({term + "ä" for term in neighbours} | {term[:-1] for term in neighbours} - words)
    spread = terms[::20]
    # Which way each is found: neighbours span few terms (read as one range), the
    # spread ones too many (found one by one).
    assert len(neighbours) >= TermDictionary.BULK_FIND_MIN and len(spread) >= TermDictionary.BULK_FIND_MIN
    assert terms.index(spread[-1]) - terms.index(spread[0]) > TermDictionary.BULK_FIND_SPAN * len(spread)
    for sought in (
        spread,
        neighbours,
        neighbours[::-1] + absent + neighbours[:10],
        spread + absent,
        absent,
        neighbours[: TermDictionary.BULK_FIND_MIN - 1],
    ):
        assert dictionary.find_many(sought) == [dictionary.find(term) for term in sought]
    assert dictionary.find_many(neighbours) == list(range(500, 700))
    assert set(dictionary.find_many(absent)) == {-1}


def test_postings_of_many_terms_at_once_are_each_terms_own(tmp_path: Path) -> None:
    """term_postings with enough terms for the bulk look-up (some already memoized by an
    earlier call, one repeated, some absent) gives each term's own postings."""
    words = [f"w{number:03d}x" for number in range(150)]
    documents = [{"path": str(at), "body": " ".join(words[at::7] * (1 + at % 3))} for at in range(40)]
    reader = build(tmp_path, documents)
    terms = reader.dictionary("body").terms()
    assert len(terms) == 150
    reader.term_postings("body", terms[:30])
    sought = terms[20:] + ["w000x", "nothing", "w999x", terms[40]]
    assert len(sought) >= 2 * TermDictionary.BULK_FIND_MIN
    for term, found in zip(sought, reader.term_postings("body", sought)):
        expected = reader.postings("body", term)
        if expected is None:
            assert found is None, term
            continue
        assert found is not None and len(found.docs), term
        np.testing.assert_array_equal(found.docs, expected.docs)
        np.testing.assert_array_equal(found.freqs, expected.freqs)
        holders = [at for at, document in enumerate(documents) if term in str(document["body"]).split()]
        assert found.docs.tolist() == holders, term


def test_stored_fields_come_back_across_blocks(tmp_path: Path) -> None:
    documents = [{"path": str(i), "body": f"document {i} " + "x" * 3000, "extra": [i, "ü"]} for i in range(40)]
    reader = build(tmp_path, documents)
    for doc_id in (0, 7, 39, 8, 0):
        assert reader.stored_fields(doc_id) == documents[doc_id]


def test_estimated_bytes_tracks_what_the_buffer_really_allocates() -> None:
    """``ram_buffer_mb`` is only a bound if the estimate it is compared with is close to
    the memory the buffered documents really hold (tracemalloc counts every allocation:
    Python objects, array buffers). The analyzer has seen the documents once before, so
    its cache does not grow while the buffer is measured."""
    with open(SHARED / "datasets" / "cranfield" / "corpus.jsonl", encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(600), handle)]
    schema = Schema(id=ID(), title=TEXT(), text=TEXT())
    analyzers = FieldAnalyzers(schema)
    warm_up = SegmentWriter(schema, analyzers)
    for document in documents:
        warm_up.add(document)
    del warm_up
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        writer = SegmentWriter(schema, analyzers)
        for document in documents:
            writer.add(document)
        gc.collect()
        real = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0.7 * real <= writer.estimated_bytes() <= 1.5 * real


@given(st.lists(st.text(alphabet=st.characters(exclude_categories=()), max_size=6), max_size=40))
def test_terms_sort_by_code_point_exactly_as_by_their_utf8_bytes(words: list[str]) -> None:
    """The writer sorts terms as strings; the format orders them by UTF-8 bytes (lone
    surrogates written with surrogatepass). The two orders must be one."""
    assert utf8_sorted(words) == sorted(words, key=lambda w: w.encode("utf-8", "surrogatepass"))


def test_a_flush_in_many_term_ranges_writes_the_same_segment_as_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(SHARED / "datasets" / "cranfield" / "corpus.jsonl", encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(300), handle)]
    documents.append({"id": "empty", "title": "", "text": "the of and"})  # all stop words
    schema = Schema(id=ID(), title=TEXT(), text=TEXT())
    writer = SegmentWriter(schema, FieldAnalyzers(schema))
    for document in documents:
        writer.add(document)
    written = {}
    for label, min_tokens, parts in (("one", 1 << 30, 1), ("many", 50, 200)):
        monkeypatch.setattr(writer_module, "INVERT_MIN_TOKENS", min_tokens)
        monkeypatch.setattr(writer_module, "INVERT_MAX_PARTS", parts)
        directory = Directory(tmp_path / label)
        directory.create()
        meta = writer.write(directory, "seg-00000000")
        written[label] = {name: (tmp_path / label / name).read_bytes() for name in meta.files}
        assert not list((tmp_path / label).glob("*.tmp"))  # spill files are gone
    assert written["one"] == written["many"]
