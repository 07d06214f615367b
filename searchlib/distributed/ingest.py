"""Index files into a sharded index, as :func:`searchlib.ingest.ingest` does into one
index: each file's documents replace the ones it gave before (the deletion of its
``source`` reaches every shard), new JSON keys become fields of every shard, and a
document the schema refuses is noted and left out rather than failing the batch (it is
checked here, before the shards see it, so that the shards' commit does not fail on it).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from searchlib.distributed.index import ShardedIndex
from searchlib.distributed.manifest import ORDER_FIELD, is_sharded
from searchlib.errors import SearchlibError
from searchlib.ingest import IngestReport, files_to_index, noting, read_for_index
from searchlib.sources import Problem, field_for_value, file_schema

if TYPE_CHECKING:
    from searchlib.schema import Field, Schema


def ingest_sharded(
    index_path: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    *,
    shards: int | None,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    exclude: Collection[str] = (),
    skip_default: bool = True,
) -> IngestReport:
    """Index ``paths`` into the sharded index at ``index_path`` (created with
    ``shards`` shards if missing), building the shards on Dask (see
    :meth:`ShardedIndex.writer` for ``client``, ``scheduler`` and ``workers``)."""
    from searchlib.index import Index

    report = IngestReport()
    note = noting(report)
    files = files_to_index(paths, note, exclude=exclude, skip_default=skip_default)
    if is_sharded(index_path):
        index = ShardedIndex.open(index_path)
        if shards is not None and shards != index.shards:
            raise SearchlibError(f"{index_path} has {index.shards} shards, not {shards}; "
                                 "index into a new directory to change the count")
    elif Index.exists(index_path):
        raise SearchlibError(f"{index_path} is an index of one shard; index into a new directory to shard")
    elif not files:
        return report
    else:
        index = ShardedIndex.create(index_path, file_schema(), shards=shards or 1)
    with index.writer(client=client, scheduler=scheduler, workers=workers) as writer:
        checker = _Checker(writer.schema)
        for item in files:
            source = read_for_index(item, report, note)
            if source is None:
                continue
            writer.delete_by_term("source", source.path)
            for document in source.documents:
                added = {name: field_for_value(name, document[name]) for name in document if name not in writer.schema}
                try:
                    checker.check(document, added)
                except SearchlibError as exc:
                    note(Problem(document["path"], str(exc)))
                    continue
                for name, definition in added.items():
                    writer.add_field(name, definition)
                writer.add_document(document)
                report.documents += 1
    report.index_written = True
    return report


class _Checker:
    """Checks a document against the shards' schema (with the fields it would add)
    without buffering it: what an ordinary writer checks before it takes a document."""

    def __init__(self, schema: Schema) -> None:
        from searchlib.schema import NUMERIC

        self.schema = schema.copy()
        self.schema.add_field(ORDER_FIELD, NUMERIC("int", stored=False))
        self._writer: Any = None

    def check(self, document: dict[str, Any], added: dict[str, Field]) -> None:
        from searchlib.schema import FieldAnalyzers
        from searchlib.segment import SegmentWriter

        schema = self.schema
        if added:
            schema = schema.copy()
            for name, definition in added.items():
                schema.add_field(name, definition)
        writer = self._writer if self._writer is not None and not added else SegmentWriter(
            schema, FieldAnalyzers(schema), None)
        writer.check(document)
        self.schema, self._writer = schema, writer  # the fields it brought are the schema's now
