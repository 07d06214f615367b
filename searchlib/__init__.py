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
from searchlib.index import Index, IndexWriter
from searchlib.query import CombinedTerm, Or, Query, Term
from searchlib.schema import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Field, Schema
from searchlib.searcher import Hit, Results, Searcher

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
    "Results",
    "Schema",
    "SchemaError",
    "Searcher",
    "SearchlibError",
    "Term",
    "Token",
    "get_analyzer",
    "register_analyzer",
]
