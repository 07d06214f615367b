"""Sharded indexes, built and searched on Dask (the ``distributed`` extra:
``pip install "searchlib[distributed]"``).

:class:`ShardedIndex` is a directory of shard indexes and a manifest; documents are
routed to a shard by a stable hash of their ID. Its writer builds the shards in
parallel on a ``dask.distributed`` cluster (:mod:`searchlib.distributed.build`); its
searcher fans a query out in steps so that the shards score with the statistics of the
whole collection and the merged ranking is the one index's
(:mod:`searchlib.distributed.search`). Dask is imported only where a cluster is used:
opening and searching a sharded index in one process does not load it.
"""

from __future__ import annotations

from searchlib.distributed.errors import DocumentFailure, ShardBuildError, ShardError
from searchlib.distributed.index import ShardedIndex
from searchlib.distributed.manifest import is_sharded, route

__all__ = ["DocumentFailure", "ShardBuildError", "ShardError", "ShardedIndex", "is_sharded", "route"]
