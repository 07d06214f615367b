"""Building a sharded index: :class:`ShardedWriter` routes each change to its shard and
has the shards apply their changes in parallel, each through an ordinary
:class:`~searchlib.writer.IndexWriter` on a worker.

A commit runs in two steps across the shards, so that one bad document changes no shard:

1. *Prepare*: on its worker, each shard with changes opens its writer (taking its lock),
   applies its changes in the order they were made and writes its new segments, but
   publishes nothing; the writer stays open in that worker process.
2. If every shard prepared, each commits (on the same worker, where its writer is):
   the ordinary atomic commit of an index. If any shard failed to prepare, every
   prepared shard aborts instead: no shard changes, and the error
   (:class:`~searchlib.distributed.errors.ShardBuildError`) names the shard and the
   document (its position among the documents given and its ID) that failed.

A shard that fails in step 2 itself (its disk full, its worker lost between the steps)
keeps its previous generation whole, while the shards that had committed keep their
part: the error lists them, and adding the same batch again with updates (the default
for documents with an ID already in the index) repairs it. No shard is ever
half-committed: each shard's commit is the ordinary atomic one.

A prepared shard's writer holds that shard's lock in its worker until step 2; should
this process die between the steps, the lock goes with the worker process (a
``LocalCluster``'s die with this process), and the unpublished segments are removed by
the shard's next writer, as any dead writer's are.

Changes wait, routed, in spool files under the sharded index's directory until the
commit, so a batch of any size streams through the writer and the workers read their
shard's changes from the (shared) file system rather than through the scheduler.
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from searchlib.distributed.errors import DocumentFailure, ShardBuildError
from searchlib.distributed.execution import Call, Outcome
from searchlib.distributed.manifest import ORDER_FIELD, route, write_manifest
from searchlib.errors import SchemaError, SearchlibError

if TYPE_CHECKING:
    from searchlib.distributed.index import Runner, ShardedIndex
    from searchlib.query import Query
    from searchlib.schema import Field
    from searchlib.writer import IndexWriter

#: The prefix of a writer's spool directory inside the sharded index.
STAGING_PREFIX = "staging-"

#: Writers a worker process holds between the two steps of a commit, by (batch, shard).
_PREPARED: dict[tuple[str, int], IndexWriter] = {}


class ShardedWriter:
    """Adds, updates and deletes documents of a :class:`ShardedIndex`; :meth:`commit`
    applies them on every shard in parallel (see the module's docstring for what a
    failure leaves). Use it as a context manager: it commits when the block ends
    normally and discards the changes when it raises.

    Every document needs a string value for the schema's ID field (its routing key).
    ``add_document`` of an ID the index already holds adds a second copy, as an
    ordinary writer does; ``update_document`` replaces it.
    """

    def __init__(self, index: ShardedIndex, runner: Runner, *, owns_runner: bool, ram_buffer_mb: float,
                 timeout: float) -> None:
        from uuid import uuid4

        self.index = index
        self.schema = index.schema.copy()
        self._runner = runner
        self._owns_runner = owns_runner
        self._ram_buffer_mb = ram_buffer_mb
        self._lock_timeout = timeout
        self._lock: Any = index.directory.lock(timeout)  # one sharded writer at a time
        for leftover in staging_directories(index.path):  # a dead writer's spools, under the lock
            shutil.rmtree(leftover, ignore_errors=True)
        self._token = uuid4().hex
        self._staging = Path(index.path) / f"{STAGING_PREFIX}{self._token}"
        self._spools: dict[int, IO[bytes]] = {}
        self._added_fields: dict[str, Field] = {}
        self._next_order = index.manifest.next_order
        self._position = 0  # documents given to this writer, for error reports
        self._closed = False

    # --- changes -------------------------------------------------------------------

    def add_field(self, name: str, field: Field) -> None:
        """Add a field to the schema of every shard; saved with the next commit."""
        self._check_open()
        if name == ORDER_FIELD:
            raise SchemaError(f"{ORDER_FIELD!r} is the field a sharded index keeps its documents' order in")
        self.schema.add_field(name, field)
        self._added_fields[name] = field

    def add_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Add a document (a mapping or keyword arguments) to the shard its ID routes to."""
        self._document("add", {**(document or {}), **fields})

    def update_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Replace the document with the same ID (or add it), on the shard that holds it."""
        self._document("update", {**(document or {}), **fields})

    def add_documents(self, documents: Any, *, update: bool = False) -> int:
        """Add many documents in order; return how many. ``documents`` is an iterable of
        mappings, a Dask bag of them, or a Dask dataframe (each row a document, its
        missing values left out as fields); with ``update`` each replaces the document
        with its ID."""
        count = 0
        for document in _documents_of(documents):
            self._document("update" if update else "add", document)
            count += 1
        return count

    def delete_by_term(self, field_name: str, value: str) -> None:
        """Delete the documents whose ID or KEYWORD field equals ``value`` at the next
        commit: on the one shard an ID routes to, on every shard for a KEYWORD."""
        self._check_open()
        kind = self.schema[field_name].kind
        if kind not in ("id", "keyword") or not isinstance(value, str):
            raise SchemaError(f"delete_by_term takes an ID or KEYWORD field and a string; {field_name!r} is {kind}")
        shards = [route(value, self.index.shards)] if field_name == self.index.manifest.id_field else range(self.index.shards)
        for shard in shards:
            self._spool(shard, ("term", field_name, value))

    def delete_by_query(self, query: Query | str) -> None:
        """Delete every document matching ``query`` (a tree, or text over the default
        fields) at the next commit, on every shard."""
        self._check_open()
        for shard in range(self.index.shards):
            self._spool(shard, ("query", query))

    def _document(self, kind: str, given: Mapping[str, Any]) -> None:
        self._check_open()
        document = dict(given)  # the caller's mapping is left as it was
        position = self._position
        self._position += 1
        id_field = self.index.manifest.id_field
        key = document.get(id_field)
        if not isinstance(key, str):
            raise SchemaError(f"document {position}: a sharded index routes by the ID field {id_field!r}, "
                              f"which needs a string value (got {type(key).__name__})")
        if ORDER_FIELD in document:
            raise SchemaError(f"document {position}: {ORDER_FIELD!r} is kept by the sharded index itself")
        document[ORDER_FIELD] = self._next_order
        self._next_order += 1
        self._spool(route(key, self.index.shards), (kind, position, document))

    def _spool(self, shard: int, change: tuple[Any, ...]) -> None:
        spool = self._spools.get(shard)
        if spool is None:
            if not self._staging.exists():
                # Made here, private to this user and new (a directory already there is
                # refused): the spools are pickles, read back by the shards' workers, so
                # no one else may put a file where they look.
                self._staging.mkdir(mode=0o700)
            spool = self._spools[shard] = open(self._spool_path(shard), "wb")  # noqa: SIM115  # closed on commit
        pickle.dump(change, spool, protocol=pickle.HIGHEST_PROTOCOL)

    def _spool_path(self, shard: int) -> Path:
        return self._staging / f"shard-{shard:03d}.changes"

    # --- commit ---------------------------------------------------------------------

    def commit(self) -> None:
        """Apply the changes on every shard they concern, in parallel; raise
        :class:`ShardBuildError` naming the shard and document on failure (then no
        shard changed, unless the error lists shards that committed)."""
        self._check_open()
        for spool in self._spools.values():
            spool.close()
        shards = range(self.index.shards) if self._added_fields else sorted(self._spools)
        fields = {name: field.to_json() for name, field in self._added_fields.items()}
        paths = self.index.manifest.shard_paths(self.index.path)
        try:
            prepared = self._runner.run([
                Call(shard, prepare_shard, (str(paths[shard]), self._token, shard,
                                            str(self._spool_path(shard)) if shard in self._spools else None,
                                            fields, self._ram_buffer_mb, self._lock_timeout))
                for shard in shards
            ])
            failures = [_failure(outcome) for outcome in prepared if not outcome.ok or outcome.value is not None]
            ready = [outcome for outcome in prepared if outcome.ok and outcome.value is None]
            if failures:
                self._runner.run([Call(o.shard, abort_shard, (self._token, o.shard), o.worker) for o in ready])
                raise ShardBuildError(sorted(failures, key=lambda f: f.shard), [])
            committed = self._runner.run([Call(o.shard, commit_shard, (self._token, o.shard), o.worker) for o in ready])
            failures = [_failure(outcome) for outcome in committed if not outcome.ok]
            done = [outcome.shard for outcome in committed if outcome.ok]
            if done:  # the shards that committed hold the new order numbers and fields
                self.index.manifest.schema = self.schema.to_json()
                self.index.manifest.next_order = self._next_order
                write_manifest(self.index.path, self.index.manifest)
            if failures:
                raise ShardBuildError(failures, done)
        finally:
            self._reset()

    def _reset(self) -> None:
        self._spools.clear()
        self._added_fields.clear()
        self._next_order = self.index.manifest.next_order
        self._position = 0
        shutil.rmtree(self._staging, ignore_errors=True)

    def abort(self) -> None:
        """Discard the changes since the last commit and release the writer."""
        if self._closed:
            return
        for spool in self._spools.values():
            spool.close()
        self.schema = self.index.schema.copy()
        self._reset()
        self._release()

    def close(self) -> None:
        """Commit pending changes and release the writer."""
        if self._closed:
            return
        try:
            self.commit()
        finally:
            self.abort()

    def _release(self) -> None:
        self._closed = True
        self._lock.release()
        if self._owns_runner:
            self._runner.close()

    def _check_open(self) -> None:
        if self._closed:
            raise SearchlibError("this sharded writer is closed; open a new one with index.writer()")

    def __enter__(self) -> ShardedWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _failure(outcome: Outcome) -> DocumentFailure:
    """What a shard's failed step reports: a document's failure, or the task's error."""
    if outcome.ok and isinstance(outcome.value, dict):
        return DocumentFailure(outcome.shard, outcome.value["message"], outcome.value["position"], outcome.value["id"])
    return DocumentFailure(outcome.shard, outcome.describe())


def _documents_of(documents: Any) -> Iterator[Mapping[str, Any]]:
    """The documents of an iterable, or of a Dask bag's or dataframe's partitions, in
    order (a partition is computed at a time, so a collection larger than memory
    streams)."""
    if hasattr(documents, "to_delayed") and hasattr(documents, "npartitions"):
        for part in documents.to_delayed():
            rows = part.compute()
            if hasattr(rows, "to_dict"):  # a dataframe's partition: a pandas DataFrame
                yield from _present(rows.to_dict("records"))
            else:
                yield from rows
        return
    yield from documents


def _present(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A dataframe's rows as documents: a missing value (None, NaN, ``pandas.NA``,
    ``NaT``, however the column's type spells it) is no value, as a document leaves a
    field out, rather than a float in a text field."""
    import pandas  # a dataframe's partition is one: pandas is there

    for record in records:
        yield {key: value for key, value in record.items()
               if isinstance(value, (list, tuple, dict)) or not pandas.isna(value)}


# --- the shard's side: what a worker runs ---------------------------------------------------


def prepare_shard(path: str, token: str, shard: int, spool: str | None, fields: dict[str, Any],
                  ram_buffer_mb: float, timeout: float) -> dict[str, Any] | None:
    """Step 1 on a worker: apply a shard's changes and write its segments, unpublished;
    keep the writer open for :func:`commit_shard`. Returns None, or (having aborted)
    the document that failed: its position, ID and the message."""
    from searchlib.index import Index
    from searchlib.schema import Field

    writer = Index.open(path).writer(timeout=timeout, ram_buffer_mb=ram_buffer_mb)
    try:
        for name, definition in fields.items():
            writer.add_field(name, Field.from_json(definition, name))
        for change in _changes(spool):
            kind = change[0]
            if kind == "term":
                writer.delete_by_term(change[1], change[2])
            elif kind == "query":
                writer.delete_by_query(change[1])
            else:
                position, document = change[1], change[2]
                try:
                    if kind == "update":
                        writer.update_document(document)
                    else:
                        writer.add_document(document)
                except SearchlibError as exc:
                    writer.abort()
                    id_field = writer.schema.id_field
                    return {"position": position, "id": document.get(id_field) if id_field else None,
                            "message": str(exc)}
        writer.flush()
    except BaseException:
        writer.abort()
        raise
    _PREPARED[(token, shard)] = writer
    return None


def _changes(spool: str | None) -> Iterable[tuple[Any, ...]]:
    if spool is None:
        return
    with open(spool, "rb") as file:
        while True:
            try:
                # noqa: S301 below: the spool this writer wrote itself, in the private
                # directory it made (see _spool); never a file it found.
                yield pickle.load(file)  # noqa: S301
            except EOFError:
                return


def commit_shard(token: str, shard: int) -> None:
    """Step 2 on the worker that prepared the shard: the ordinary atomic commit."""
    writer = _PREPARED.pop((token, shard))
    try:
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    writer.close()


def abort_shard(token: str, shard: int) -> None:
    """Step 2 when another shard failed: discard the prepared segments."""
    writer = _PREPARED.pop((token, shard), None)
    if writer is not None:
        writer.abort()


def staging_directories(root: str | os.PathLike[str]) -> list[Path]:
    """Spool directories a writer that died left in the sharded index."""
    return [entry for entry in Path(root).iterdir() if entry.name.startswith(STAGING_PREFIX) and entry.is_dir()]
