"""``searchlib index``, ``query``, ``info`` and ``check`` on a sharded index: the
command line (:mod:`searchlib.cli`) hands over here when ``--shards`` is given or the
index directory holds ``shards.json``, and prints what these return as it prints an
index's. A query searches the shards in its own process (threads), with no cluster and
without importing Dask; building them uses Dask.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from searchlib.distributed.index import ShardedIndex
from searchlib.distributed.search import ShardedResults


def query_sharded(path: str, text: str, *, limit: int, offset: int, sort: str | None, operator: str, strict: bool,
                  expansion: Any, k1: float | None, b: float | None, similarity: str | None, snippets: bool,
                  fragment_count: int, width: int, facet_fields: list[str], as_json: bool,
                  explain: bool = False) -> ShardedResults:
    """Run one query over the shards and print it as ``searchlib query`` prints hits."""
    from searchlib.cli import _echo

    index = ShardedIndex.open(path)
    with index.searcher(default_operator=operator, expansion=expansion, k1=k1, b=b, similarity=similarity) as searcher:
        results = searcher.search(text, limit=limit, offset=offset, sort=sort, strict=strict,
                                  facets=list(facet_fields) or None,
                                  snippets={"count": fragment_count, "width": width} if snippets else None,
                                  explain=explain)
    for warning in results.warnings:
        _echo(f"searchlib: warning: {warning}", err=True)
    if as_json:
        _echo(json.dumps(results.to_dict(text), ensure_ascii=False, indent=2, default=str))
    else:
        _print(results, color=sys.stdout.isatty())
    return results


def _print(results: ShardedResults, *, color: bool) -> None:
    from searchlib.cli import _echo, _hit_header, _print_count, _print_facets, _snippet_line

    for hit in results:
        _echo(_hit_header(hit, color=color))
        if hit.fragments is not None:
            _echo(f"    {_snippet_line(hit.fragments, color=color)}")
        if hit.explanation is not None:
            _echo(hit.explanation.format(indent=2))
    _print_facets(results.facets)
    if results.missing_shards:
        _echo(f"searchlib: warning: shards {', '.join(map(str, results.missing_shards))} did not answer", err=True)
    _print_count(results)
