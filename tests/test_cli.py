"""The real command line, run through its installed entry point in subprocesses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from searchlib import codec
from tests.conftest import REPO_ROOT, run_on_terminal

SEED = REPO_ROOT / "seeds" / "000_9f2ca6e0f4209d95.txt"
SEED_TITLE = "US talking directly to Hamas about ceasefire, aid to Gaza"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory laid out like the repository: seeds/ and an empty index/."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED, tmp_path / "seeds")
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / ".gitkeep").touch()
    return tmp_path


def test_main_job_builds_the_index_from_seeds_and_ranks_the_seed_first(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "direct talks"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert "building index/ from seeds/" in result.stderr.splitlines()[0]
    lines = result.stdout.splitlines()
    assert lines[0].lstrip().startswith("1.") and SEED_TITLE in lines[0] and "2025-05-11" in lines[0]
    # Porter2 stems "directly" too, but the passage with the words as typed and side by side wins.
    assert "[direct] [talks]" in lines[1] and "[talking] [directly]" not in lines[1]
    assert "\x1b[" not in result.stdout  # no colour when piped
    again = run_cli(["query", "direct talks"], cwd=project)
    assert "building" not in again.stderr and again.stdout == result.stdout


def test_json_output_parses_with_query_total_and_hits(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "direct talks", "--json"], cwd=project)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["query"] == "direct talks" and document["total"] == 1
    hit = document["hits"][0]
    assert hit["id"].endswith("000_9f2ca6e0f4209d95.txt") and hit["score"] > 0
    # The date is a DATETIME field, stored as ISO 8601 (midnight UTC for a day).
    assert hit["fields"]["title"] == SEED_TITLE and hit["fields"]["date"] == "2025-05-11T00:00:00+00:00"
    assert "[direct] [talks]" in hit["snippet"]
    assert "<mark>direct</mark> <mark>talks</mark>" in hit["snippet_html"]


@pytest.mark.parametrize("query", ["the and of", "zyzzyvaquux"])
def test_no_matches_is_exit_1(project, run_cli, query: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", query], cwd=project)
    assert result.returncode == 1
    assert "no matches" in result.stderr and result.stdout == ""


def test_query_syntax_is_read_and_a_syntax_error_points_at_its_place(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", '"talking directly" AND -weather title:hamas'], cwd=project)
    assert result.returncode == 0, result.stderr
    assert SEED_TITLE in result.stdout
    result = run_cli(["query", "direct AND (talks", "--strict"], cwd=project)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-2:] == [
        "direct AND (talks", "           ^ unbalanced parenthesis: this one is never closed",
    ]
    # Without --strict (a search box), the stray parenthesis is read as a plain character.
    result = run_cli(["query", "direct AND (talks"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert SEED_TITLE in result.stdout


def test_a_query_may_start_with_an_exclusion(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "-weather direct talks", "--no-snippets"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert SEED_TITLE in result.stdout
    excluded = run_cli(["query", "-hamas direct talks"], cwd=project)  # the seed holds "Hamas"
    assert excluded.returncode == 1 and "no matches" in excluded.stderr
    # Options keep their values, "-date" included, before or after the text.
    result = run_cli(["query", "--sort", "-date", "-n1", "-weather talks", "--limit", "1", "--no-snippets"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert SEED_TITLE in result.stdout
    assert run_cli(["query", "--", "-weather talks"], cwd=project).returncode == 0
    mistyped = run_cli(["query", "talks", "--snipets"], cwd=project)
    assert mistyped.returncode == 2 and "unrecognized arguments: --snipets" in mistyped.stderr


def test_the_expansion_bound_is_set_from_the_command_line(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    from searchlib.query import DEFAULT_MAX_EXPANSIONS

    failed = run_cli(["query", "t*", "--max-expansions", "3", "--strict"], cwd=project)
    assert failed.returncode == 2 and failed.stdout == ""
    assert "more than the limit of 3" in failed.stderr and "--keep-frequent" in failed.stderr
    kept = run_cli(["query", "t*", "--max-expansions", "3", "--strict", "--keep-frequent", "--json"], cwd=project)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["total"] == 1
    # Lenient (the default), a search box never fails: the cut is a warning, on stderr and in --json.
    cut = run_cli(["query", "t*", "--max-expansions", "3"], cwd=project)
    assert cut.returncode == 0, cut.stderr
    assert "searchlib: warning: prefix t* matched" in cut.stderr and "searched the 3 most frequent" in cut.stderr
    as_json = run_cli(["query", "t*", "--max-expansions", "3", "--json"], cwd=project)
    assert any("searched the 3 most frequent" in warning for warning in json.loads(as_json.stdout)["warnings"])
    assert run_cli(["query", "t*"], cwd=project).returncode == 0  # the default bound lets the seed's words through
    usage = run_cli(["query", "--help"], cwd=project).stdout
    assert f"[default: {DEFAULT_MAX_EXPANSIONS}]" in usage


def test_empty_query_is_a_usage_error(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "  "], cwd=project)
    assert result.returncode == 2
    assert "usage:" in result.stderr and "query is empty" in result.stderr


def test_missing_index_directory_explains_how_to_create_one(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "talks", "--index", str(tmp_path / "nowhere")], cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "searchlib index" in result.stderr
    assert "Traceback" not in result.stderr


def test_foreign_index_directory_is_refused(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    result = run_cli(["query", "talks", "--index", str(foreign)], cwd=tmp_path)
    assert result.returncode == 2 and "not a searchlib index" in result.stderr
    indexed = run_cli(["index", str(SEED), "--index", str(foreign)], cwd=tmp_path)
    assert indexed.returncode == 2 and "not empty" in indexed.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["cat.jpg"]


def _age_the_format(index_dir: Path, version: int = 1) -> None:
    """Make ``index_dir`` look written by another searchlib: its newest manifest names
    format ``version`` (checked before the manifest's checksum)."""
    manifest = max(index_dir.glob("manifest-*.json"), key=lambda path: int(path.stem.split("-")[1]))
    manifest.write_text(manifest.read_text().replace(f'"format_version": {codec.FORMAT_VERSION}', f'"format_version": {version}', 1))


def test_an_index_in_an_older_format_says_how_to_rebuild_it(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(["query", "direct talks"], cwd=project).returncode == 0  # builds index/ from seeds/
    _age_the_format(project / "index")
    result = run_cli(["query", "direct talks"], cwd=project)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert "format version 1" in result.stderr
    assert "rebuild the index from its sources: delete index/ and run the query again, which rebuilds it from seeds/" in result.stderr
    # Following that advice brings the main job back.
    shutil.rmtree(project / "index")
    rebuilt = run_cli(["query", "direct talks"], cwd=project)
    assert rebuilt.returncode == 0 and SEED_TITLE in rebuilt.stdout
    # An index named by --index was built from the user's own files: index them again.
    mine = project / "mine"
    assert run_cli(["index", str(SEED), "--index", str(mine)], cwd=project).returncode == 0
    _age_the_format(mine)
    for command in (["query", "talks", "--index", str(mine)], ["index", str(SEED), "--index", str(mine)],
                    ["info", "--index", str(mine)]):
        result = run_cli(command, cwd=project)
        assert result.returncode == 2, command
        assert f"rebuild the index from its sources: move {mine} aside (or delete it)" in result.stderr, command
        assert f"searchlib index PATH... --index {mine}" in result.stderr, command
    assert sorted(path.name for path in mine.glob("manifest-*.json")) != []  # nothing was removed


def test_an_index_from_a_newer_searchlib_says_to_upgrade_not_to_delete(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(["query", "direct talks"], cwd=project).returncode == 0  # builds index/ from seeds/
    _age_the_format(project / "index", version=99)
    result = run_cli(["query", "direct talks"], cwd=project)
    assert result.returncode == 2 and "format version 99, from a newer searchlib" in result.stderr
    assert "upgrade searchlib to read it" in result.stderr
    assert "delete" not in result.stderr and "rebuild" not in result.stderr


def test_index_files_directories_and_reindexing_updates(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plain.txt").write_text("Quarterly harvest of marmalade oranges.\n")
    (docs / "notes.md").write_text("# Marmalade notes\n\nBitter oranges set best.\n")
    (docs / "ignored.csv").write_text("marmalade")
    index = str(tmp_path / "idx")
    first = run_cli(["index", str(docs), "--index", index], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "indexed 2 documents from 2 files" in first.stderr
    (docs / "plain.txt").write_text("Quarterly harvest of lemons.\n")
    second = run_cli(["index", str(docs), "--index", index], cwd=tmp_path)
    assert "replacing 2" in second.stderr
    result = json.loads(run_cli(["query", "marmalade", "--index", index, "--json"], cwd=tmp_path).stdout)
    assert [h["fields"].get("title") for h in result["hits"]] == ["Marmalade notes"]
    lemons = json.loads(run_cli(["query", "lemon", "--index", index, "--json"], cwd=tmp_path).stdout)
    assert lemons["total"] == 1 and lemons["hits"][0]["id"].endswith("plain.txt")


def test_jsonl_keys_become_fields_and_bad_lines_are_named(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        '{"_id": "d1", "title": "Wing flutter", "text": "Flutter of swept wings", "year": 1962}\n'
        "{not json}\n"
        '{"_id": "d2", "title": "Heat transfer", "text": "Slabs conduct heat"}\n'
    )
    index = str(tmp_path / "idx")
    result = run_cli(["index", str(corpus), "--index", index], cwd=tmp_path)
    assert result.returncode == 1
    assert "corpus.jsonl:2: not valid JSON" in result.stderr
    assert "indexed 2 documents" in result.stderr
    found = json.loads(run_cli(["query", "flutter", "--index", index, "--json"], cwd=tmp_path).stdout)
    fields = found["hits"][0]["fields"]
    assert fields["id"] == "d1" and fields["year"] == 1962 and fields["title"] == "Wing flutter"


def test_non_utf8_file_is_indexed_with_a_warning(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Caf\xe9 owners discuss espresso tariffs.".encode("latin-1"))
    index = str(tmp_path / "idx")
    result = run_cli(["index", str(latin), "--index", index], cwd=tmp_path)
    assert result.returncode == 0
    assert "warning" in result.stderr and "latin1.txt" in result.stderr and "UTF-8" in result.stderr
    found = json.loads(run_cli(["query", "espresso", "--index", index, "--json"], cwd=tmp_path).stdout)
    assert "\ufffd" in found["hits"][0]["fields"]["body"]


def test_unreadable_path_is_named_and_the_rest_indexed(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.txt"
    good.write_text("Glaciers retreat in warm summers.")
    missing = tmp_path / "missing.txt"
    index = str(tmp_path / "idx")
    result = run_cli(["index", str(missing), str(good), "--index", index], cwd=tmp_path)
    assert result.returncode == 1
    assert "missing.txt: no such file or directory" in result.stderr
    found = json.loads(run_cli(["query", "glaciers", "--index", index, "--json"], cwd=tmp_path).stdout)
    assert found["total"] == 1


def test_terminal_output_is_coloured(project) -> None:  # type: ignore[no-untyped-def]
    """On a terminal (a real pseudo-terminal here) the matches are shown in colour."""
    status, output = run_on_terminal(["query", "direct talks"], project, stream="stdout")
    assert status == 0
    assert "\x1b[1;33mdirect\x1b[0m \x1b[1;33mtalks\x1b[0m" in output


def test_jsonl_line_separator_inside_a_string_keeps_the_document(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "u.jsonl"
    corpus.write_text('{"id": "a", "body": "line one\u2028line two zebra"}\n{"id": "b", "body": "apple"}\n', encoding="utf-8")
    index = str(tmp_path / "idx")
    result = run_cli(["index", str(corpus), "--index", index], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(run_cli(["query", "zebra", "--index", index, "--json"], cwd=tmp_path).stdout)
    assert [h["fields"]["id"] for h in found["hits"]] == ["a"]


def test_index_path_that_is_a_file_is_a_clear_error(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    plain_file = tmp_path / "notes.txt"
    plain_file.write_text("talks")
    for args in (["query", "talks"], ["index", str(plain_file)]):
        result = run_cli([*args, "--index", str(plain_file)], cwd=tmp_path)
        assert result.returncode == 2 and "is a file, not an index directory" in result.stderr
        assert "Traceback" not in result.stderr


def test_terminal_escapes_in_titles_are_neutralised(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "evil.jsonl"
    corpus.write_text(json.dumps({"id": "x", "title": "pwned \x1b]0;owned\x07", "body": "talks"}) + "\n")
    index = str(tmp_path / "idx")
    run_cli(["index", str(corpus), "--index", index], cwd=tmp_path)
    result = run_cli(["query", "talks", "--index", index], cwd=tmp_path)
    assert result.returncode == 0 and "\x1b" not in result.stdout and "\x07" not in result.stdout
