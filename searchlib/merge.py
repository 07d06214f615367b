"""Merging segments: many small segments (and their deleted documents) become one.

Every commit adds a segment, so without merging a busy index would accumulate
thousands and every query would visit each. :func:`choose_merges` is a logarithmic
policy: segments are grouped into size levels (each ``merge_factor`` times the one below),
and whenever a level holds ``merge_factor`` segments they are merged into one of the next
level, so an index of N documents keeps about ``merge_factor * log(N)`` segments. A
segment whose documents are mostly deleted is rewritten on its own to reclaim them.

:func:`merge_segments` is bulk numpy work, like the first inversion: per field, each
segment's term ids are mapped onto the union of the terms, postings are concatenated
with renumbered doc ids (deleted documents dropped), and one stable sort by term puts
them in order; positions follow their postings. Only the per-term and per-document
bookkeeping (the term union, stored documents) is a Python loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib import codec
from searchlib.columns import column_dtype
from searchlib.schema import Schema
from searchlib.segment import SegmentMeta, SegmentReader, _pack_ids, _pack_store, write_segment
from searchlib.storage import Directory, SpillFile

#: Segments per size level before they are merged into one.
DEFAULT_MERGE_FACTOR = 10
#: A segment with more than this share of deleted documents is rewritten alone.
RECLAIM_DELETED_SHARE = 0.5
#: Postings merged at once: bounds a merge's working memory whatever the segment sizes.
POSTINGS_PER_CHUNK = 1 << 20
#: Segments this small (in live documents) all count as the lowest level.
MIN_MERGE_DOCS = 1000
#: How far below a run's largest level a segment may be and still join its run.
LEVEL_SPAN = 0.75


def segment_level(meta: SegmentMeta, merge_factor: int) -> float:
    """A segment's size level: ``log(live documents, merge_factor)``."""
    return math.log(max(meta.live_count, 1), merge_factor)


def choose_merges(segments: Sequence[SegmentMeta], merge_factor: int = DEFAULT_MERGE_FACTOR) -> list[list[str]]:
    """Names of the segments to merge, one list per new segment (possibly none).

    Lucene's LogMergePolicy, by document counts: from the oldest segment on, take the
    largest remaining level, the run of neighbours down to the last segment within
    ``LEVEL_SPAN`` of it (smaller ones in between included), and merge that run in
    chunks of ``merge_factor``. Segments under ``MIN_MERGE_DOCS`` all count as one
    level. Only neighbours are merged, so documents keep the order they were added in,
    and with it the order of tied hits.
    """
    if merge_factor < 2:
        raise ValueError(f"merge_factor must be at least 2, got {merge_factor}")
    merges: list[list[str]] = []
    stretch: list[SegmentMeta] = []  # neighbours between segments rewritten alone
    for meta in segments:
        if meta.doc_count and meta.deleted_count / meta.doc_count > RECLAIM_DELETED_SHARE:
            merges += _merges_by_level(stretch, merge_factor)
            merges.append([meta.name])  # rewritten alone, in its place
            stretch = []
        else:
            stretch.append(meta)
    return merges + _merges_by_level(stretch, merge_factor)


def _merges_by_level(segments: Sequence[SegmentMeta], merge_factor: int) -> list[list[str]]:
    """The runs of neighbouring ``segments`` to merge, level by level (see choose_merges)."""
    merges: list[list[str]] = []
    levels = [segment_level(meta, merge_factor) for meta in segments]
    smallest_level = math.log(MIN_MERGE_DOCS, merge_factor)
    start = 0
    while start < len(segments):
        top = max(levels[start:])
        floor = -1.0 if top <= smallest_level else top - LEVEL_SPAN
        upto = max(i for i in range(start, len(segments)) if levels[i] >= floor)
        while start + merge_factor <= upto + 1:
            merges.append([meta.name for meta in segments[start : start + merge_factor]])
            start += merge_factor
        start = upto + 1
    return merges


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

    spills: list[SpillFile] = []

    def spill(dtype: np.dtype[Any]) -> SpillFile:
        spills.append(directory.spill(f"{name}.spill{len(spills)}", dtype))
        return spills[-1]

    try:
        return _merge_into(directory, name, schema, readers, live, new_ids, doc_count, spill)
    finally:
        for spilled in spills:
            spilled.remove()


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
    posting_arrays: dict[str, np.ndarray] = {}
    norm_arrays: dict[str, np.ndarray] = {}
    for field_name, definition in schema.fields.items():
        if not definition.is_indexed:
            continue
        merged = _merge_field(field_name, readers, new_ids, spill)
        if merged is None:
            continue
        for key in ("term_bytes", "term_offsets", "doc_freq", "postings_start", "positions_start",
                    "lexicon_bytes", "lexicon_offsets", "lexicon_terms"):
            if key in merged:
                term_arrays[f"{field_name}.{key}"] = merged[key]
        for key in ("docs", "freqs", "positions"):
            posting_arrays[f"{field_name}.{key}"] = merged[key]
        if definition.is_text:
            norm_arrays[field_name] = np.concatenate(
                [reader.field_lengths(field_name)[mask] for reader, mask in zip(readers, live)]
            ).astype(codec.LENGTH_DTYPE)

    ids: list[bytes] = []
    for reader, mask in zip(readers, live):
        reader_ids = reader.id_bytes()
        ids.extend(reader_ids[i] for i in np.flatnonzero(mask).tolist())
    lines = (line for reader, mask in zip(readers, live) for line in reader.stored_lines(mask))
    store_arrays = {**_pack_store(lines, spill(codec.BYTE_DTYPE)), **_pack_ids(ids)}
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
        store_arrays[f"column.{field_name}"] = np.concatenate(values).astype(dtype)
        store_arrays[f"column.{field_name}.present"] = np.concatenate(present)
    return write_segment(directory, name, doc_count, term_arrays, posting_arrays, norm_arrays, store_arrays)


def _merge_field(
    field_name: str,
    readers: Sequence[SegmentReader],
    new_ids: Sequence[npt.NDArray[np.int32]],
    spill: Callable[[np.dtype[Any]], SpillFile],
) -> dict[str, np.ndarray] | None:
    """One field's merged dictionary, postings and lexicon, or None if no segment has it.

    The union of the terms is walked in chunks of about ``POSTINGS_PER_CHUNK`` postings;
    each chunk's doc ids, frequencies and positions are appended to spill files, so the
    memory a merge needs is one chunk's plus the dictionaries, whatever the segment sizes.
    """
    parts = []
    for reader, ids in zip(readers, new_ids):
        dictionary = reader.dictionary(field_name)
        if dictionary is not None:
            parts.append((reader, ids, [dictionary[i] for i in range(len(dictionary))]))
    if not parts:
        return None
    union = sorted(set().union(*(terms for _, _, terms in parts)))
    union_index = {term: i for i, term in enumerate(union)}
    sources = []
    total_postings = np.zeros(len(union), dtype=np.int64)
    for reader, ids, terms in parts:
        terms_file, postings_file = reader.component("terms"), reader.component("post")
        global_terms = np.fromiter((union_index[t] for t in terms), dtype=np.int64, count=len(terms))
        starts = terms_file[f"{field_name}.postings_start"].astype(np.int64)
        total_postings[global_terms] += np.diff(starts)  # a segment holds each term once
        sources.append(_FieldSource(
            ids, global_terms, starts, terms_file[f"{field_name}.positions_start"].astype(np.int64),
            postings_file[f"{field_name}.docs"], postings_file[f"{field_name}.freqs"],
            postings_file[f"{field_name}.positions"],
        ))

    docs_out, freqs_out = spill(codec.DOC_ID_DTYPE), spill(codec.FREQ_DTYPE)
    positions_out = spill(codec.POSITION_DTYPE)
    doc_freq_chunks, freq_sum_chunks = [], []
    cumulative = np.cumsum(total_postings)
    if not len(union) or not cumulative[-1]:
        return None
    cuts = np.searchsorted(cumulative, np.arange(POSTINGS_PER_CHUNK, int(cumulative[-1]), POSTINGS_PER_CHUNK))
    edges = np.unique(np.concatenate(([0], cuts + 1, [len(union)])).clip(0, len(union)))
    for low, high in zip(edges[:-1].tolist(), edges[1:].tolist()):
        doc_freq, freq_sum = _merge_chunk(sources, low, high, docs_out, freqs_out, positions_out)
        doc_freq_chunks.append(doc_freq)
        freq_sum_chunks.append(freq_sum)

    doc_freq_all = np.concatenate(doc_freq_chunks)
    present = doc_freq_all > 0  # a term whose documents were all deleted is dropped
    compact = np.cumsum(present) - 1
    term_bytes, term_offsets = codec.encode_terms([t for t, keep in zip(union, present.tolist()) if keep])
    doc_freq = doc_freq_all[present]
    freq_sums = np.concatenate(freq_sum_chunks)[present]
    merged: dict[str, np.ndarray] = {
        "term_bytes": term_bytes,
        "term_offsets": term_offsets,
        "doc_freq": doc_freq.astype(codec.FREQ_DTYPE),
        "postings_start": np.concatenate(([0], np.cumsum(doc_freq))).astype(codec.OFFSET_DTYPE),
        "positions_start": np.concatenate(([0], np.cumsum(freq_sums))).astype(codec.OFFSET_DTYPE),
        "docs": docs_out.read(),
        "freqs": freqs_out.read(),
        "positions": positions_out.read(),
    }
    merged.update(_merge_lexicons(field_name, parts, union_index, present, compact))
    return merged


@dataclass
class _FieldSource:
    """One segment's side of a field merge: its arrays, and its terms' ids in the union."""

    new_ids: npt.NDArray[np.int32]
    global_terms: npt.NDArray[np.int64]  # ascending, like the segment's terms
    postings_start: npt.NDArray[np.int64]
    positions_start: npt.NDArray[np.int64]
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
        terms.append(np.repeat(source.global_terms[first:last] - low, np.diff(source.postings_start[first : last + 1])))
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
    parts: list[tuple[SegmentReader, npt.NDArray[np.int32], list[bytes]]],
    union_index: dict[bytes, int],
    present: npt.NDArray[np.bool_],
    compact: npt.NDArray[np.int64],
) -> dict[str, np.ndarray]:
    """The union of the segments' lexicons, pointing into the merged dictionary."""
    term_of_key: dict[bytes, int] = {}
    for reader, _, terms in parts:
        terms_file = reader.component("terms")
        if terms_file.get(f"{field_name}.lexicon_bytes") is None:
            continue
        key_bytes = terms_file[f"{field_name}.lexicon_bytes"].tobytes()
        key_offsets = terms_file[f"{field_name}.lexicon_offsets"].tolist()
        targets = terms_file[f"{field_name}.lexicon_terms"].tolist()
        for i, target in enumerate(targets):
            global_term = union_index[terms[target]]
            if present[global_term]:
                term_of_key.setdefault(key_bytes[key_offsets[i] : key_offsets[i + 1]], int(compact[global_term]))
    if not term_of_key:
        return {}
    keys = sorted(term_of_key)
    key_bytes_array, key_offsets_array = codec.encode_terms(keys)
    return {
        "lexicon_bytes": key_bytes_array,
        "lexicon_offsets": key_offsets_array,
        "lexicon_terms": np.fromiter((term_of_key[k] for k in keys), dtype=codec.LEXICON_TERM_DTYPE, count=len(keys)),
    }
