"""Ingest: index files and directories into an index of files, as ``searchlib index`` does.

Each file's documents replace the ones the same file gave before (they share its
``source``), so indexing a path twice updates it instead of duplicating it. New JSON
keys become new fields; a document that is refused adds none. Problems are collected,
never raised, so one bad file does not stop the rest of the batch; each is also logged
to the ``searchlib.ingest`` logger (an error, or a warning for a file indexed anyway).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from searchlib.errors import SearchlibError
from searchlib.index import Index
from searchlib.sources import Problem, SourceFile, field_for_value, file_schema, find_files, read_source

if TYPE_CHECKING:
    from searchlib.writer import IndexWriter

logger = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one ingest run did."""

    files: int = 0
    documents: int = 0
    replaced: int = 0
    #: False when nothing was found to index and no index existed: none was created.
    index_written: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def noting(report: IngestReport, on_problem: Callable[[Problem], None] | None = None) -> Callable[[Problem], None]:
    """What records a problem met while indexing files: kept in ``report``, logged (an
    error as an error, else as a warning), then handed to ``on_problem``."""

    def note(problem: Problem) -> None:
        report.problems.append(problem)
        logger.log(logging.ERROR if problem.is_error else logging.WARNING, "%s", problem)
        if on_problem is not None:
            on_problem(problem)

    return note


def files_to_index(
    paths: Iterable[str | os.PathLike[str]], note: Callable[[Problem], None], *, exclude: Collection[str] = (),
    skip_default: bool = True,
) -> list[Path]:
    """The files ``paths`` name or hold (see :func:`searchlib.sources.find_files`), each
    problem met on the way (a missing path, a dangling link) given to ``note``."""
    files: list[Path] = []
    for item in find_files(paths, exclude=exclude, skip_default=skip_default):
        if isinstance(item, Problem):
            note(item)
        else:
            files.append(item)
    return files


def ingest(
    index_path: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    *,
    on_problem: Callable[[Problem], None] | None = None,
    exclude: Collection[str] = (),
    skip_default: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Index ``paths`` into the index at ``index_path``, creating it if needed.

    The files are found first (see :func:`searchlib.sources.find_files` for
    ``exclude`` and ``skip_default``), so that ``progress(done, total)`` can be told
    after each file how far the run is, and so that no index is created when there is
    nothing to put in it (a mistyped path leaves no empty index behind)."""
    report = IngestReport()
    note = noting(report, on_problem)
    files = files_to_index(paths, note, exclude=exclude, skip_default=skip_default)
    if not files and not Index.exists(index_path):
        return report
    index = Index.open(index_path) if Index.exists(index_path) else Index.create(index_path, file_schema())
    with index.writer(lock_timeout=10.0) as writer:
        for done, item in enumerate(files, start=1):
            _ingest_file(writer, item, report, note)
            if progress is not None:
                progress(done, len(files))
    report.index_written = True
    return report


def read_for_index(path: Path, report: IngestReport, note: Callable[[Problem], None]) -> SourceFile | None:
    """A file's documents as an index takes them, its problems given to ``note``; None
    (and the file not counted) when an error left nothing to index."""
    source = read_source(path)
    for problem in source.problems:
        note(problem)
    if not source.documents and any(p.is_error for p in source.problems):
        return None
    report.files += 1
    return source


def _ingest_file(writer: IndexWriter, path: Path, report: IngestReport, note: Callable[[Problem], None]) -> None:
    """Replace the documents of one file by what it holds now."""
    source = read_for_index(path, report, note)
    if source is None:
        return
    report.replaced += writer.delete_by_term("source", source.path)
    for document in source.documents:
        added = [name for name in document if name not in writer.schema]
        for name in added:
            writer.add_field(name, field_for_value(name, document[name]))
        try:
            writer.add_document(document)
            report.documents += 1
        except SearchlibError as exc:
            # The writer checks a whole document before it buffers any of it, so the
            # fields this one brought are used by no document: they go with it.
            for name in added:
                del writer.schema.fields[name]
            note(Problem(document["path"], str(exc)))
