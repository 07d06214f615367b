"""The analysis chains an index records (a manifest's ``chains``): which analyzers get
one, that a searcher analyzes queries with the recorded chain on both the plain and the
tree path, that an application's own analyzer under a preset's name still wins, and that
indexes without chains or with damaged ones are read or refused as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from searchlib import ID, TEXT, Index, Schema, Searcher, codec, get_analyzer, register_analyzer
from searchlib.analysis import SynonymFilter, UnicodeWordTokenizer, presets
from searchlib.errors import CorruptIndexError
from searchlib.schema import spec_key


def newest_manifest(path: Path) -> Path:
    return max(path.glob("manifest-*.json"), key=lambda p: int(p.stem.split("-")[1]))


def read_body(path: Path) -> dict[str, Any]:
    body = json.loads(newest_manifest(path).read_text(encoding="utf-8"))
    for key in ("format", "format_version", "crc32"):
        del body[key]
    return dict(body)


def write_body(path: Path, body: dict[str, Any]) -> None:
    newest_manifest(path).write_bytes(codec.encode_manifest(body))


@pytest.fixture
def talks(tmp_path: Path) -> Path:
    path = tmp_path / "index"
    index = Index.create(path, Schema(id=ID(), title=TEXT(), body=TEXT(analyzer="standard")))
    with index.writer() as writer:
        writer.add_document(id="a", title="Direct talks", body="They held direct talks.")
        writer.add_document(id="b", title="Weather", body="Rain on Monday.")
    return path


def tree_ids(path: Path, text: str) -> list[str]:
    searcher = Searcher(path)
    searcher._plain = False  # the query tree's path
    return [hit.id for hit in searcher.search(text)]


def test_each_distinct_built_in_chain_is_recorded_as_the_analyzer_builds_it(talks: Path) -> None:
    chains = read_body(talks)["chains"]
    recorded = {spec_key(entry["analyzer"]): entry["chain"] for entry in chains}
    schema = Index.open(talks).schema
    specs = {spec_key(field.analyzer_spec): field.analyzer_spec for field in schema.fields.values()}
    assert set(recorded) == set(specs)  # keyword (the id), english, standard: once each
    for key, spec in specs.items():
        assert recorded[key] == json.loads(get_analyzer(spec["name"], **spec["params"]).core_spec() or "null")


def test_chains_the_core_does_not_run_or_not_built_in_are_not_recorded(tmp_path: Path) -> None:
    register_analyzer("words_only", lambda: UnicodeWordTokenizer())
    try:
        index = Index.create(tmp_path / "index", Schema(
            porter=TEXT(analyzer_params={"stemmer": "porter"}),  # NLTK's stemmer: Python runs it
            custom=TEXT(analyzer="words_only"),
        ))
        assert read_body(index.path)["chains"] == []
        with index.writer() as writer:
            writer.add_document(porter="direct talks", custom="Direct talks")
        assert read_body(index.path)["chains"] == []
        assert [hit.rank for hit in Searcher(index).search("talking")] == [1]  # porter: talk
        assert [hit.rank for hit in Searcher(index).search("custom:Direct")] == [1]
    finally:
        del presets._PRESETS["words_only"]


def test_queries_are_analyzed_with_the_recorded_chain_on_either_path(talks: Path) -> None:
    """A chain recorded without the stemmer (as an index written by a release whose
    english preset did not stem would hold): both paths analyze queries with it."""
    assert [hit.id for hit in Searcher(talks).search("talking")] == tree_ids(talks, "talking") == ["a"]
    body = read_body(talks)
    for entry in body["chains"]:
        if entry["analyzer"]["name"] == "english":
            entry["chain"]["filters"] = [f for f in entry["chain"]["filters"] if f["type"] != "stem"]
    write_body(talks, body)
    assert [hit.id for hit in Searcher(talks).search("title:talking")] == tree_ids(talks, "title:talking") == []
    assert [hit.id for hit in Searcher(talks).search("talking")] == tree_ids(talks, "talking") == []
    assert [hit.id for hit in Searcher(talks).search("talk")] == tree_ids(talks, "talk") == ["a"]


def test_an_analyzer_registered_under_a_presets_name_replaces_its_chain(talks: Path) -> None:
    searcher = Searcher(talks)
    assert [hit.id for hit in searcher.search("talking")] == ["a"]
    register_analyzer("english", lambda **params: UnicodeWordTokenizer())  # no case folding, no stems
    try:
        searcher = Searcher(talks)
        assert [hit.id for hit in searcher.search("talking")] == tree_ids(talks, "talking") == []
        # Terms as written: the indexed "direct" is found, "Direct" is not folded to it.
        assert [hit.id for hit in searcher.search("title:direct")] == tree_ids(talks, "title:direct") == ["a"]
        assert [hit.id for hit in searcher.search("title:Direct")] == tree_ids(talks, "title:Direct") == []
    finally:
        register_analyzer("english", presets._BUILT_IN["english"])
    assert presets.is_built_in("english")


def test_a_registration_after_a_searcher_opened_applies_to_the_next_one_on_both_paths(talks: Path) -> None:
    searcher, tree = Searcher(talks), Searcher(talks)
    tree._plain = False
    # No case folding, no stems, and synonyms: a chain Python runs, not the core.
    register_analyzer("english", lambda **params: UnicodeWordTokenizer() | SynonymFilter({"zzz": ["yyy"]}))
    try:
        # The open searchers keep the recorded chain on the plain path and the tree path.
        assert [hit.id for hit in searcher.search("talking")] == [hit.id for hit in tree.search("talking")] == ["a"]
        assert [hit.id for hit in tree.search("title:Talking")] == ["a"]
        assert [hit.id for hit in Searcher(talks).search("talking")] == tree_ids(talks, "talking") == []
    finally:
        register_analyzer("english", presets._BUILT_IN["english"])


def test_an_index_without_chains_is_read_with_its_analyzers(talks: Path) -> None:
    body = read_body(talks)
    del body["chains"]
    write_body(talks, body)
    assert Index.open(talks).chains == {}
    assert [hit.id for hit in Searcher(talks).search("talking")] == tree_ids(talks, "talking") == ["a"]


def test_a_chain_the_core_refuses_falls_back_to_the_named_analyzer(talks: Path) -> None:
    body = read_body(talks)
    for entry in body["chains"]:
        entry["chain"]["tokenizer"] = {"type": "no such tokenizer"}
    write_body(talks, body)
    assert [hit.id for hit in Searcher(talks).search("talking")] == tree_ids(talks, "talking") == ["a"]


@pytest.mark.parametrize("chains", [{"a": 1}, [1], [{"analyzer": "english", "chain": {}}],
                                    [{"analyzer": {"name": "english"}}], [{"analyzer": {"name": 3}, "chain": {}}]])
def test_malformed_chains_are_damage_named_by_the_manifest(talks: Path, chains: Any) -> None:
    body = read_body(talks)
    body["chains"] = chains
    write_body(talks, body)
    with pytest.raises(CorruptIndexError, match="manifest") as caught:
        Index.open(talks)
    assert "chain" in str(caught.value)
