"""Searcher: ranked search over a snapshot of an index, with hits and snippets.

A :class:`Searcher` opens every segment of one generation and keeps them until it is
closed, so its results do not change while a writer commits. Each query runs segment by
segment on numpy arrays; the top hits across segments come from ``np.argpartition``, not
a full sort, and the total hit count is exact.

The package holds one concern per module: :mod:`~searchlib.searcher.searcher` the
:class:`Searcher`; :mod:`~searchlib.searcher.results` what a search returns
(:class:`Results`, :class:`Hit`); :mod:`~searchlib.searcher.statistics` the collection
statistics scoring reads; :mod:`~searchlib.searcher.sorting` the keys that order hits
by a field; :mod:`~searchlib.searcher.facets` the counts of a field's values over every
match; :mod:`~searchlib.searcher.plain` plain text (a search box's words) run in one call
into the core, with no query tree unless a hit asks for one. Every public name is
importable from ``searchlib.searcher`` itself.

>>> import tempfile
>>> from searchlib import Index, Schema, ID, TEXT
>>> index = Index.create(tempfile.mkdtemp(), Schema(path=ID(), body=TEXT()))
>>> with index.writer() as writer:
...     writer.add_document(path="a", body="They held direct talks.")
...     writer.add_document(path="b", body="Nothing to see here.")
>>> with Searcher(index) as searcher:
...     results = searcher.search("direct talking")
...     [(hit.id, hit.snippet()) for hit in results]
[('a', 'They held [direct] [talks].')]
"""

from __future__ import annotations

from searchlib.searcher.results import Hit, Results
from searchlib.searcher.searcher import DOC_FREQ_MEMO_SIZE, Searcher

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

    from searchlib.searcher.results import SnippetFormat
    from searchlib.searcher.facets import Facet, FacetCount, FacetRange, FacetResult, RangeFacet

#: Names whose module loads on first use (PEP 562): a search that counts no facet never
#: needs it.
_FACET_NAMES = ("Facet", "FacetCount", "FacetRange", "FacetResult", "RangeFacet")


def __getattr__(name: str) -> Any:
    if name in _FACET_NAMES:
        from searchlib.searcher import facets

        value = getattr(facets, name)
        globals()[name] = value
        return value
    if name == "SnippetFormat":  # built on first use (see searchlib.searcher.results)
        from searchlib.searcher import results

        return results.SnippetFormat
    raise AttributeError(f"module 'searchlib.searcher' has no attribute {name!r}")

__all__ = [
    "Facet", "FacetCount", "FacetRange", "FacetResult", "Hit", "RangeFacet", "Results", "Searcher", "SnippetFormat",
]
