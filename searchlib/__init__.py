"""searchlib: embedded full-text search for Python.

Text goes through an analyzer chain into an on-disk, segment-based inverted index, and
comes back ranked by BM25 with highlighted snippets::

    from searchlib import Index, Schema, ID, TEXT, Searcher

    index = Index.create("my-index", Schema(path=ID(), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(path="a.txt", body="They held direct talks.")
    with Searcher(index) as searcher:
        for hit in searcher.search("direct talks"):
            print(hit.score, hit["path"], hit.snippet())
"""

from __future__ import annotations

import gc  # built into the interpreter: nothing to load

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from typing import Any

    from searchlib.analysis import Analyzer, Token, get_analyzer, register_analyzer
    from searchlib.errors import (
        AnalyzerError,
        CorruptIndexError,
        IncompatibleFormatError,
        IndexNotFoundError,
        LockError,
        QueryError,
        SchemaError,
        SearchlibError,
    )
    from searchlib.index import Index
    from searchlib.manager import SearcherManager
    from searchlib.query import CombinedTerm, Or, Query, Term
    from searchlib.queued import QueuedWriter
    from searchlib.schema import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Field, Schema
    from searchlib.searcher import Facet, FacetResult, Hit, RangeFacet, Results, Searcher
    from searchlib.writer import IndexWriter

#: Where each public name lives. ``import searchlib`` loads none of them: the first use of
#: ``searchlib.Index`` (or any other) imports its module, so ``searchlib --help`` and
#: ``--version``, whose entry point lives in this package, start without loading numpy,
#: the compiled core or the index code (PEP 562).
_HOMES = {
    "Analyzer": "searchlib.analysis",
    "Token": "searchlib.analysis",
    "get_analyzer": "searchlib.analysis",
    "register_analyzer": "searchlib.analysis",
    "AnalyzerError": "searchlib.errors",
    "CorruptIndexError": "searchlib.errors",
    "IncompatibleFormatError": "searchlib.errors",
    "IndexNotFoundError": "searchlib.errors",
    "LockError": "searchlib.errors",
    "QueryError": "searchlib.errors",
    "SchemaError": "searchlib.errors",
    "SearchlibError": "searchlib.errors",
    "Index": "searchlib.index",
    "IndexWriter": "searchlib.writer",
    "QueuedWriter": "searchlib.queued",
    "CombinedTerm": "searchlib.query",
    "Or": "searchlib.query",
    "Query": "searchlib.query",
    "Term": "searchlib.query",
    "BOOLEAN": "searchlib.schema",
    "DATETIME": "searchlib.schema",
    "ID": "searchlib.schema",
    "KEYWORD": "searchlib.schema",
    "NUMERIC": "searchlib.schema",
    "STORED": "searchlib.schema",
    "TEXT": "searchlib.schema",
    "Field": "searchlib.schema",
    "Schema": "searchlib.schema",
    "Hit": "searchlib.searcher",
    "Facet": "searchlib.searcher",
    "FacetResult": "searchlib.searcher",
    "RangeFacet": "searchlib.searcher",
    "Results": "searchlib.searcher",
    "Searcher": "searchlib.searcher",
    "SearcherManager": "searchlib.manager",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'searchlib' has no attribute {name!r}")
    # The cyclic garbage collector waits while the modules load: importing allocates
    # thousands of objects (functions, classes, code) that all live as long as the
    # process, so the dozen collections they would trigger find nothing to free and cost
    # about a tenth of a searching script's start-up. Its state is restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # __import__ rather than importlib.import_module: the import machinery's C path,
        # which -X importtime reports (the start-up tests read that report).
        value = getattr(__import__(home, fromlist=(name,)), name)
    finally:
        if collecting:
            gc.enable()
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "BOOLEAN",
    "DATETIME",
    "ID",
    "NUMERIC",
    "KEYWORD",
    "STORED",
    "TEXT",
    "Analyzer",
    "AnalyzerError",
    "CombinedTerm",
    "CorruptIndexError",
    "Facet",
    "FacetResult",
    "Field",
    "Hit",
    "IncompatibleFormatError",
    "Index",
    "IndexNotFoundError",
    "IndexWriter",
    "LockError",
    "Or",
    "Query",
    "QueryError",
    "QueuedWriter",
    "RangeFacet",
    "Results",
    "Schema",
    "SchemaError",
    "Searcher",
    "SearcherManager",
    "SearchlibError",
    "Term",
    "Token",
    "get_analyzer",
    "register_analyzer",
]
