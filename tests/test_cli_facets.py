"""`searchlib query --facet FIELD`, through the real console script on an index of a
JSONL file whose lists of strings become multi-valued KEYWORD fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DOCS = [
    {"id": "d1", "title": "Boundary layers", "tags": ["fluids", "theory"], "year": 1961},
    {"id": "d2", "title": "Heat transfer in a boundary", "tags": ["heat", "fluids"], "year": 1955},
    {"id": "d3", "title": "Shock waves at the boundary", "tags": ["fluids"], "year": 1961},
    {"id": "d4", "title": "Supersonic boundary flow", "year": 1966},
    {"id": "d5", "title": "Nothing in common", "tags": ["heat"], "year": 1970},
]


@pytest.fixture
def indexed(tmp_path: Path, run_cli) -> Path:  # type: ignore[no-untyped-def]
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(doc) + "\n" for doc in DOCS), encoding="utf-8")
    result = run_cli(["index", str(source), "--index", "idx"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_facets_in_json(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        ["query", "boundary", "--index", "idx", "--limit", "1", "--facet", "tags", "--facet", "year", "--json"],
        cwd=indexed,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["total"] == 4 and len(document["hits"]) == 1  # counted over every hit, not the page
    tags = document["facets"]["tags"]
    assert tags["counts"] == [{"value": "fluids", "count": 3}, {"value": "heat", "count": 1},
                              {"value": "theory", "count": 1}]
    assert tags["missing"] == 1 and tags["other"] == 0 and tags["field"] == "tags"
    years = document["facets"]["year"]["counts"]
    assert years == [{"value": 1961.0, "count": 2}, {"value": 1955.0, "count": 1}, {"value": 1966.0, "count": 1}]
    hits = json.loads(run_cli(["query", "tags:heat", "--index", "idx", "--json"], cwd=indexed).stdout)["hits"]
    assert sorted(hit["fields"]["title"] for hit in hits) == ["Heat transfer in a boundary", "Nothing in common"]
    assert "facets" not in json.loads(run_cli(["query", "boundary", "--index", "idx", "--json"], cwd=indexed).stdout)


def test_facets_as_text_after_the_hits(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "boundary", "--index", "idx", "--no-snippets", "--facet", "tags"], cwd=indexed)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = lines.index("tags:")
    assert all("." in line for line in lines[:at] if line)  # the hits come first
    assert [line.split() for line in lines[at + 1 :]] == [["fluids", "3"], ["heat", "1"], ["theory", "1"],
                                                          ["(no", "value:", "1)"]]


def test_a_field_that_cannot_be_counted_is_named(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "boundary", "--index", "idx", "--facet", "title"], cwd=indexed)
    assert result.returncode == 2
    assert "cannot count facet 'title': it is a TEXT field" in result.stderr
    assert result.stdout == ""
