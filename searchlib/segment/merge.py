"""Merging segments: many small segments (and their deleted documents) become one
(which ones, :mod:`searchlib.segment.policy` decides).

:func:`merge_segments` is bulk numpy work, like the first inversion: per field, each
segment's term ids are mapped onto the union of the terms, postings are concatenated
with renumbered doc ids (deleted documents dropped), and one stable sort by term puts
them in order; positions follow their postings. Only the per-term and per-document
bookkeeping (the term union, stored documents) is a Python loop.

A merge's memory does not grow with the segments' sizes: the term union and the
lexicons are taken a key range of the sorted dictionaries at a time (Python objects for
``TERMS_PER_RANGE`` terms; what outlives a range is numpy arrays), postings go through
in chunks of ``POSTINGS_PER_CHUNK`` into spill files, and the pages of the mapped inputs
and spills are dropped from the resident set once read
(:func:`searchlib.storage.release_pages`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, count
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib import codec
from searchlib.columns import column_dtype
from searchlib.schema import Schema
from searchlib.segment.meta import SegmentMeta
from searchlib.segment.reader import SegmentReader
from searchlib.segment.store import pack_store
from searchlib.segment.termdict import TermDictionary
from searchlib.segment.writer import write_segment
from searchlib.storage import Directory, SpillFile

#: Postings merged at once: bounds a merge's working memory whatever the segment sizes
#: (about 100 bytes a posting with its positions, so some 25 MB).
POSTINGS_PER_CHUNK = 1 << 18
#: Terms (summed over the merged segments) whose union is taken at once: bounds the
#: Python objects a merge holds (some 150 bytes a term) however large the segments.
TERMS_PER_RANGE = 1 << 17
#: Stored documents copied between drops of the inputs' read pages from the resident set.
STORED_DOCS_PER_RELEASE = 16_384


def merge_segments(
    directory: Directory,
    name: str,
    schema: Schema,
    readers: Sequence[SegmentReader],
    deleted: Sequence[npt.NDArray[np.bool_]],
) -> SegmentMeta:
    """Write one segment holding the live documents of ``readers``, in their order.

    ``deleted[i]`` marks the documents of ``readers[i]`` to leave out (its deletions so
    far, including any not yet committed).
    """
    live = [~mask for mask in deleted]
    new_ids: list[npt.NDArray[np.int32]] = []
    next_id = 0
    for mask in live:
        renumbered = np.full(len(mask), -1, dtype=np.int32)
        renumbered[mask] = np.arange(next_id, next_id + int(mask.sum()))
        next_id += int(mask.sum())
        new_ids.append(renumbered)
    doc_count = next_id

    with directory.spills(name) as spill:
        return _merge_into(directory, name, schema, readers, live, new_ids, doc_count, spill)


def _merge_into(
    directory: Directory,
    name: str,
    schema: Schema,
    readers: Sequence[SegmentReader],
    live: Sequence[npt.NDArray[np.bool_]],
    new_ids: Sequence[npt.NDArray[np.int32]],
    doc_count: int,
    spill: Callable[[np.dtype[Any]], SpillFile],
) -> SegmentMeta:
    term_arrays: dict[str, np.ndarray] = {}
    spilled: dict[str, SpillFile] = {}
    spilled_norms: dict[str, SpillFile] = {}
    for field_name, definition in schema.fields.items():
        if not definition.is_indexed:
            continue
        field_merge = _merge_field(field_name, readers, new_ids, spill)
        if field_merge is None:
            continue
        merged, postings = field_merge
        for key in (*codec.TERM_KEYS, *codec.LEXICON_KEYS):
            if key in merged:
                term_arrays[codec.field_array_name(field_name, key)] = merged[key]
        for key, postings_spill in postings.items():
            spilled[codec.field_array_name(field_name, key)] = postings_spill
        if definition.is_text:
            # Spilled: a length per document and field adds up with many fields.
            lengths_out = spilled_norms[codec.field_arrays(field_name).norms] = spill(codec.LENGTH_DTYPE)
            for reader, mask in zip(readers, live):
                lengths_out.append(reader.field_lengths(field_name)[mask])
                reader.component("norms").release_pages()
            lengths_out.finish()

    # Read once every field is merged: the fields' spills share a few files.
    posting_arrays = {name: postings_spill.read() for name, postings_spill in spilled.items()}
    norm_arrays = {name: lengths_spill.read() for name, lengths_spill in spilled_norms.items()}
    store_arrays = {**pack_store(_live_lines(readers, live), spill(codec.BYTE_DTYPE)), **_merge_ids(readers, live)}
    for field_name, definition in schema.fields.items():
        if not definition.is_column:
            continue
        columns = [reader.column(field_name) for reader in readers]
        if all(column is None for column in columns):
            continue
        dtype = column_dtype(definition.kind, definition.numeric_type)
        values, present = [], []
        for column, mask in zip(columns, live):
            if column is None:
                values.append(np.zeros(int(mask.sum()), dtype=dtype))
                present.append(np.zeros(int(mask.sum()), dtype=np.uint8))
            else:
                values.append(column[0][mask])
                present.append(column[1][mask].astype(np.uint8))
        values_name, present_name = codec.column_array_names(field_name)
        store_arrays[values_name] = np.concatenate(values).astype(dtype)
        store_arrays[present_name] = np.concatenate(present)
    return write_segment(directory, name, doc_count, term_arrays, posting_arrays, norm_arrays, store_arrays)


def _live_lines(readers: Sequence[SegmentReader], live: Sequence[npt.NDArray[np.bool_]]) -> Iterator[bytes]:
    """The stored JSON lines of the live documents, in order; the store pages read are
    dropped from the resident set as the copy goes, since each is read once."""
    for reader, mask in zip(readers, live):
        store = reader.component("store")
        for copied, line in enumerate(reader.stored_lines(mask), 1):
            yield line
            if copied % STORED_DOCS_PER_RELEASE == 0:
                store.release_pages()
        store.release_pages()


def _merge_ids(readers: Sequence[SegmentReader], live: Sequence[npt.NDArray[np.bool_]]) -> dict[str, np.ndarray]:
    """The ID column of the live documents (``id_bytes``, ``id_offsets``), gathered with
    numpy rather than as a Python bytes object per document."""
    pieces, sizes = [], []
    for reader, mask in zip(readers, live):
        store = reader.component("store")
        reader_sizes = np.diff(store["id_offsets"].astype(np.int64)).astype(np.int64, copy=False)
        pieces.append(store["id_bytes"][np.repeat(mask, reader_sizes)])
        sizes.append(reader_sizes[mask])
    offsets = np.zeros(sum(len(s) for s in sizes) + 1, dtype=codec.OFFSET_DTYPE)
    np.cumsum(np.concatenate(sizes), out=offsets[1:])
    return {"id_bytes": np.concatenate(pieces).astype(codec.BYTE_DTYPE), "id_offsets": offsets}


def _merge_field(
    field_name: str,
    readers: Sequence[SegmentReader],
    new_ids: Sequence[npt.NDArray[np.int32]],
    spill: Callable[[np.dtype[Any]], SpillFile],
) -> tuple[dict[str, np.ndarray], dict[str, SpillFile]] | None:
    """One field's merged dictionary and lexicon, and the spills (finished, not read)
    of its postings' ``docs``, ``freqs`` and ``positions``; None if no segment has it.

    The union of the terms is walked in chunks of about ``POSTINGS_PER_CHUNK`` postings;
    each chunk's doc ids, frequencies and positions are appended to spill files, so the
    memory a merge needs is one chunk's plus a few numpy arrays per term, whatever the
    segment sizes.
    """
    parts = []
    for reader, ids in zip(readers, new_ids):
        dictionary = reader.dictionary(field_name)
        if dictionary is not None:
            parts.append((reader, ids, dictionary))
    if not parts:
        return None
    union = _union_terms([dictionary for _, _, dictionary in parts])
    union_size = len(union.term_offsets) - 1
    sources = []
    total_postings = np.zeros(union_size, dtype=np.int64)
    for (reader, ids, _), global_terms in zip(parts, union.global_terms):
        terms_file, postings_file = reader.component("terms"), reader.component("post")
        names = codec.field_arrays(field_name)
        starts = terms_file[names.postings_start]  # mapped; read a chunk's slice at a time
        total_postings[global_terms] += np.diff(starts).astype(np.int64)  # a segment holds each term once
        sources.append(_FieldSource(
            ids, global_terms, starts, terms_file[names.positions_start],
            postings_file[names.docs], postings_file[names.freqs],
            postings_file[names.positions],
        ))
        terms_file.release_pages()

    doc_freq_chunks, freq_sum_chunks = [], []
    cumulative = np.cumsum(total_postings)
    if not union_size or not cumulative[-1]:
        return None
    docs_out, freqs_out = spill(codec.DOC_ID_DTYPE), spill(codec.FREQ_DTYPE)
    positions_out = spill(codec.POSITION_DTYPE)
    cuts = np.searchsorted(cumulative, np.arange(POSTINGS_PER_CHUNK, int(cumulative[-1]), POSTINGS_PER_CHUNK))
    edges = np.unique(np.concatenate(([0], cuts + 1, [union_size])).clip(0, union_size))
    for low, high in zip(edges[:-1].tolist(), edges[1:].tolist()):
        doc_freq, freq_sum = _merge_chunk(sources, low, high, docs_out, freqs_out, positions_out)
        doc_freq_chunks.append(doc_freq)
        freq_sum_chunks.append(freq_sum)
        for reader, _, _ in parts:
            reader.component("terms").release_pages()
            reader.component("post").release_pages()

    doc_freq_all = np.concatenate(doc_freq_chunks)
    present = doc_freq_all > 0  # a term whose documents were all deleted is dropped
    compact = np.cumsum(present) - 1
    term_bytes, term_offsets = _keep_terms(union.term_bytes, union.term_offsets, present)
    doc_freq = doc_freq_all[present]
    freq_sums = np.concatenate(freq_sum_chunks)[present]
    merged: dict[str, np.ndarray] = {
        "term_bytes": term_bytes,
        "term_offsets": term_offsets,
        "doc_freq": doc_freq.astype(codec.FREQ_DTYPE),
        "postings_start": np.concatenate(([0], np.cumsum(doc_freq))).astype(codec.OFFSET_DTYPE),
        "positions_start": np.concatenate(([0], np.cumsum(freq_sums))).astype(codec.OFFSET_DTYPE),
    }
    postings = {"docs": docs_out, "freqs": freqs_out, "positions": positions_out}
    for postings_spill in postings.values():
        postings_spill.finish()  # the next field's postings may follow in the same files
    terms_files = [reader.component("terms") for reader, _, _ in parts]
    merged.update(_merge_lexicons(field_name, list(zip(terms_files, union.global_terms)), present, compact))
    return merged, postings


@dataclass
class _TermUnion:
    """The byte-sorted union of several dictionaries, and where each one's terms went."""

    term_bytes: npt.NDArray[np.uint8]
    term_offsets: npt.NDArray[np.uint64]
    global_terms: list[npt.NDArray[np.int64]]  # per dictionary: each term's index in the union


def _union_terms(dictionaries: Sequence[TermDictionary]) -> _TermUnion:
    """The sorted union of sorted dictionaries, a key range at a time.

    Within a range the union is C-level set and sort work on Python bytes objects; only
    the union's bytes and an index per input term (numpy) outlive the range, so the
    memory is bounded by ``TERMS_PER_RANGE`` rather than by the dictionaries' sizes.
    """
    blobs: list[bytes] = []
    sizes: list[np.ndarray] = []
    global_terms: list[list[np.ndarray]] = [[] for _ in dictionaries]
    next_index = 0
    for slices in _aligned_ranges(dictionaries):
        terms = [dictionary.slice_bytes(start, end) for dictionary, (start, end) in zip(dictionaries, slices)]
        union = sorted(set().union(*terms))
        index_of = dict(zip(union, count(next_index)))
        for indexes, part in zip(global_terms, terms):
            indexes.append(np.fromiter(map(index_of.__getitem__, part), dtype=np.int64, count=len(part)))
        blobs.append(b"".join(union))
        sizes.append(np.fromiter(map(len, union), dtype=np.int64, count=len(union)))
        next_index += len(union)
        for dictionary in dictionaries:
            dictionary.release_pages()
    return _TermUnion(
        np.frombuffer(b"".join(blobs), dtype=codec.BYTE_DTYPE),
        _offsets(sizes),
        [np.concatenate(indexes) if indexes else np.zeros(0, np.int64) for indexes in global_terms],
    )


def _aligned_ranges(dictionaries: Sequence[TermDictionary]) -> Iterator[list[tuple[int, int]]]:
    """Consecutive key ranges covering sorted dictionaries: per range, each dictionary's
    slice ``(start, end)`` of terms in it, about ``TERMS_PER_RANGE`` terms in all.

    The bounds are every ``len(dictionaries)``-th of the dictionaries' pooled samples, so
    a range holds about as many terms whether the vocabularies overlap or not.
    """
    every = max(1, TERMS_PER_RANGE // max(1, len(dictionaries)))
    samples = sorted(d[i] for d in dictionaries for i in range(every, len(d), every))
    starts = [0] * len(dictionaries)
    for bound in samples[len(dictionaries) - 1 :: len(dictionaries)]:
        ends = [bisect_left(d, bound, start) for d, start in zip(dictionaries, starts)]
        yield list(zip(starts, ends))
        starts = ends
    yield [(start, len(d)) for d, start in zip(dictionaries, starts)]


def _offsets(sizes: Sequence[np.ndarray]) -> npt.NDArray[np.uint64]:
    """Start offsets of concatenated strings (and the end) from their sizes."""
    lengths = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=codec.OFFSET_DTYPE)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def _keep_terms(
    term_bytes: npt.NDArray[np.uint8], term_offsets: npt.NDArray[np.uint64], keep: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]:
    """Concatenated terms and offsets with only the terms ``keep`` marks."""
    if keep.all():
        return term_bytes, term_offsets
    sizes = np.diff(term_offsets.astype(np.int64)).astype(np.int64, copy=False)
    offsets = np.zeros(int(keep.sum()) + 1, dtype=codec.OFFSET_DTYPE)
    np.cumsum(sizes[keep], out=offsets[1:])
    return term_bytes[np.repeat(keep, sizes)], offsets


@dataclass
class _FieldSource:
    """One segment's side of a field merge: its arrays, and its terms' ids in the union."""

    new_ids: npt.NDArray[np.int32]
    global_terms: npt.NDArray[np.int64]  # ascending, like the segment's terms
    postings_start: npt.NDArray[np.uint64]
    positions_start: npt.NDArray[np.uint64]
    docs: np.ndarray
    freqs: np.ndarray
    positions: np.ndarray


def _merge_chunk(
    sources: Sequence[_FieldSource], low: int, high: int,
    docs_out: SpillFile, freqs_out: SpillFile, positions_out: SpillFile,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Merge the postings of union terms ``low`` .. ``high - 1``; append them to the spill
    files and return each term's document frequency and frequency sum."""
    terms, docs, freqs, positions = [], [], [], []
    for source in sources:
        first, last = np.searchsorted(source.global_terms, [low, high]).tolist()
        if first == last:
            continue
        begin, end = int(source.postings_start[first]), int(source.postings_start[last])
        counts = np.diff(source.postings_start[first : last + 1]).astype(np.int64)
        terms.append(np.repeat(source.global_terms[first:last] - low, counts))
        docs.append(source.new_ids[source.docs[begin:end]])
        freqs.append(source.freqs[begin:end])
        positions.append(source.positions[int(source.positions_start[first]) : int(source.positions_start[last])])
    if not terms:
        return np.zeros(high - low, dtype=np.int64), np.zeros(high - low, dtype=np.int64)
    all_terms = np.concatenate(terms)
    all_docs = np.concatenate(docs)
    all_freqs = np.concatenate(freqs).astype(np.int64)
    all_positions = np.concatenate(positions)  # in each segment's posting order
    position_starts = np.concatenate(([0], np.cumsum(all_freqs)[:-1]))

    # Postings of deleted documents go. Segments come in order and their doc ids ascend,
    # so a stable sort by term leaves each term's postings in doc id order.
    kept = np.flatnonzero(all_docs >= 0)
    order = kept[np.argsort(all_terms[kept], kind="stable")]
    # Positions follow their postings: gather each kept posting's slice, in the new order.
    new_freqs = all_freqs[order]
    new_starts = np.concatenate(([0], np.cumsum(new_freqs)[:-1])) if len(new_freqs) else new_freqs
    gather = np.repeat(position_starts[order] - new_starts, new_freqs)
    gather += np.arange(len(gather), dtype=np.int64)
    docs_out.append(all_docs[order])
    freqs_out.append(new_freqs)
    positions_out.append(all_positions[gather])
    sorted_terms = all_terms[order]
    doc_freq = np.bincount(sorted_terms, minlength=high - low)
    freq_sum = np.bincount(sorted_terms, weights=new_freqs, minlength=high - low).astype(np.int64)
    return doc_freq, freq_sum


def _merge_lexicons(
    field_name: str,
    parts: Sequence[tuple[codec.ArrayFile, npt.NDArray[np.int64]]],
    present: npt.NDArray[np.bool_],
    compact: npt.NDArray[np.int64],
) -> dict[str, np.ndarray]:
    """The union of the segments' lexicons, pointing into the merged dictionary.

    ``parts`` are each segment's terms file and its terms' indexes in the union. A key
    held by several segments takes the term of the first whose term survived the merge.
    Taken a key range at a time, like the term union.
    """
    names = codec.field_arrays(field_name)
    lexicons, targets, global_terms = [], [], []
    for terms_file, merged_terms in parts:
        key_bytes = terms_file.get(names.lexicon_bytes)
        if key_bytes is None:
            continue
        lexicons.append(TermDictionary(key_bytes, terms_file[names.lexicon_offsets], terms_file.path))
        targets.append(terms_file[names.lexicon_terms])
        global_terms.append(merged_terms)
    blobs: list[bytes] = []
    sizes: list[np.ndarray] = []
    terms: list[np.ndarray] = []
    for slices in _aligned_ranges(lexicons) if lexicons else ():
        term_of_key: dict[bytes, int] = {}
        # The first segment's survivor wins: its keys go in last.
        for lexicon, target, merged_terms, (start, end) in reversed(
            list(zip(lexicons, targets, global_terms, slices))
        ):
            merged = merged_terms[target[start:end].astype(np.int64)]
            keep = present[merged]
            surviving = compress(lexicon.slice_bytes(start, end), keep.tolist())
            term_of_key.update(zip(surviving, compact[merged[keep]].tolist()))
        for lexicon in lexicons:
            lexicon.release_pages()
        keys = sorted(term_of_key)
        blobs.append(b"".join(keys))
        sizes.append(np.fromiter(map(len, keys), dtype=np.int64, count=len(keys)))
        terms.append(np.fromiter(map(term_of_key.__getitem__, keys), dtype=np.int64, count=len(keys)))
    for terms_file, _ in parts:
        terms_file.release_pages()
    if not sum(len(t) for t in terms):
        return {}
    return {
        "lexicon_bytes": np.frombuffer(b"".join(blobs), dtype=codec.BYTE_DTYPE),
        "lexicon_offsets": _offsets(sizes),
        "lexicon_terms": np.concatenate(terms).astype(codec.LEXICON_TERM_DTYPE),
    }
