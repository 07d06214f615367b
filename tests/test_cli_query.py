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


LONG_DOCS = [
    {"id": "long", "title": "Wing studies",
     "text": "The wing was tested in a slipstream. " + "Other measurements followed at length. " * 8
             + "A second slipstream test used a swept wing. " + "More unrelated words follow here. " * 8},
    {"id": "evil", "title": "<script>alert('x')</script>",
     "text": 'A "quoted" <b>wing</b> & an <img src=x onerror=alert(1)> slipstream.'},
]


@pytest.fixture
def long_indexed(tmp_path: Path, run_cli) -> Path:  # type: ignore[no-untyped-def]
    source = tmp_path / "long.jsonl"
    source.write_text("".join(json.dumps(doc) + "\n" for doc in LONG_DOCS), encoding="utf-8")
    assert run_cli(["index", str(source), "--index", "idx"], cwd=tmp_path).returncode == 0
    return tmp_path


def test_snippets_are_shown_by_default_and_can_be_turned_off(long_indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    shown = run_cli(["query", "slipstream", "--index", "idx"], cwd=long_indexed)
    assert shown.returncode == 0 and "[slipstream]" in shown.stdout and len(shown.stdout.splitlines()) == 4
    hidden = run_cli(["query", "slipstream", "--index", "idx", "--no-snippets"], cwd=long_indexed)
    assert hidden.returncode == 0 and "[" not in hidden.stdout and len(hidden.stdout.splitlines()) == 2
    document = query(run_cli, long_indexed, "slipstream", "--no-snippets")
    assert "snippet" not in document["hits"][0] and "snippet_html" not in document["hits"][0]


def test_fragments_and_width_shape_the_snippet(long_indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    one = query(run_cli, long_indexed, "slipstream wing")["hits"]
    two = query(run_cli, long_indexed, "slipstream wing", "--fragments", "2", "--width", "60")["hits"]
    long_one = next(h for h in one if h["fields"]["id"] == "long")["snippet"]
    long_two = next(h for h in two if h["fields"]["id"] == "long")["snippet"]
    assert long_one.count("[slipstream]") == 1
    assert long_two.count("[slipstream]") == 2 and " … " in long_two
    assert long_two == ("The [wing] was tested in a [slipstream]. … A second [slipstream] test used a swept [wing].…")


def test_json_carries_html_and_structured_spans(long_indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    hits = {h["fields"]["id"]: h for h in query(run_cli, long_indexed, "wing slipstream", "--fragments", "2")["hits"]}
    evil = hits["evil"]
    assert evil["snippet_field"] == "text" and evil["snippet_truncated"] is False and not evil["snippet_is_opening"]
    assert evil["snippet_html"] == (
        "A &quot;quoted&quot; &lt;b&gt;<mark>wing</mark>&lt;/b&gt; &amp; an "
        "&lt;img src=x onerror=alert(1)&gt; <mark>slipstream</mark>."
    )
    text = evil["fields"]["text"]
    for span in evil["snippet_spans"]:
        assert text[span["start"] : span["end"]] == span["text"]
    assert [s["text"] for s in evil["snippet_spans"] if s["matched"]] == ["wing", "slipstream"]
    assert set(evil["snippet_spans"][0]) == {"text", "start", "end", "matched"}


def test_a_field_longer_than_highlighting_reads_is_flagged(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    huge = {"id": "huge", "title": "Huge", "text": "Filler words here. " * 60_000 + "The slipstream at the end."}
    (tmp_path / "huge.jsonl").write_text(json.dumps(huge) + "\n", encoding="utf-8")
    assert run_cli(["index", "huge.jsonl", "--index", "idx"], cwd=tmp_path).returncode == 0
    hit = query(run_cli, tmp_path, "slipstream")["hits"][0]
    # The only match lies past the first 1,000,000 characters: the opening, flagged.
    assert hit["snippet_truncated"] is True and hit["snippet_is_opening"] is True
    assert hit["snippet"].startswith("Filler words here.")
    shown = run_cli(["query", "slipstream", "--index", "idx"], cwd=tmp_path)
    assert "[matches sought in the first 1,000,000 characters]" in shown.stdout


def test_a_hit_without_matched_words_shows_its_opening_marked_as_such(indexed: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["query", "year:[1960 TO 1962]", "--index", "idx"], cwd=indexed)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].strip() == "(opening, no words matched) The boundary layer thickens downstream."
    hit = query(run_cli, indexed, "year:[1960 TO 1962]")["hits"][0]
    assert hit["snippet_is_opening"] is True
