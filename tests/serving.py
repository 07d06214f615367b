"""A real ``searchlib serve`` process on loopback, for the tests that speak to it over HTTP.

:func:`start_server` runs the installed console script on a free port, waits for
``/health`` and stops it afterwards; :class:`Server` sends requests with the standard
library's urllib. The server's stderr goes to a file beside its index (a pipe nobody
reads would fill after a few logged errors and stall the server); :meth:`Server.log`
reads it back for a failure message. Nothing here imports the server's packages: the
tests that use it skip on their own when the ``server`` extra is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from searchlib import ID, KEYWORD, NUMERIC, TEXT, Index, Schema
from tests.conftest import searchlib_command

#: The write token the tests' writable servers are given.
TOKEN = "s3cret-token"

DOCUMENTS = [
    {"id": "d1", "title": "Direct talks resume", "body": "The two governments held direct talks in Geneva.",
     "tag": "politics", "year": 2001},
    {"id": "d2", "title": "Trade talks stall", "body": "Negotiators said the trade talks had stalled again.",
     "tag": "economy", "year": 2003},
    {"id": "d3", "title": "A <b>bold</b> harvest", "body": "Farmers expect a record harvest of wheat & barley.",
     "tag": "economy", "year": 2002},
    {"id": "d4", "title": "Peace talks", "body": "Peace talks between the parties resumed after a pause.",
     "tag": "politics", "year": 2004},
]


def make_index(path: Path, documents: list[dict[str, Any]] = DOCUMENTS) -> Path:
    """An index at ``path`` of ``documents`` (id, title, body, a keyword tag, a year)."""
    schema = Schema(id=ID(), title=TEXT(), body=TEXT(), tag=KEYWORD(), year=NUMERIC("int"))
    index = Index.create(str(path), schema)
    with index.writer() as writer:
        for document in documents:
            writer.add_document(document)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = None,
                raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
        """Send a request; its status, its body (JSON decoded when it is JSON) and headers."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload, headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, payload, headers = error.code, error.read(), dict(error.headers)
        if headers.get("content-type", "").startswith("application/json"):
            return status, json.loads(payload), headers
        return status, payload.decode("utf-8", "replace"), headers

    def get(self, path: str, **query: Any) -> tuple[int, Any]:
        status, body, _ = self.request("GET", path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else ""))
        return status, body

    def log(self) -> str:
        """What the server has written to its stderr so far (its last 4,000 characters)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]


@contextlib.contextmanager
def start_server(index: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``searchlib serve`` on ``index`` with the options ``extra``, once it answers."""
    port = free_port()
    log_path = index.parent / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            searchlib_command() + ["serve", "--index", str(index), "--port", str(port), *extra],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}: {server.log()}")
        try:
            if server.get("/health")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"the server did not answer /health within 60 s: {server.log()}")
        time.sleep(0.05)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
