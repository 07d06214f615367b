"""Indexing files with the real CLI (its installed entry point, in subprocesses) over real
files on disk: what a walk skips, what it reports, progress on a terminal, paths in the
output, dates, the JSON output and its Python twin."""

from __future__ import annotations

import json
import logging
import math
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from searchlib import Searcher
from searchlib.ingest import ingest
from tests.conftest import run_on_terminal

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def query_json(run_cli: RunCli, text: str, index: Path, cwd: Path, *args: str) -> dict[str, Any]:
    result = run_cli(["query", text, "--index", str(index), "--json", *args], cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout) if result.stdout else {"total": 0, "hits": []}
    return document


def indexed_sources(run_cli: RunCli, index: Path, cwd: Path) -> set[str]:
    found = query_json(run_cli, "marmalade", index, cwd, "--limit", "100", "--no-snippets")
    return {Path(hit["fields"]["source"]).relative_to(cwd).as_posix() for hit in found["hits"]}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project folder holding documents beside tools' folders full of matching files."""
    root = tmp_path / "project"
    write(root / "notes.md", "# Notes\n\nmarmalade notes\n")
    write(root / "docs" / "guide.txt", "marmalade guide\n")
    write(root / "docs" / "drafts" / "draft.txt", "marmalade draft\n")
    write(root / "build.log.txt", "marmalade build log\n")
    write(root / ".git" / "description.txt", "marmalade in git\n")
    write(root / ".hidden" / "secret.md", "marmalade hidden\n")
    write(root / "node_modules" / "pkg" / "README.md", "marmalade package\n")
    write(root / "env" / "pyvenv.cfg", "home = /usr/bin\n")  # a virtualenv under any name
    write(root / "env" / "lib" / "site-packages" / "mod" / "README.md", "marmalade venv\n")
    return root


def test_a_walk_skips_tools_folders_and_what_exclude_names(tree: Path, run_cli: RunCli) -> None:
    index = tree.parent / "idx"
    result = run_cli(["index", str(tree), "--index", str(index)], cwd=tree)
    assert result.returncode == 0, result.stderr
    assert indexed_sources(run_cli, index, tree) == {"notes.md", "docs/guide.txt", "docs/drafts/draft.txt",
                                                      "build.log.txt"}
    # --exclude takes a name or a path relative to the folder walked, and may be repeated.
    other = tree.parent / "idx2"
    result = run_cli(["index", str(tree), "--index", str(other), "--exclude", "docs/drafts",
                      "--exclude", "*.log.txt"], cwd=tree)
    assert result.returncode == 0, result.stderr
    assert indexed_sources(run_cli, other, tree) == {"notes.md", "docs/guide.txt"}
    # --all-folders walks them all; a hidden folder named on the command line is read anyway.
    everything = tree.parent / "idx3"
    result = run_cli(["index", str(tree), "--index", str(everything), "--all-folders"], cwd=tree)
    assert result.returncode == 0, result.stderr
    assert len(indexed_sources(run_cli, everything, tree)) == 8
    hidden = tree.parent / "idx4"
    result = run_cli(["index", str(tree / ".hidden"), "--index", str(hidden)], cwd=tree)
    assert result.returncode == 0, result.stderr
    assert indexed_sources(run_cli, hidden, tree) == {".hidden/secret.md"}


def test_a_missing_path_is_named_and_makes_no_index(tmp_path: Path, run_cli: RunCli) -> None:
    index = tmp_path / "idx"
    result = run_cli(["index", str(tmp_path / "nonexistent.txt"), "--index", str(index)], cwd=tmp_path)
    assert result.returncode == 1
    assert "nonexistent.txt: no such file or directory" in result.stderr
    assert "was not created" in result.stderr
    assert not index.exists()
    # An empty folder gives nothing to index either.
    (tmp_path / "empty").mkdir()
    result = run_cli(["index", str(tmp_path / "empty"), "--index", str(index)], cwd=tmp_path)
    assert result.returncode == 1 and not index.exists()


def test_dangling_links_are_named_and_the_rest_indexed(tmp_path: Path, run_cli: RunCli) -> None:
    docs = tmp_path / "docs"
    write(docs / "kept.txt", "marmalade kept\n")
    (docs / "gone.txt").symlink_to(tmp_path / "deleted.txt")
    (tmp_path / "alone.md").symlink_to(tmp_path / "nowhere.md")
    index = tmp_path / "idx"
    result = run_cli(["index", str(docs), str(tmp_path / "alone.md"), "--index", str(index)], cwd=tmp_path)
    assert result.returncode == 1
    assert f"{docs / 'gone.txt'}: dangling symbolic link" in result.stderr
    assert f"{tmp_path / 'alone.md'}: dangling symbolic link" in result.stderr
    assert "indexed 1 documents from 1 files" in result.stderr
    assert indexed_sources(run_cli, index, tmp_path) == {"docs/kept.txt"}


def test_a_linked_folder_that_loops_is_walked_once(tmp_path: Path, run_cli: RunCli) -> None:
    docs = tmp_path / "docs"
    write(docs / "one.txt", "marmalade once\n")
    (docs / "loop").symlink_to(docs)
    result = run_cli(["index", str(docs), "--index", str(tmp_path / "idx")], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "indexed 1 documents from 1 files" in result.stderr


def test_indexing_shows_progress_on_a_terminal_only(tmp_path: Path, run_cli: RunCli) -> None:
    for i in range(12):
        write(tmp_path / "docs" / f"{i:02}.txt", f"marmalade number {i}\n")
    status, shown = run_on_terminal(["index", "docs", "--index", "idx"], tmp_path)
    assert status == 0, shown
    assert "indexing" in shown and "12/12" in shown and "indexed 12 documents" in shown
    piped = run_cli(["index", "docs", "--index", "idx2"], cwd=tmp_path)
    assert piped.returncode == 0 and "12/12" not in piped.stderr
    assert piped.stderr.strip() == "indexed 12 documents from 12 files into idx2"


def test_hits_from_files_of_one_name_are_told_apart_by_path(tmp_path: Path, run_cli: RunCli) -> None:
    for folder in ("alpha", "beta", "gamma"):
        write(tmp_path / folder / "README.md", f"# Read me\n\nmarmalade recipe from {folder}\n")
    assert run_cli(["index", ".", "--index", "idx"], cwd=tmp_path).returncode == 0
    result = run_cli(["query", "marmalade", "--index", "idx", "--no-snippets"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all("Read me" in line for line in lines)
    assert sorted(line.split()[-1] for line in lines) == ["alpha/README.md", "beta/README.md", "gamma/README.md"]
    # A JSON line's hit shows its file and its id; outside the working folder, the whole path.
    write(tmp_path / "more" / "d.jsonl", '{"id": "d7", "body": "marmalade line"}\n')
    assert run_cli(["index", "more", "--index", "idx"], cwd=tmp_path).returncode == 0
    (tmp_path / "elsewhere").mkdir()
    result = run_cli(["query", "line", "--index", str(tmp_path / "idx"), "--no-snippets"], cwd=tmp_path / "elsewhere")
    assert result.stdout.split()[-1] == f"{tmp_path / 'more' / 'd.jsonl'}#d7"


def test_a_text_files_date_is_a_datetime_the_readme_query_finds(tmp_path: Path, run_cli: RunCli) -> None:
    write(tmp_path / "docs" / "july.txt", "date 2024-07-14 Summer jam\nmarmalade in July\n")
    write(tmp_path / "docs" / "may.txt", "date 2024-05-02 Spring jam\nmarmalade in May\n")
    assert run_cli(["index", "docs", "--index", "idx"], cwd=tmp_path).returncode == 0
    july = query_json(run_cli, "date:2024-07", tmp_path / "idx", tmp_path)
    assert [hit["fields"]["title"] for hit in july["hits"]] == ["Summer jam"]
    assert july["hits"][0]["fields"]["date"] == "2024-07-14T00:00:00+00:00"
    ranged = query_json(run_cli, "marmalade AND date:[2024-05-01 TO 2024-06-01]", tmp_path / "idx", tmp_path)
    assert [hit["fields"]["title"] for hit in ranged["hits"]] == ["Spring jam"]
    shown = run_cli(["query", "marmalade", "--index", "idx", "--sort", "date"], cwd=tmp_path).stdout.splitlines()
    assert "Spring jam  (2024-05-02)" in shown[0] and "Summer jam  (2024-07-14)" in shown[2]


def test_an_impossible_date_is_an_error_naming_the_file(tmp_path: Path, run_cli: RunCli) -> None:
    write(tmp_path / "docs" / "bad.txt", "date 2024-13-45 Never\nmarmalade never\n")
    write(tmp_path / "docs" / "good.txt", "date 2024-02-29 Leap day\nmarmalade leaps\n")
    result = run_cli(["index", "docs", "--index", "idx"], cwd=tmp_path)
    assert result.returncode == 1
    assert "bad.txt: the first line's date 2024-13-45 does not exist" in result.stderr
    assert "indexed 1 documents from 1 files" in result.stderr
    assert indexed_sources(run_cli, tmp_path / "idx", tmp_path) == {"docs/good.txt"}


def test_a_refused_json_line_adds_no_field(tmp_path: Path, run_cli: RunCli) -> None:
    write(tmp_path / "c.jsonl",
          '{"id": "a", "body": "marmalade", "year": 2020}\n'
          '{"id": "b", "body": "marmalade", "year": "twenty", "colour": "orange"}\n'  # year is NUMERIC
          '{"id": "c", "body": "marmalade", "ratio": NaN}\n')  # NaN cannot be stored
    result = run_cli(["index", "c.jsonl", "--index", "idx"], cwd=tmp_path)
    assert result.returncode == 1
    assert "c.jsonl#b:" in result.stderr and "c.jsonl#c:" in result.stderr
    info = json.loads(run_cli(["info", "--index", "idx", "--json"], cwd=tmp_path).stdout)
    assert "year" in info["fields"] and "colour" not in info["fields"] and "ratio" not in info["fields"]
    assert [hit["fields"]["id"] for hit in query_json(run_cli, "marmalade", tmp_path / "idx", tmp_path)["hits"]] == ["a"]


def test_problems_are_logged_under_the_searchlib_logger(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path / "ok.txt", "marmalade\n")
    with caplog.at_level(logging.WARNING, logger="searchlib"):
        report = ingest(tmp_path / "idx", [tmp_path / "ok.txt", tmp_path / "missing.md"])
    assert report.files == 1 and len(report.errors) == 1
    assert [(r.name, r.levelname) for r in caplog.records] == [("searchlib.ingest", "ERROR")]
    assert "missing.md: no such file or directory" in caplog.records[0].getMessage()


@pytest.fixture
def jam_index(tmp_path: Path, run_cli: RunCli) -> Path:
    write(tmp_path / "docs" / "a.txt", "date 2024-07-14 Jam <b>bold</b>\n" + "Bitter orange marmalade & toast. " * 30 + "\n")
    write(tmp_path / "docs" / "b.md", "# Marmalade\n\nA marmalade of lemons, less bitter.\n")
    write(tmp_path / "docs" / "c.jsonl", json.dumps({"id": "x", "body": "orange juice", "n": 3}) + "\n")
    assert run_cli(["index", "docs", "--index", "idx"], cwd=tmp_path).returncode == 0
    return tmp_path / "idx"


@pytest.mark.parametrize("args", [[], ["--no-snippets"], ["--explain", "--fragments", "2", "--width", "40"]])
def test_the_cli_json_is_results_to_dict(jam_index: Path, run_cli: RunCli, args: list[str]) -> None:
    text = "bitter orange"
    printed = query_json(run_cli, text, jam_index, jam_index.parent, *args)
    assert printed.pop("suggestion") is None
    with Searcher(jam_index) as searcher:
        results = searcher.search(text, limit=10)
        data = results.to_dict(snippets="--no-snippets" not in args, explain="--explain" in args,
                               count=2 if "--fragments" in args else 1, width=40 if "--width" in args else 160)
    assert json.loads(json.dumps(data)) == printed
    assert printed["query"] == text and printed["total"] == 3 and len(printed["hits"]) == 3
    assert ("snippet_html" in printed["hits"][0]) == ("--no-snippets" not in args)


def test_to_dict_leaves_out_what_is_asked(jam_index: Path) -> None:
    with Searcher(jam_index) as searcher:
        hit = searcher.search("bitter", limit=1)[0]
        whole = hit.to_dict()
        assert whole["fields"]["body"].count("marmalade") == 30 and "omitted_fields" not in whole
        short = hit.to_dict(max_field_chars=500, snippets=False)
        assert "body" not in short["fields"] and short["omitted_fields"] == ["body"]
        assert short["fields"]["title"] == "Jam <b>bold</b>" and "snippet" not in short
        picked = hit.to_dict(fields=["title", "body"], exclude=["body"])
        assert list(picked["fields"]) == ["title"]
        assert "<mark>Bitter</mark>" in picked["snippet_html"] and "&amp;" in picked["snippet_html"]
        assert math.isfinite(picked["score"]) and picked["rank"] == 1 and picked["id"].endswith("a.txt")
