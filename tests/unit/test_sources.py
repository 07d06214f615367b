"""Reading files into documents: formats, ids, and problems that never stop a batch."""

from __future__ import annotations

from pathlib import Path

from searchlib.sources import Problem, find_files, read_source


def test_dated_first_line_gives_date_and_title(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("  date 2025-05-11 Talks resume\n\nBody text here.\n")
    (document,) = read_source(path).documents
    assert document["date"] == "2025-05-11" and document["title"] == "Talks resume"
    assert document["body"] == "Body text here." and document["path"] == str(path.resolve())


def test_markdown_heading_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("# Notes\n\nSome words.\n")
    (document,) = read_source(path).documents
    assert document["title"] == "Notes" and "Some words." in document["body"]


def test_json_lines_ids_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(f'{{"_id": 7, "text": "x"}}\n{deep}\n{{"text": "no id"}}\n')
    source = read_source(path)
    assert [d["path"].rpartition("#")[2] for d in source.documents] == ["7", "3"]
    assert source.documents[0]["id"] == "7"
    (problem,) = source.problems  # the absurdly deep line, named, not a crash
    assert problem.location.endswith("c.jsonl:2") and problem.is_error
    assert problem.message.startswith("not valid JSON")


def test_find_files_reports_what_it_cannot_use(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / "skip.csv").write_text("x")
    found = list(find_files([tmp_path, tmp_path / "skip.csv", tmp_path / "gone.md"]))
    assert [p.name for p in found if isinstance(p, Path)] == ["keep.txt"]
    assert [p.message.split(";")[0] for p in found if isinstance(p, Problem)] == [
        "unsupported file type",
        "no such file or directory",
    ]
