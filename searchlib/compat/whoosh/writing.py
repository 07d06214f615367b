"""Whoosh's ``IndexWriter``: add, update and delete documents, then commit or cancel.

As a context manager it commits when the block ends and cancels on an error, as
Whoosh's does. ``update_document`` replaces by the schema's unique ``ID`` field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from searchlib.compat.whoosh import Refusing, Unsupported, refuse_unknown
from searchlib.compat.whoosh.query import Query, as_searchlib

if TYPE_CHECKING:
    from searchlib.compat.whoosh.index import Index


class IndexingError(Exception):
    """Whoosh's error for a misused writer; kept so code catching it still imports."""


class IndexWriter(Refusing):
    def __init__(self, index: Index) -> None:
        self._ix = index
        self.schema = index.schema
        self._writer = index.searchlib_index.reopen().writer()
        self._closed = False
        #: Whoosh's switches, read at commit: merge segments (searchlib's policy always
        #: may), or merge them all into one.
        self.merge = True
        self.optimize = False

    def _open(self) -> None:
        if self._closed:
            raise IndexingError("This writer is closed (committed or cancelled)")

    def _document(self, fields: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for name, value in fields.items():
            if name.startswith("_"):
                raise Unsupported(f"the {name!r} keyword of add_document (a stored value apart from the indexed one)")
            if value is None:
                continue
            document[name] = self.schema[name].convert(value)
        return document

    def add_document(self, **fields: Any) -> None:
        self._open()
        self._writer.add_document(self._document(fields))

    def update_document(self, **fields: Any) -> None:
        self._open()
        if self.schema.key is None:
            raise Unsupported("update_document without an ID(unique=True) field")
        self._writer.update_document(self._document(fields))

    def delete_by_term(self, fieldname: str, text: str, searcher: Any = None) -> int:
        self._open()
        return self._writer.delete_by_term(fieldname, text)

    def delete_by_query(self, q: Query, searcher: Any = None) -> int:
        self._open()
        return self._writer.delete_by_query(as_searchlib(q))

    def delete_document(self, docnum: int, delete: bool = True) -> None:
        """Delete by document number (as a hit's ``docnum`` gives it), through the unique key."""
        self._open()
        key = self.schema.key
        if key is None:
            raise Unsupported("delete_document without an ID(unique=True) field")
        from searchlib.compat.whoosh.searching import Searcher

        with Searcher(self._ix) as searcher:
            value = searcher.key_of(docnum)
        if value is not None:
            self._writer.delete_by_term(key, value)

    def add_field(self, fieldname: str, fieldtype: Any, glob: bool = False) -> None:
        self._open()
        self.schema.add(fieldname, fieldtype, glob)
        self._writer.add_field(fieldname, self.schema[fieldname].to_searchlib(is_key=fieldname == self.schema.key))

    def remove_field(self, fieldname: str) -> None:
        self._open()
        raise Unsupported("IndexWriter.remove_field")

    def group(self) -> Any:
        raise Unsupported("IndexWriter.group (nested documents)")

    def start_group(self) -> None:
        raise Unsupported("IndexWriter.start_group (nested documents)")

    def reader(self, **options: Any) -> Any:
        raise Unsupported("IndexWriter.reader")

    def searcher(self, **options: Any) -> Any:
        from searchlib.compat.whoosh.searching import Searcher

        return Searcher(self._ix)

    def commit(self, **options: Any) -> None:
        refuse_unknown("IndexWriter.commit", options, ("merge", "optimize", "mergetype"))
        self._open()
        self._closed = True
        if options.get("optimize") or self.optimize:
            self._writer.optimize()
        self._writer.close()  # commits, then releases the lock

    def cancel(self) -> None:
        self._open()
        self._closed = True
        self._writer.abort()

    def add_reader(self, reader: Any) -> None:
        self._open()
        raise Unsupported("IndexWriter.add_reader")

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self._closed:  # committed or cancelled inside the block
            return
        if exc_type is None:
            self.commit()
        else:
            self.cancel()


class AsyncWriter(IndexWriter):
    """Whoosh's writer that retries when locked: searchlib's writer waits for the lock itself."""

    def __init__(self, index: Index, delay: float = 0.25, writerargs: Any = None) -> None:
        super().__init__(index)


class BufferedWriter(IndexWriter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise Unsupported("BufferedWriter (use searchlib.QueuedWriter)")
