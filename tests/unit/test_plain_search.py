"""A plain search (text without syntax, run from words to the top k in one call into the
core) against the query tree's path for the same text: the same ids, scores (exactly),
totals, warnings and errors, over SciFact's queries and over generated texts on indexes
of several segments with deletions, several default fields with boosts and analyzers,
either default operator and the clause limit in strict and lenient mode.

The tree path is forced on a second searcher of the same snapshot by turning its plain
search off (``_plain = False``), so both run the same executor on the same segments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import ID, TEXT, Index, QueryError, Schema, Searcher
from searchlib.limits import QueryLimits
from tests.conftest import SHARED

SCIFACT = SHARED / "datasets" / "scifact"

#: Words the generated documents and queries are made of: stop words, words the english
#: analyzer stems alike, words it splits into several terms, a word no document holds.
VOCABULARY = ("the", "of", "and", "cell", "cells", "growth", "growing", "mouse", "brain", "covid-19",
              "o'neil", "e-mail", "x-ray", "protein", "talks", "talking", "direct", "zzzunseen", "a", "is")


def outcome(searcher: Searcher, text: str, **options: Any) -> tuple[Any, ...]:
    """What a search returns, comparable exactly: hits (id, score, rank), total, whether
    it is exact and the warnings; or the error's type and message."""
    try:
        found = searcher.search(text, **options)
    except QueryError as error:
        return ("error", str(error), error.position)
    return ([(hit.id, hit.score, hit.rank) for hit in found], found.total, found.total_is_exact, found.warnings)


def tree_searcher(path: Path, **options: Any) -> Searcher:
    searcher = Searcher(path, **options)
    searcher._plain = False  # the query tree's path, whatever the text
    return searcher


@pytest.fixture(scope="module")
def scifact(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    if not (SCIFACT / "corpus.jsonl").is_file():
        pytest.skip("the SciFact dataset is not in shared/datasets")
    path = tmp_path_factory.mktemp("scifact") / "index"
    index = Index.create(path, Schema(id=ID(), title=TEXT(stored=False), text=TEXT(stored=False)))
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as handle, index.writer() as writer:
        writer.add_documents(
            {"id": doc["id"], "title": doc.get("title", ""), "text": doc.get("text", "")}
            for doc in map(json.loads, handle)
        )
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as handle:
        queries = [json.loads(line)["text"] for line in handle]
    return path, queries


def test_every_scifact_query_gives_the_tree_paths_hits_scores_and_total(scifact: tuple[Path, list[str]]) -> None:
    path, queries = scifact
    plain, tree = Searcher(path, k1=0.9, b=0.4), tree_searcher(path, k1=0.9, b=0.4)
    taken = 0
    for text in queries:
        # The words as a search box sends them: no syntax, a hyphen only inside a word.
        words = " ".join(w.lstrip("-") for w in "".join(c if c.isalnum() or c == "-" else " " for c in text).split())
        for query in (text, words):
            for options in ({"limit": 10, "strict": False}, {"limit": 10, "exact_total": False}):
                assert outcome(plain, query, **options) == outcome(tree, query, **options), query
        # The second time, with the dfs remembered, too; and a later page.
        assert outcome(plain, words, limit=5, offset=5) == outcome(tree, words, limit=5, offset=5)
        taken += plain._plain.search(words, 10) is not None
    assert taken == len(queries)  # the cleaned texts all took the plain path


def test_scifact_phrases_give_the_tree_paths_hits_scores_and_total(scifact: tuple[Path, list[str]]) -> None:
    """Each query's neighbouring words as a quoted phrase, as a user pastes one."""
    path, queries = scifact
    plain, tree = Searcher(path), tree_searcher(path)
    taken = 0
    for text in queries[:150]:
        words = "".join(c if c.isalnum() or c in "-'" else " " for c in text).split()
        for phrase in {f'"{" ".join(words[at : at + 2])}"' for at in range(0, len(words), 3)}:
            assert outcome(plain, phrase, limit=10) == outcome(tree, phrase, limit=10), phrase
            taken += plain._plain.search(phrase, 10) is not None
    assert taken > 300  # the phrases took the core's plain path


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three segments with deletions; title and body english, tag a different analyzer."""
    path = tmp_path_factory.mktemp("plain") / "index"
    schema = Schema(id=ID(), title=TEXT(), body=TEXT(), tag=TEXT(analyzer="standard"))
    index = Index.create(path, schema)
    import random

    chooser = random.Random(7)

    def text(length: int) -> str:
        return " ".join(chooser.choice(VOCABULARY[:-3]) for _ in range(length))

    number = 0
    for _ in range(3):
        with index.writer() as writer:
            for _ in range(40):
                writer.add_document(id=f"d{number}", title=text(chooser.randint(0, 4)), body=text(chooser.randint(0, 30)),
                                    tag=text(chooser.randint(0, 2)))
                number += 1
    with index.writer() as writer:
        for gone in range(0, number, 7):
            writer.delete_by_term("id", f"d{gone}")
    return path


#: Searcher settings the generated texts run under: default fields with and without
#: boosts, one field, two analyzer groups, the AND operator, a small clause limit.
SETTINGS: list[dict[str, Any]] = [
    {},
    {"fields": {"title": 2.5, "body": 1.0}},
    {"fields": ["body"]},
    {"fields": {"body": 1.7}},
    {"fields": {"title": 1.5, "tag": 3.0, "body": 1.0}},
    {"default_operator": "AND"},
    {"default_operator": "and", "fields": {"tag": 2.0, "body": 1.0}},
    {"limits": QueryLimits(max_clauses=6)},
    {"limits": QueryLimits(max_clauses=6, max_length=40), "default_operator": "AND"},
    {"k1": 0.9, "b": 0.4, "similarity": "bm25+"},
]

WORDS = st.sampled_from([*VOCABULARY, "TALKS", "Growth", "(", ")", "AND", "-x", "title:cell", "cell*"])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(WORDS, max_size=12), spaces=st.sampled_from([" ", "  ", "\t", " \u3000"]),
       setting=st.sampled_from(range(len(SETTINGS))), strict=st.booleans(), limit=st.integers(0, 12),
       offset=st.integers(0, 3))
def test_generated_texts_give_the_tree_paths_results(
    segmented: Path, words: Sequence[str], spaces: str, setting: int, strict: bool, limit: int, offset: int
) -> None:
    text = spaces.join(words)
    same_as_the_tree(segmented, setting, text, {"strict": strict, "limit": limit, "offset": offset}, taken=False)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from([*VOCABULARY, "TALKS", "Growth", "talks-direct"]), min_size=2, max_size=6),
       operator=st.sampled_from(["AND", "OR"]), setting=st.sampled_from(range(len(SETTINGS))), strict=st.booleans(),
       limit=st.integers(0, 12))
def test_words_joined_by_one_operator_give_the_tree_paths_results(
    segmented: Path, words: Sequence[str], operator: str, setting: int, strict: bool, limit: int
) -> None:
    """``a AND b AND c`` (or OR throughout) runs in the core's plain search: the words
    joined by that operator, each word's own terms (x-ray: x, ray) by the default one."""
    text = f" {operator} ".join(words)
    within_default_limits = "limits" not in SETTINGS[setting]
    same_as_the_tree(segmented, setting, text, {"strict": strict, "limit": limit}, taken=within_default_limits)


#: Inside quotes, syntax is text: operators, parentheses, a field name and a wildcard too.
PHRASE_WORDS = st.sampled_from([*VOCABULARY, "TALKS", "Growth", "talks-direct", "(", ")", "AND", "-x", "title:cell",
                                "cell*", "+a"])


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(PHRASE_WORDS, max_size=7), outside=st.sampled_from(["", " ", "\t ", " \u3000"]),
       setting=st.sampled_from(range(len(SETTINGS))), strict=st.booleans(), limit=st.integers(0, 12),
       offset=st.integers(0, 3))
def test_quoted_phrases_give_the_tree_paths_results(
    segmented: Path, words: Sequence[str], outside: str, setting: int, strict: bool, limit: int, offset: int
) -> None:
    """A text that is one quoted phrase runs in the core's plain search (a phrase per
    field; one term: a word's leaf; none: nothing) with the tree's hits, scores and total."""
    text = f'{outside}"{" ".join(words)}"{outside}'
    well_within_limits = len(text) <= searchers(segmented, setting)[0].limits.max_length and len(words) <= 2
    same_as_the_tree(segmented, setting, text, {"strict": strict, "limit": limit, "offset": offset}, taken=well_within_limits)


def same_as_the_tree(path: Path, setting: int, text: str, asked: Mapping[str, Any], *, taken: bool) -> None:
    """The plain searcher gives ``text`` the tree path's outcome; when ``taken``, its core
    plain search ran the text rather than handing it to the tree."""
    plain, tree = searchers(path, setting)
    assert outcome(plain, text, **asked) == outcome(tree, text, **asked), (text, SETTINGS[setting])
    if taken:
        assert plain._plain.search(text, 10) is not None, text


@pytest.mark.parametrize("text", ['"direct talks"~2', '"direct talks"^2', '"direct \\"talks"', '"direct" "talks"',
                                  'title:"direct talks"', '"direct talks', '"direct talks" cell', "direct AND talks OR cell",
                                  "direct AND (talks)", "direct AND NOT talks", "direct AND", "AND talks"])
def test_other_syntax_takes_the_tree_path(segmented: Path, text: str) -> None:
    plain, tree = searchers(segmented, 0)
    assert plain._plain.search(text, 10) is None
    assert outcome(plain, text) == outcome(tree, text)


def test_a_plain_phrase_explains_and_highlights_as_the_tree(segmented: Path) -> None:
    plain, tree = searchers(segmented, 1)
    found, expected = plain.search('"direct talks"'), tree.search('"direct talks"')
    assert found.hits and [h.score for h in found] == [h.score for h in expected]
    assert found._query is None and found.query == expected.query
    assert found.hits[0].explain().value == pytest.approx(found.hits[0].score)
    assert [h.snippet() for h in found] == [h.snippet() for h in expected]


_SEARCHERS: dict[tuple[str, int], tuple[Searcher, Searcher]] = {}


def searchers(path: Path, setting: int) -> tuple[Searcher, Searcher]:
    """A plain and a tree searcher per setting, kept across examples (so remembered dfs
    are exercised as well as first counts)."""
    key = (str(path), setting)
    if key not in _SEARCHERS:
        _SEARCHERS[key] = (Searcher(path, **SETTINGS[setting]), tree_searcher(path, **SETTINGS[setting]))
    return _SEARCHERS[key]


def test_the_fields_own_statistics_from_the_union_pass_are_those_counted_alone(segmented: Path) -> None:
    """One pass over the default fields' lengths gives each field's count and total too
    (deletions included); counted one field at a time they are the same."""
    together, alone = Searcher(segmented), Searcher(segmented)
    fields = ("title", "body", "tag")
    union = together._documents_with_fields(fields)
    assert all((name,) in together._field_doc_counts and name in together._total_lengths for name in fields)
    assert [together._documents_with_fields((name,)) for name in fields] == \
        [alone._documents_with_fields((name,)) for name in fields]
    assert [together._total_length(name) for name in fields] == [alone._total_length(name) for name in fields]
    assert alone._documents_with_fields(fields) == union
    assert max(alone._documents_with_fields((name,)) for name in fields) <= union < alone.index.doc_count + 1


def test_a_plain_search_builds_its_tree_only_when_asked(segmented: Path) -> None:
    plain, tree = searchers(segmented, 0)
    found, expected = plain.search("direct talks"), tree.search("direct talks")
    assert found.hits and found._query is None  # nothing built yet
    assert found.query == expected.query
    assert found.hits[0].explain().value == pytest.approx(found.hits[0].score)
    assert found.hits[0].snippet() == expected.hits[0].snippet()


def test_a_plain_pages_ids_come_with_its_hits_as_the_stored_fields_give_them(tmp_path: Path) -> None:
    """The core reads a page's ids with its hits; one it does not decode (a lone
    surrogate, which Python's store writes) is read through the stored fields, and a
    document without an id gets its address, as on the tree path."""
    ids = ["", "naïve-ü", "lone-\ud800", "plain"]
    index = Index.create(tmp_path / "index", Schema(id=ID(), body=TEXT()))
    with index.writer() as writer:
        for number, id_ in enumerate(ids):
            writer.add_document(**({"id": id_} if id_ else {}), body="direct talks " * (number + 1))
    plain, tree = Searcher(index), tree_searcher(tmp_path / "index")
    found, expected = plain.search("direct talks"), tree.search("direct talks")
    assert [hit._id for hit in found] == ["plain", False, "naïve-ü", None]  # before any is read
    assert [hit._id for hit in expected] == [False] * 4
    assert [hit.id for hit in found] == [hit.id for hit in expected] == ["plain", "lone-\ud800", "naïve-ü", "0:0"]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(WORDS, max_size=8), setting=st.sampled_from(range(len(SETTINGS))), field=st.sampled_from([None, "title", "body", "tag"]))
def test_plain_snippets_mark_what_the_trees_do_without_building_it(
    segmented: Path, words: Sequence[str], setting: int, field: str | None
) -> None:
    text = " ".join(words)
    plain, tree = searchers(segmented, setting)
    found, expected = plain.search(text, limit=6, strict=False), tree.search(text, limit=6, strict=False)
    assert [hit.id for hit in found] == [hit.id for hit in expected]
    assert plain.snippets(found.hits, field, style="html") == tree.snippets(expected.hits, field, style="html"), text
    assert [hit.snippet(field, count=2) for hit in found] == [hit.snippet(field, count=2) for hit in expected], text
    deferred = found.hits[0]._deferred if found.hits else None
    if deferred is not None and plain._plain.targets(text) is not None:
        assert deferred._built is None, "the plain words were highlighted without a query tree"


def test_the_plain_search_path_imports_none_of_what_it_made_lazy(tmp_path: Path) -> None:
    """``import searchlib``, open a searcher, run a plain query, read the ids: none of
    the parser, the query tree, highlighting, explanations, sorting, the Python analyzers
    (the core builds the index's recorded chains), the term dictionary's Python side
    (the core looks terms up), the stored fields' (the core reads a page's ids), the
    writing side, the crash tests' hooks or numpy loads."""
    index = Index.create(tmp_path / "index", Schema(id=ID(), title=TEXT(), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(id="a", title="Talks", body="They held direct talks.")
        writer.add_document(id="b", title="Other", body="Nothing to see here.")
    script = (
        "import sys\n"
        "from searchlib import Searcher\n"
        "with Searcher(sys.argv[1]) as searcher:\n"
        "    hits = searcher.search('direct talks', limit=10, strict=False)\n"
        "    ids = [hit.id for hit in hits]\n"
        "assert ids, 'no hits'\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    process = subprocess.run([sys.executable, "-c", script, str(tmp_path / "index")], capture_output=True, text=True,
                             env=env, timeout=120, cwd=Path(__file__).resolve().parent.parent.parent)
    assert process.returncode == 0, process.stderr[-2000:]
    modules = set(process.stdout.split())
    assert "searchlib.searcher.plain" in modules  # the report is read correctly
    lazy = ("searchlib.parser", "searchlib.query", "searchlib.highlight", "searchlib.explain", "searchlib.similar",
            "searchlib.suggest", "searchlib.searcher.sorting", "searchlib.analysis", "searchlib.segment.termdict",
            "searchlib.segment.policy", "searchlib.segment.store", "searchlib.searcher.statistics", "searchlib.writer",
            "searchlib.failpoints", "searchlib.columns", "numpy", "nltk")
    assert sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in lazy)) == []
    # Snippets and "did you mean" over known words need highlighting and suggestions,
    # still not the parser or the query tree.
    script = script.replace("    ids = [hit.id for hit in hits]\n",
                            "    ids = [hit.id for hit in hits]\n"
                            "    assert '[direct] [talks]' in searcher.snippets(hits.hits)[0]\n"
                            "    assert searcher.did_you_mean('direct talks') is None\n")
    process = subprocess.run([sys.executable, "-c", script, str(tmp_path / "index")], capture_output=True, text=True,
                             env=env, timeout=120, cwd=Path(__file__).resolve().parent.parent.parent)
    assert process.returncode == 0, process.stderr[-2000:]
    modules = set(process.stdout.split())
    assert {"searchlib.highlight", "searchlib.suggest"} <= modules
    lazy = ("searchlib.parser", "searchlib.query", "searchlib.explain", "numpy", "nltk")
    assert sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in lazy)) == []
