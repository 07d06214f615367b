"""Whoosh's ``QueryParser`` and ``MultifieldParser``, on searchlib's parser.

The syntax is the one both share (words, ``field:word``, AND OR NOT, phrases,
``prefix*``, wildcards, ``word~``, ranges, ``^boost``). Whoosh joins words with AND
by default, and so do these, unless given ``group=OrGroup``. Plugins are not supported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from searchlib.compat.whoosh import Unsupported
from searchlib.compat.whoosh.fields import Schema
from searchlib.compat.whoosh.query import Query, from_searchlib


class _Group:
    """How words side by side combine (``AndGroup``, ``OrGroup``)."""

    def __init__(self, operator: str) -> None:
        self.operator = operator

    def factory(self, scale: float = 0.9) -> _Group:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported("building a syntax group node")


AndGroup = _Group("AND")
OrGroup = _Group("OR")


class QueryParser:
    """Parse query text over one default field (or several: :class:`MultifieldParser`)."""

    def __init__(self, fieldname: str | None, schema: Schema | None, plugins: Any = None,
                 termclass: Any = None, phraseclass: Any = None, group: _Group = AndGroup) -> None:
        if plugins is not None or termclass is not None or phraseclass is not None:
            raise Unsupported("QueryParser plugins, termclass and phraseclass")
        if schema is None:
            raise Unsupported("QueryParser without a schema")
        self.schema = schema
        self.fieldnames: list[str] = [] if fieldname is None else [fieldname]
        self.group = group
        self._searchlib_schema = schema.to_searchlib()

    def add_plugin(self, plugin: Any) -> None:
        raise Unsupported("QueryParser.add_plugin")

    def remove_plugin_class(self, cls: Any) -> None:
        raise Unsupported("QueryParser.remove_plugin_class")

    def parse(self, text: str, normalize: bool = True, debug: bool = False) -> Query:
        from searchlib.parser import QueryParser as Parser

        fields: Sequence[str] | None = self.fieldnames or None
        parser = Parser(self._searchlib_schema, fields, default_operator=self.group.operator)
        return from_searchlib(parser.parse(text, strict=False))


class MultifieldParser(QueryParser):
    def __init__(self, fieldnames: Sequence[str], schema: Schema | None, fieldboosts: Any = None,
                 group: _Group = AndGroup, **options: Any) -> None:
        if fieldboosts:
            raise Unsupported("MultifieldParser(fieldboosts=...): set field_boost on the fields")
        super().__init__(None, schema, group=group, **options)
        self.fieldnames = list(fieldnames)
