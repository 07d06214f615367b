"""`searchlib query` options, through the real console script on a real index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DOCS = [
    {"id": "d1", "title": "Boundary layers", "text": "The boundary layer thickens downstream.", "year": 1961},
    {"id": "d2", "title": "Heat transfer", "text": "Heat transfer in a laminar boundary layer.", "year": 1955},
    {"id": "d3", "title": "Shock waves", "text": "Shock waves meet the boundary layer.", "year": 1970},
    {"id": "d4", "title": "Supersonic flow", "text": "Supersonic flow over a cone with a boundary.", "year": 1966},
]


@pytest.fixture
def indexed(tmp_path: Path, run_cli) -> Path:  # type: ignore[no-untyped-def]
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(doc) + "\n" for doc in DOCS), encoding="utf-8")
    result = run_cli(["index", str(source), "--index", "idx"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path


def query(run_cli, cwd: Path, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = run_cli(["query", *args, "--index", "idx", "--json"], cwd=cwd)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout) if result.stdout else {}  # type: ignore[no-any-return]


def test_pages_and_limit(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    everything = [h["fields"]["title"] for h in query(run_cli, indexed, "boundary")["hits"]]
    first = query(run_cli, indexed, "boundary", "--limit", "3")
    second = query(run_cli, indexed, "boundary", "--limit", "3", "--page", "2")
    assert first["total"] == second["total"] == 4 and second["offset"] == 3
    assert [h["fields"]["title"] for h in first["hits"] + second["hits"]] == everything
    assert [h["rank"] for h in second["hits"]] == [4]


def test_sort_by_year_descending(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    hits = query(run_cli, indexed, "boundary", "--sort", "-year")["hits"]
    assert [h["fields"]["year"] for h in hits] == [1970, 1966, 1961, 1955]


def test_explain_shows_every_factor(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "heat", "--index", "idx", "--explain"], cwd=indexed)
    assert result.returncode == 0, result.stderr
    for factor in ("idf", "df, documents with the term", "N, documents with the field", "k1", "b",
                   "dl, field length", "avgdl, average field length", "boost", "tf, occurrences"):
        assert factor in result.stdout
    document = query(run_cli, indexed, "heat", "--explain")
    assert document["hits"][0]["explanation"]["value"] == pytest.approx(document["hits"][0]["score"])


def test_similarity_option_changes_scores(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    lucene = query(run_cli, indexed, "heat")["hits"][0]["score"]
    atire = query(run_cli, indexed, "heat", "--similarity", "atire", "--k1", "0.9", "--b", "0.4")["hits"][0]["score"]
    assert lucene != pytest.approx(atire)


def test_a_query_finding_nothing_offers_a_correction(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "boundray", "--index", "idx"], cwd=indexed)
    assert result.returncode == 1
    assert "did you mean: boundary" in result.stderr
    assert query(run_cli, indexed, "boundray")["suggestion"] == "boundary"
    assert query(run_cli, indexed, "boundary")["suggestion"] is None


def test_operator_and_requires_every_word(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    either = query(run_cli, indexed, "heat shock")["total"]
    both = query(run_cli, indexed, "heat shock", "--operator", "AND")
    assert either == 2 and both["total"] == 0  # no document has both words
    assert query(run_cli, indexed, "boundary layer", "--operator", "and")["total"] == 3
