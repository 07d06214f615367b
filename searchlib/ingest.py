"""Ingest: index files and directories into an index of files, as ``searchlib index`` does.

Each file's documents replace the ones the same file gave before (they share its
``source``), so indexing a path twice updates it instead of duplicating it. New JSON
keys become new fields. Problems are collected, never raised, so one bad file does not
stop the rest of the batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from searchlib.errors import SearchlibError
from searchlib.index import Index
from searchlib.sources import Problem, field_for_value, file_schema, find_files, read_source


@dataclass
class IngestReport:
    """What one ingest run did."""

    files: int = 0
    documents: int = 0
    replaced: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def ingest(
    index_path: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    *,
    on_problem: Callable[[Problem], None] | None = None,
) -> IngestReport:
    """Index ``paths`` into the index at ``index_path``, creating it if needed."""
    report = IngestReport()

    def note(problem: Problem) -> None:
        report.problems.append(problem)
        if on_problem is not None:
            on_problem(problem)

    index = Index.open(index_path) if Index.exists(index_path) else Index.create(index_path, file_schema())
    with index.writer(lock_timeout=10.0) as writer:
        for item in find_files(paths):
            if isinstance(item, Problem):
                note(item)
                continue
            source = read_source(Path(item))
            for problem in source.problems:
                note(problem)
            if not source.documents and any(p.is_error for p in source.problems):
                continue
            report.files += 1
            report.replaced += writer.delete_by_term("source", source.path)
            for document in source.documents:
                for name, value in document.items():
                    if name not in writer.schema:
                        writer.add_field(name, field_for_value(name, value))
                try:
                    writer.add_document(document)
                    report.documents += 1
                except SearchlibError as exc:
                    note(Problem(document["path"], str(exc)))
    return report
