"""What the command line imports before it does its job, seen through the real entry point.

``searchlib --help`` and ``--version`` must answer without loading engine code (numpy,
the compiled core, the index), and ``searchlib query`` must not load what only other
commands or other analyzers need. Python reports every import it makes when
``PYTHONPROFILEIMPORTTIME`` is set (``-X importtime``), so the tests read that list from
the subprocess's stderr rather than trusting timings, which this machine cannot keep.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import searchlib_command

#: Modules that are engine code: none of them belongs on the path of --help or --version.
ENGINE_MODULES = ("numpy", "searchlib._core", "searchlib.index", "searchlib.segment", "searchlib.query",
                  "searchlib.searcher", "searchlib.analysis", "searchlib.parser", "nltk", "regex")

IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|(\s*)(\S+)$", re.M)


def imported_modules(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the CLI with Python's import report on and return the modules it imported."""
    return imports_of(searchlib_command() + args, cwd)


def imports_of(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``command`` with Python's import report on and return the modules it imported."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPROFILEIMPORTTIME": "1"}
    process = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    return process, {match.group(2) for match in IMPORT_LINE.finditer(process.stderr)}


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in names))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["query", "--help"]])
def test_help_and_version_load_no_engine_code(tmp_path: Path, args: list[str]) -> None:
    process, modules = imported_modules(args, tmp_path)
    assert process.returncode == 0, process.stderr[-2000:]
    assert "searchlib.cli" in modules  # the report is read correctly
    assert loaded(modules, ENGINE_MODULES) == []


#: What `searchlib query` must not load for a plain query on an index of built-in
#: analyzers: numpy (the core hands back plain lists), the regex module (the core
#: tokenizes), NLTK (the compiled Snowball stems), and the writing side of the index.
HEAVY_FOR_A_QUERY = ("numpy", "regex", "nltk", "searchlib.writer", "searchlib.segment.writer",
                     "searchlib.segment.merge", "searchlib.parallel")


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the bundled seeds, built by the real CLI."""
    root = tmp_path_factory.mktemp("startup")
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    process = subprocess.run(searchlib_command() + ["index", str(seeds), "--index", str(root / "index")],
                             cwd=root, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-2000:]
    return root / "index"


#: Standard-library modules a search has no use for, each of which cost milliseconds of
#: every process that searches: dataclasses (through inspect, which loads ast, dis and
#: tokenize), pathlib (with urllib.parse and ipaddress), and datetime (a DATETIME value's).
STDLIB_UNUSED_BY_A_SEARCH = ("dataclasses", "inspect", "ast", "dis", "tokenize", "pathlib", "urllib",
                             "ipaddress", "datetime")

#: What a script that searches has no use for either (the command line loads some of them
#: for its argument parsing): typing, whose names the search path imports only for type
#: checkers; json (the core parses an index's JSON), with re and enum; functools,
#: collections and weakref, whose few uses have plainer stand-ins; modules it needs one
#: function or class of (a lock, a test for numpy's integers, a deep copy for a writer, a
#: warning); C modules only array files, other languages or float columns need; and the
#: error codes only a refused open or a held lock reads.
STDLIB_UNUSED_BY_A_SCRIPT = ("typing", "threading", "numbers", "copy", "contextlib", "warnings", "json", "re",
                             "enum", "functools", "collections", "weakref", "operator", "unicodedata", "math",
                             "struct", "zlib", "mmap", "errno")

#: A script that searches an index, as an application run once per query would.
SEARCH_SCRIPT = """\
import sys
from searchlib import Searcher
with Searcher(sys.argv[1]) as searcher:
    hits = searcher.search(sys.argv[2], limit=10, strict=False)
    print([hit.id for hit in hits])
"""


def test_a_script_that_searches_loads_no_heavy_standard_library_module(seed_index: Path) -> None:
    process, modules = imports_of([sys.executable, "-c", SEARCH_SCRIPT, str(seed_index), "direct talks"],
                                  seed_index.parent)
    assert process.returncode == 0, process.stderr[-2000:]
    assert "searchlib.searcher" in modules and "searchlib._core" in modules  # it did search
    assert "000_9f2ca6e0f4209d95.txt" in process.stdout  # and found the seed about direct talks
    assert loaded(modules, HEAVY_FOR_A_QUERY) == []
    assert loaded(modules, STDLIB_UNUSED_BY_A_SEARCH) == []
    assert loaded(modules, STDLIB_UNUSED_BY_A_SCRIPT) == []
    # Nor the Python scoring code: the core scores a search of words, and opening reads
    # the index's BM25 settings from searchlib.similarities.
    assert "searchlib.scoring" not in modules


def test_a_query_of_words_loads_no_heavy_standard_library_module(seed_index: Path) -> None:
    """The command line's plain search, snippets and all. (A query with operators is
    parsed into a tree of query nodes, which are dataclasses: it loads them.)"""
    process, modules = imported_modules(["query", "direct talks", "--index", str(seed_index)], seed_index.parent)
    assert process.returncode == 0, process.stderr[-2000:]
    assert "searchlib.highlight" in modules and "[direct] [talks]" in process.stdout  # snippets too
    assert loaded(modules, STDLIB_UNUSED_BY_A_SEARCH) == []


#: What a query of words, with or without + and -, has no use for: the nodes it does not
#: hold, facet counting, the writer's lock, and a command-line library heavier than the
#: standard library's.
UNUSED_BY_WORDS = ("searchlib.query.patterns", "searchlib.query.ranges", "searchlib.query.phrases",
                   "searchlib.searcher.facets", "searchlib.locking", "click")


@pytest.mark.parametrize("query", ["direct talks", "talks -war", "+direct talks"])
def test_a_plain_query_loads_nothing_heavy(seed_index: Path, query: str) -> None:
    process, modules = imported_modules(["query", query, "--index", str(seed_index)], seed_index.parent)
    assert process.returncode in (0, 1), process.stderr[-2000:]
    assert "searchlib.searcher" in modules and "searchlib._core" in modules  # it did search
    assert loaded(modules, HEAVY_FOR_A_QUERY) == []
    assert loaded(modules, UNUSED_BY_WORDS) == []


def test_a_phrase_loads_its_node_and_no_other(seed_index: Path) -> None:
    """The other side of the lazy loading: a node's module loads when a query holds one."""
    process, modules = imported_modules(["query", '"direct talks"', "--index", str(seed_index)], seed_index.parent)
    assert process.returncode in (0, 1), process.stderr[-2000:]
    assert "searchlib.query.phrases" in modules
    assert loaded(modules, ("searchlib.query.patterns", "searchlib.query.ranges")) == []
