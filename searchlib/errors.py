"""Exceptions raised by searchlib.

Every error searchlib raises on purpose derives from :class:`SearchlibError`, so an
application can catch one class and show the message: each message names what was
wrong (the file, the field, the query) and, where there is one, what to do about it.
"""

from __future__ import annotations


class SearchlibError(Exception):
    """Root of all searchlib errors."""


class IndexNotFoundError(SearchlibError):
    """The directory holds no searchlib index (missing, empty or foreign)."""


class CorruptIndexError(SearchlibError):
    """A file of the index fails its checksum or structure checks.

    The message always names the file, so a user knows what was damaged.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"corrupt index file {path}: {problem}")
        self.path = path
        self.problem = problem


class IncompatibleFormatError(SearchlibError):
    """A file was written in a format version this release cannot read."""


class LockError(SearchlibError):
    """Another writer holds the index's write lock."""


class SchemaError(SearchlibError):
    """A field definition or a document does not fit the index's schema."""


class AnalyzerError(SearchlibError):
    """An analyzer name or chain is unknown or malformed."""


class QueryError(SearchlibError):
    """A query cannot be understood."""
