"""The OpenAPI 3.1 document ``GET /openapi.json`` serves, written by hand.

Starlette generates no schema from plain endpoints, and the API is small: its search
parameters are listed once, in :data:`~searchlib.server.params.SEARCH_PARAMETERS`
order, with their bounds from :mod:`searchlib.server.params`, so the document and the
checks cannot drift apart silently (a test compares the two lists). Each answer has
its shape in :data:`SCHEMAS`, which schemathesis holds every answer of the tests to.
"""

from __future__ import annotations

from typing import Any

from searchlib.server import params as p
from searchlib.similarities import SIMILARITIES


def _parameter(name: str, schema: dict[str, Any], description: str, *, required: bool = False,
               where: str = "query", explode: bool = False) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": schema,
                                 "description": description}
    if explode:
        parameter["explode"] = True
    return parameter


_TEXT: dict[str, Any] = {"type": "string", "maxLength": p.MAX_QUERY_CHARS}

#: Each search parameter's schema and description, by name.
SEARCH: dict[str, tuple[dict[str, Any], str]] = {
    "q": ({**_TEXT, "minLength": 1}, "Query text: words, field:word, AND OR NOT, +/-, \"phrases\", prefix*, "
                                     "fuzzy~1, /regex/, field:[a TO b], word^2."),
    "strict": ({"type": "boolean", "default": False},
               "Refuse a syntax error (400 with its position) instead of reading it as words."),
    "operator": ({"type": "string", "enum": ["OR", "AND"], "default": "OR"}, "How words side by side combine."),
    "fields": ({"type": "string", "maxLength": p.MAX_QUERY_CHARS},
               "Fields to search and their weights, e.g. title^2,body (default: every text field)."),
    "limit": ({"type": "integer", "minimum": 0, "maximum": p.MAX_LIMIT, "default": 10}, "Hits per page."),
    "offset": ({"type": "integer", "minimum": 0, "maximum": p.MAX_OFFSET, "default": 0}, "Hits to skip."),
    "sort": (_TEXT, "A NUMERIC, DATETIME, BOOLEAN or KEYWORD field to order by; -field for descending."),
    "filter": (_TEXT, "A query that restricts the hits without changing their scores."),
    "facet": ({"type": "array", "items": {"type": "string"}, "maxItems": p.MAX_FACETS},
              "A field whose values to count over every match (repeatable)."),
    "snippets": ({"type": "boolean", "default": True}, "Give each hit's snippet with the matches marked."),
    "fragments": ({"type": "integer", "minimum": 1, "maximum": p.MAX_FRAGMENTS, "default": 1},
                  "Fragments per snippet, at most."),
    "width": ({"type": "integer", "minimum": p.MIN_WIDTH, "maximum": p.MAX_WIDTH}, "Characters per fragment, about."),
    "snippet_format": ({"type": "string", "enum": ["all", *p.SNIPPET_KEYS], "default": "all"},
                       "Which snippet keys each hit keeps: snippet (plain), snippet_html, snippet_spans, or all."),
    "max_field_chars": ({"type": "integer", "minimum": 0, "maximum": 10_000_000},
                        "Leave out stored text longer than this (named in omitted_fields)."),
    "explain": ({"type": "boolean", "default": False}, "Add each hit's score explanation."),
    "k1": ({"type": "number", "minimum": 0, "maximum": 100}, "BM25 k1 for this query."),
    "b": ({"type": "number", "minimum": 0, "maximum": 1}, "BM25 b for this query."),
    "similarity": ({"type": "string", "enum": list(SIMILARITIES)}, "BM25 variant for this query."),
    "suggest": ({"type": "boolean", "default": True},
                "Add 'suggestion', a corrected query, when the query found few hits."),
}

_ERROR = {
    "description": "What was wrong with the request.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object with these properties, ``required`` ones always there."""
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


_INT = {"type": "integer", "minimum": 0}
_STRINGS = {"type": "array", "items": {"type": "string"}}

#: The answers' shapes, as :meth:`Results.to_dict`, the searcher and ``index_info`` give
#: them: what a client may count on, checked against every answer by the API's tests.
SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": _object({"status": {"type": "integer"}, "message": {"type": "string"}},
                                       {"parameter": {"type": "string"}, "position": {"type": "integer"}})}),
    "Explanation": _object({"value": {"type": "number"}, "description": {"type": "string"},
                            "details": {"type": "array", "items": _ref("Explanation")}}),
    "Hit": _object(
        {"rank": {"type": "integer", "minimum": 1}, "id": {"type": "string"}, "score": {"type": "number"},
         "fields": {"type": "object"}},
        {"omitted_fields": _STRINGS,
         "snippet": {"type": "string"}, "snippet_html": {"type": "string"},
         "snippet_spans": {"type": "array", "items": _object({"text": {"type": "string"}, "start": _INT, "end": _INT,
                                                               "matched": {"type": "boolean"}})},
         "snippet_field": {"type": ["string", "null"]}, "snippet_is_opening": {"type": "boolean"},
         "snippet_truncated": {"type": "boolean"}, "explanation": _ref("Explanation")},
    ),
    "Facet": _object({"field": {"type": "string"}, "missing": _INT, "other": _INT,
                      "counts": {"type": "array", "items": _object({"value": {}, "count": _INT},
                                                                    {"start": {}, "end": {}})}}),
    "Results": _object(
        {"query": {"type": "string"}, "total": _INT, "offset": _INT, "warnings": _STRINGS,
         "hits": {"type": "array", "items": _ref("Hit"), "maxItems": p.MAX_LIMIT}},
        {"facets": {"type": "object", "additionalProperties": _ref("Facet")},
         "suggestion": {"type": ["string", "null"]}},
    ),
    "Suggestion": _object({"query": {"type": "string"}, "suggestion": {"type": ["string", "null"]}}),
    "Document": _object({"id": {"type": "string"}, "fields": {"type": "object"}}),
    "Health": _object({"status": {"const": "ok"}, "generation": _INT, "documents": _INT,
                       "writes": {"type": "boolean"}}),
    "Info": _object({
        "index": {"type": "string"}, "format_version": {"type": "integer"}, "generation": _INT, "documents": _INT,
        "deleted_documents": _INT, "size_bytes": _INT,
        "segments": {"type": "array", "items": _object({"name": {"type": "string"}, "documents": _INT,
                                                        "deleted": _INT, "bytes": _INT})},
        "fields": {"type": "object", "additionalProperties": _object({"kind": {"type": "string"},
                                                                      "stored": {"type": "boolean"}})},
    }),
    "Queued": _object({"queued": _INT}),
    "Committed": _object({"generation": _INT}),
}
_ID = _parameter("id", {"type": "string"}, "The document's ID field value.", required=True, where="path")
_AUTH: list[dict[str, list[str]]] = [{"bearer": []}]
_DOCUMENTS_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"oneOf": [
        {"type": "object"}, {"type": "array", "items": {"type": "object"}, "maxItems": 1000},
    ]}}},
}


def _operation(summary: str, answer: str, parameters: list[dict[str, Any]] | None = None, *, ok: str = "200",
               write: bool = False, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One operation, whose ``ok`` answer has the schema named ``answer``."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {ok: {"description": "OK", "content": {"application/json": {"schema": _ref(answer)}}},
                      "4XX": _ERROR},
    }
    if write:
        operation["security"] = _AUTH
    if body is not None:
        operation["requestBody"] = body
    return operation


def openapi_document(*, writes: bool) -> dict[str, Any]:
    """The API's description; the write operations are listed only when allowed."""
    search_parameters = [
        _parameter(name, schema, description, required=name == "q", explode=name == "facet")
        for name, (schema, description) in ((n, SEARCH[n]) for n in p.SEARCH_PARAMETERS)
    ]
    paths: dict[str, Any] = {
        "/health": {"get": _operation("Whether the server is up; the generation and documents it searches.",
                                      "Health")},
        "/api/search": {"get": _operation("Search: one page of hits, as `searchlib query --json` prints it.",
                                          "Results", search_parameters)},
        "/api/suggest": {"get": _operation("Did you mean: the query with its unknown words corrected, or null.",
                                           "Suggestion",
                                           [_parameter("q", {**_TEXT, "minLength": 1}, "Query text.", required=True)])},
        "/api/info": {"get": _operation("The index: documents, segments, fields, size, format.", "Info")},
        "/api/documents/{id}": {"get": _operation("A document's stored fields, by id.", "Document", [_ID])},
        "/api/documents/{id}/similar": {"get": _operation("Documents like this one (more like this).", "Results", [
            _ID,
            _parameter("limit", {"type": "integer", "minimum": 0, "maximum": 100, "default": 10}, "Hits."),
            _parameter("snippets", {"type": "boolean", "default": False}, "Give each hit's snippet."),
        ])},
    }
    if writes:
        paths["/api/documents"] = {
            "post": _operation("Queue documents to add (one JSON object or an array).", "Queued", ok="202",
                               write=True, body=_DOCUMENTS_BODY),
            "put": _operation("Queue new versions of documents, replacing those with the same id.", "Queued", ok="202",
                              write=True, body=_DOCUMENTS_BODY),
        }
        paths["/api/documents/{id}"]["delete"] = _operation("Queue the deletion of a document.", "Queued", [_ID],
                                                            ok="202", write=True)
        paths["/api/commit"] = {"post": _operation("Commit what is queued; searches see it once this returns.",
                                                   "Committed", write=True)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "searchlib", "version": "1",
                 "description": "Full-text search over one searchlib index."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
