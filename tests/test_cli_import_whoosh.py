"""``searchlib import-whoosh`` through the real command line, on a Whoosh index built here
with Whoosh itself: the schema is mapped, every document copied (values of unstored
value fields read back from their terms), the unrecoverable field named, and the copy
checked against the original."""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from searchlib import Index, Searcher
from tests.conftest import run_on_terminal

whoosh = pytest.importorskip("whoosh", reason="the whoosh package is not installed (pip install \"searchlib[whoosh]\")")

RunCli = Callable[..., subprocess.CompletedProcess[str]]
WORDS = "direct talks ceasefire markets shares fell talking points shifted envoys held river bank".split()


def build_whoosh_index(path: Path, count: int = 40, *, unique: bool = True) -> None:
    """A Whoosh index of ``count`` documents with every field type the import maps."""
    import random

    from whoosh import analysis, fields, index

    schema = fields.Schema(
        path=fields.ID(stored=True, unique=unique),
        title=fields.TEXT(stored=True, field_boost=2.0),
        body=fields.TEXT(analyzer=analysis.StemmingAnalyzer(), stored=True),
        plain=fields.TEXT(analyzer=analysis.SimpleAnalyzer(), stored=True),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=True),
        year=fields.NUMERIC(int),
        price=fields.NUMERIC(float, stored=True),
        when=fields.DATETIME(stored=True),
        ok=fields.BOOLEAN(stored=True),
        secret=fields.TEXT(),
        note=fields.STORED(),
    )
    path.mkdir()
    ix = index.create_in(str(path), schema)
    rng = random.Random(7)
    writer = ix.writer()
    for number in range(count):
        writer.add_document(
            path=f"doc{number}", title=" ".join(rng.sample(WORDS, 3)), body=" ".join(rng.choices(WORDS, k=10)),
            plain=" ".join(rng.choices(WORDS, k=5)), tags="Python, Rust" if number % 2 else "SQL",
            year=2000 + number % 5, price=number * 1.5, when=datetime.datetime(2020, 1, 1 + number % 28),
            ok=bool(number % 3), secret="hidden words", note={"n": number},
        )
    writer.commit()


def test_import_maps_the_schema_copies_every_document_and_verifies(tmp_path: Path, run_cli: RunCli) -> None:
    build_whoosh_index(tmp_path / "wh")
    result = run_cli(["import-whoosh", "wh", "--index", "copy"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "unpickles" in result.stderr and "trusted" in result.stderr
    assert "copied 40 documents" in result.stdout
    assert "path: Whoosh ID -> id (the unique key)" in result.stdout
    assert "secret: indexed but not stored in Whoosh; its text cannot be recovered" in result.stdout
    assert "year: indexed but not stored in Whoosh; its values were read back" in result.stdout
    verified = next(line for line in result.stdout.splitlines() if line.startswith("verified: "))
    same, _, total = verified.split()[1:4]
    assert int(total) > 10 and int(same) >= int(total) - 3, result.stdout

    index = Index.open(tmp_path / "copy")
    schema = index.schema
    assert schema.id_field == "path"
    assert schema["title"].boost == 2.0 and schema["title"].analyzer == "english"
    assert schema["body"].analyzer_params["stemmer"] == "porter"
    assert schema["plain"].analyzer == "standard"
    assert (schema["year"].kind, schema["year"].numeric_type, schema["year"].stored) == ("numeric", "int", False)
    assert (schema["price"].numeric_type, schema["when"].kind, schema["ok"].kind) == ("float", "datetime", "boolean")
    assert schema["note"].kind == "stored" and schema["tags"].kind == "keyword"
    with Searcher(index) as searcher:
        assert searcher.doc_count == 40
        hit = searcher.search("path:doc3")[0]
        assert hit["tags"] == ["python", "rust"] and hit["note"] == {"n": 3} and hit["ok"] is False
        assert hit["price"] == 4.5
        # The unstored year was read back from Whoosh's terms: ranges and sorting work on it.
        assert searcher.search("year:[2003 TO 2003]", limit=100).total == 8
        assert searcher.search("tags:rust", limit=100).total == 20
        assert searcher.search("secret:hidden").total == 0


def test_an_index_without_a_unique_key_is_verified_by_document_order(tmp_path: Path, run_cli: RunCli) -> None:
    build_whoosh_index(tmp_path / "wh", count=25, unique=False)
    result = run_cli(["import-whoosh", "wh", "--index", "copy"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "path: Whoosh ID -> keyword" in result.stdout
    verified = next(line for line in result.stdout.splitlines() if line.startswith("verified: "))
    same, _, total = verified.split()[1:4]
    assert int(same) >= int(total) - 3 and int(total) > 10, result.stdout


def test_a_terminal_gets_a_progress_bar(tmp_path: Path) -> None:
    build_whoosh_index(tmp_path / "wh", count=5)
    status, shown = run_on_terminal(["import-whoosh", "wh", "--index", "copy", "--sample", "0"], tmp_path)
    assert status == 0
    assert "importing" in shown and "5/5" in shown


def test_a_directory_without_a_whoosh_index_fails_naming_it(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli(["import-whoosh", "empty", "--index", "copy"], cwd=tmp_path)
    assert result.returncode == 2
    assert "empty holds no Whoosh index" in result.stderr
    assert not (tmp_path / "copy").exists()


def test_an_existing_searchlib_index_is_not_overwritten(tmp_path: Path, run_cli: RunCli) -> None:
    build_whoosh_index(tmp_path / "wh", count=3)
    assert run_cli(["import-whoosh", "wh", "--index", "copy"], cwd=tmp_path).returncode == 0
    again = run_cli(["import-whoosh", "wh", "--index", "copy"], cwd=tmp_path)
    assert again.returncode == 2 and "already holds a searchlib index" in again.stderr


def test_a_dynamic_field_is_named_as_left_out(tmp_path: Path, run_cli: RunCli) -> None:
    from whoosh import fields, index

    schema = fields.Schema(key=fields.ID(stored=True, unique=True))
    schema.add("*_t", fields.TEXT(stored=True), glob=True)
    (tmp_path / "wh").mkdir()
    ix = index.create_in(str(tmp_path / "wh"), schema)
    with ix.writer() as writer:
        writer.add_document(key="a", title_t="dynamic text")
    result = run_cli(["import-whoosh", "wh", "--index", "copy"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "title_t: left out: a dynamic (glob) field's values; not copied" in result.stdout
    assert "copied 1 documents" in result.stdout


def test_a_sample_query_matching_too_many_documents_is_left_out_of_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from searchlib.compat import whoosh_import

    build_whoosh_index(tmp_path / "wh", count=40)
    monkeypatch.setattr(whoosh_import, "MAX_CHECKED_HITS", 5)
    report = whoosh_import.import_index(str(tmp_path / "wh"), str(tmp_path / "copy"), sample=30)
    assert report.documents == 40 and report.too_common > 0
    assert report.queries + report.too_common > 10
    assert any(f"({report.too_common} left out, matching over 5 documents)" in line
               for line in whoosh_import.describe(report))
