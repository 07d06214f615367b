"""What an HTTP request asks for, read from its query string and checked.

Every value a client sends is parsed and bounded here, before any search runs: a bad
value becomes a :class:`BadRequest` naming the parameter (a 400 for the client), and no
request can ask for a page, snippet or query so large that it runs for long or fills
memory. The web framework hands over the query string as a mapping of lists; nothing
here depends on which framework it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from searchlib.similarities import SIMILARITIES

#: Most hits one page may hold.
MAX_LIMIT = 100
#: Deepest page start: ranking every match to page past it costs more than any reader pages.
MAX_OFFSET = 10_000
#: Most characters of query (or filter) text.
MAX_QUERY_CHARS = 2_000
#: Most facets one search may count.
MAX_FACETS = 10
#: Most fragments per snippet, and the bounds of a fragment's width in characters.
MAX_FRAGMENTS = 10
MIN_WIDTH, MAX_WIDTH = 20, 2_000
#: Which snippet keys each ``snippet_format`` keeps (``all``: every one).
SNIPPET_KEYS = {
    "plain": ("snippet",),
    "html": ("snippet_html",),
    "spans": ("snippet_spans",),
}


class BadRequest(Exception):
    """A request the server will not run: ``status`` (4xx), what was wrong, and where in
    the query text when it is a syntax error."""

    def __init__(self, message: str, *, status: int = 400, parameter: str | None = None,
                 position: int | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.parameter = parameter
        self.position = position
        #: Headers the response must carry (a 401's ``WWW-Authenticate``).
        self.headers = dict(headers or {})

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON body the client gets."""
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.parameter is not None:
            error["parameter"] = self.parameter
        if self.position is not None:
            error["position"] = self.position
        return {"error": error}


class Params:
    """A request's query string, read one typed parameter at a time."""

    def __init__(self, values: Mapping[str, Sequence[str]], known: Sequence[str]) -> None:
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise BadRequest(f"unknown parameter {unknown[0]!r}; known: {', '.join(known)}", parameter=unknown[0])
        self._values = values

    def all(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    def text(self, name: str, default: str | None = None, *, max_chars: int = MAX_QUERY_CHARS) -> str | None:
        values = self.all(name)
        if not values:
            return default
        if len(values) > 1:
            raise BadRequest(f"{name} is given {len(values)} times; give it once", parameter=name)
        value = values[0]
        if len(value) > max_chars:
            raise BadRequest(f"{name} is {len(value)} characters long; at most {max_chars} are accepted",
                             status=413, parameter=name)
        return value

    def whole(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise BadRequest(f"{name} must be a whole number, got {value!r}", parameter=name) from None
        if not low <= number <= high:
            raise BadRequest(f"{name} must be between {low} and {high}, got {number}", parameter=name)
        return number

    def number(self, name: str, low: float, high: float | None = None) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise BadRequest(f"{name} must be a number, got {value!r}", parameter=name) from None
        if not (number >= low and (high is None or number <= high)):  # NaN fails both
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise BadRequest(f"{name} must be {bounds}, got {value}", parameter=name)
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise BadRequest(f"{name} must be true or false, got {value!r}", parameter=name)

    def choice(self, name: str, choices: Sequence[str], default: str | None) -> str | None:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            raise BadRequest(f"{name} must be one of {', '.join(choices)}, got {value!r}", parameter=name)
        return value


def parse_fields(text: str | None) -> dict[str, float] | None:
    """``title^2,body`` as ``{"title": 2.0, "body": 1.0}``: the fields a query string
    searches and their weights (None: the index's text fields, alike)."""
    if text is None or not text.strip():
        return None
    weights: dict[str, float] = {}
    for item in text.split(","):
        name, caret, weight = item.strip().partition("^")
        if not name:
            raise BadRequest(f"fields: an empty name in {text!r}; give names separated by commas, "
                             "each with an optional ^weight", parameter="fields")
        try:
            value = float(weight) if caret else 1.0
        except ValueError:
            raise BadRequest(f"fields: {item.strip()!r} has a weight that is not a number", parameter="fields") from None
        if not value > 0 or value == float("inf"):
            raise BadRequest(f"fields: {item.strip()!r} needs a positive weight", parameter="fields")
        weights[name] = value
    return weights


#: The parameters of a search, in the order the OpenAPI document lists them.
SEARCH_PARAMETERS = ("q", "strict", "operator", "fields", "limit", "offset", "sort", "filter", "facet",
                     "snippets", "fragments", "width", "snippet_format", "max_field_chars", "explain",
                     "k1", "b", "similarity", "suggest")


@dataclass
class SearchRequest:
    """One search, as :meth:`Searcher.search` and :meth:`Results.to_dict` take it."""

    q: str
    strict: bool = False
    operator: str = "OR"
    fields: dict[str, float] | None = None
    limit: int = 10
    offset: int = 0
    sort: str | None = None
    filter: str | None = None
    facets: list[str] = field(default_factory=list)
    snippets: bool = True
    fragments: int = 1
    width: int | None = None
    snippet_format: str = "all"
    max_field_chars: int | None = None
    explain: bool = False
    k1: float | None = None
    b: float | None = None
    similarity: str | None = None
    suggest: bool = True

    @classmethod
    def from_query(cls, values: Mapping[str, Sequence[str]]) -> SearchRequest:
        """The search a query string asks for; :class:`BadRequest` if any value is wrong."""
        params = Params(values, SEARCH_PARAMETERS)
        q = params.text("q")
        if q is None or not q.strip():
            raise BadRequest("q is missing or blank: give the words to search for", parameter="q")
        facets = params.all("facet")
        if len(facets) > MAX_FACETS:
            raise BadRequest(f"at most {MAX_FACETS} facets may be counted, got {len(facets)}", parameter="facet")
        max_chars = params.text("max_field_chars")
        return cls(
            q=q,
            strict=params.flag("strict", False),
            operator=params.choice("operator", ("OR", "AND"), "OR") or "OR",
            fields=parse_fields(params.text("fields")),
            limit=params.whole("limit", 10, 0, MAX_LIMIT),
            offset=params.whole("offset", 0, 0, MAX_OFFSET),
            sort=params.text("sort"),
            filter=params.text("filter"),
            facets=facets,
            snippets=params.flag("snippets", True),
            fragments=params.whole("fragments", 1, 1, MAX_FRAGMENTS),
            width=params.whole("width", 160, MIN_WIDTH, MAX_WIDTH) if params.text("width") is not None else None,
            snippet_format=params.choice("snippet_format", ("all", *SNIPPET_KEYS), "all") or "all",
            max_field_chars=None if max_chars is None else params.whole("max_field_chars", 0, 0, 10_000_000),
            explain=params.flag("explain", False),
            k1=params.number("k1", 0.0, 100.0),
            b=params.number("b", 0.0, 1.0),
            similarity=params.choice("similarity", SIMILARITIES, None),
            suggest=params.flag("suggest", True),
        )
