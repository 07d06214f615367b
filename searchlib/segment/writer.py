"""Writing a segment: :class:`SegmentWriter` checks and buffers documents in memory,
then inverts them in bulk with numpy (sort the batch's term ids a range of terms at a
time, split into postings, spill them to temporary files) and :func:`write_segment`
writes the four component files. The term dictionary's encoding is in
:mod:`~searchlib.segment.termdict`, the stored blocks' in :mod:`~searchlib.segment.store`.
"""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib import codec
from searchlib.analysis import Analyzer
from searchlib.columns import column_dtype, column_value
from searchlib.errors import SchemaError
from searchlib.schema import Schema
from searchlib.segment.arrays import slice_starts
from searchlib.segment.meta import SegmentMeta
from searchlib.segment.store import pack_ids, pack_store
from searchlib.segment.termdict import encode_sorted, utf8_sorted
from searchlib.storage import Directory, SpillFile

#: Tokens one field of a segment may hold: inverting packs a token's index in 32 bits
#: (a writer flushes long before, at ``ram_buffer_mb``; see IndexWriter).
MAX_FIELD_TOKENS = (1 << 32) - 1


@dataclass
class CheckedDocument:
    """A document that passed :meth:`SegmentWriter.check`, ready to buffer."""

    stored_line: bytes
    indexed: list[tuple[str, str, bool]]  # (field, value, exact term?)
    columns: dict[str, int | float]
    id_bytes: bytes


@dataclass
class _FieldBuffer:
    """One field's share of the in-memory batch: term ids per token, per document."""

    term_ids: dict[str, int] = field(default_factory=dict)
    tokens: array[int] = field(default_factory=lambda: array("i"))  # term id, or -1 if dropped
    doc_ids: array[int] = field(default_factory=lambda: array("I"))
    token_counts: array[int] = field(default_factory=lambda: array("I"))
    positions: array[int] = field(default_factory=lambda: array("I"))  # one per token
    overlaps: array[int] = field(default_factory=lambda: array("I"))  # stacked tokens per doc
    raw_words: set[str] = field(default_factory=set)  # for the lexicon, if the analyzer is costly


class SegmentWriter:
    """Collects documents for one new segment and writes it.

    Parameters
    ----------
    schema:
        Decides which fields are indexed, stored, analyzed.
    analyzers:
        One analyzer per indexed field, shared across segments so their caches stay warm.
    """

    def __init__(self, schema: Schema, analyzers: Mapping[str, Analyzer]) -> None:
        self.schema = schema
        self.analyzers = analyzers
        self.doc_count = 0
        self.token_count = 0
        self._fields: dict[str, _FieldBuffer] = {}
        self._stored: list[bytes] = []
        self._id_values: list[bytes] = []
        self._exact_terms: dict[tuple[str, str], list[int]] = {}
        self._columns: dict[str, dict[int, int | float]] = {}
        self._stored_bytes = 0
        #: The fields' buffers' share of estimated_bytes, kept as they grow: summed over
        #: the fields per document, it would make many fields cost fields x documents.
        self._field_bytes = 0

    def add(self, document: Mapping[str, Any]) -> int:
        """Buffer one document; return its segment-local doc id.

        The whole document is checked before anything is buffered, so a rejected
        document leaves no trace in the segment.
        """
        return self.add_checked(self.check(document))

    def check(self, document: Mapping[str, Any]) -> CheckedDocument:
        """Check a whole document against the schema without buffering anything."""
        stored: dict[str, Any] = {}
        indexed: list[tuple[str, str, bool]] = []
        columns: dict[str, int | float] = {}
        for name, value in document.items():
            definition = self.schema[name]
            if value is None:
                continue
            if definition.is_column:
                columns[name], value = column_value(definition.kind, definition.numeric_type, value, name)
            if definition.is_indexed:
                if not isinstance(value, str):
                    raise SchemaError(
                        f"field {name!r} is {definition.kind} and takes a string, "
                        f"got {type(value).__name__}"
                    )
                if definition.kind == "id" and not value:
                    raise SchemaError(f"the ID field {name!r} must not be empty")
                indexed.append((name, value, not definition.is_text))
            if definition.stored:
                stored[name] = value
        try:
            line = json.dumps(stored, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"a stored value cannot be saved as JSON: {exc}") from None
        encoded = line.encode("utf-8", "surrogatepass")
        if len(encoded) > codec.MAX_STORED_BLOCK_BYTES:  # a reader's bound on a stored block
            raise SchemaError(
                f"the document's stored fields take more than {codec.MAX_STORED_BLOCK_BYTES >> 20} MiB as JSON; "
                "store less of it (stored=False on its largest fields)"
            )
        id_field = self.schema.id_field
        id_value = document.get(id_field) if id_field else None
        return CheckedDocument(
            encoded, indexed, columns,
            id_value.encode("utf-8", "surrogatepass") if isinstance(id_value, str) else b"",
        )

    def add_checked(self, document: CheckedDocument) -> int:
        """Buffer a document :meth:`check` accepted; return its segment-local doc id."""
        doc_id = self.doc_count
        for name, value, exact in document.indexed:
            self._index_value(name, doc_id, value, exact=exact)
        for name, number in document.columns.items():
            self._columns.setdefault(name, {})[doc_id] = number
        self._id_values.append(document.id_bytes)
        self._stored.append(document.stored_line)
        self._stored_bytes += len(document.stored_line) + 60
        self.doc_count += 1
        return doc_id

    def _index_value(self, name: str, doc_id: int, value: str, *, exact: bool) -> None:
        buffer = self._fields.get(name)
        if buffer is None:
            buffer = self._fields[name] = _FieldBuffer()
        known_terms, known_words = len(buffer.term_ids), len(buffer.raw_words)
        analyzer = self.analyzers[name]
        if analyzer.is_fast:  # a term (or None) per position
            words = analyzer.tokenizer.words(value)
            terms = analyzer.map_words(words)
            buffer.positions.extend(range(len(terms)))
            buffer.overlaps.append(0)
            if analyzer.costly_from is not None:
                buffer.raw_words.update(words)
        else:  # tokens may share a position (synonyms)
            tokens = list(analyzer.tokens(value))
            terms = [token.text for token in tokens]
            buffer.positions.extend(token.pos for token in tokens)
            buffer.overlaps.append(len(tokens) - len({token.pos for token in tokens}))
        term_ids = buffer.term_ids
        get_id = term_ids.get
        ids = [-1 if t is None else get_id(t, -2) for t in terms]
        if -2 in ids:
            for index, term_id in enumerate(ids):
                if term_id == -2:
                    ids[index] = term_ids.setdefault(terms[index], len(term_ids))  # type: ignore[arg-type]
        buffer.tokens.extend(ids)
        buffer.doc_ids.append(doc_id)
        buffer.token_counts.append(len(ids))
        self.token_count += len(ids)
        self._field_bytes += (
            8 * len(ids) + 8 + 120 * (len(term_ids) - known_terms) + 100 * (len(buffer.raw_words) - known_words)
        )
        if exact:
            for term in set(terms):
                if term is not None:
                    self._exact_terms.setdefault((name, term), []).append(doc_id)

    def docs_with_exact_term(self, field_name: str, term: str) -> list[int]:
        """Buffered doc ids whose ID or KEYWORD field ``field_name`` equals ``term``."""
        return self._exact_terms.get((field_name, term), [])

    def write(self, directory: Directory, name: str) -> SegmentMeta:
        """Invert the buffered documents and write the segment's files.

        Postings go through spill files next to the segment, as in a merge, so writing
        needs little memory beyond the buffer it empties.
        """
        with directory.spills(name) as spill:
            return self._write(directory, name, spill)

    def _write(self, directory: Directory, name: str, spill: Callable[[np.dtype[Any]], SpillFile]) -> SegmentMeta:
        term_arrays: dict[str, np.ndarray] = {}
        spilled: dict[str, SpillFile] = {}
        spilled_norms: dict[str, SpillFile] = {}
        for field_name, buffer in self._fields.items():
            inverted, postings = _invert(buffer, self.doc_count, spill)
            for key in codec.TERM_KEYS:
                term_arrays[codec.field_array_name(field_name, key)] = inverted[key]
            if buffer.raw_words:
                lexicon = _lexicon(buffer, self.analyzers[field_name], inverted["term_rank"])
                for key, values in lexicon.items():
                    term_arrays[codec.field_array_name(field_name, key)] = values
            for key, postings_spill in postings.items():
                spilled[codec.field_array_name(field_name, key)] = postings_spill
            if self.schema[field_name].is_text:
                # Spilled too: a length per document and field adds up with many fields.
                lengths_out = spilled_norms[codec.field_arrays(field_name).norms] = spill(codec.LENGTH_DTYPE)
                lengths_out.append(inverted["lengths"])
                lengths_out.finish()
        # Read once every field is written: the fields' spills share a few files.
        posting_arrays = {name: postings_spill.read() for name, postings_spill in spilled.items()}
        norm_arrays = {name: lengths_spill.read() for name, lengths_spill in spilled_norms.items()}
        store_arrays = {**pack_store(self._stored, spill(codec.BYTE_DTYPE)), **pack_ids(self._id_values)}
        for field_name, by_doc in self._columns.items():
            definition = self.schema[field_name]
            column = np.zeros(self.doc_count, dtype=column_dtype(definition.kind, definition.numeric_type))
            present = np.zeros(self.doc_count, dtype=np.uint8)
            docs = np.fromiter(by_doc, dtype=np.int64, count=len(by_doc))
            column[docs] = np.fromiter(by_doc.values(), dtype=column.dtype, count=len(by_doc))
            present[docs] = 1
            values_name, present_name = codec.column_array_names(field_name)
            store_arrays[values_name] = column
            store_arrays[present_name] = present
        return write_segment(directory, name, self.doc_count, term_arrays, posting_arrays, norm_arrays, store_arrays)

    def estimated_bytes(self) -> int:
        """About how much memory the buffered documents hold (what a RAM budget bounds).

        Counts the token arrays (a 4-byte term id and a 4-byte position per token), each
        distinct term and raw word with its dict or set slot, and the stored text; a
        test checks it against what tracemalloc sees. Writing the segment needs a few
        bytes a token more (see _invert) plus Python objects per distinct term, briefly.
        """
        total = self._stored_bytes + 16 * self.doc_count + self._field_bytes
        return total + 150 * len(self._exact_terms)


def write_segment(
    directory: Directory,
    name: str,
    doc_count: int,
    term_arrays: dict[str, np.ndarray],
    posting_arrays: dict[str, np.ndarray],
    norm_arrays: dict[str, np.ndarray],
    store_arrays: dict[str, np.ndarray],
) -> SegmentMeta:
    """Write a segment's four component files (each atomically) and describe it."""
    files: dict[str, int] = {}
    components = {"terms": term_arrays, "post": posting_arrays, "norms": norm_arrays, "store": store_arrays}
    for extension, arrays in components.items():
        file_name = f"{name}.{extension}"
        kind = codec.SEGMENT_COMPONENTS[extension]
        files[file_name] = directory.write_file(file_name, codec.encode_array_file(kind, arrays))
    return SegmentMeta(name=name, doc_count=doc_count, files=files)


def _invert(
    buffer: _FieldBuffer, doc_count: int, spill: Callable[[np.dtype[Any]], SpillFile]
) -> tuple[dict[str, np.ndarray], dict[str, SpillFile]]:
    """Turn a field's token stream into a sorted term dictionary and postings, in bulk:
    the dictionary's arrays and lengths, and the spills (finished, not read) holding
    the postings' ``docs``, ``freqs`` and ``positions``.

    A flush happens when the buffer is full, so what inverting needs on top of the
    buffer sets the writer's peak memory. Tokens are inverted a range of terms at a
    time (at most ``INVERT_MAX_PARTS`` ranges, each a pass over a byte per token) and
    the postings of each range go to spill files: the working memory is about a byte
    per token plus some 40 bytes per token of one range, not the 45 bytes per token
    of a stable ``argsort`` over the whole stream.
    """
    tokens = _array_view(buffer.tokens, np.intc)
    doc_ids = _array_view(buffer.doc_ids, np.uint32)
    counts = _array_view(buffer.token_counts, np.uint32)
    positions = _array_view(buffer.positions, np.uint32)
    lengths = _field_lengths(tokens, doc_ids, counts, _array_view(buffer.overlaps, np.uint32), doc_count)

    # Term ids were handed out in first-seen order; the dictionary is sorted by bytes.
    vocabulary = utf8_sorted(buffer.term_ids)
    rank = _term_ranks(buffer.term_ids, vocabulary)
    tokens_per_term = _tokens_per_term(tokens, rank)
    ranges = _term_ranges(tokens_per_term)
    range_of_token = _gather(_range_table(ranges, rank), tokens)
    value_ends = np.cumsum(counts, dtype=np.int64)
    docs_out, freqs_out, positions_out = spill(codec.DOC_ID_DTYPE), spill(codec.FREQ_DTYPE), spill(codec.POSITION_DTYPE)
    doc_freq = np.zeros(len(vocabulary), dtype=np.int64)
    for number, (low, high) in enumerate(ranges):
        selected = np.flatnonzero(range_of_token == number)  # ascending, so searchsorted is quick
        selected_docs = doc_ids[np.searchsorted(value_ends, selected, side="right")]
        term_of_token, order = _sort_by_term(rank, tokens, selected)
        token_docs = _gather(selected_docs, order)  # doc, then position order, within a term
        positions_out.append(_gather(_gather(positions, selected), order))
        starts = _posting_starts(term_of_token, token_docs)
        docs_out.append(token_docs[starts])
        freqs_out.append(np.diff(starts, append=len(term_of_token)))
        doc_freq[low:high] = np.bincount(term_of_token[starts] - low, minlength=high - low)
    term_bytes, term_offsets = encode_sorted(vocabulary)
    postings = {"docs": docs_out, "freqs": freqs_out, "positions": positions_out}
    for postings_spill in postings.values():
        postings_spill.finish()  # the next field's postings may follow in the same files
    return {
        "term_bytes": term_bytes,
        "term_offsets": term_offsets,
        "doc_freq": doc_freq.astype(codec.FREQ_DTYPE),
        "postings_start": slice_starts(doc_freq),
        "positions_start": slice_starts(tokens_per_term),
        "lengths": lengths,
        "term_rank": rank[:-1],
    }, postings


#: Elements gathered at once by _gather (numpy copies a uint32 index to intp first).
GATHER_STEP = 1 << 18
#: A flush inverts a field in at most this many ranges of terms...
INVERT_MAX_PARTS = 16
#: ...of at least this many tokens each, so a small buffer goes in one piece.
INVERT_MIN_TOKENS = 1 << 18


def _term_ranks(term_ids: Mapping[str, int], vocabulary: list[str]) -> npt.NDArray[np.uint32]:
    """Each term id's place in the sorted ``vocabulary``; one extra entry, for the -1 of
    a dropped token, sorts after every term."""
    rank = np.empty(len(vocabulary) + 1, dtype=np.uint32)
    ids_in_order = np.fromiter(map(term_ids.__getitem__, vocabulary), dtype=np.int64, count=len(vocabulary))
    rank[ids_in_order] = np.arange(len(vocabulary), dtype=np.uint32)
    rank[-1] = len(vocabulary)
    return rank


def _tokens_per_term(tokens: np.ndarray, rank: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """How many kept tokens each term has, in dictionary order (``bincount`` a piece at
    a time: it would copy the whole stream to intp)."""
    per_id = np.zeros(len(rank), dtype=np.int64)  # slot 0 counts the dropped tokens
    for start in range(0, len(tokens), GATHER_STEP):
        per_id += np.bincount(tokens[start : start + GATHER_STEP] + 1, minlength=len(rank))
    per_term = np.empty(len(rank) - 1, dtype=np.int64)
    per_term[rank[:-1]] = per_id[1:]
    return per_term


def _term_ranges(tokens_per_term: npt.NDArray[np.int64]) -> list[tuple[int, int]]:
    """Consecutive ranges of term ranks, each holding about the same number of tokens
    (a range holds at most its share plus one term's tokens)."""
    total = int(tokens_per_term.sum())
    size = max(INVERT_MIN_TOKENS, -(-total // INVERT_MAX_PARTS))
    cuts = np.searchsorted(np.cumsum(tokens_per_term), np.arange(size, total, size), side="right")
    edges = np.unique(np.concatenate(([0], cuts, [len(tokens_per_term)]))).tolist()
    return list(zip(edges[:-1], edges[1:]))


def _range_table(ranges: list[tuple[int, int]], rank: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    """Term id -> number of its range; the extra last entry (dropped tokens) is 255."""
    range_of_rank = np.repeat(np.arange(len(ranges), dtype=np.uint8), [high - low for low, high in ranges])
    table = np.full(len(rank), 255, dtype=np.uint8)
    table[:-1] = range_of_rank[rank[:-1]]
    return table


def _sort_by_term(
    rank: npt.NDArray[np.uint32], tokens: np.ndarray, selected: npt.NDArray[np.int64]
) -> tuple[np.ndarray, np.ndarray]:
    """The terms of the ``selected`` tokens in ascending order, and where in
    ``selected`` each comes from (views of one sorted array).

    Each token's ``rank << 32 | place in selected`` is packed into one uint64 and
    sorted in place: stable by construction (the place breaks ties), about four times
    faster than a stable ``argsort``, and without its int64 permutation.
    """
    if len(tokens) > MAX_FIELD_TOKENS:
        raise ValueError(f"{len(tokens)} tokens in one field of one segment; at most {MAX_FIELD_TOKENS} fit")
    keys = _gather(rank, tokens[selected]).astype(np.uint64)
    keys <<= np.uint64(32)
    keys |= np.arange(len(keys), dtype=np.uint64)
    keys.sort()
    halves = keys.view(np.uint32).reshape(-1, 2)
    high, low = (1, 0) if sys.byteorder == "little" else (0, 1)
    return halves[:, high], halves[:, low]


def _posting_starts(term_of_token: np.ndarray, token_docs: np.ndarray) -> npt.NDArray[np.int64]:
    """Where each (term, document) posting starts among tokens sorted by term and doc."""
    is_start = np.ones(len(term_of_token), dtype=bool)
    if len(term_of_token) > 1:
        np.not_equal(term_of_token[1:], term_of_token[:-1], out=is_start[1:])
        is_start[1:] |= token_docs[1:] != token_docs[:-1]
    return np.flatnonzero(is_start)


def _array_view(values: array[int], dtype: type[np.generic]) -> np.ndarray:
    """A numpy view of an ``array.array`` buffer, without a copy."""
    return np.frombuffer(values, dtype=dtype) if values else np.zeros(0, dtype=dtype)


def _field_lengths(
    tokens: np.ndarray, doc_ids: np.ndarray, counts: np.ndarray, overlaps: np.ndarray, doc_count: int
) -> npt.NDArray[np.uint32]:
    """Each document's field length: its kept (not dropped) positions, not counting
    stacked synonyms (as Lucene discounts overlaps).

    The dropped tokens are counted per buffered value a piece of the stream at a time,
    so no array of a number per token is made.
    """
    value_ends = np.cumsum(counts, dtype=np.int64)
    dropped = np.zeros(len(counts), dtype=np.int64)
    for start in range(0, len(tokens), GATHER_STEP):
        at = np.flatnonzero(tokens[start : start + GATHER_STEP] < 0) + start
        dropped += np.bincount(np.searchsorted(value_ends, at, side="right"), minlength=len(counts))
    lengths = np.bincount(doc_ids, weights=counts - dropped - overlaps, minlength=doc_count)
    return lengths.astype(codec.LENGTH_DTYPE)


def _gather(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[index]``, ``GATHER_STEP`` elements at a time: numpy converts the index to
    intp before gathering, which for a whole token stream would be 8 bytes a token."""
    out = np.empty(len(index), dtype=values.dtype)
    for start in range(0, len(index), GATHER_STEP):
        np.take(values, index[start : start + GATHER_STEP], out=out[start : start + GATHER_STEP])
    return out


def _lexicon(buffer: _FieldBuffer, analyzer: Analyzer, term_rank: np.ndarray) -> dict[str, np.ndarray]:
    """What the analyzer's costly filters made of each word of the field, by lexicon key.

    Keys are the field's raw words after the cheap filters (for ``english``: lowercased,
    stop words gone), sorted by their UTF-8 bytes; each points at its term's index in the
    field's dictionary. A query or snippet then finds a word's stem here, without NLTK.
    """
    term_of_key: dict[str, int] = {}
    for word in buffer.raw_words:
        key = analyzer.lexicon_key(word)
        if key is None or key in term_of_key:
            continue
        if key == word:  # most words: keep the buffered string, not the filters' copy
            key = word
        term = analyzer.term(word)
        if term is not None:
            term_of_key[key] = buffer.term_ids[term]
    keys = utf8_sorted(term_of_key)
    term_ids = np.fromiter(map(term_of_key.__getitem__, keys), dtype=np.int64, count=len(keys))
    key_bytes, key_offsets = encode_sorted(keys)
    return {
        "lexicon_bytes": key_bytes,
        "lexicon_offsets": key_offsets,
        "lexicon_terms": term_rank[term_ids].astype(codec.LEXICON_TERM_DTYPE),
    }
