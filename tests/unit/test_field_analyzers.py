"""Analyzers per field in a real index: specs stored, query analyzers, synonyms, n-grams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchlib import ID, TEXT, Index, Schema, Searcher
from searchlib.analysis import RegexTokenizer, register_analyzer
from searchlib.errors import AnalyzerError


def build(path: Path, schema: Schema, documents: list[dict[str, str]]) -> Index:
    index = Index.create(path, schema)
    with index.writer() as writer:
        for document in documents:
            writer.add_document(document)
    return index


def test_the_manifest_stores_analyzer_names_and_params(tmp_path: Path) -> None:
    schema = Schema(id=ID(), body=TEXT("english", analyzer_params={"stemmer": "porter"}, query_analyzer="standard"))
    build(tmp_path / "i", schema, [{"id": "a", "body": "x"}])
    manifest = json.loads(max((tmp_path / "i").glob("manifest-*.json")).read_text())
    body = manifest["schema"]["body"]
    assert body["analyzer"] == "english" and body["analyzer_params"] == {"stemmer": "porter"}
    assert body["query_analyzer"] == "standard"
    reopened = Index.open(tmp_path / "i").schema
    assert reopened == schema


def test_synonyms_at_index_time_match_and_share_the_position(tmp_path: Path) -> None:
    schema = Schema(id=ID(), body=TEXT("english", analyzer_params={"synonyms": {"truce": ["ceasefire"]}}))
    index = build(tmp_path / "i", schema, [
        {"id": "a", "body": "A truce was agreed"},
        {"id": "b", "body": "The ceasefire talks failed"},
        {"id": "c", "body": "Nothing relevant"},
    ])
    with Searcher(index) as searcher:
        assert {hit.id for hit in searcher.search("ceasefire")} == {"a", "b"}
        # The query goes through the same chain: "truce" also asks for "ceasefire", and
        # the document that has the word itself ranks first.
        assert [hit.id for hit in searcher.search("truce")] == ["a", "b"]
        reader = searcher.readers[0]
        postings, positions = reader.positions("body", "ceasefir") or (None, None)
        assert postings is not None and list(postings.docs) == [0, 1]
        assert list(positions) == [1, 1]  # "truce" is at 1 in a; "ceasefire" at 1 in b
        assert list(reader.field_lengths("body")) == [2, 3, 2]  # stacked synonyms not counted


def test_edge_ngrams_at_index_time_with_a_standard_query_analyzer(tmp_path: Path) -> None:
    schema = Schema(id=ID(), name=TEXT("edge_ngram", analyzer_params={"max_size": 10}, query_analyzer="standard"))
    index = build(tmp_path / "i", schema, [{"id": "a", "name": "Hamas"}, {"id": "b", "name": "Hamburg"}])
    with Searcher(index) as searcher:
        assert {hit.id for hit in searcher.search("ham")} == {"a", "b"}
        assert [hit.id for hit in searcher.search("hamb")] == ["b"]
        assert searcher.search("ha mburg").total == 2  # "ha" matches both; "mburg" is no prefix


def test_an_index_naming_an_unregistered_analyzer_fails_to_open_naming_it(tmp_path: Path) -> None:
    register_analyzer("test-field-shout", lambda: RegexTokenizer(r"[A-Z]+"))
    build(tmp_path / "i", Schema(id=ID(), body=TEXT("test-field-shout")), [{"id": "a", "body": "HELLO there"}])
    manifest_path = max((tmp_path / "i").glob("manifest-*.json"))
    # What a process that never registered it sees: the same index under another name.
    from searchlib import codec

    body = json.loads(manifest_path.read_text())
    body.pop("crc32")
    body["schema"]["body"]["analyzer"] = "test-never-registered"
    manifest_path.write_bytes(codec.encode_manifest({k: v for k, v in body.items() if k not in ("format", "format_version")}))
    with pytest.raises(AnalyzerError, match="unknown analyzer 'test-never-registered' \\(named by field 'body'\\)"):
        Index.open(tmp_path / "i")


def test_a_field_with_tuple_params_equals_itself_after_reopening(tmp_path: Path) -> None:
    field = TEXT("english", analyzer_params={"synonyms": {"cars": ("car",)}})
    index = build(tmp_path / "i", Schema(id=ID(), body=field), [{"id": "a", "body": "cars"}])
    with index.writer() as writer:
        writer.add_field("body", TEXT("english", analyzer_params={"synonyms": {"cars": ("car",)}}))
    with pytest.raises(Exception, match="without a query_analyzer"):
        TEXT("standard", query_analyzer_params={"x": 1})
