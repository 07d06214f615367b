"""Integrity checks and a summary of an index: what ``searchlib check`` and ``info`` print.

:func:`check_index` reads every byte of the newest generation: each array's checksum
and each array file's data checksum (which also covers what no search reads, such as the
padding between arrays), then the invariants the reader relies on (terms sorted and unique, postings
sorted with doc ids in range, frequencies and positions adding up, document frequencies
matching postings, stored blocks decompressing to the right number of documents). Every
problem is reported with the file it is in; nothing is repaired.

The checks are vectorized over whole arrays, so a large segment costs a few numpy passes
per field rather than a Python loop per posting.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from searchlib import codec
from searchlib.errors import CorruptIndexError, SearchlibError
from searchlib.index import Index
from searchlib.segment import SegmentReader


@dataclass
class Problem:
    """One broken invariant, in one file."""

    path: str
    problem: str


@dataclass
class CheckReport:
    """What :func:`check_index` found."""

    index: str
    generation: int | None = None
    segments: int = 0
    documents: int = 0
    files_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def check_index(path: str | os.PathLike[str]) -> CheckReport:
    """Verify checksums and structure of the newest generation of the index at ``path``.

    A missing or foreign directory raises :class:`~searchlib.errors.IndexNotFoundError`;
    damage is reported in the returned :class:`CheckReport`, never raised.
    """
    report = CheckReport(index=str(path))
    try:
        index, readers = Index.open_snapshot(path)
    except CorruptIndexError as exc:
        report.problems.append(Problem(exc.path, exc.problem))
        return report
    report.generation = index.generation
    report.segments = len(readers)
    report.documents = index.doc_count
    for reader in readers:
        report.files_checked += len(reader.files) + (1 if reader.meta.deletes else 0)
        report.problems.extend(_check_segment(index, reader))
    report.problems.extend(_check_older_manifests(index))
    return report


def _check_older_manifests(index: Index) -> list[Problem]:
    """The previous generation's manifest, kept for readers that opened it, must be sound too."""
    problems: list[Problem] = []
    for file_name in sorted(os.listdir(index.path)):
        generation = codec.manifest_generation(file_name)
        if generation is None or generation == index.generation:
            continue
        path = str(index.path / file_name)
        try:
            codec.read_manifest(index.directory, file_name)
        except CorruptIndexError as exc:
            problems.append(Problem(exc.path, f"{exc.problem} (an older generation's manifest)"))
        except (OSError, SearchlibError) as exc:
            problems.append(Problem(path, f"{exc} (an older generation's manifest)"))
    return problems


def _check_segment(index: Index, reader: SegmentReader) -> list[Problem]:
    problems: list[Problem] = []
    files = list(reader.files)
    try:
        if reader.meta.deletes:
            files.append(codec.ArrayFile(reader.directory, reader.meta.deletes, codec.KIND_DELETES))
    except CorruptIndexError as exc:
        problems.append(Problem(exc.path, exc.problem))
    for array_file in files:
        try:
            array_file.verify()
        except CorruptIndexError as exc:
            problems.append(Problem(exc.path, exc.problem))
    if problems:  # structure read from damaged bytes would only repeat the same news
        return problems
    for name, definition in index.schema.fields.items():
        if definition.is_indexed:
            problems.extend(_check_field(reader, name, definition.is_text))
    problems.extend(_check_store(reader))
    for name, definition in index.schema.fields.items():
        if definition.is_column:
            try:
                reader.column(name)
            except CorruptIndexError as exc:
                problems.append(Problem(exc.path, exc.problem))
    return problems


def _check_field(reader: SegmentReader, name: str, is_text: bool) -> list[Problem]:
    terms_file, postings_file = reader.component("terms"), reader.component("post")
    names = codec.field_arrays(name)
    if terms_file.get(names.term_bytes) is None:
        return []
    problems: list[Problem] = []

    def fail(path: str, message: str) -> list[Problem]:
        problems.append(Problem(path, f"field {name!r}: {message}"))
        return problems

    try:
        dictionary = reader.dictionary(name)
        assert dictionary is not None
        terms = [dictionary[i] for i in range(len(dictionary))]
        starts = terms_file[names.postings_start].astype(np.int64)
        position_starts = terms_file[names.positions_start].astype(np.int64)
        doc_freq = terms_file[names.doc_freq].astype(np.int64)
        docs = postings_file[names.docs].astype(np.int64)
        freqs = postings_file[names.freqs].astype(np.int64)
        positions = postings_file[names.positions].astype(np.int64)
    except CorruptIndexError as exc:
        return fail(exc.path, exc.problem)
    if any(a >= b for a, b in zip(terms, terms[1:])):
        return fail(terms_file.path, "terms are not sorted and unique")
    count = len(terms)
    if len(starts) != count + 1 or len(position_starts) != count + 1 or len(doc_freq) != count:
        return fail(terms_file.path, "term arrays disagree on the number of terms")
    if starts[0] != 0 or np.any(np.diff(starts) < 1) or starts[-1] != len(docs) or len(freqs) != len(docs):
        return fail(terms_file.path, "postings slices are not consecutive and non-empty")
    if not np.array_equal(np.diff(starts), doc_freq):
        return fail(terms_file.path, "document frequencies do not match the postings")
    if len(docs) and (docs.min() < 0 or docs.max() >= reader.doc_count):
        return fail(postings_file.path, f"doc ids outside 0..{reader.doc_count - 1}")
    first_of_term = np.zeros(len(docs), dtype=bool)
    first_of_term[starts[:-1]] = True
    if len(docs) > 1 and np.any((np.diff(docs) <= 0) & ~first_of_term[1:]):
        return fail(postings_file.path, "doc ids are not ascending within a term")
    if np.any(freqs < 1):
        return fail(postings_file.path, "a posting has frequency 0")
    per_term = np.add.reduceat(freqs, starts[:-1]) if count else np.zeros(0, np.int64)
    if position_starts[0] != 0 or not np.array_equal(np.diff(position_starts), per_term) or position_starts[-1] != len(positions):
        return fail(terms_file.path, "positions do not add up to the frequencies")
    posting_starts = np.concatenate(([0], np.cumsum(freqs)[:-1])) if len(freqs) else np.zeros(0, np.int64)
    first_of_posting = np.zeros(len(positions), dtype=bool)
    first_of_posting[posting_starts] = True
    if len(positions) > 1 and np.any((np.diff(positions) <= 0) & ~first_of_posting[1:]):
        return fail(postings_file.path, "positions are not ascending within a posting")
    if is_text:
        lengths = reader.field_lengths(name).astype(np.int64)
        tokens_per_doc = np.bincount(docs, weights=freqs, minlength=reader.doc_count)
        if np.any(lengths > tokens_per_doc):
            return fail(reader.component("norms").path, "a field length exceeds the document's tokens")
    problems.extend(_check_lexicon(reader, name, count))
    return problems


def _check_lexicon(reader: SegmentReader, name: str, term_count: int) -> list[Problem]:
    terms_file = reader.component("terms")
    try:
        lexicon = reader._open_lexicon(name)
    except CorruptIndexError as exc:
        return [Problem(exc.path, exc.problem)]
    if lexicon is None:
        return []
    keys = [lexicon[i] for i in range(len(lexicon))]
    targets = terms_file[codec.field_arrays(name).lexicon_terms]
    if any(a >= b for a, b in zip(keys, keys[1:])):
        return [Problem(terms_file.path, f"field {name!r}: lexicon keys are not sorted and unique")]
    if len(targets) and int(targets.max()) >= term_count:
        return [Problem(terms_file.path, f"field {name!r}: lexicon points past the terms")]
    return []


def _check_store(reader: SegmentReader) -> list[Problem]:
    store = reader.component("store")
    offsets = store["block_offsets"].astype(np.int64)
    first_docs = store["block_first_doc"].astype(np.int64)
    blocks = store["blocks"]
    if len(offsets) != len(first_docs) or offsets[0] != 0 or np.any(np.diff(offsets) < 0) or offsets[-1] != len(blocks):
        return [Problem(store.path, "stored blocks are not laid out end to end")]
    try:
        for doc_id, line in enumerate(reader.stored_lines()):  # decompresses and counts each block
            json.loads(line)
    except CorruptIndexError as exc:
        return [Problem(exc.path, exc.problem)]
    except (ValueError, RecursionError) as exc:
        return [Problem(store.path, f"stored document {doc_id}: {exc}")]
    id_offsets = store["id_offsets"].astype(np.int64)
    if id_offsets[0] != 0 or np.any(np.diff(id_offsets) < 0) or id_offsets[-1] != len(store["id_bytes"]):
        return [Problem(store.path, "the id column is not laid out end to end")]
    return []


def index_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Documents, deletions, segments, fields, terms, size on disk and format version."""
    index, readers = Index.open_snapshot(path)
    fields: dict[str, Any] = {}
    for name, definition in index.schema.fields.items():
        entry: dict[str, Any] = {"kind": definition.kind, "stored": definition.stored}
        if definition.is_text:
            entry["analyzer"] = definition.analyzer_spec
            if definition.query_analyzer is not None:
                entry["query_analyzer"] = definition.query_analyzer_spec
            entry["boost"] = definition.boost
        if definition.is_indexed:
            dictionaries = [reader.dictionary(name) for reader in readers]
            entry["terms"] = sum(len(d) for d in dictionaries if d is not None)
        fields[name] = entry
    size = 0
    for file_name in os.listdir(index.path):
        try:
            size += os.path.getsize(index.path / file_name)
        except OSError:  # removed by a concurrent commit
            pass
    return {
        "index": str(index.path),
        "format_version": codec.FORMAT_VERSION,
        "generation": index.generation,
        "documents": index.doc_count,
        "deleted_documents": index.deleted_count,
        "segments": [
            {"name": r.meta.name, "documents": r.meta.doc_count, "deleted": r.meta.deleted_count,
             "bytes": sum(r.meta.files.values())}
            for r in readers
        ],
        "fields": fields,
        "size_bytes": size,
    }

