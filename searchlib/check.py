"""Integrity checks and a summary of an index: what ``searchlib check`` and ``info`` print.

:func:`check_index` reads every byte of the newest generation: the compiled core checks
each segment file's chunk checksums (which also cover what no search reads), then the
invariants its readers rely on (terms sorted and unique, postings decoding to ascending
doc ids in range, skip entries agreeing with their blocks, positions adding up to the
frequencies, lengths and columns sized to the segment, stored blocks inflating to the
right number of documents); each stored line must then parse as a JSON object, and each
deletes file passes its checksums. Every problem is reported with the file it is in;
nothing is repaired.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

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
    try:
        if reader.meta.deletes:
            codec.ArrayFile(reader.directory, reader.meta.deletes, codec.KIND_DELETES).verify()
    except CorruptIndexError as exc:
        problems.append(Problem(exc.path, exc.problem))
    try:
        reader.verify()  # every chunk's checksum, then every structure, in the core
    except CorruptIndexError as exc:
        problems.append(Problem(exc.path, exc.problem))
    if problems:  # structure read from damaged bytes would only repeat the same news
        return problems
    return _check_store(reader)


def _check_store(reader: SegmentReader) -> list[Problem]:
    """Each stored line is a JSON object (the core checked the blocks' layout and sizes)."""
    path = reader.files[-1]
    doc_id = -1
    try:
        for doc_id, line in enumerate(reader.stored_lines()):
            if not isinstance(json.loads(line), dict):
                return [Problem(path, f"stored document {doc_id} is not a JSON object")]
    except CorruptIndexError as exc:
        return [Problem(exc.path, exc.problem)]
    except (ValueError, RecursionError) as exc:
        return [Problem(path, f"stored document {doc_id}: {exc}")]
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

