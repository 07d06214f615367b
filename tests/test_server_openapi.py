"""The API against its own OpenAPI document, property-based with schemathesis.

A real ``searchlib serve`` process that accepts writes (so that its document lists every
operation) publishes ``/openapi.json``; schemathesis's command line reads it from there
and runs all of its phases over every operation: requests at and past each parameter's
bounds (coverage), requests made at random from the parameters and bodies, valid and
not (fuzzing), and sequences of them (stateful), each answer checked: never a 5xx, and
status, content type, headers and body as the document says; a method the document does
not list gets a 405 that names those it does. Generation is deterministic (the same
requests every run) and bounded, so the test takes seconds, not minutes.

schemathesis runs as a command, not through its pytest plugin: the command runs every
phase, where the plugin's ``as_strategy`` runs only fuzzing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason='the server extra is not installed: pip install "searchlib[server]"')
pytest.importorskip("uvicorn", reason='the server extra is not installed: pip install "searchlib[server]"')
pytest.importorskip("schemathesis", reason="schemathesis is not installed: pip install -e '.[test]'")

from tests.serving import TOKEN, Server, make_index, start_server  # noqa: E402

#: Examples per operation and phase: enough for the bounds and a spread of values, few
#: enough that the whole run takes seconds (about 20 on a busy 2-core machine).
EXAMPLES = 40

#: schemathesis's configuration. Checks left out, and why:
#: - positive_data_acceptance: a request the document allows may still be refused, as
#:   whether a query, a field name or a document is right depends on the query language
#:   and the index's schema, which JSON Schema does not say;
#: - ensure_resource_availability, use_after_free: writes are queued (202) and seen only
#:   after the next commit, so a document just added is not there yet, nor a document
#:   just deleted gone.
#: 413 is among the answers to a request that breaks the document: it is the server's
#: answer to a parameter past its ``maxLength`` (query text, a filter). The document
#: ``d1`` and its look-alikes are asked for by its id, so that their 200s are checked
#: too, not only 404s; deletions go to an id no document has, so that d1 stays.
CONFIG = f"""
[generation]
deterministic = true
max-examples = {EXAMPLES}

[checks]
positive_data_acceptance.enabled = false
ensure_resource_availability.enabled = false
use_after_free.enabled = false
negative_data_rejection.expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]

[[operations]]
include-name = ["GET /api/documents/{{id}}", "GET /api/documents/{{id}}/similar"]
parameters = {{ "path.id" = "d1" }}

[[operations]]
include-name = "DELETE /api/documents/{{id}}"
parameters = {{ "path.id" = "no-such-document" }}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    index = make_index(tmp_path_factory.mktemp("serve-openapi") / "index")
    with start_server(index, "--allow-writes", "--token", TOKEN) as running:
        yield running


def test_every_operation_answers_as_its_document_says(server: Server, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    process = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
         f"{server.url}/openapi.json", "--header", f"Authorization: Bearer {TOKEN}",
         "--workers", "1", "--request-timeout", "30", "--no-color"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    report = process.stdout + process.stderr
    assert process.returncode == 0, report[-12000:] + "\nserver log:\n" + server.log()
    assert "Tested: 10" in report  # every operation, writes included
    assert "Missing test data" not in report, report[-3000:]  # d1 was found, not only 404s
    assert " 5xx" not in server.log() and "Traceback" not in server.log()
