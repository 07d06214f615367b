"""The handle on a sharded index: :class:`ShardedIndex` creates and opens one, and
makes its writers (:mod:`searchlib.distributed.build`) and searchers
(:mod:`searchlib.distributed.search`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from searchlib.distributed.manifest import (
    MANIFEST_NAME, ORDER_FIELD, ShardManifest, read_manifest, shard_name, write_manifest,
)
from searchlib.errors import SchemaError, SearchlibError
from searchlib.storage import DEFAULT_WRITER_TIMEOUT, Directory

if TYPE_CHECKING:
    from collections.abc import Sequence

    from searchlib.distributed.build import ShardedWriter
    from searchlib.distributed.execution import Call, Outcome
    from searchlib.distributed.search import ShardedSearcher
    from searchlib.schema import Schema
    from searchlib.scoring import BM25Settings


class Runner(Protocol):
    """Where shard tasks run (see :mod:`searchlib.distributed.execution`)."""

    def run(self, calls: Sequence[Call], timeout: float | None = None) -> list[Outcome]: ...

    def close(self) -> None: ...


class ShardedIndex:
    """A directory of ``shards`` ordinary indexes and a manifest (``shards.json``:
    schema, shard count, routing by a stable hash of each document's ID).

    >>> import tempfile
    >>> from searchlib.schema import Schema, ID, TEXT
    >>> index = ShardedIndex.create(tempfile.mkdtemp(), Schema(id=ID(), body=TEXT()), shards=2)
    >>> with index.writer(local=True) as writer:
    ...     writer.add_documents([{"id": "a", "body": "direct talks"}, {"id": "b", "body": "talks"}])
    2
    >>> with index.searcher() as searcher:
    ...     [hit.id for hit in searcher.search("direct")]
    ['a']
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.directory = Directory(path)
        self.manifest: ShardManifest = read_manifest(path)

    @classmethod
    def create(cls, path: str | os.PathLike[str], schema: Schema, *, shards: int,
               scoring: BM25Settings | None = None) -> ShardedIndex:
        """Create an empty sharded index of ``shards`` shards in ``path`` (made if
        missing; it must hold nothing). The schema needs an ID field: documents are
        routed by it. The manifest is written last, so a creation cut short leaves no
        sharded index (only directories to remove)."""
        from searchlib.index import Index
        from searchlib.schema import NUMERIC
        from searchlib.scoring import BM25Settings

        if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
            raise ValueError(f"shards must be a whole number of at least 1, got {shards!r}")
        id_field = schema.id_field
        if id_field is None:
            raise SchemaError("a sharded index routes documents by their ID: the schema needs an ID field")
        if ORDER_FIELD in schema:
            raise SchemaError(f"{ORDER_FIELD!r} is the field a sharded index keeps its documents' order in")
        root = Path(path)
        if root.exists() and any(root.iterdir()):
            raise SearchlibError(f"{root} is not empty; a sharded index is created in an empty or new directory")
        root.mkdir(parents=True, exist_ok=True)
        shard_schema = schema.copy()
        shard_schema.add_field(ORDER_FIELD, NUMERIC("int", stored=False))
        settings = scoring or BM25Settings()
        for number in range(shards):
            Index.create(root / shard_name(number), shard_schema, scoring=settings)
        write_manifest(root, ShardManifest(shards, schema.to_json(), settings.to_json(), id_field))
        return cls(root)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ShardedIndex:
        """Open the sharded index in ``path``."""
        return cls(path)

    @classmethod
    def exists(cls, path: str | os.PathLike[str]) -> bool:
        return os.path.isfile(os.path.join(path, MANIFEST_NAME))

    @property
    def shards(self) -> int:
        return self.manifest.shards

    @property
    def schema(self) -> Schema:
        """The schema documents are written with (without the order field every shard adds)."""
        from searchlib.schema import Schema

        return Schema.from_json(self.manifest.schema)

    def shard_paths(self) -> list[Path]:
        return self.manifest.shard_paths(self.path)

    @property
    def doc_count(self) -> int:
        """Live documents over every shard."""
        from searchlib.index import Index

        return sum(Index.open(path).doc_count for path in self.shard_paths())

    def writer(self, *, client: Any = None, scheduler: str | None = None, workers: int | None = None,
               local: bool = False, ram_buffer_mb: float = 64.0,
               timeout: float = DEFAULT_WRITER_TIMEOUT) -> ShardedWriter:
        """A writer whose commits build the shards in parallel on Dask: on ``client``
        (a ``dask.distributed.Client``), or on a client of the scheduler at address
        ``scheduler``, or (by default) on a ``LocalCluster`` of ``workers`` worker
        processes (one per core) started for this writer and stopped when it closes.
        ``local`` applies the shards' changes in this process instead, one after the
        other, without Dask. The workers must see this directory at the same path."""
        from searchlib.distributed.build import ShardedWriter

        runner, owned = _runner(client, scheduler, workers, local, threads=1)
        try:
            return ShardedWriter(self, runner, owns_runner=owned, ram_buffer_mb=ram_buffer_mb, timeout=timeout)
        except BaseException:
            if owned:
                runner.close()
            raise

    def searcher(self, *, client: Any = None, scheduler: str | None = None, threads: int = 1,
                 timeout: float | None = None, partial: bool = False, **options: Any) -> ShardedSearcher:
        """A searcher over every shard with global statistics (see
        :class:`~searchlib.distributed.search.ShardedSearcher`). By default the shards
        are searched in this process, one after the other: on shards of a few thousand
        documents, handing each step to ``threads`` threads cost more than it overlapped
        (``benchmarks/bench_distributed.py``); more threads may pay where a shard's step
        takes longer (large shards) and cores are free, which was not measured. With ``client`` or ``scheduler``, the shards' steps run on that cluster's
        workers."""
        from searchlib.distributed.search import ShardedSearcher

        local = client is None and scheduler is None
        runner, owned = _runner(client, scheduler, None, local, threads=threads)
        return ShardedSearcher(self, runner, owns_runner=owned, timeout=timeout, partial=partial, **options)


def _runner(client: Any, scheduler: str | None, workers: int | None, local: bool, threads: int) -> tuple[Runner, bool]:
    """The runner the arguments ask for, and whether it was started here (and is to be
    closed with its user)."""
    if local:
        from searchlib.distributed.execution import InlineRunner

        return InlineRunner(threads), True
    from searchlib.distributed.execution import DaskRunner

    if client is not None:
        return DaskRunner(client), False
    return DaskRunner.connect(scheduler, workers), True
