"""``searchlib serve`` tested as a client sees it: a real server process on loopback,
spoken to over HTTP with the standard library's urllib.

Each test module starts two servers (one read-only, one that accepts writes with a
token) on free ports (``tests/serving.py``), waits for ``/health`` and stops them at the
end; a server takes about a second to start. The tests skip, saying why, when the
server's packages (Starlette and uvicorn, the ``server`` extra) are not installed.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import searchlib_command

pytest.importorskip("starlette", reason='the server extra is not installed: pip install "searchlib[server]"')
pytest.importorskip("uvicorn", reason='the server extra is not installed: pip install "searchlib[server]"')

from searchlib import Index  # noqa: E402
from tests.serving import TOKEN, Server, make_index, start_server  # noqa: E402

MAX_BODY = 4096


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_server(make_index(tmp_path_factory.mktemp("serve") / "index")) as server:
        yield server


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    index = make_index(tmp_path_factory.mktemp("serve-writes") / "index")
    # A small body limit, so that a body past it still fits the socket's buffers and the
    # client reads the 413 rather than a reset connection.
    with start_server(index, "--allow-writes", "--max-body", str(MAX_BODY), env={"SEARCHLIB_TOKEN": TOKEN}) as server:
        yield server


# --- searching -------------------------------------------------------------------------


def test_health_says_what_is_served(reader: Server) -> None:
    status, body = reader.get("/health")
    assert status == 200
    assert body["status"] == "ok" and body["documents"] == 4 and body["writes"] is False


def test_search_gives_the_json_of_searchlib_query(reader: Server, tmp_path: Path) -> None:
    status, body = reader.get("/api/search", q="direct talks")
    assert status == 200
    assert body["total"] == 3 and body["hits"][0]["id"] == "d1"
    query = subprocess.run(searchlib_command() + ["query", "direct talks", "--json", "--index",
                                                  body_index(reader)], capture_output=True, text=True, timeout=120)
    assert query.returncode == 0, query.stderr
    assert body == json.loads(query.stdout)


def body_index(server: Server) -> str:
    status, info = server.get("/api/info")
    assert status == 200
    return str(info["index"])


def test_search_options_reach_the_search(reader: Server) -> None:
    status, body = reader.get("/api/search", q="talks", sort="-year", limit=2, offset=1, facet="tag",
                              filter="tag:politics", fields="title^2,body", fragments=2, width=40,
                              snippet_format="html", explain="true", k1="1.5", b="0.5")
    assert status == 200, body
    assert body["total"] == 2 and body["offset"] == 1
    assert [hit["id"] for hit in body["hits"]] == ["d1"]  # d4 (2004) first, on the page skipped
    hit = body["hits"][0]
    assert "<mark>" in hit["snippet_html"] and "snippet" not in hit and "snippet_spans" not in hit
    assert "explanation" in hit
    assert body["facets"]["tag"]["counts"] == [{"value": "politics", "count": 2}]


def test_the_fields_searched_are_the_ones_asked(reader: Server) -> None:
    assert reader.get("/api/search", q="harvest", fields="title")[1]["total"] == 1
    assert reader.get("/api/search", q="wheat", fields="title")[1]["total"] == 0
    assert reader.get("/api/search", q="wheat", fields="body")[1]["total"] == 1
    assert reader.get("/api/search", q="direct talks", operator="AND")[1]["total"] == 1


def test_snippets_are_escaped_html(reader: Server) -> None:
    status, body = reader.get("/api/search", q="bold", fields="title")
    assert status == 200 and body["total"] == 1
    assert "&lt;" in body["hits"][0]["snippet_html"] and "<b>" not in body["hits"][0]["snippet_html"]


def test_did_you_mean(reader: Server) -> None:
    status, body = reader.get("/api/search", q="harvset")
    assert status == 200 and body["total"] == 0 and body["suggestion"] == "harvest"
    assert reader.get("/api/suggest", q="harvset") == (200, {"query": "harvset", "suggestion": "harvest"})


def test_a_document_and_those_like_it(reader: Server) -> None:
    status, body = reader.get("/api/documents/d2")
    assert status == 200 and body["id"] == "d2" and body["fields"]["title"] == "Trade talks stall"
    status, body = reader.get("/api/documents/d2/similar", limit=5)
    assert status == 200 and body["hits"] and all(hit["id"] != "d2" for hit in body["hits"])
    status, body = reader.get("/api/documents/nope")
    assert status == 404 and "nope" in body["error"]["message"]


def test_the_openapi_document_lists_every_search_parameter_checked() -> None:
    from searchlib.server.openapi import SEARCH
    from searchlib.server.params import SEARCH_PARAMETERS

    assert list(SEARCH) == list(SEARCH_PARAMETERS)


def test_info_and_openapi(reader: Server) -> None:
    status, info = reader.get("/api/info")
    assert status == 200 and info["documents"] == 4 and "title" in info["fields"]
    status, spec = reader.get("/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    names = [p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]]
    assert "q" in names and "facet" in names
    assert "/api/commit" not in spec["paths"]  # a read-only server lists no writes


def test_a_read_only_server_sees_commits_of_other_processes(tmp_path: Path) -> None:
    index = make_index(tmp_path / "index")
    with start_server(index) as server:
        with Index.open(str(index)).writer() as writer:
            writer.add_document({"id": "n1", "title": "Late news", "body": "Nothing else."})
        deadline = time.monotonic() + 30
        while server.get("/health")[1]["documents"] != 5:
            assert time.monotonic() < deadline, "the server never saw the commit"
            time.sleep(0.1)
        assert server.get("/api/search", q="late")[1]["total"] == 1


# --- bad requests ------------------------------------------------------------------------


def test_a_syntax_error_in_strict_mode_says_where(reader: Server) -> None:
    status, body = reader.get("/api/search", q="talks AND (peace", strict="true")
    assert status == 400
    assert isinstance(body["error"]["position"], int) and body["error"]["message"]
    lenient = reader.get("/api/search", q="talks AND (peace")
    assert lenient[0] == 200


@pytest.mark.parametrize(("query", "parameter"), [
    ({"q": ""}, "q"),
    ({}, "q"),
    ({"q": "talks", "limit": "many"}, "limit"),
    ({"q": "talks", "limit": "100000"}, "limit"),
    ({"q": "talks", "b": "2"}, "b"),
    ({"q": "talks", "similarity": "nonsense"}, "similarity"),
    ({"q": "talks", "fields": "title^x"}, "fields"),
    ({"q": "talks", "bogus": "1"}, "bogus"),
])
def test_bad_parameters_are_named(reader: Server, query: dict[str, str], parameter: str) -> None:
    status, body = reader.get("/api/search", **query)
    assert status == 400, body
    assert body["error"]["parameter"] == parameter and body["error"]["message"]


def test_bad_fields_and_sorts_are_400s_without_a_trace(reader: Server) -> None:
    for query in ({"q": "talks", "fields": "nosuchfield"}, {"q": "talks", "sort": "body"},
                  {"q": "talks", "facet": "body"}):
        status, body = reader.get("/api/search", **query)
        assert status == 400, (query, body)
        assert "Traceback" not in json.dumps(body)


def test_long_queries_are_refused(reader: Server) -> None:
    status, body = reader.get("/api/search", q="talks " * 1000)
    assert status == 413 and body["error"]["parameter"] == "q"


def test_a_server_on_loopback_answers_only_loopback_names(reader: Server) -> None:
    connection = http.client.HTTPConnection(reader.url.removeprefix("http://"), timeout=30)
    try:
        connection.request("GET", "/api/search?q=talks", headers={"Host": "attacker.example"})
        assert connection.getresponse().status == 400
    finally:
        connection.close()
    assert reader.get("/api/search", q="talks")[0] == 200


def test_an_unknown_path_is_a_json_404(reader: Server) -> None:
    status, body = reader.get("/api/nothing")
    assert status == 404 and body["error"]["status"] == 404


def test_a_method_not_served_is_a_405_naming_those_that_are(writable: Server) -> None:
    status, body, headers = writable.request("OPTIONS", "/api/documents", token=TOKEN)
    assert status == 405 and headers["allow"] == "POST, PUT" and "POST, PUT" in body["error"]["message"]
    # Not the deletion of a document whose id is "d1/similar": that path is d1's look-alikes.
    status, _, headers = writable.request("DELETE", "/api/documents/d1/similar", token=TOKEN)
    assert status == 405 and headers["allow"] == "GET, HEAD"
    status, _, headers = writable.request("PATCH", "/api/documents/d1", token=TOKEN)
    assert status == 405 and headers["allow"] == "DELETE, GET, HEAD"


#: Pieces of query syntax, whole and broken, that random queries are made of.
SYNTAX = ["talks", "harvest", "peace", "title:", "tag:economy", "year:[2001 TO 2003]", "year:[x TO", "AND", "OR",
          "NOT", "(", ")", '"', '"direct talks"~2', "+", "-", "*", "tal*", "t?lks", "harvset~1", "/ta.*/", "/[/",
          "^2", "\\", ":", "~", "{", "]", "\u00e9", "\x00"]


@given(
    words=st.lists(st.sampled_from(SYNTAX), min_size=1, max_size=8),
    options=st.fixed_dictionaries({}, optional={
        "strict": st.sampled_from(["true", "false", "maybe"]),
        "operator": st.sampled_from(["AND", "OR", "xor"]),
        "fields": st.sampled_from(["title", "body^3,title", "tag", "year", "nosuch", "title^0", ",", "title^nan"]),
        "limit": st.sampled_from(["0", "1", "100", "101", "-1"]),
        "offset": st.sampled_from(["0", "3", "10000", "10001"]),
        "sort": st.sampled_from(["year", "-year", "tag", "score", "body", "nosuch", "-"]),
        "filter": st.sampled_from(["tag:politics", "year:[2002 TO *]", "(((", ""]),
        "facet": st.lists(st.sampled_from(["tag", "year", "body", "nosuch"]), max_size=3),
        "fragments": st.sampled_from(["1", "3", "11"]),
        "width": st.sampled_from(["19", "20", "200"]),
        "explain": st.sampled_from(["true", "false"]),
        "k1": st.sampled_from(["0", "1.2", "nan", "inf", "-1"]),
        "b": st.sampled_from(["0", "0.5", "1.5"]),
        "similarity": st.sampled_from(["bm25", "bm25l", "x"]),
    }),
)
@settings(max_examples=150)
def test_no_request_is_a_server_error(reader: Server, words: list[str], options: dict[str, Any]) -> None:
    status, body = reader.get("/api/search", q=" ".join(words), **options)
    assert status in (200, 400, 404, 413), body
    if status != 200:
        assert body["error"]["message"] and "Traceback" not in body["error"]["message"]
    else:
        assert body["total"] >= len(body["hits"])


# --- writes ------------------------------------------------------------------------------


def test_a_read_only_server_refuses_writes(reader: Server) -> None:
    status, body, _ = reader.request("POST", "/api/documents", {"id": "x", "title": "x"}, token=TOKEN)
    assert status == 403 and "--allow-writes" in body["error"]["message"]
    assert reader.request("POST", "/api/commit", token=TOKEN)[0] == 403


def test_writes_need_the_token(writable: Server) -> None:
    document = {"id": "d9", "title": "Harvest festival", "body": "A festival after the harvest."}
    for token in (None, "wrong"):
        status, body, headers = writable.request("POST", "/api/documents", document, token=token)
        assert status == 401 and "Bearer" in body["error"]["message"]
        assert headers["www-authenticate"].startswith("Bearer")
    assert writable.get("/api/search", q="festival")[1]["total"] == 0


def test_writes_are_seen_after_a_commit(writable: Server) -> None:
    documents = [{"id": "w1", "title": "Orchard news", "body": "Apples and pears."},
                 {"id": "w2", "title": "Orchard weather", "body": "Frost on the apples."}]
    status, body, _ = writable.request("POST", "/api/documents", documents, token=TOKEN)
    assert status == 202 and body == {"queued": 2}
    status, body, _ = writable.request("POST", "/api/commit", token=TOKEN)
    assert status == 200 and isinstance(body["generation"], int)
    assert writable.get("/api/search", q="orchard")[1]["total"] == 2

    status, _, _ = writable.request("PUT", "/api/documents", {"id": "w1", "title": "Vineyard news"}, token=TOKEN)
    assert status == 202
    assert writable.request("DELETE", "/api/documents/w2", token=TOKEN)[0] == 202
    assert writable.request("POST", "/api/commit", token=TOKEN)[0] == 200
    assert writable.get("/api/search", q="orchard")[1]["total"] == 0
    assert writable.get("/api/documents/w1")[1]["fields"]["title"] == "Vineyard news"


def test_what_is_queued_is_committed_when_the_server_stops(tmp_path: Path) -> None:
    index = make_index(tmp_path / "index")
    with start_server(index, "--allow-writes", "--token", TOKEN) as server:
        assert server.request("POST", "/api/documents", {"id": "q1", "title": "Queued"}, token=TOKEN)[0] == 202
    from searchlib import Searcher

    with Searcher(str(index)) as searcher:
        assert searcher.search("queued").total == 1


def test_bad_write_bodies_are_400s(writable: Server) -> None:
    status, body, _ = writable.request("POST", "/api/documents", raw=b"{not json", token=TOKEN)
    assert status == 400 and "JSON" in body["error"]["message"]
    status, body, _ = writable.request("POST", "/api/documents", {"id": "z", "nosuchfield": "x"}, token=TOKEN)
    assert status == 400 and "document 0" in body["error"]["message"]
    status, body, _ = writable.request("POST", "/api/documents", raw=b" " * (MAX_BODY + 1), token=TOKEN)
    assert status == 413 and str(MAX_BODY) in body["error"]["message"]


def test_a_chunked_body_is_bounded_as_it_streams(writable: Server) -> None:
    connection = http.client.HTTPConnection(writable.url.removeprefix("http://"), timeout=30)
    try:
        chunks = (b"[" + b" " * 1000 for _ in range(MAX_BODY // 1000 + 2))  # no Content-Length
        connection.request("POST", "/api/documents", body=chunks, encode_chunked=True,
                           headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 413
        assert "over" in json.loads(response.read())["error"]["message"]
    finally:
        connection.close()


def test_writes_without_a_token_do_not_start(tmp_path: Path) -> None:
    index = make_index(tmp_path / "index")
    env = {key: value for key, value in os.environ.items() if key != "SEARCHLIB_TOKEN"}
    process = subprocess.run(searchlib_command() + ["serve", "--index", str(index), "--allow-writes"],
                             capture_output=True, text=True, timeout=60, env=env)
    assert process.returncode == 2 and "token" in process.stderr


# --- the command ---------------------------------------------------------------------


def test_serve_help_loads_neither_the_engine_nor_the_web_packages(tmp_path: Path) -> None:
    from tests.test_cli_startup import ENGINE_MODULES, imported_modules, loaded

    process, modules = imported_modules(["serve", "--help"], tmp_path)
    assert process.returncode == 0 and "--allow-writes" in process.stdout
    assert "searchlib.cli" in modules
    assert loaded(modules, (*ENGINE_MODULES, "starlette", "uvicorn", "searchlib.server")) == []


def test_without_the_extra_serve_says_what_to_install(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "uvicorn"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("not installed", name="uvicorn")\n')
    env = {**os.environ, "PYTHONPATH": str(shadow.parent)}
    process = subprocess.run(searchlib_command() + ["serve", "--index", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60, env=env)
    assert process.returncode == 2
    assert "uvicorn is missing" in process.stderr and 'pip install "searchlib[server]"' in process.stderr


def test_a_missing_index_is_reported_before_serving(tmp_path: Path) -> None:
    process = subprocess.run(searchlib_command() + ["serve", "--index", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and "none" in process.stderr and "serving" not in process.stderr


# --- the page ----------------------------------------------------------------------------


def test_the_page_is_served(reader: Server) -> None:
    status, page, headers = reader.request("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "<form" in page and "/static/search.js" in page
    status, script, _ = reader.request("GET", "/static/search.js")
    assert status == 200 and "/api/search" in script


def test_the_page_script_parses() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the page's script is not syntax-checked")
    script = Path(__file__).resolve().parent.parent / "searchlib" / "server" / "static" / "search.js"
    process = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
