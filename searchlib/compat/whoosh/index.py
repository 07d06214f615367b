"""``create_in``, ``open_dir``, ``exists_in`` and the index they return.

An index named other than Whoosh's default (``MAIN``) lives in a folder of that name
inside the directory. ``create_in`` over an existing index replaces it, as in Whoosh.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from searchlib.compat.whoosh import Refusing, Unsupported, refuse_unknown
from searchlib.compat.whoosh.fields import Schema
from searchlib.index import Index as SearchlibIndex

_DEF_INDEX_NAME = "MAIN"


class EmptyIndexError(Exception):
    """No index in the directory (Whoosh's exception of the same name)."""


def _path(dirname: str | os.PathLike[str], indexname: str | None) -> str:
    if indexname in (None, _DEF_INDEX_NAME):
        return os.fspath(dirname)
    return os.path.join(os.fspath(dirname), str(indexname))


def exists_in(dirname: str | os.PathLike[str], indexname: str | None = None) -> bool:
    return SearchlibIndex.exists(_path(dirname, indexname))


def create_in(dirname: str | os.PathLike[str], schema: Schema, indexname: str | None = None) -> Index:
    path = _path(dirname, indexname)
    if SearchlibIndex.exists(path):
        shutil.rmtree(path)
    if not os.path.isdir(os.fspath(dirname)):
        raise FileNotFoundError(f"{dirname} is not a directory")
    return Index(SearchlibIndex.create(path, schema.to_searchlib()), schema)


def open_dir(dirname: str | os.PathLike[str], indexname: str | None = None, readonly: bool = False,
             schema: Schema | None = None) -> Index:
    path = _path(dirname, indexname)
    if not SearchlibIndex.exists(path):
        raise EmptyIndexError(f"{path} holds no index")
    index = SearchlibIndex.open(path)
    return Index(index, schema or Schema.from_searchlib(index.schema))


def create_index_in(*args: Any, **kwargs: Any) -> Any:
    raise Unsupported("create_index_in with a storage object")


class Index(Refusing):
    """A searchlib index with Whoosh's methods."""

    def __init__(self, index: SearchlibIndex, schema: Schema) -> None:
        self._index = index
        self.schema = schema

    @property
    def searchlib_index(self) -> SearchlibIndex:
        return self._index

    def _latest(self) -> SearchlibIndex:
        self._index = self._index.reopen()
        return self._index

    def doc_count(self) -> int:
        return self._latest().doc_count

    def doc_count_all(self) -> int:
        index = self._latest()
        return index.doc_count + index.deleted_count

    def is_empty(self) -> bool:
        return self.doc_count() == 0

    def latest_generation(self) -> int:
        return int(self._latest().generation)

    def writer(self, **options: Any) -> Any:
        from searchlib.compat.whoosh.writing import IndexWriter

        refuse_unknown("Index.writer", options, ("limitmb", "procs", "multisegment", "timeout", "delay"))
        return IndexWriter(self)

    def searcher(self, **options: Any) -> Any:
        from searchlib.compat.whoosh.searching import Searcher

        refuse_unknown("Index.searcher", options, ("closereader",))
        return Searcher(self)

    def optimize(self) -> None:
        with self._latest().writer() as writer:
            writer.optimize()

    def close(self) -> None:
        pass

    def refresh(self) -> Index:
        self._latest()
        return self

    def up_to_date(self) -> bool:
        return True

    def add_field(self, fieldname: str, fieldspec: Any) -> None:
        raise Unsupported("Index.add_field (use the writer's add_field)")

    def reader(self, **options: Any) -> Any:
        from searchlib.compat.whoosh.reading import IndexReader
        from searchlib.searcher import Searcher

        refuse_unknown("Index.reader", options, ("reuse",))
        return IndexReader(Searcher(self._latest()))
