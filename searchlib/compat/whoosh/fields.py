"""Whoosh's field types and ``Schema``, each becoming a searchlib field.

Whoosh's defaults are kept: a field is not stored unless ``stored=True`` (``STORED``
always is). The unique ``ID`` (``unique=True``) becomes searchlib's ID field, which
``update_document`` replaces by; any other ``ID`` is an exact ``KEYWORD``. A
``KEYWORD`` value is split at spaces (or commas) and lowercased as Whoosh would, and
each part is one term; it is stored as the list of parts.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from searchlib import schema as sl
from searchlib.compat.whoosh import Unsupported
from searchlib.compat.whoosh.analysis import Preset, StandardAnalyzer

__all__ = ["BOOLEAN", "DATETIME", "ID", "KEYWORD", "NGRAM", "NGRAMWORDS", "NUMERIC", "STORED", "TEXT", "FieldType",
           "Schema"]


class FieldType:
    """A Whoosh field: how it becomes a searchlib field, and how its values do."""

    stored = False
    unique = False
    field_boost = 1.0

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        """The value searchlib is given for a value an application gave Whoosh."""
        return value


class TEXT(FieldType):
    def __init__(self, analyzer: Preset | None = None, phrase: bool = True, chars: bool = False,
                 stored: bool = False, field_boost: float = 1.0, sortable: bool = False, **options: Any) -> None:
        if options.get("vector") or options.get("spelling"):
            raise Unsupported("TEXT(vector=...) and TEXT(spelling=...)")
        if sortable:
            raise Unsupported("TEXT(sortable=True): sort by a KEYWORD, ID or NUMERIC field")
        if analyzer is not None and not isinstance(analyzer, Preset):
            raise Unsupported(f"the analyzer {analyzer!r} (use searchlib.compat.whoosh.analysis)")
        self.analyzer = analyzer or StandardAnalyzer()
        self.stored = stored
        self.field_boost = field_boost

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        return sl.TEXT(self.analyzer.name, stored=self.stored, boost=self.field_boost,
                       analyzer_params=self.analyzer.params)


class NGRAM(TEXT):
    def __init__(self, minsize: int = 2, maxsize: int = 4, stored: bool = False, field_boost: float = 1.0,
                 **options: Any) -> None:
        super().__init__(Preset("ngram", {"min_size": minsize, "max_size": maxsize}), stored=stored,
                         field_boost=field_boost)


class NGRAMWORDS(NGRAM):
    pass


class ID(FieldType):
    def __init__(self, stored: bool = False, unique: bool = False, field_boost: float = 1.0,
                 sortable: bool = False, **options: Any) -> None:
        if options.get("lowercase"):
            raise Unsupported("ID(lowercase=True)")
        self.stored = stored
        self.unique = unique
        self.field_boost = field_boost

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        return sl.ID(stored=self.stored) if is_key else sl.KEYWORD(stored=self.stored)


class KEYWORD(FieldType):
    def __init__(self, stored: bool = False, lowercase: bool = False, commas: bool = False,
                 scorable: bool = False, unique: bool = False, field_boost: float = 1.0,
                 sortable: bool = False, **options: Any) -> None:
        self.stored = stored
        self.lowercase = lowercase
        self.commas = commas
        self.unique = unique
        self.field_boost = field_boost

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        return sl.KEYWORD(stored=self.stored)

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",")] if self.commas else value.split()
        return [part.lower() if self.lowercase else part for part in parts if part]


class NUMERIC(FieldType):
    def __init__(self, numtype: type = int, bits: int = 32, stored: bool = False, unique: bool = False,
                 field_boost: float = 1.0, decimal_places: int = 0, shift_step: int = 4, signed: bool = True,
                 sortable: bool = False, default: Any = None) -> None:
        if numtype not in (int, float):
            raise Unsupported(f"NUMERIC({numtype.__name__})")
        self.numtype = float if decimal_places else numtype
        self.stored = stored
        self.unique = unique
        self.field_boost = field_boost

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        return sl.NUMERIC("int" if self.numtype is int else "float", stored=self.stored)


class DATETIME(FieldType):
    def __init__(self, stored: bool = False, unique: bool = False, sortable: bool = False) -> None:
        self.stored = stored
        self.unique = unique

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        return sl.DATETIME(stored=self.stored)

    def convert(self, value: Any) -> Any:
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return datetime.datetime(value.year, value.month, value.day)
        return value


class BOOLEAN(FieldType):
    def __init__(self, stored: bool = False, field_boost: float = 1.0) -> None:
        self.stored = stored
        self.field_boost = field_boost

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        return sl.BOOLEAN(stored=self.stored)


class STORED(FieldType):
    stored = True

    def to_searchlib(self, *, is_key: bool) -> sl.Field:
        return sl.STORED()


def _instance(field: FieldType | type[FieldType]) -> FieldType:
    """A field given as its class (``Schema(title=TEXT)``) or an instance."""
    return field() if isinstance(field, type) else field


class Schema:
    """Named Whoosh fields; :meth:`to_searchlib` is the schema the index is made with."""

    def __init__(self, **fields: FieldType | type[FieldType]) -> None:
        self._fields: dict[str, FieldType] = {}
        for name, field in fields.items():
            self.add(name, field)

    def add(self, name: str, fieldtype: FieldType | type[FieldType], glob: bool = False) -> None:
        if glob or "*" in name:
            raise Unsupported("dynamic (glob) fields")
        if name.startswith("_"):
            raise Unsupported(f"field names starting with '_' ({name!r})")
        self._fields[name] = _instance(fieldtype)

    @property
    def key(self) -> str | None:
        """The unique field updates replace by: the first ``ID(unique=True)``."""
        return next((n for n, f in self._fields.items() if isinstance(f, ID) and f.unique), None)

    def to_searchlib(self) -> sl.Schema:
        key = self.key
        return sl.Schema(**{name: f.to_searchlib(is_key=name == key) for name, f in self._fields.items()})

    @classmethod
    def from_searchlib(cls, schema: sl.Schema) -> Schema:
        """The nearest Whoosh schema for an index made without one at hand (``open_dir``)."""
        made: dict[str, FieldType] = {}
        for name, field in schema.fields.items():
            stored = field.stored
            if field.kind == "text":
                made[name] = TEXT(Preset(field.analyzer, field.analyzer_params), stored=stored, field_boost=field.boost)
            elif field.kind == "id":
                made[name] = ID(stored=stored, unique=True)
            elif field.kind == "keyword":
                made[name] = KEYWORD(stored=stored)
            elif field.kind == "numeric":
                made[name] = NUMERIC(int if field.numeric_type == "int" else float, stored=stored)
            elif field.kind == "datetime":
                made[name] = DATETIME(stored=stored)
            elif field.kind == "boolean":
                made[name] = BOOLEAN(stored=stored)
            else:
                made[name] = STORED()
        return cls(**made)

    def __getitem__(self, name: str) -> FieldType:
        try:
            return self._fields[name]
        except KeyError:
            raise KeyError(f"No field named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __iter__(self) -> Iterator[FieldType]:
        return iter(self._fields.values())

    def __len__(self) -> int:
        return len(self._fields)

    def names(self) -> list[str]:
        return sorted(self._fields)

    def items(self) -> list[tuple[str, FieldType]]:
        return sorted(self._fields.items())

    def stored_names(self) -> list[str]:
        return [name for name, field in self.items() if field.stored]

    def scorable_names(self) -> list[str]:
        return [name for name, field in self.items() if isinstance(field, TEXT)]
