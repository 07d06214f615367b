"""searchlib analyze: the tokens an analyzer makes, like Elasticsearch's _analyze."""

from __future__ import annotations

import json
from pathlib import Path

from searchlib import ID, TEXT, Index, Schema


def test_tokens_with_positions_and_offsets_as_json(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    text = "Israel’s talks with Hamas"
    result = run_cli(["analyze", text, "--json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["analyzer"] == {"name": "english", "params": {"stemmer": "snowball", "stemmer_version": "rust-stemmers 1.2.0"}}
    assert [(t["term"], t["position"], t["source"]) for t in document["tokens"]] == [
        ("israel", 0, "Israel’s"), ("talk", 1, "talks"), ("hama", 3, "Hamas"),
    ]
    assert all(text[t["start"] : t["end"]] == t["source"] for t in document["tokens"])


def test_named_analyzer_with_params_in_plain_text(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["analyze", "Talks", "--analyzer", "edge_ngram", "--param", "max_size=2"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split()[-3] for line in result.stdout.splitlines()] == ["t", "ta"]


def test_a_fields_index_and_query_analyzers(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    Index.create(tmp_path / "i", Schema(id=ID(), name=TEXT("edge_ngram", query_analyzer="standard")))
    index_side = run_cli(["analyze", "Ham", "--index", "i", "--field", "name", "--json"], cwd=tmp_path)
    query_side = run_cli(["analyze", "Ham", "--index", "i", "--field", "name", "--query", "--json"], cwd=tmp_path)
    assert [t["term"] for t in json.loads(index_side.stdout)["tokens"]] == ["h", "ha", "ham"]
    assert [t["term"] for t in json.loads(query_side.stdout)["tokens"]] == ["ham"]
    missing = run_cli(["analyze", "Ham", "--index", "i"], cwd=tmp_path)
    assert missing.returncode == 2 and "--field; text fields: name" in missing.stderr


def test_bad_names_and_regexes_are_reported(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    unknown = run_cli(["analyze", "x", "--analyzer", "klingon"], cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown analyzer 'klingon'; known analyzers: arabic" in unknown.stderr
    bad_regex = run_cli(["analyze", "x", "--analyzer", "regex", "--param", 'pattern="[a-"'], cwd=tmp_path)
    assert bad_regex.returncode == 2 and "regex '[a-' does not compile" in bad_regex.stderr
    not_json = run_cli(["analyze", "x", "--analyzer", "regex", "--param", "pattern=[a-"], cwd=tmp_path)
    assert not_json.returncode == 2 and "is not valid JSON; quote a string" in not_json.stderr
    assert "Traceback" not in unknown.stderr + bad_regex.stderr + not_json.stderr


def test_empty_and_control_text_give_no_crash(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    empty = run_cli(["analyze", "", "--json"], cwd=tmp_path)
    assert empty.returncode == 0 and json.loads(empty.stdout)["tokens"] == []
    control = run_cli(["analyze", "a\x1b[31mb \x07c\udcff", "--analyzer", "whitespace"], cwd=tmp_path)
    assert control.returncode == 0 and "\x1b" not in control.stdout
