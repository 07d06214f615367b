"""The ASGI application behind ``searchlib serve``: routes, errors and writes.

Searches run in Starlette's thread pool (their endpoints are plain functions), each on
the :class:`~searchlib.manager.SearcherManager`'s current searcher, so that a commit
never closes a snapshot under a running search. Writes, when allowed, go to one
:class:`~searchlib.queued.QueuedWriter`, whose ``on_commit`` refreshes the manager: a
search that starts after a commit returns sees it.

Every error a client can cause becomes a JSON body ``{"error": {"status", "message",
...}}`` with a 4xx status; anything else is logged here and answered with a bare 500,
never with a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, request_response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from searchlib.errors import AnalyzerError, QueryError, SchemaError
from searchlib.manager import SearcherManager
from searchlib.queued import CommitError, QueuedWriter
from searchlib.searcher import Results, Searcher
from searchlib.server.openapi import openapi_document
from searchlib.server.params import SNIPPET_KEYS, BadRequest, Params, SearchRequest

logger = logging.getLogger(__name__)

#: Largest request body a write may send, by default (bytes).
DEFAULT_MAX_BODY = 1 << 20
#: Most documents one write request may hold.
MAX_DOCUMENTS_PER_REQUEST = 1_000
#: The environment variable a write token may come from instead of ``--token``.
TOKEN_VARIABLE = "SEARCHLIB_TOKEN"
#: The Host headers a server on loopback answers: a web page elsewhere that rebinds its
#: own name to 127.0.0.1 gets a 400, not the index (DNS rebinding).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Headers on the search page: its script and style come from this server alone, and
#: nothing else may frame it.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
#: Seconds between looks for commits made by other processes, by default.
DEFAULT_REFRESH_INTERVAL = 1.0
STATIC = Path(__file__).resolve().parent / "static"


class ServerState:
    """What the routes share: the index's path, its searcher manager and, when writes
    are allowed, its queued writer and the token that unlocks it."""

    def __init__(self, index_dir: str, *, allow_writes: bool, token: str | None,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        if allow_writes and not token:
            raise ValueError(f"writes need a token: give --token or set {TOKEN_VARIABLE}")
        self.index_dir = index_dir
        self.manager = SearcherManager(index_dir)
        self.allow_writes = allow_writes
        self.token = token
        self.max_body = max_body
        self.writer: QueuedWriter | None = None
        if allow_writes:
            manager = self.manager
            try:
                self.writer = QueuedWriter(index_dir, on_commit=lambda _generation: manager.maybe_refresh())
            except BaseException:  # the index's lock is held elsewhere, say
                manager.close()
                raise

    def close(self) -> None:
        """Commit what is queued, release the index's lock, close the searchers."""
        try:
            if self.writer is not None:
                self.writer.close()
        finally:
            self.manager.close()


# --- searching ---------------------------------------------------------------------------


def run_search(searcher: Searcher, request: SearchRequest) -> dict[str, Any]:
    """The search ``request`` asks for, as ``searchlib query --json`` prints it (through
    :meth:`Results.to_dict`), with ``suggestion`` (did you mean) when asked."""
    warnings: list[str] = []
    query: Any = request.q
    if request.fields is not None or request.operator != "OR":
        query = _parsed(searcher, request, warnings)
    results: Results = searcher.search(
        query, limit=request.limit, offset=request.offset, sort=request.sort, filter=request.filter,
        strict=request.strict, k1=request.k1, b=request.b, similarity=request.similarity,
        facets=request.facets or None,
    )
    results.warnings[:0] = warnings
    document = results.to_dict(snippets=request.snippets, count=request.fragments, width=request.width,
                               explain=request.explain, max_field_chars=request.max_field_chars)
    if request.snippets and request.snippet_format != "all":
        dropped = {key for name, keys in SNIPPET_KEYS.items() if name != request.snippet_format for key in keys}
        for hit in document["hits"]:
            for key in dropped:
                hit.pop(key, None)
    if request.suggest:
        from searchlib.cli import _suggestion  # the command line's rule for when to suggest

        document["suggestion"] = _suggestion(searcher, request.q, results.total, request.strict)
    return document


def _parsed(searcher: Searcher, request: SearchRequest, warnings: list[str]) -> Any:
    """The query tree of ``request.q`` over its own fields, weights and operator (the
    searcher's parser has the index's defaults)."""
    from searchlib import highlight
    from searchlib.parser import QueryParser

    try:
        parser = QueryParser(searcher.schema, request.fields, searcher.analyzers,
                             default_operator=request.operator, limits=searcher.limits)
    except (SchemaError, ValueError, KeyError) as exc:
        raise BadRequest(f"fields: {exc}", parameter="fields") from None
    tree = parser.parse(request.q, strict=request.strict, warnings=warnings)
    highlight.remember_text(tree, request.q)  # snippets prefer the words as typed
    return tree


def _query(request: Request) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        values.setdefault(name, []).append(value)
    return values


def _id_field(searcher: Searcher) -> str:
    name = searcher.schema.id_field
    if name is None:
        raise BadRequest("the index's schema has no ID field, so documents have no id to ask for", status=404)
    return name


def _hit_by_id(searcher: Searcher, value: str) -> Any:
    from searchlib.query import Term

    found = searcher.search(Term(_id_field(searcher), value), limit=1)
    if not found.hits:
        raise BadRequest(f"no document has the id {value!r}", status=404, parameter="id")
    return found.hits[0]


class Routes:
    """The endpoints, bound to one :class:`ServerState`."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def _with_searcher(self, work: Callable[[Searcher], Any]) -> Any:
        with self.state.manager.searcher() as searcher:
            return work(searcher)

    def search(self, request: Request) -> Response:
        wanted = SearchRequest.from_query(_query(request))
        return JSONResponse(self._with_searcher(lambda searcher: run_search(searcher, wanted)))

    def suggest(self, request: Request) -> Response:
        params = Params(_query(request), ("q",))
        text = params.text("q")
        if text is None or not text.strip():
            raise BadRequest("q is missing or blank", parameter="q")
        suggestion = self._with_searcher(lambda searcher: searcher.did_you_mean(text))
        return JSONResponse({"query": text, "suggestion": suggestion})

    def document(self, request: Request) -> Response:
        value = request.path_params["id"]
        Params(_query(request), ())
        data = self._with_searcher(lambda searcher: _hit_by_id(searcher, value).to_dict(snippets=False))
        return JSONResponse({"id": data["id"], "fields": data["fields"]})

    def similar(self, request: Request) -> Response:
        value = request.path_params["id"]
        params = Params(_query(request), ("limit", "snippets"))
        limit = params.whole("limit", 10, 0, 100)
        snippets = params.flag("snippets", False)

        def work(searcher: Searcher) -> dict[str, Any]:
            results = searcher.more_like_this(_hit_by_id(searcher, value), limit=limit)
            return results.to_dict(snippets=snippets)

        return JSONResponse(self._with_searcher(work))

    def info(self, request: Request) -> Response:
        from searchlib.check import index_info

        Params(_query(request), ())
        return JSONResponse(index_info(self.state.index_dir))

    def health(self, request: Request) -> Response:
        def work(searcher: Searcher) -> dict[str, Any]:
            return {"status": "ok", "generation": searcher.index.generation, "documents": searcher.doc_count,
                    "writes": self.state.allow_writes}

        return JSONResponse(self._with_searcher(work))

    def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document(writes=self.state.allow_writes))

    def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    # --- writes ------------------------------------------------------------------------

    def _writer(self, request: Request) -> QueuedWriter:
        """The queued writer, once the request has shown the token."""
        state = self.state
        if not state.allow_writes:
            raise BadRequest("this server is read-only; start it with --allow-writes to accept changes", status=403)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        assert state.token is not None and state.writer is not None
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), state.token.encode()):
            raise BadRequest("writes need the server's token as 'Authorization: Bearer TOKEN'", status=401,
                             headers={"WWW-Authenticate": 'Bearer realm="searchlib"'})
        return state.writer

    async def _documents(self, request: Request) -> list[Mapping[str, Any]]:
        """The body's documents: one JSON object, or an array of them, bounded in size."""
        limit = self.state.max_body
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BadRequest(f"the body is {declared} bytes; at most {limit} are accepted", status=413)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadRequest(f"the body is over {limit} bytes, the most accepted", status=413)
            chunks.append(chunk)
        try:
            body = json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not JSON: {exc}") from None
        documents = body if isinstance(body, list) else [body]
        if len(documents) > MAX_DOCUMENTS_PER_REQUEST:
            raise BadRequest(f"{len(documents)} documents in one request; at most {MAX_DOCUMENTS_PER_REQUEST}")
        for number, document in enumerate(documents):
            if not isinstance(document, dict):
                raise BadRequest(f"document {number} is not a JSON object")
        return documents

    async def _queue(self, request: Request, update: bool) -> Response:
        writer = self._writer(request)
        documents = await self._documents(request)
        for number, document in enumerate(documents):
            try:
                (writer.update_document if update else writer.add_document)(document)
            except (SchemaError, AnalyzerError, TypeError, ValueError) as exc:
                raise BadRequest(f"document {number} was refused ({exc}); the {number} before it were queued") from None
        return JSONResponse({"queued": len(documents)}, status_code=202)

    async def add(self, request: Request) -> Response:
        return await self._queue(request, update=False)

    async def update(self, request: Request) -> Response:
        return await self._queue(request, update=True)

    async def delete(self, request: Request) -> Response:
        writer = self._writer(request)
        value = request.path_params["id"]
        id_field = writer.schema.id_field
        if id_field is None:
            raise BadRequest("the index's schema has no ID field to delete by", status=404)
        writer.delete_by_term(id_field, value)
        return JSONResponse({"queued": 1}, status_code=202)

    async def commit(self, request: Request) -> Response:
        writer = self._writer(request)
        generation = await run_in_threadpool(writer.commit)
        return JSONResponse({"generation": generation})


# --- routing -----------------------------------------------------------------------------

Endpoint = Callable[[Request], Any]


class Resource:
    """One path's endpoints by method, as one route: any other method gets a 405 whose
    ``Allow`` names them all (HEAD with GET).

    A route per method would match a path, then its method, one route at a time: the
    405 of ``POST /api/documents``'s route would allow POST alone, though PUT is served
    too, and ``DELETE /api/documents/ID/similar`` would fall through to the deletion of
    a document whose id is ``ID/similar``, where GET on that path means "like ``ID``".
    """

    def __init__(self, handlers: Mapping[str, Endpoint]) -> None:
        self.apps = {method: request_response(handler) for method, handler in handlers.items()}
        if "GET" in self.apps:
            self.apps["HEAD"] = self.apps["GET"]
        self.allow = ", ".join(sorted(self.apps))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.apps.get(scope["method"])
        if app is None:
            raise HTTPException(405, f"{scope['method']} is not allowed here; allowed: {self.allow}",
                                headers={"Allow": self.allow})
        await app(scope, receive, send)


def resource(path: str, **handlers: Endpoint) -> Route:
    """The route of ``path`` to ``handlers`` (keyword: the method each answers)."""
    return Route(path, Resource(handlers))


# --- errors ------------------------------------------------------------------------------


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)


async def _query_error(request: Request, exc: Exception) -> Response:
    """A query that cannot be parsed or run: 400, with where in the text when known."""
    position = exc.position if isinstance(exc, QueryError) else None
    message = exc.message if isinstance(exc, QueryError) else str(exc)
    return await _bad_request(request, BadRequest(message, position=position))


async def _commit_error(request: Request, exc: Exception) -> Response:
    """A commit that failed (a full disk): the changes stay queued and are tried again."""
    message = f"{exc}; the changes stay queued and the commit is tried again"
    return JSONResponse(BadRequest(message, status=503).to_dict(), status_code=503)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(BadRequest(exc.detail, status=exc.status_code).to_dict(), status_code=exc.status_code,
                        headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    """Anything else: logged in full here, a bare 500 for the client."""
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": {"status": 500, "message": "internal error; the server's log says more"}},
                        status_code=500)


async def _refresh_every(manager: SearcherManager, interval: float) -> None:
    """Look for a newer commit every ``interval`` seconds: another process (``searchlib
    index``, say) may write to an index this server only reads. Commits of the server's
    own writer refresh at once, through its ``on_commit``."""
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(manager.maybe_refresh)
        except Exception:  # a commit half-visible, a closed manager: the next look decides
            logger.warning("could not refresh the searcher", exc_info=True)


def create_app(index_dir: str | os.PathLike[str], *, allow_writes: bool = False, token: str | None = None,
               max_body: int = DEFAULT_MAX_BODY, refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
               allowed_hosts: Sequence[str] | None = None) -> Starlette:
    """The application serving the index at ``index_dir``: opened when the server
    starts, its writer (if any) committed and closed when it stops. ``allowed_hosts``,
    when given, are the only Host headers it answers (:data:`LOOPBACK_HOSTS` for a server
    on loopback)."""
    state = ServerState(os.fspath(index_dir), allow_writes=allow_writes, token=token, max_body=max_body)
    routes = Routes(state)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        refresher = asyncio.create_task(_refresh_every(state.manager, refresh_interval))
        try:
            yield
        finally:
            refresher.cancel()
            await run_in_threadpool(state.close)

    app = Starlette(
        routes=[
            resource("/", GET=routes.page),
            resource("/health", GET=routes.health),
            resource("/openapi.json", GET=routes.openapi),
            resource("/api/search", GET=routes.search),
            resource("/api/suggest", GET=routes.suggest),
            resource("/api/info", GET=routes.info),
            resource("/api/documents", POST=routes.add, PUT=routes.update),
            # Before the document's own path, which would take ".../similar" as part of an id.
            resource("/api/documents/{id:path}/similar", GET=routes.similar),
            resource("/api/documents/{id:path}", GET=routes.document, DELETE=routes.delete),
            resource("/api/commit", POST=routes.commit),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={
            BadRequest: _bad_request,
            QueryError: _query_error,
            SchemaError: _query_error,
            AnalyzerError: _query_error,
            HTTPException: _http_error,
            CommitError: _commit_error,
            Exception: _internal_error,
        },
        lifespan=lifespan,
        middleware=[] if allowed_hosts is None else [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))],
    )
    app.state.server = state
    return app
