"""Schema: which fields a document has and how each is indexed and stored.

Field types
-----------
- :func:`TEXT` — analyzed into terms with positions (for ranked search); optionally stored.
- :func:`ID` — one exact term; the unique key that updates and deletes go by.
- :func:`KEYWORD` — exact terms (tags, dates as ``YYYY-MM-DD``): one string, or a list of
  strings, each value its own term; filterable, countable as a facet, stored as given.
- :func:`NUMERIC`, :func:`DATETIME`, :func:`BOOLEAN` — typed values in a column per
  segment (for sorting and range filters), stored too unless ``stored=False``.
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

# collections.abc's Mapping itself, from the module Python loads at start-up for os:
# importing collections.abc would load the collections package (several milliseconds).
from _collections_abc import Mapping

from searchlib._records import FrozenRecord
from searchlib.errors import SchemaError

TYPE_CHECKING = False  # typing's flag, without importing typing at run time

if TYPE_CHECKING:  # the analysis package loads when an analyzer is built in Python
    from collections.abc import Container, Iterator
    from typing import Any, Literal

    from searchlib.analysis import Analyzer

    FieldKind = Literal["text", "id", "keyword", "stored", "numeric", "datetime", "boolean"]
    GroupKind = Literal["text", "exact", "column"]

#: Field kinds kept as columns rather than terms (values checked by :mod:`searchlib.columns`).
COLUMN_KINDS = ("numeric", "datetime", "boolean")
NUMERIC_TYPES = ("int", "float")

_KINDS: tuple[str, ...] = ("text", "id", "keyword", "stored", *COLUMN_KINDS)


class Field(FrozenRecord):
    """One field's definition. Build it with TEXT(), ID(), KEYWORD() or STORED().

    ``query_analyzer`` is a different analyzer for query text (None: the same as
    ``analyzer``); ``numeric_type`` is "int" or "float" for NUMERIC fields.
    """

    __slots__ = ("kind", "stored", "analyzer", "boost", "analyzer_params", "query_analyzer",
                 "query_analyzer_params", "numeric_type")
    kind: FieldKind
    stored: bool
    analyzer: str
    boost: float
    analyzer_params: dict[str, Any]
    query_analyzer: str | None
    query_analyzer_params: dict[str, Any]
    numeric_type: str | None

    def __init__(
        self,
        kind: FieldKind,
        stored: bool = True,
        analyzer: str = "keyword",
        boost: float = 1.0,
        analyzer_params: dict[str, Any] | None = None,
        query_analyzer: str | None = None,
        query_analyzer_params: dict[str, Any] | None = None,
        numeric_type: str | None = None,
    ) -> None:
        super().__init__(
            kind=kind, stored=stored, analyzer=analyzer, boost=boost,
            analyzer_params={} if analyzer_params is None else analyzer_params, query_analyzer=query_analyzer,
            query_analyzer_params={} if query_analyzer_params is None else query_analyzer_params,
            numeric_type=numeric_type,
        )

    @property
    def is_indexed(self) -> bool:
        """Whether the field's terms go into the inverted index."""
        return self.kind in ("text", "id", "keyword")

    @property
    def is_column(self) -> bool:
        """Whether the field's values are kept in a typed column (for sorting and ranges)."""
        return self.kind in COLUMN_KINDS

    @property
    def is_text(self) -> bool:
        """Whether the field is analyzed full text (ranked, with positions)."""
        return self.kind == "text"

    @property
    def analyzer_spec(self) -> dict[str, Any]:
        """The index-time analyzer as a JSON spec: name and parameters."""
        return {"name": self.analyzer, "params": self.analyzer_params}

    @property
    def query_analyzer_spec(self) -> dict[str, Any]:
        """The analyzer query text goes through (the index-time one unless set)."""
        if self.query_analyzer is None:
            return self.analyzer_spec
        return {"name": self.query_analyzer, "params": self.query_analyzer_params}

    def make_analyzer(self) -> Analyzer:
        """Build this field's index-time analyzer from its stored spec."""
        from searchlib.analysis import analyzer_from_spec

        return analyzer_from_spec(self.analyzer_spec)

    def to_json(self) -> dict[str, Any]:
        import copy  # only a writer serializes a schema: a search does not load copy

        data = {name: copy.deepcopy(getattr(self, name)) for name in self.__slots__}
        if self.query_analyzer is None:
            del data["query_analyzer"], data["query_analyzer_params"]
        if not self.analyzer_params:
            del data["analyzer_params"]
        if self.numeric_type is None:
            del data["numeric_type"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], name: str = "?", recorded: Container[str] = ()) -> Field:
        """The field a stored definition describes. Its analyzers must be known (built in
        or registered) unless named in ``recorded``: built-in presets whose chains the
        index recorded (see :func:`analysis_chains`), which need no look-up."""
        if not isinstance(data, dict) or data.get("kind") not in _KINDS:
            raise SchemaError(f"field {name!r}: malformed definition {data!r}")
        try:
            field = cls(
                kind=data["kind"],
                stored=bool(data.get("stored", True)),
                analyzer=str(data.get("analyzer", "keyword")),
                boost=float(data.get("boost", 1.0)),
                analyzer_params=_params_object(data.get("analyzer_params")),
                query_analyzer=None if data.get("query_analyzer") is None else str(data["query_analyzer"]),
                query_analyzer_params=_params_object(data.get("query_analyzer_params")),
                numeric_type=None if data.get("numeric_type") is None else str(data["numeric_type"]),
            )
            if field.kind == "numeric" and field.numeric_type not in NUMERIC_TYPES:
                raise ValueError(f"numeric_type must be one of {NUMERIC_TYPES}")
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"field {name!r}: malformed definition {data!r}") from exc
        for analyzer_name in (field.analyzer, field.query_analyzer):
            if analyzer_name is not None and analyzer_name not in recorded:
                from searchlib.analysis.presets import is_known_analyzer, unknown_analyzer_error

                if not is_known_analyzer(analyzer_name):
                    raise unknown_analyzer_error(analyzer_name, f" (named by field {name!r})")
        return field


def _params_object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"analyzer parameters {value!r} are not an object")
    return value


def TEXT(  # noqa: N802
    analyzer: str = "english",
    *,
    stored: bool = True,
    boost: float = 1.0,
    analyzer_params: dict[str, Any] | None = None,
    query_analyzer: str | None = None,
    query_analyzer_params: dict[str, Any] | None = None,
) -> Field:
    """Full text, analyzed with the named analyzer (``english`` by default).

    ``analyzer_params`` are passed to the analyzer's factory (and stored in the index as
    JSON); ``query_analyzer`` optionally analyzes query text differently (e.g. index
    with ``edge_ngram``, query with ``standard``).
    """
    # As the index will store them (JSON: tuples become lists), so a reopened index's
    # field compares equal to this one.
    analyzer_params = _as_json(analyzer_params)
    query_analyzer_params = _as_json(query_analyzer_params)
    from searchlib.analysis import get_analyzer  # defining a schema, not searching

    # Fail now, naming the analyzer; store the parameters as resolved (the stemmer a
    # stemming preset chose is recorded, so the index is always read with it).
    analyzer_params = get_analyzer(analyzer, **analyzer_params).spec["params"]  # type: ignore[index]
    if query_analyzer is not None:
        query_analyzer_params = get_analyzer(query_analyzer, **query_analyzer_params).spec["params"]  # type: ignore[index]
    elif query_analyzer_params:
        raise SchemaError("query_analyzer_params given without a query_analyzer")
    if not 0 < boost < float("inf"):  # NaN fails too: an index stores standard JSON only
        raise SchemaError(f"boost must be a positive, finite number, got {boost}")
    return Field(
        "text", stored=stored, analyzer=analyzer, boost=boost,
        analyzer_params=dict(analyzer_params or {}), query_analyzer=query_analyzer,
        query_analyzer_params=dict(query_analyzer_params or {}),
    )


def _as_json(params: dict[str, Any] | None) -> dict[str, Any]:
    import json  # defining a schema, not searching: a search does not load json

    try:
        value = json.loads(json.dumps(params or {}, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"analyzer parameters must be JSON values: {exc}") from None
    if not isinstance(value, dict):
        raise SchemaError(f"analyzer parameters must be an object, got {params!r}")
    return value


def ID(*, stored: bool = True) -> Field:  # noqa: N802
    """The unique key of a document: one exact term."""
    return Field("id", stored=stored)


def KEYWORD(*, stored: bool = True) -> Field:  # noqa: N802
    """Exact terms that are not analyzed (a tag, a category, an ISO date).

    A document gives one string or a list of strings (``tags=["sql", "python"]``): each
    value is its own term (``tags:sql`` finds the document, as does ``tags:python``), the
    value is stored as given (a list comes back as a list), and facets count the document
    once under each distinct value. Sorting by the field orders a document by its
    smallest value ascending and by its largest descending.
    """
    return Field("keyword", stored=stored)


def NUMERIC(numeric_type: str = "float", *, stored: bool = True) -> Field:  # noqa: N802
    """A number per document (``"int"`` or ``"float"``), kept in a column for sorting and ranges."""
    if numeric_type not in NUMERIC_TYPES:
        raise SchemaError(f"NUMERIC takes 'int' or 'float', got {numeric_type!r}")
    return Field("numeric", stored=stored, numeric_type=numeric_type)


def DATETIME(*, stored: bool = True) -> Field:  # noqa: N802
    """A date and time per document (datetime, date or ISO 8601 text), kept in a column."""
    return Field("datetime", stored=stored)


def BOOLEAN(*, stored: bool = True) -> Field:  # noqa: N802
    """True or False per document, kept in a column."""
    return Field("boolean", stored=stored)


def STORED() -> Field:  # noqa: N802
    """A value kept with the document and returned with hits, not searchable."""
    return Field("stored", stored=True)


class FieldAnalyzers(Mapping[str, "Analyzer"]):
    """The index-time analyzer of each field (``analyzers[name]``) and its query-time
    one (``analyzers.query(name)``), built on first use.

    Fields whose analyzers have the same name and parameters share one instance, so its
    term cache serves them all (a word stemmed for ``title`` is not stemmed again for
    ``body``). The schema may grow while this is in use.

    ``chains`` are the core chains an index recorded for its built-in presets (see
    :func:`analysis_chains`): the compiled core runs a recorded spec's chain as recorded,
    for the plain search (:meth:`query_core`, without building the analyzer in Python)
    and for the analyzer built here alike, so the index's queries are analyzed as its
    documents were.
    """

    def __init__(self, schema: Schema, chains: Mapping[str, Any] | None = None) -> None:
        self._schema = schema
        self._chains = {} if chains is None else chains
        self._by_spec: dict[str, Analyzer] = {}
        # Per (field, query side), with the definition it was built for: looked up for
        # every word of every query, so it skips serializing the spec each time.
        self._by_field: dict[tuple[str, bool], tuple[Field, Analyzer]] = {}
        #: The core analyzers of recorded chains, by spec key.
        self._cores: dict[str, Any] = {}

    def _build(self, spec: dict[str, Any]) -> Analyzer:
        key = spec_key(spec)
        analyzer = self._by_spec.get(key)
        if analyzer is None:
            from searchlib.analysis import analyzer_from_spec

            # A spec this searcher resolved to its recorded chain stays the preset as
            # shipped, whatever the application registers under its name afterwards, so
            # the plain search (which runs the chain) and the query tree agree.
            core = self._recorded_core(key, spec)
            analyzer = analyzer_from_spec(spec, as_shipped=core is not None)
            if core is not None and analyzer.is_fast:
                analyzer._core = core
            self._by_spec[key] = analyzer
        return analyzer

    def _recorded_core(self, key: str, spec: dict[str, Any]) -> Any:
        """The core analyzer of ``spec``'s recorded chain, or None when there is none.

        A recorded chain stands for its built-in preset unless the application registered
        another analyzer under that name, which it can only have done through the
        analysis package: when that is not loaded, nothing replaced a preset. The answer
        is kept: a searcher resolves its text fields when it opens, and a registration
        after that applies to the searchers opened after it."""
        core = self._cores.get(key)
        if core is None:
            chain = self._chains.get(key)
            if chain is None:
                return None
            import sys

            presets = sys.modules.get("searchlib.analysis.presets")
            if presets is not None and not presets.is_built_in(spec["name"]):
                return None
            from searchlib import _core

            try:
                core = self._cores[key] = _core.CoreAnalyzer(_core.dump_json(chain))
            except ValueError:  # a chain this core does not build: Python runs the analyzer
                return None
        return core

    def query_core(self, field_name: str) -> Any:
        """The core analyzer of ``field_name``'s query text (``searchlib._core.CoreAnalyzer``),
        or None when its chain runs in Python. A recorded chain is built without the
        analyzer in Python: a plain search loads no analysis code."""
        spec = self._schema[field_name].query_analyzer_spec
        core = self._recorded_core(spec_key(spec), spec)
        if core is not None:
            return core
        analyzer = self.query(field_name)
        return analyzer.core() if analyzer.is_fast else None

    def is_recorded(self, field_name: str) -> bool:
        """Whether the field's index-time analyzer runs a recorded chain in the core (so
        it is not costly: no NLTK stemmer is built into the core)."""
        spec = self._schema[field_name].analyzer_spec
        return self._recorded_core(spec_key(spec), spec) is not None

    def __getitem__(self, field_name: str) -> Analyzer:
        return self._for(field_name, for_query=False)

    def query(self, field_name: str) -> Analyzer:
        """The analyzer for query text on ``field_name``."""
        return self._for(field_name, for_query=True)

    def _for(self, field_name: str, *, for_query: bool) -> Analyzer:
        definition = self._schema[field_name]
        known = self._by_field.get((field_name, for_query))
        if known is not None and known[0] is definition:
            return known[1]
        spec = definition.query_analyzer_spec if for_query else definition.analyzer_spec
        analyzer = self._build(spec)
        self._by_field[(field_name, for_query)] = (definition, analyzer)
        return analyzer

    def __iter__(self) -> Iterator[str]:
        return iter(self._schema.fields)

    def __len__(self) -> int:
        return len(self._schema.fields)


def analysis_chains(schema: Schema, analyzers: FieldAnalyzers | None = None) -> list[dict[str, Any]]:
    """What an index records of its analyzers (a manifest's ``chains``): for each distinct
    spec of a built-in preset whose chain the core runs, ``{"analyzer": spec, "chain":
    the core's spec of the chain}``. A search builds them in the core without loading
    the analysis package, and analyzes queries exactly as the documents were."""
    import json  # written by a commit, not read by a search

    from searchlib.analysis.presets import is_built_in

    analyzers = FieldAnalyzers(schema) if analyzers is None else analyzers
    chains: dict[str, dict[str, Any]] = {}
    for name, definition in schema.fields.items():
        for spec, for_query in ((definition.analyzer_spec, False), (definition.query_analyzer_spec, True)):
            key = spec_key(spec)
            if key in chains or not is_built_in(spec["name"]):
                continue
            analyzer = analyzers.query(name) if for_query else analyzers[name]
            chain = analyzer.core_spec() if analyzer.is_fast else None
            if chain is not None:
                chains[key] = {"analyzer": spec, "chain": json.loads(chain)}
    return list(chains.values())


def recorded_chains(entries: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """A manifest's ``chains`` (see :func:`analysis_chains`) by spec key, and the names
    of their analyzers; ValueError when they are not laid out so."""
    if entries is None:
        return {}, frozenset()
    if not isinstance(entries, list):
        raise ValueError("chains is not a list")
    chains: dict[str, Any] = {}
    for entry in entries:
        spec = entry.get("analyzer") if isinstance(entry, dict) else None
        if not (isinstance(spec, dict) and isinstance(spec.get("name"), str) and isinstance(spec.get("params", {}), dict)
                and isinstance(entry.get("chain"), dict)):
            raise ValueError(f"malformed chain entry {str(entry)[:200]}")
        chains[spec_key(spec)] = entry["chain"]
    return chains, frozenset(entry["analyzer"]["name"] for entry in entries)


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
                    f"field {name!r} is already defined as {existing.kind} {existing.to_json()}; "
                    f"it cannot change to {field.kind} {field.to_json()} in an existing index"
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
    def from_json(cls, data: dict[str, Any], recorded: Container[str] = ()) -> Schema:
        """The schema a manifest stores (``recorded``: see :meth:`Field.from_json`)."""
        if not isinstance(data, dict):
            raise SchemaError(f"malformed schema: expected an object, got {type(data).__name__}")
        return cls(**{name: Field.from_json(value, name, recorded) for name, value in data.items()})


class Group(FrozenRecord):
    """Fields a query searches the same way: text fields sharing a query analyzer
    ("text", scored together as BM25F), or one KEYWORD/ID field ("exact"), or one
    NUMERIC/DATETIME/BOOLEAN field ("column"). ``weights`` are the fields' weights times
    their schema boosts."""

    __slots__ = ("kind", "fields", "weights")
    kind: GroupKind
    fields: tuple[str, ...]
    weights: tuple[float, ...]

    def __init__(self, kind: GroupKind, fields: tuple[str, ...], weights: tuple[float, ...]) -> None:
        super().__init__(kind=kind, fields=fields, weights=weights)

    def members(self) -> Iterator[tuple[str, float]]:
        return zip(self.fields, self.weights)


def spec_key(spec: Mapping[str, Any]) -> str:
    """One string per analyzer spec, the same for equal specs whatever the order of their
    keys, and different for different ones (``1``, ``1.0`` and ``True`` too, as in JSON):
    what analyzers are shared and checked by."""
    from searchlib import _core  # loaded by then: a schema comes from an index or a writer

    try:
        return str(_core.dump_json(spec))  # compact, keys sorted: 1, 1.0 and true differ
    except (TypeError, ValueError):  # a value the core does not write (an int past 64 bits)
        return repr(_sorted_value(spec))


def _sorted_value(value: Any) -> Any:
    """A JSON value with every object's items sorted by key, lists and tuples alike."""
    if isinstance(value, (str, int, float)) or value is None:  # most values: no ABC check
        return value
    if isinstance(value, (list, tuple)):
        return [_sorted_value(item) for item in value]
    if isinstance(value, Mapping):
        return sorted((key, _sorted_value(item)) for key, item in value.items())
    return value


def field_groups(schema: Schema, weights: Mapping[str, float]) -> tuple[Group, ...]:
    """``weights``' fields grouped by how a query searches them, in the order given: text
    fields by query analyzer spec (a group stands where its first field is), others one
    by one. The one rule for the parser's trees and the core's plain searches, whose
    scores must agree."""
    text_fields: dict[str, list[tuple[str, float]]] = {}
    order: list[tuple[GroupKind, str]] = []
    for name, weight in weights.items():
        definition = schema[name]
        if definition.is_text:
            spec = spec_key(definition.query_analyzer_spec)
            if spec not in text_fields:
                order.append(("text", spec))
            text_fields.setdefault(spec, []).append((name, weight * definition.boost))
        else:
            order.append(("column" if definition.is_column else "exact", name))
    groups: list[Group] = []
    for kind, key in order:
        if kind == "text":
            names, field_weights = zip(*text_fields[key])
            groups.append(Group(kind, names, field_weights))
        else:
            groups.append(Group(kind, (key,), (weights[key] * schema[key].boost,)))
    return tuple(groups)
