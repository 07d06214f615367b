"""Segments: one immutable batch of documents, written once and then only read.

- :class:`SegmentWriter` buffers documents in memory, then inverts them in bulk with
  numpy (sort the batch's term ids a range of terms at a time, split into postings,
  spill them to temporary files) and writes the segment files.
- :class:`SegmentReader` maps those files and answers term, postings, norms and stored
  field look-ups without loading the whole dictionary.

Doc ids are local to a segment (0 .. doc_count - 1); which ones are deleted is given by
the generation's deletes file, applied through :attr:`SegmentReader.live`.
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from operator import methodcaller
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from searchlib import codec
from searchlib.analysis import Analyzer
from searchlib.columns import column_dtype, column_value
from searchlib.errors import CorruptIndexError, SchemaError
from searchlib.schema import Schema
from searchlib.scoring import bm25_length_norm
from searchlib.storage import Directory, SpillFile, release_pages

#: Stored documents are packed into blocks of about this many bytes before compression.
STORE_BLOCK_BYTES = 16 * 1024
#: Decompressed stored-field blocks a reader keeps (oldest dropped first).
STORE_BLOCK_CACHE = 32
#: Term look-ups a reader remembers (the statistics pass and scoring share them).
TERM_MEMO_SIZE = 4096
#: Tokens one field of a segment may hold: inverting packs a token's index in 32 bits
#: (a writer flushes long before, at ``ram_buffer_mb``; see IndexWriter).
MAX_FIELD_TOKENS = (1 << 32) - 1
#: Documents one segment may hold: doc ids are uint32.
MAX_SEGMENT_DOCS = (1 << 32) - 1

#: The names a manifest may give a segment and its deletes file (see codec's docstring):
#: plain names, so an index never opens a file outside its directory.
_SEGMENT_NAME = re.compile(r"seg-[0-9a-f]{8,16}")
_DELETES_NAME = re.compile(r"(seg-[0-9a-f]{8,16})\.[0-9]{1,19}\.del")


@dataclass
class SegmentMeta:
    """What a manifest records of one segment."""

    name: str
    doc_count: int
    files: dict[str, int]
    deleted_count: int = 0
    deletes: str | None = None

    @property
    def live_count(self) -> int:
        return self.doc_count - self.deleted_count

    def component(self, extension: str) -> str:
        return f"{self.name}.{extension}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "doc_count": self.doc_count,
            "deleted_count": self.deleted_count,
            "deletes": self.deletes,
            "files": dict(self.files),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], manifest_path: str) -> SegmentMeta:
        """A manifest's segment entry, checked before any file it names is opened: the
        names are plain file names of the segment's own (``seg-<hex>.<component>``,
        ``seg-<hex>.<generation>.del``), the sizes and counts whole numbers, and the
        document count no more than the stored file's size can hold."""
        try:
            name, deletes, files = data["name"], data.get("deletes"), data["files"]
            if not isinstance(name, str) or not _SEGMENT_NAME.fullmatch(name):
                raise ValueError(f"segment name {str(name)[:80]!r} is not seg-<hex digits>")
            if deletes is not None and not (
                isinstance(deletes, str)
                and (match := _DELETES_NAME.fullmatch(deletes)) is not None
                and match.group(1) == name
            ):
                raise ValueError(f"deletes file {str(deletes)[:80]!r} is not {name}.<generation>.del")
            expected = {f"{name}.{extension}" for extension in codec.SEGMENT_COMPONENTS}
            if not isinstance(files, dict) or set(files) != expected:
                raise ValueError(f"files must be exactly {', '.join(sorted(expected))}")
            meta = cls(
                name=name,
                doc_count=_count(data["doc_count"]),
                deleted_count=_count(data.get("deleted_count", 0)),
                deletes=deletes,
                files={key: _count(size) for key, size in files.items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CorruptIndexError(manifest_path, f"malformed segment entry ({exc})") from None
        if not 0 <= meta.deleted_count <= meta.doc_count <= MAX_SEGMENT_DOCS:
            raise CorruptIndexError(manifest_path, f"segment {meta.name}: bad document or deleted count")
        if 8 * (meta.doc_count + 1) > meta.files[meta.component("store")]:  # its id_offsets alone
            raise CorruptIndexError(
                manifest_path, f"segment {meta.name}: {meta.doc_count} documents do not fit its stored-fields file"
            )
        return meta


def _count(value: Any) -> int:
    """A count or size from a manifest: a non-negative int (not a bool, float or string)."""
    if type(value) is not int or value < 0:
        raise ValueError(f"expected a whole number, got {str(value)[:40]}")
    return value


# --- writing -------------------------------------------------------------------------


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
            for key in ("term_bytes", "term_offsets", "doc_freq", "postings_start", "positions_start"):
                term_arrays[f"{field_name}.{key}"] = inverted[key]
            if buffer.raw_words:
                lexicon = _lexicon(buffer, self.analyzers[field_name], inverted["term_rank"])
                for key, values in lexicon.items():
                    term_arrays[f"{field_name}.{key}"] = values
            for key, postings_spill in postings.items():
                spilled[f"{field_name}.{key}"] = postings_spill
            if self.schema[field_name].is_text:
                # Spilled too: a length per document and field adds up with many fields.
                lengths_out = spilled_norms[field_name] = spill(codec.LENGTH_DTYPE)
                lengths_out.append(inverted["lengths"])
                lengths_out.finish()
        # Read once every field is written: the fields' spills share a few files.
        posting_arrays = {name: postings_spill.read() for name, postings_spill in spilled.items()}
        norm_arrays = {name: lengths_spill.read() for name, lengths_spill in spilled_norms.items()}
        store_arrays = {**_pack_store(self._stored, spill(codec.BYTE_DTYPE)), **_pack_ids(self._id_values)}
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
    vocabulary = _utf8_sorted(buffer.term_ids)
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
    term_bytes, term_offsets = _encode_sorted(vocabulary)
    postings = {"docs": docs_out, "freqs": freqs_out, "positions": positions_out}
    for postings_spill in postings.values():
        postings_spill.finish()  # the next field's postings may follow in the same files
    return {
        "term_bytes": term_bytes,
        "term_offsets": term_offsets,
        "doc_freq": doc_freq.astype(codec.FREQ_DTYPE),
        "postings_start": _starts(doc_freq),
        "positions_start": _starts(tokens_per_term),
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


def _starts(sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """Offsets of consecutive slices of ``sizes`` elements (one more than slices)."""
    offsets = np.zeros(len(sizes) + 1, dtype=codec.OFFSET_DTYPE)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


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
    keys = _utf8_sorted(term_of_key)
    term_ids = np.fromiter(map(term_of_key.__getitem__, keys), dtype=np.int64, count=len(keys))
    key_bytes, key_offsets = _encode_sorted(keys)
    return {
        "lexicon_bytes": key_bytes,
        "lexicon_offsets": key_offsets,
        "lexicon_terms": term_rank[term_ids].astype(codec.LEXICON_TERM_DTYPE),
    }


def _utf8_sorted(strings: Iterable[str]) -> list[str]:
    """``strings`` in the order of their UTF-8 bytes, which is code point order (lone
    surrogates included, as ``surrogatepass`` encodes them): sorting the strings
    themselves needs no encoded copy and no (bytes, id) pair per term."""
    return sorted(strings)


def _encode_sorted(strings: list[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]:
    """``codec.encode_terms`` of strings already in UTF-8 order, encoded as one string
    rather than as a bytes object per term (about 45 bytes each, briefly)."""
    encode = methodcaller("encode", "utf-8", "surrogatepass")
    sizes = np.fromiter(map(len, map(encode, strings)), dtype=np.int64, count=len(strings))
    blob = np.frombuffer(encode("".join(strings)), dtype=codec.BYTE_DTYPE)
    return blob, _starts(sizes)


def _pack_ids(values: list[bytes]) -> dict[str, np.ndarray]:
    """The ID field's value per document, uncompressed, so a hit's id costs no decompression."""
    id_bytes, id_offsets = codec.encode_terms(values)
    return {"id_bytes": id_bytes, "id_offsets": id_offsets}


def _pack_store(lines: Iterable[bytes], spill: SpillFile | None = None) -> dict[str, np.ndarray]:
    """Pack JSON lines into zlib-compressed blocks of about STORE_BLOCK_BYTES, recording
    each block's decompressed size (``block_sizes``) so a reader can bound it.

    ``lines`` may be a generator: only the current block is held uncompressed. With a
    ``spill`` file the compressed blocks go there rather than into memory. A block is
    closed early rather than grow past codec.MAX_STORED_BLOCK_BYTES (a writer refuses a
    longer line).
    """
    blocks: list[bytes] | _SpilledBlocks = [] if spill is None else _SpilledBlocks(spill)
    first_docs: list[int] = [0]
    sizes: list[int] = []
    current: list[bytes] = []
    current_size = 0

    def close_block(end: int) -> None:
        block = b"\n".join(current)
        blocks.append(zlib.compress(block, 6))
        sizes.append(len(block))
        first_docs.append(end)

    doc_id = -1
    for doc_id, line in enumerate(lines):
        if current and current_size + len(line) > codec.MAX_STORED_BLOCK_BYTES:
            close_block(doc_id)
            current, current_size = [], 0
        current.append(line)
        current_size += len(line) + 1
        if current_size >= STORE_BLOCK_BYTES:
            close_block(doc_id + 1)
            current, current_size = [], 0
    if current:
        close_block(doc_id + 1)
    offsets = np.zeros(len(blocks) + 1, dtype=codec.OFFSET_DTYPE)
    np.cumsum(blocks.sizes() if isinstance(blocks, _SpilledBlocks) else [len(b) for b in blocks], out=offsets[1:])
    data = blocks.spill.read() if isinstance(blocks, _SpilledBlocks) else np.frombuffer(b"".join(blocks), dtype=codec.BYTE_DTYPE)
    return {
        "blocks": data,
        "block_offsets": offsets,
        "block_first_doc": np.asarray(first_docs, dtype=codec.DOC_ID_DTYPE),
        "block_sizes": np.asarray(sizes, dtype=codec.LENGTH_DTYPE),
    }


class _SpilledBlocks:
    """Compressed blocks appended to a spill file, remembering only their sizes."""

    def __init__(self, spill: SpillFile) -> None:
        self.spill = spill
        self._sizes: list[int] = []

    def append(self, block: bytes) -> None:
        self.spill.append(np.frombuffer(block, dtype=codec.BYTE_DTYPE))
        self._sizes.append(len(block))

    def sizes(self) -> list[int]:
        return self._sizes

    def __len__(self) -> int:
        return len(self._sizes)


def encode_deletes(deleted: npt.NDArray[np.bool_]) -> Any:
    """The chunks of a deletes file for a boolean mask of deleted doc ids."""
    return codec.encode_array_file(
        codec.KIND_DELETES,
        {"deleted": np.packbits(deleted)},
        {"count": int(deleted.sum()), "doc_count": len(deleted)},
    )


# --- reading -------------------------------------------------------------------------


def _int_view(offsets: np.ndarray) -> memoryview:
    """``offsets`` as a memoryview of unsigned ints: indexing it yields Python ints
    several times faster than numpy scalars, which matters where a query reads a few
    offsets per term or per hit. Native 32- and 64-bit arrays are viewed in place."""
    for dtype, code in ((np.dtype(np.uint32), "I"), (np.dtype(np.uint64), "Q")):
        if offsets.dtype == dtype and array(code).itemsize == dtype.itemsize:
            return np.ascontiguousarray(offsets).data.cast("B").cast(code)
    return np.ascontiguousarray(offsets, dtype=np.uint64).data.cast("B").cast("Q")


def _ascending(values: np.ndarray) -> bool:
    """Whether ``values`` never decrease (one vectorized pass; no copy for small arrays)."""
    return len(values) < 2 or bool(np.all(values[1:] >= values[:-1]))


class TermDictionary:
    """Binary search over one field's byte-sorted terms, read in place.

    Every ``SAMPLE_EVERY``-th term is kept in a Python list (a small terms index, as in
    Lucene), so a look-up is one C-level bisect over the sample and a few probes into
    the mapped bytes, without loading the dictionary.
    """

    SAMPLE_EVERY = 32

    #: Fewest terms :meth:`find_many` reads a range of the dictionary for.
    BULK_FIND_MIN = 64
    #: How many dictionary terms per term sought :meth:`find_many` reads at most.
    BULK_FIND_SPAN = 8

    def __init__(self, term_bytes: np.ndarray, term_offsets: np.ndarray, path: str) -> None:
        # Offsets that start at 0, never go down and end at the bytes' length keep every
        # slice inside the bytes; one vectorized pass per field, on first use.
        if (
            len(term_offsets) == 0
            or int(term_offsets[0]) != 0
            or int(term_offsets[-1]) != len(term_bytes)
            or not _ascending(term_offsets)
        ):
            raise CorruptIndexError(path, "term offsets do not match the term bytes")
        self.path = path
        self._offsets_array = term_offsets
        # Plain memoryviews of the mapped arrays: indexing them yields Python ints and
        # bytes several times faster than numpy scalars, and copies nothing up front.
        self._bytes = np.ascontiguousarray(term_bytes).data.cast("B")
        self._offsets = _int_view(term_offsets)
        self._sample: list[bytes] | None = None

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        offsets = self._offsets
        return bytes(self._bytes[offsets[index] : offsets[index + 1]])

    def _load_sample(self) -> list[bytes]:
        every = self.SAMPLE_EVERY
        starts = self._offsets_array[:-1:every].tolist()
        ends = self._offsets_array[1::every].tolist()
        data = self._bytes
        return [bytes(data[start:end]) for start, end in zip(starts, ends)]

    def find(self, term: str) -> int:
        """The term's index, or -1 when the field does not hold it.

        A query looks up each new word here a few times (lexicons, then each field's
        terms), so the probes within a block are written out rather than made through
        ``bisect_left(self, ...)``, which costs a method call per probe.
        """
        key = term.encode("utf-8", "surrogatepass")
        sample = self._sample
        if sample is None:
            sample = self._sample = self._load_sample()
        block = bisect_right(sample, key) - 1
        if block < 0:
            return -1
        low = block * self.SAMPLE_EVERY
        if sample[block] == key:
            return low
        offsets, data = self._offsets, self._bytes
        count = len(offsets) - 1
        low, high = low + 1, min(count, low + self.SAMPLE_EVERY)
        while low < high:  # the first term >= key in the block, after its sampled term
            middle = (low + high) >> 1
            if bytes(data[offsets[middle] : offsets[middle + 1]]) < key:
                low = middle + 1
            else:
                high = middle
        if low < count and bytes(data[offsets[low] : offsets[low + 1]]) == key:
            return low
        return -1

    def find_many(self, terms: Sequence[str]) -> list[int]:
        """Each term's index (-1 where the field does not hold it).

        Many terms that lie close together in the dictionary (a prefix's expansion) are
        found by reading the range from the least to the greatest once, into a dict;
        scattered terms (a fuzzy word's or a wildcard's, mostly) or few terms by
        :meth:`find` each, which costs a binary search apiece.
        """
        if len(terms) < self.BULK_FIND_MIN:
            return [self.find(term) for term in terms]
        keys = [term.encode("utf-8", "surrogatepass") for term in terms]
        start = self.bound(min(keys), after=False)
        end = self.bound(max(keys), after=True)
        if end - start > self.BULK_FIND_SPAN * len(keys):
            return [self.find(term) for term in terms]
        index_of = {key: index for index, key in enumerate(self.slice_bytes(start, end), start)}
        return [index_of.get(key, -1) for key in keys]

    def terms(self, start: int = 0, end: int | None = None) -> list[str]:
        """The terms from index ``start`` to ``end`` (default: all), in order."""
        stop = len(self) if end is None else end
        return self.terms_at(range(start, stop))

    def terms_at(self, indexes: Iterable[int]) -> list[str]:
        """The terms at the given dictionary indexes."""
        try:
            return [self[i].decode("utf-8", "surrogatepass") for i in indexes]
        except UnicodeDecodeError as exc:
            raise CorruptIndexError(self.path, f"a term is not UTF-8 ({exc})") from None

    def term(self, index: int) -> str:
        """The term at a dictionary index, decoded."""
        return self.terms_at((index,))[0]

    def bound(self, key: bytes, *, after: bool) -> int:
        """Where ``key`` would go: the index of the first term ``>= key`` (or ``> key``
        when ``after``), by binary search over the mapped bytes."""
        return bisect_right(self, key) if after else bisect_left(self, key)

    def prefix_range(self, prefix: bytes) -> tuple[int, int]:
        """The index range ``[start, end)`` of the terms that start with ``prefix``.

        UTF-8 never holds the byte 0xFF, so ``prefix + b"\xff"`` sorts after every term
        with the prefix and before every other term greater than it.
        """
        return self.bound(prefix, after=False), self.bound(prefix + b"\xff", after=False)

    def slice_bytes(self, start: int, end: int) -> list[bytes]:
        """The UTF-8 bytes of terms ``start`` .. ``end - 1``: a merge takes the terms of
        several dictionaries a range at a time, never whole dictionaries at once, and
        :meth:`find_many` reads the range its terms lie in."""
        offsets = self._offsets
        slices = map(slice, offsets[start:end], offsets[start + 1 : end + 1])
        return list(map(bytes, map(self._bytes.__getitem__, slices)))

    def release_pages(self) -> None:
        """Drop the mapped pages read so far from the resident set (see
        storage.release_pages): a merge reads a dictionary once, a range at a time."""
        release_pages(self._bytes)


class Postings(NamedTuple):
    """One term's postings in one segment: parallel arrays, doc ids ascending.

    A named tuple: a query makes one per new term and field, and a tuple is several
    times cheaper to make than a frozen dataclass."""

    docs: npt.NDArray[np.uint32]
    freqs: npt.NDArray[np.uint32]


class SegmentReader:
    """Read access to one segment as of one generation's deletions."""

    def __init__(self, directory: Directory, meta: SegmentMeta) -> None:
        self.meta = meta
        self.directory = directory
        for file_name, size in meta.files.items():
            path = str(directory.file_path(file_name))
            try:
                actual = directory.file_size(file_name)
            except FileNotFoundError:
                raise CorruptIndexError(path, "file is missing") from None
            if actual != size:
                raise CorruptIndexError(path, f"size is {actual} bytes, the manifest says {size}")
        self._terms_file = codec.ArrayFile(directory, meta.component("terms"), codec.KIND_TERMS)
        self._postings_file = codec.ArrayFile(directory, meta.component("post"), codec.KIND_POSTINGS)
        self._norms_file = codec.ArrayFile(directory, meta.component("norms"), codec.KIND_NORMS)
        self._store_file = codec.ArrayFile(directory, meta.component("store"), codec.KIND_STORE)
        first_docs = self._store_file["block_first_doc"]
        stored_count = int(first_docs[-1]) if len(first_docs) else -1
        if stored_count != meta.doc_count:
            raise CorruptIndexError(
                self._store_file.path, f"holds {stored_count} documents, the manifest says {meta.doc_count}"
            )
        self._check_layout()
        self.live = self._read_live()
        #: Whether no document of the segment is deleted, so queries skip live checks.
        self.all_live = bool(self.live.all())
        self._length_norms: dict[tuple[str, float, float], npt.NDArray[np.float64]] = {}
        self._postings_by_field: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._dictionaries: dict[str, TermDictionary | None] = {}
        self._lexicons: dict[str, TermDictionary | None] = {}
        self._lexicon_target_views: dict[str, memoryview] = {}
        self._block_cache: OrderedDict[int, list[bytes]] = OrderedDict()
        self._term_indexes: dict[tuple[str, str], int] = {}
        self._starts_views: dict[str, memoryview] = {}
        self._store_checked = False
        self._checked_positions: set[str] = set()
        self._term_postings: dict[str, dict[str, Postings | None]] = {}
        self._live_doc_freqs: dict[tuple[tuple[str, ...], str], int] = {}
        self._id_views: tuple[memoryview, memoryview] | None = None
        self._inverse_norms: dict[tuple[str, float, float, float], npt.NDArray[np.float64]] = {}

    @property
    def doc_count(self) -> int:
        return self.meta.doc_count

    def _check_layout(self) -> None:
        """Check, from the files' tables alone (no data is read), that the arrays a
        search uses exist, are one-dimensional, and have lengths that agree with each
        other and with the manifest's document count: what the reader then indexes by
        doc id or term number stays in bounds without a check per look-up."""
        docs = self.doc_count
        terms, postings, norms, store = self._terms_file, self._postings_file, self._norms_file, self._store_file

        def length(file: codec.ArrayFile, name: str) -> int:
            shape = file.shape(name)
            if shape is None:
                raise CorruptIndexError(file.path, f"array {name!r} is missing")
            if len(shape) != 1:
                raise CorruptIndexError(file.path, f"array {name!r} has shape {shape}, not a list")
            return shape[0]

        def expect(file: codec.ArrayFile, name: str, wanted: int, of_what: str) -> None:
            found = length(file, name)
            if found != wanted:
                raise CorruptIndexError(file.path, f"array {name!r} has {found} entries for {wanted} {of_what}")

        expect(store, "id_offsets", docs + 1, "documents (plus one)")
        expect(store, "block_offsets", length(store, "block_first_doc"), "blocks (plus one)")
        length(store, "blocks"), length(store, "id_bytes")
        for name in store.names():
            if name.startswith("column."):
                expect(store, name, docs, "documents")
        for name in norms.names():
            expect(norms, name, docs, "documents")
        for name in terms.names():
            if not name.endswith(".term_bytes"):
                continue
            field_name = name[: -len(".term_bytes")]
            count = length(terms, f"{field_name}.term_offsets") - 1
            if count < 0:
                raise CorruptIndexError(terms.path, f"array '{field_name}.term_offsets' is empty")
            expect(terms, f"{field_name}.doc_freq", count, "terms")
            expect(terms, f"{field_name}.postings_start", count + 1, "terms (plus one)")
            expect(terms, f"{field_name}.positions_start", count + 1, "terms (plus one)")
            expect(postings, f"{field_name}.freqs", length(postings, f"{field_name}.docs"), "postings")
            length(postings, f"{field_name}.positions")
            if f"{field_name}.lexicon_bytes" in terms:
                keys = length(terms, f"{field_name}.lexicon_offsets") - 1
                expect(terms, f"{field_name}.lexicon_terms", max(keys, 0), "lexicon keys")

    def component(self, extension: str) -> codec.ArrayFile:
        """The segment's ``terms``, ``post``, ``norms`` or ``store`` file, mapped."""
        return {
            "terms": self._terms_file, "post": self._postings_file,
            "norms": self._norms_file, "store": self._store_file,
        }[extension]

    def stored_lines(self, keep: npt.NDArray[np.bool_] | None = None) -> Iterator[bytes]:
        """The JSON line of stored fields of each document (or of those ``keep`` marks),
        in doc id order, decompressing one block at a time."""
        self._check_store()
        offsets = self._store_file["block_offsets"]
        first_docs = self._store_file["block_first_doc"]
        for block in range(len(offsets) - 1):
            first, end = int(first_docs[block]), int(first_docs[block + 1])
            if keep is not None and not keep[first:end].any():
                continue
            lines = self._inflate(block).split(b"\n")
            if len(lines) != end - first:
                raise CorruptIndexError(self._store_file.path, f"stored block {block} holds {len(lines)} documents")
            if keep is None:
                yield from lines
            else:
                yield from (line for line, wanted in zip(lines, keep[first:end].tolist()) if wanted)

    def id_bytes(self) -> list[bytes]:
        """Every document's ID field value in UTF-8 (empty if it has none), in doc id order."""
        self._check_store()
        offsets = self._store_file["id_offsets"].tolist()
        data = self._store_file["id_bytes"].tobytes()
        return [data[offsets[i] : offsets[i + 1]] for i in range(self.doc_count)]

    @property
    def files(self) -> list[codec.ArrayFile]:
        return [self._terms_file, self._postings_file, self._norms_file, self._store_file]

    def _read_live(self) -> npt.NDArray[np.bool_]:
        if self.meta.deletes is None:
            return np.ones(self.doc_count, dtype=bool)
        deletes = codec.ArrayFile(self.directory, self.meta.deletes, codec.KIND_DELETES)
        bits = deletes["deleted"]
        if len(bits) != (self.doc_count + 7) // 8:
            raise CorruptIndexError(deletes.path, "deletes do not match the segment's size")
        deleted = np.unpackbits(bits, count=self.doc_count).astype(bool)
        if int(deleted.sum()) != self.meta.deleted_count:
            raise CorruptIndexError(deletes.path, "deleted count differs from the manifest")
        return ~deleted

    def dictionary(self, field_name: str) -> TermDictionary | None:
        """The field's term dictionary, or None when no document of the segment has it."""
        if field_name not in self._dictionaries:
            term_bytes = self._terms_file.get(f"{field_name}.term_bytes")
            if term_bytes is None:
                self._dictionaries[field_name] = None
            else:
                offsets = self._terms_file[f"{field_name}.term_offsets"]
                self._dictionaries[field_name] = TermDictionary(
                    term_bytes, offsets, self._terms_file.path
                )
        return self._dictionaries[field_name]

    def lexicon(self, field_name: str) -> TermDictionary | None:
        """The field's lexicon keys (words before the stemmer), or None without one."""
        if field_name not in self._lexicons:
            self._lexicons[field_name] = self._open_lexicon(field_name)
        return self._lexicons[field_name]

    def lexicon_term(self, field_name: str, key: str) -> str | None:
        """The term a lexicon key (a word after the cheap filters) became in this field.

        None when no document of the segment has the word in the field, or the field's
        analyzer keeps no lexicon.
        """
        lexicon = self.lexicon(field_name)
        at = -1 if lexicon is None else lexicon.find(key)
        if at < 0:
            return None
        dictionary = self.dictionary(field_name)
        term_index = self._lexicon_targets(field_name)[at]
        if dictionary is None or term_index >= len(dictionary):
            raise CorruptIndexError(self._terms_file.path, f"lexicon of {field_name!r} points past its terms")
        term = dictionary.term(term_index)
        self._remember_term_index(field_name, term, term_index)  # the query asks for it next
        return term

    def _lexicon_targets(self, field_name: str) -> memoryview:
        """The field's ``lexicon_terms`` as a memoryview: indexing it gives Python ints fast."""
        view = self._lexicon_target_views.get(field_name)
        if view is None:
            targets = self._terms_file[f"{field_name}.lexicon_terms"]
            view = self._lexicon_target_views[field_name] = _int_view(targets)
        return view

    def _open_lexicon(self, field_name: str) -> TermDictionary | None:
        key_bytes = self._terms_file.get(f"{field_name}.lexicon_bytes")
        if key_bytes is None:
            return None
        path = self._terms_file.path
        lexicon = TermDictionary(key_bytes, self._terms_file[f"{field_name}.lexicon_offsets"], path)
        if len(self._terms_file[f"{field_name}.lexicon_terms"]) != len(lexicon):
            raise CorruptIndexError(path, f"lexicon of {field_name!r} has keys without terms")
        return lexicon

    def term_index(self, field_name: str, term: str) -> int:
        """The term's index in the field's dictionary, or -1; recent look-ups are memoized."""
        index = self._term_indexes.get((field_name, term))
        if index is None:
            dictionary = self.dictionary(field_name)
            index = -1 if dictionary is None else dictionary.find(term)
            self._remember_term_index(field_name, term, index)
        return index

    def _remember_term_index(self, field_name: str, term: str, index: int) -> None:
        if len(self._term_indexes) >= TERM_MEMO_SIZE:
            self._term_indexes.clear()
        self._term_indexes[(field_name, term)] = index

    def note_live_doc_freq(self, fields: tuple[str, ...], term: str, count: int) -> None:
        """Remember that ``count`` live documents hold ``term`` in any of ``fields``.

        Scoring counts this while it adds a term's fields up per document (see
        :func:`searchlib.impacts.impact_arrays`), so the document frequency its idf needs
        is not counted again from the postings.
        """
        memo = self._live_doc_freqs
        if len(memo) >= TERM_MEMO_SIZE:
            memo.clear()
        memo[(fields, term)] = count

    def noted_live_doc_freq(self, fields: tuple[str, ...], term: str) -> int | None:
        """What :meth:`note_live_doc_freq` last noted for ``term`` in ``fields``, if kept."""
        return self._live_doc_freqs.get((fields, term))

    def postings(self, field_name: str, term: str) -> Postings | None:
        """The term's postings (deleted docs included), or None if the term is absent."""
        index = self.term_index(field_name, term)
        return None if index < 0 else self._postings_at(field_name, term, index)

    def _postings_arrays(self, field_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The field's postings_start, docs and freqs arrays (looked up once per field)."""
        arrays = self._postings_by_field.get(field_name)
        if arrays is None:
            starts = self._terms_file[f"{field_name}.postings_start"]
            docs = self._postings_file[f"{field_name}.docs"]
            freqs = self._postings_file[f"{field_name}.freqs"]
            # Once per field: slices between consecutive starts stay inside the postings,
            # and every doc id indexes the segment's per-document arrays.
            if int(starts[0]) != 0 or int(starts[-1]) != len(docs) or not _ascending(starts):
                raise CorruptIndexError(self._terms_file.path, f"postings slices of {field_name!r} are out of order")
            if len(docs) and int(docs.max()) >= self.doc_count:
                raise CorruptIndexError(self._postings_file.path, f"postings of {field_name} out of range")
            arrays = self._postings_by_field[field_name] = (starts, docs, freqs)
        return arrays

    def _postings_at(self, field_name: str, term: str, index: int) -> Postings:
        starts, all_docs, all_freqs = self._postings_arrays(field_name)
        begin, end = int(starts[index]), int(starts[index + 1])
        return Postings(all_docs[begin:end], all_freqs[begin:end])

    def term_postings(self, field_name: str, terms: Iterable[str]) -> list[Postings | None]:
        """Each term's postings (deleted docs included; None where the field lacks the
        term), as views into the field's arrays; recent look-ups are memoized per field,
        so a query repeating earlier terms slices nothing."""
        memo = self._term_postings.get(field_name)
        if memo is None or len(memo) >= TERM_MEMO_SIZE:
            memo = self._term_postings[field_name] = {}
        wanted = terms if isinstance(terms, list) else list(terms)
        indexes = self._unmemoized_term_indexes(field_name, wanted, memo)
        found: list[Postings | None] = []
        field_arrays = None  # the field's starts, docs and freqs, fetched on first need
        for term in wanted:
            if term in memo:
                found.append(memo[term])
                continue
            index = indexes[term] if indexes is not None else self.term_index(field_name, term)
            postings = None
            if index >= 0:
                if field_arrays is None:
                    field_arrays = (self._postings_starts(field_name), *self._checked_postings(field_name))
                starts, docs, freqs = field_arrays
                begin, end = starts[index], starts[index + 1]
                postings = Postings(docs[begin:end], freqs[begin:end])
            memo[term] = postings
            found.append(postings)
        return found

    def _unmemoized_term_indexes(
        self, field_name: str, terms: list[str], memo: dict[str, Postings | None]
    ) -> dict[str, int] | None:
        """The dictionary indexes of the ``terms`` not in ``memo``, found together
        (:meth:`TermDictionary.find_many`) when there are many; None when there are
        few, which :meth:`term_index` looks up one by one through its own memo."""
        if len(terms) < TermDictionary.BULK_FIND_MIN:
            return None
        missing = [term for term in terms if term not in memo]
        if len(missing) < TermDictionary.BULK_FIND_MIN:
            return None
        dictionary = self.dictionary(field_name)
        if dictionary is None:
            return dict.fromkeys(missing, -1)
        return dict(zip(missing, dictionary.find_many(missing)))

    def _checked_postings(self, field_name: str) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
        """Every posting of the field (docs and freqs, deleted docs included), term after
        term, for :meth:`term_postings` to slice.

        The doc ids are checked against the segment's size once, on first use (see
        :meth:`_postings_arrays`), so that the slices can be used as indexes without a
        check per query.
        """
        _, docs, freqs = self._postings_arrays(field_name)
        return docs, freqs

    def _postings_starts(self, field_name: str) -> memoryview:
        """The field's postings_start as a memoryview: indexing it gives Python ints fast."""
        view = self._starts_views.get(field_name)
        if view is None:
            starts = self._postings_arrays(field_name)[0]
            view = self._starts_views[field_name] = _int_view(starts)
        return view

    def positions(self, field_name: str, term: str) -> tuple[Postings, npt.NDArray[np.uint32]] | None:
        """Postings plus the positions array of the term (``freqs[i]`` entries per posting)."""
        index = self.term_index(field_name, term)
        if index < 0:
            return None
        postings = self._postings_at(field_name, term, index)
        starts = self._terms_file[f"{field_name}.positions_start"]
        positions = self._postings_file[f"{field_name}.positions"]
        if field_name not in self._checked_positions:
            if int(starts[0]) != 0 or int(starts[-1]) != len(positions) or not _ascending(starts):
                raise CorruptIndexError(self._terms_file.path, f"positions slices of {field_name!r} are out of order")
            self._checked_positions.add(field_name)
        return postings, positions[int(starts[index]) : int(starts[index + 1])]

    def docs_of_terms(self, field_name: str, start: int, end: int) -> npt.NDArray[np.uint32]:
        """The doc ids (deleted ones included, repeated across terms) of the terms with
        dictionary index ``start`` to ``end``: one contiguous slice of the postings."""
        if end <= start:
            return np.zeros(0, dtype=np.uint32)
        starts, docs, _ = self._postings_arrays(field_name)
        return docs[int(starts[start]) : int(starts[end])]

    def doc_freq_at(self, field_name: str, index: int) -> int:
        """Documents (deleted ones included) holding the field's ``index``-th term."""
        return int(self._terms_file[f"{field_name}.doc_freq"][index])

    def has_field(self, field_name: str) -> npt.NDArray[np.bool_]:
        """Which documents have at least one term in the field (lengths where the field
        keeps them; postings for KEYWORD and ID fields, which keep none)."""
        if field_name in self._norms_file:
            return self.field_lengths(field_name) > 0
        has = np.zeros(self.doc_count, dtype=bool)
        dictionary = self.dictionary(field_name)
        if dictionary is not None:
            has[self.docs_of_terms(field_name, 0, len(dictionary))] = True
        return has

    def field_lengths(self, field_name: str) -> npt.NDArray[np.uint32]:
        """Per-document token counts of a text field (zeros if the segment lacks it)."""
        lengths = self._norms_file.get(field_name)
        if lengths is None:
            return np.zeros(self.doc_count, dtype=codec.LENGTH_DTYPE)
        if len(lengths) != self.doc_count:
            raise CorruptIndexError(self._norms_file.path, f"norms of {field_name!r} have the wrong size")
        return lengths

    def keeps_lengths(self, field_name: str) -> bool:
        """Whether the segment has the field's lengths: a KEYWORD or ID field has none
        (nor has a field no document of the segment holds). Reads only the table."""
        return field_name in self._norms_file

    def length_norms(self, field_name: str, average_length: float, b: float) -> npt.NDArray[np.float64]:
        """BM25's ``1 - b + b * dl / avgdl`` for every document, computed once per
        (field, avgdl, b): a query then reads it per posting instead of recomputing."""
        key = (field_name, average_length, b)
        norms = self._length_norms.get(key)
        if norms is None:
            if not self.keeps_lengths(field_name):
                # A KEYWORD or ID field keeps no lengths: as in Lucene, every value
                # counts as being of average length, so its norm is 1.
                norms = np.ones(self.doc_count, dtype=np.float64)
            else:
                norms = bm25_length_norm(self.field_lengths(field_name), average_length, b)
            if len(self._length_norms) >= 16:
                self._length_norms.clear()
            self._length_norms[key] = norms
        return norms

    def weighted_inverse_norms(
        self, field_name: str, average_length: float, b: float, weight: float
    ) -> npt.NDArray[np.float64]:
        """``weight / norm`` for every document (cached like :meth:`length_norms`): BM25F's
        per-posting factor, so that a query multiplies each term frequency once."""
        key = (field_name, average_length, b, weight)
        inverse = self._inverse_norms.get(key)
        if inverse is None:
            # A document without the field can have a norm of 0 (b = 1); it has no
            # postings in the field either, so its infinite inverse is never read.
            with np.errstate(divide="ignore"):
                inverse = weight / self.length_norms(field_name, average_length, b)
            if len(self._inverse_norms) >= 16:
                self._inverse_norms.clear()
            self._inverse_norms[key] = inverse
        return inverse

    def column(self, field_name: str) -> tuple[np.ndarray, npt.NDArray[np.bool_]] | None:
        """A NUMERIC, DATETIME or BOOLEAN field's values per document and which documents
        have one, or None when no document of the segment has the field."""
        values_name, present_name = codec.column_array_names(field_name)
        values = self._store_file.get(values_name)
        present = self._store_file.get(present_name)
        if present is None:  # a segment written before presence arrays had their own prefix
            present = self._store_file.get(codec.legacy_present_array_name(field_name))
        if values is None or present is None:
            return None
        if len(values) != self.doc_count or len(present) != self.doc_count:
            raise CorruptIndexError(self._store_file.path, f"column {field_name!r} has the wrong size")
        return values, present.astype(bool)

    def id_value(self, doc_id: int) -> str | None:
        """The document's ID field value (None if it has none), without decompressing."""
        if self._id_views is None:  # read per hit: memoryviews, not numpy scalars
            self._check_store()
            self._id_views = (_int_view(self._store_file["id_offsets"]), self._store_file["id_bytes"].data.cast("B"))
        offsets_view, bytes_view = self._id_views
        start, end = offsets_view[doc_id], offsets_view[doc_id + 1]
        if start == end:
            return None
        try:
            return bytes(bytes_view[start:end]).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise CorruptIndexError(self._store_file.path, f"id of document {doc_id} is not UTF-8 ({exc})") from None

    def _check_store(self) -> None:
        """Check, once, that the stored blocks and the id column are laid out end to end
        and that blocks cover doc ids in order, so the slices and the block search of
        :meth:`stored_fields` stay inside their arrays."""
        if self._store_checked:
            return
        store = self._store_file
        offsets, first_docs = store["block_offsets"], store["block_first_doc"]
        id_offsets = store["id_offsets"]
        if (
            not len(offsets)
            or int(offsets[0]) != 0
            or int(offsets[-1]) != len(store["blocks"])
            or not _ascending(offsets)
            or int(first_docs[0]) != 0
            or not _ascending(first_docs)
        ):
            raise CorruptIndexError(store.path, "stored blocks are not laid out end to end")
        if int(id_offsets[0]) != 0 or int(id_offsets[-1]) != len(store["id_bytes"]) or not _ascending(id_offsets):
            raise CorruptIndexError(store.path, "the id column is not laid out end to end")
        self._store_checked = True

    def stored_fields(self, doc_id: int) -> dict[str, Any]:
        """The stored fields of one document, decompressing only its block."""
        if not 0 <= doc_id < self.doc_count:
            raise IndexError(f"doc id {doc_id} outside segment {self.meta.name}")
        self._check_store()
        first_docs = self._store_file["block_first_doc"]
        block = int(np.searchsorted(first_docs, doc_id, side="right")) - 1
        lines = self._block_cache.get(block)
        if lines is None:
            lines = self._inflate(block).split(b"\n")
            if len(self._block_cache) >= STORE_BLOCK_CACHE:
                with suppress(KeyError):  # one C call each, whatever other threads do meanwhile
                    self._block_cache.popitem(last=False)
            self._block_cache[block] = lines
        try:
            line = lines[doc_id - int(first_docs[block])]
            fields: dict[str, Any] = json.loads(line.decode("utf-8", "surrogatepass"))
        except RecursionError:
            raise CorruptIndexError(self._store_file.path, f"stored document {doc_id}: JSON nested too deeply") from None
        except (IndexError, ValueError) as exc:
            raise CorruptIndexError(self._store_file.path, f"stored document {doc_id}: {exc}") from None
        if not isinstance(fields, dict):
            raise CorruptIndexError(self._store_file.path, f"stored document {doc_id} is not a JSON object")
        return fields

    def _inflate(self, block: int) -> bytes:
        """Stored block ``block`` decompressed, never past its recorded size (or, in a
        file from before sizes were recorded, codec.MAX_STORED_BLOCK_BYTES): a block
        that would inflate further, a compression bomb, is damage, found before it can
        take the memory it asks for."""
        store = self._store_file
        offsets = store["block_offsets"]
        if not 0 <= block < len(offsets) - 1:
            raise CorruptIndexError(store.path, f"stored block {block} is missing")
        start, end = int(offsets[block]), int(offsets[block + 1])
        sizes = store.get("block_sizes")
        expected = None
        if sizes is not None:
            expected = int(sizes[block]) if len(sizes) == len(offsets) - 1 else None
            if expected is None or expected > codec.MAX_STORED_BLOCK_BYTES:
                raise CorruptIndexError(store.path, f"stored block {block}: bad recorded size")
        if not 0 <= start <= end <= len(store["blocks"]):
            raise CorruptIndexError(store.path, f"stored block {block} lies outside the data")
        limit = codec.MAX_STORED_BLOCK_BYTES if expected is None else expected
        inflater = zlib.decompressobj()
        try:  # one byte past the limit tells a bomb from a block of exactly the limit
            data = inflater.decompress(store["blocks"][start:end], limit + 1)
        except zlib.error as exc:
            raise CorruptIndexError(store.path, f"stored block {block}: {exc}") from None
        if len(data) > limit:
            raise CorruptIndexError(store.path, f"stored block {block} inflates past {limit:,} bytes")
        if not inflater.eof:
            raise CorruptIndexError(store.path, f"stored block {block}: truncated compressed data")
        if expected is not None and len(data) != expected:
            raise CorruptIndexError(store.path, f"stored block {block} holds {len(data)} bytes, {expected} recorded")
        return data
