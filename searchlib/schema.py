"""Schema: which fields a document has and how each is indexed and stored.

Field types
-----------
- :func:`TEXT` — analyzed into terms with positions (for ranked search); optionally stored.
- :func:`ID` — one exact term; the unique key that updates and deletes go by.
- :func:`KEYWORD` — one exact term (tags, dates as ``YYYY-MM-DD``); filterable, stored.
- :func:`STORED` — kept with the document and returned with hits, not searchable.

A schema round-trips through JSON (``to_json``/``from_json``): the index keeps it in each
manifest, so opening an index needs no Python code of the application that built it.

>>> schema = Schema(path=ID(), title=TEXT(boost=2.0), body=TEXT())
>>> schema.id_field
'path'
>>> Schema.from_json(schema.to_json()) == schema
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from searchlib.analysis import Analyzer, analyzer_from_spec, get_analyzer
from searchlib.errors import SchemaError

FieldKind = Literal["text", "id", "keyword", "stored"]
_KINDS: tuple[str, ...] = ("text", "id", "keyword", "stored")


@dataclass(frozen=True)
class Field:
    """One field's definition. Build it with TEXT(), ID(), KEYWORD() or STORED()."""

    kind: FieldKind
    stored: bool = True
    analyzer: str = "keyword"
    boost: float = 1.0

    @property
    def is_indexed(self) -> bool:
        """Whether the field's terms go into the inverted index."""
        return self.kind != "stored"

    @property
    def is_text(self) -> bool:
        """Whether the field is analyzed full text (ranked, with positions)."""
        return self.kind == "text"

    def make_analyzer(self) -> Analyzer:
        """Build this field's analyzer from its stored name."""
        return analyzer_from_spec({"name": self.analyzer})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], name: str = "?") -> Field:
        if not isinstance(data, dict) or data.get("kind") not in _KINDS:
            raise SchemaError(f"field {name!r}: malformed definition {data!r}")
        try:
            return cls(
                kind=data["kind"],
                stored=bool(data.get("stored", True)),
                analyzer=str(data.get("analyzer", "keyword")),
                boost=float(data.get("boost", 1.0)),
            )
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"field {name!r}: malformed definition {data!r}") from exc


def TEXT(analyzer: str = "english", *, stored: bool = True, boost: float = 1.0) -> Field:  # noqa: N802
    """Full text, analyzed with the named analyzer (``english`` by default)."""
    get_analyzer(analyzer)  # fail now, naming the analyzer, not at the first document
    if boost <= 0:
        raise SchemaError(f"boost must be positive, got {boost}")
    return Field("text", stored=stored, analyzer=analyzer, boost=boost)


def ID(*, stored: bool = True) -> Field:  # noqa: N802
    """The unique key of a document: one exact term."""
    return Field("id", stored=stored)


def KEYWORD(*, stored: bool = True) -> Field:  # noqa: N802
    """An exact term that is not analyzed (a tag, a category, an ISO date)."""
    return Field("keyword", stored=stored)


def STORED() -> Field:  # noqa: N802
    """A value kept with the document and returned with hits, not searchable."""
    return Field("stored", stored=True)


class FieldAnalyzers(Mapping[str, Analyzer]):
    """The analyzer of each field of a schema, built on first use.

    Fields that name the same analyzer share one instance, so its term cache serves them
    all (a word stemmed for ``title`` is not stemmed again for ``body``). The schema may
    grow while this is in use; new fields are looked up when first asked for.
    """

    def __init__(self, schema: Schema) -> None:
        self._schema = schema
        self._by_name: dict[str, Analyzer] = {}

    def __getitem__(self, field_name: str) -> Analyzer:
        definition = self._schema[field_name]
        analyzer = self._by_name.get(definition.analyzer)
        if analyzer is None:
            analyzer = self._by_name[definition.analyzer] = definition.make_analyzer()
        return analyzer

    def __iter__(self) -> Iterator[str]:
        return iter(self._schema.fields)

    def __len__(self) -> int:
        return len(self._schema.fields)


class Schema:
    """An ordered set of named fields, at most one of them an ID."""

    def __init__(self, **fields: Field) -> None:
        self.fields: dict[str, Field] = {}
        for name, field in fields.items():
            self.add_field(name, field)

    @property
    def id_field(self) -> str | None:
        """The name of the ID field, if the schema has one."""
        return next((n for n, f in self.fields.items() if f.kind == "id"), None)

    def text_fields(self) -> list[str]:
        """Names of the analyzed full-text fields, in schema order."""
        return [name for name, field in self.fields.items() if field.is_text]

    def add_field(self, name: str, field: Field) -> None:
        """Add a field; re-adding an identical one is a no-op, changing one is an error."""
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise SchemaError(f"invalid field name {name!r}: use a non-empty name not starting with '_'")
        existing = self.fields.get(name)
        if existing is not None:
            if existing != field:
                raise SchemaError(
                    f"field {name!r} is already defined as {existing.kind}; "
                    f"it cannot change to {field.kind} in an existing index"
                )
            return
        if field.kind == "id" and self.id_field is not None:
            raise SchemaError(
                f"field {name!r}: the schema already has an ID field ({self.id_field!r})"
            )
        self.fields[name] = field

    def __getitem__(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            known = ", ".join(self.fields) or "none"
            raise SchemaError(f"unknown field {name!r}; the schema has: {known}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.fields == other.fields

    def __repr__(self) -> str:
        return f"Schema({', '.join(f'{n}={f.kind}' for n, f in self.fields.items())})"

    def copy(self) -> Schema:
        return Schema(**self.fields)

    def to_json(self) -> dict[str, Any]:
        return {name: field.to_json() for name, field in self.fields.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schema:
        if not isinstance(data, dict):
            raise SchemaError(f"malformed schema: expected an object, got {type(data).__name__}")
        return cls(**{name: Field.from_json(value, name) for name, value in data.items()})
