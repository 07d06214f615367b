"""Snippets prefer the query's words as typed and side by side: on the bundled seed
article, `direct talks` shows "direct talks", not "talking directly" (both stem to the
same two terms), through the API and through the `searchlib query` console script."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from searchlib import Searcher
from searchlib.ingest import ingest
from tests.conftest import REPO_ROOT

SEEDS = REPO_ROOT / "seeds"


def test_the_api_snippet_shows_the_words_as_typed(tmp_path: Path) -> None:
    ingest(tmp_path / "index", [SEEDS])
    with Searcher(tmp_path / "index") as searcher:
        hit = searcher.search("direct talks")[0]
        snippet = hit.snippet()
        assert "[direct] [talks]" in snippet and "[talking] [directly]" not in snippet, snippet
        assert hit.fragment().field == "body"
        # Typed the other way round, the other passage is the one shown.
        other = searcher.search("talking directly")[0].snippet()
        assert "[talking] [directly]" in other, other


def test_the_cli_snippet_shows_the_words_as_typed(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(SEEDS, tmp_path / "seeds")
    result = run_cli(["query", "direct talks"], cwd=tmp_path)  # builds ./index from seeds/ first
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "index").is_dir()
    assert "[direct] [talks]" in result.stdout and "[talking] [directly]" not in result.stdout, result.stdout
    result = run_cli(["query", "direct talks", "--json"], cwd=tmp_path)
    snippet = json.loads(result.stdout)["hits"][0]["snippet"]
    assert "[direct] [talks]" in snippet, snippet
