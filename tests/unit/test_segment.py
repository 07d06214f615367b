"""Segment writing and reading: the core's inversion gives exact postings, positions, norms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from searchlib.analysis import get_analyzer
from searchlib.schema import ID, STORED, TEXT, FieldAnalyzers, Schema
from searchlib.segment import SegmentReader, SegmentWriter, TermDictionary
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


def random_dictionary(tmp_path: Path, seed: int) -> tuple[set[str], list[str], TermDictionary]:
    """A dictionary of made-up words (up to 3,000, of 1 to 6 letters, one of them two
    bytes in UTF-8), each the ID of one document: the words, the terms in byte order,
    the segment's dictionary over them."""
    random = np.random.default_rng(seed)
    letters = np.array(list("abcdeéz"))
    words = {"".join(random.choice(letters, size=random.integers(1, 7))) for _ in range(3000)}
    terms = sorted(words, key=lambda word: word.encode("utf-8"))
    reader = build(tmp_path, [{"path": word} for word in words])
    dictionary = reader.dictionary("path")
    assert dictionary is not None
    return words, terms, dictionary


def test_every_term_is_found_across_many_blocks(tmp_path: Path) -> None:
    """A dictionary of many blocks: each term is found at its own ordinal, whether it
    heads a block or not, and words that sort between, before or after the terms (or
    are prefixes of them) are not found."""
    words, terms, dictionary = random_dictionary(tmp_path, seed=7)
    assert len(terms) > 20 * 32  # terms per front-coded block
    assert dictionary.terms() == terms
    assert [dictionary[i] for i in (0, 31, 32, len(terms) - 1)] == [
        terms[i].encode("utf-8") for i in (0, 31, 32, len(terms) - 1)
    ]
    assert [dictionary.find(term) for term in terms] == list(range(len(terms)))
    absent = {term + suffix for term in terms for suffix in ("\x00", "ä")} | {term[:-1] for term in terms}
    absent |= {"", "0", "\uffff"}
    for word in sorted(absent - words):
        assert dictionary.find(word) == -1, word


def test_many_terms_are_found_together_as_one_by_one(tmp_path: Path) -> None:
    """find_many gives what find gives, term by term: for a run of neighbouring terms,
    for terms spread over the whole dictionary, and with absent words, duplicates and an
    unsorted order mixed in; prefix ranges and bounds agree with the sorted terms."""
    words, terms, dictionary = random_dictionary(tmp_path, seed=11)
    neighbours = terms[500:700]
    absent = sorted({term + "ä" for term in neighbours} | {term[:-1] for term in neighbours} - words)
    spread = terms[::20]
    for prefix in ("a", "é", "zé", "b" * 6, ""):
        start, end = dictionary.prefix_range(prefix.encode("utf-8"))
        assert terms[start:end] == [term for term in terms if term.startswith(prefix)], prefix
    for key in ("c", "cz", "zzzzzzz", neighbours[3]):
        encoded = key.encode("utf-8")
        assert dictionary.bound(encoded, after=False) == sum(t.encode("utf-8") < encoded for t in terms)
        assert dictionary.bound(encoded, after=True) == sum(t.encode("utf-8") <= encoded for t in terms)
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


def test_estimated_bytes_grow_with_the_buffered_documents() -> None:
    """``ram_buffer_mb`` bounds what the core's buffers hold: the estimate counts them
    (their capacities and each distinct term), so it grows with every batch of new
    documents and holds at least the postings and positions they make."""
    with open(SHARED / "datasets" / "cranfield" / "corpus.jsonl", encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(1200), handle)]
    schema = Schema(id=ID(), title=TEXT(), text=TEXT())
    writer = SegmentWriter(schema, FieldAnalyzers(schema))
    estimates = []
    for start in range(0, len(documents), 300):
        for document in documents[start : start + 300]:
            writer.add(document)
        writer.docs_with_exact_term("id", "x")  # hands the batch over
        estimates.append(writer.estimated_bytes())
    assert estimates == sorted(estimates) and len(set(estimates)) == len(estimates)
    tokens = writer.token_count
    assert tokens > 100_000
    assert 2 * tokens <= estimates[-1] <= 40 * tokens  # a position and a posting byte or more a token


def test_the_same_documents_write_the_same_bytes(tmp_path: Path) -> None:
    """Writing is deterministic: two writers given the same documents (one of them all
    stop words) write byte-identical segment files."""
    with open(SHARED / "datasets" / "cranfield" / "corpus.jsonl", encoding="utf-8") as handle:
        documents = [json.loads(line) for _, line in zip(range(300), handle)]
    documents.append({"id": "empty", "title": "", "text": "the of and"})  # all stop words
    schema = Schema(id=ID(), title=TEXT(), text=TEXT())
    written = {}
    for label in ("one", "two"):
        writer = SegmentWriter(schema, FieldAnalyzers(schema))
        for document in documents:
            writer.add(document)
        directory = Directory(tmp_path / label)
        directory.create()
        meta = writer.write(directory, "seg-00000000")
        written[label] = {name: (tmp_path / label / name).read_bytes() for name in meta.files}
        assert not list((tmp_path / label).glob("*.tmp"))  # temporary names are gone
    assert written["one"] == written["two"]
