"""Exceptions raised by searchlib.

Every error searchlib raises on purpose derives from :class:`SearchlibError`, so an
application can catch one class and show the message: each message names what was
wrong (the file, the field, the query) and, where there is one, what to do about it.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from searchlib.locking import LockHolder


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
    """A file was written in a format version this release cannot read: by an older
    searchlib (rebuild the index) or a newer one (``is_newer``: upgrade searchlib)."""

    def __init__(self, message: str, *, is_newer: bool = False) -> None:
        super().__init__(message)
        self.is_newer = is_newer


class LockError(SearchlibError):
    """Another writer holds the index's write lock; ``holder`` says who, as far as the
    lock file tells (process, host, since when), or is None when nothing was read."""

    def __init__(self, message: str, *, holder: LockHolder | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class SchemaError(SearchlibError):
    """A field definition or a document does not fit the index's schema."""


class AnalyzerError(SearchlibError):
    """An analyzer name or chain is unknown or malformed."""


class QueryError(SearchlibError):
    """A query cannot be understood or run.

    ``position`` is the character offset in ``query`` where the problem is (None when
    the problem is not a place in the text, e.g. a prefix matching too many terms), so a
    user interface can point at it; :meth:`caret` renders that as two lines.
    """

    def __init__(self, message: str, *, query: str | None = None, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.query = query
        self.position = position

    def caret(self) -> str:
        """The query, and a caret under the problem (just the message without a position)."""
        if self.query is None or self.position is None:
            return self.message
        line = self.query.replace("\n", " ").replace("\t", " ")
        return f"{line}\n{' ' * display_width(line[: self.position])}^ {self.message}"


def display_width(text: str) -> int:
    """The columns ``text`` takes on a terminal, so that a caret lines up under it: two
    for a wide (East Asian) character, none for a combining mark or format character."""
    import unicodedata  # only for a query error's caret

    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Me", "Mn", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("F", "W") else 1
    return width
