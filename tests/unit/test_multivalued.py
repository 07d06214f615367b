"""Multi-valued KEYWORD fields: a list of strings, each value its own term, stored and
returned as the list given; added, updated, deleted, searched, sorted and merged on a
real index on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchlib import ID, KEYWORD, TEXT, Index, Schema, Searcher
from searchlib.errors import SchemaError
from searchlib.query import Term


@pytest.fixture
def index(tmp_path: Path) -> Index:
    schema = Schema(id=ID(), body=TEXT(), tags=KEYWORD())
    index = Index.create(tmp_path / "index", schema)
    with index.writer() as writer:
        writer.add_document(id="a", body="first post", tags=["sql", "python"])
        writer.add_document(id="b", body="second post", tags=["rust"])
        writer.add_document(id="c", body="third post", tags="python")  # one value, as before
    with index.writer() as writer:  # a second segment
        writer.add_document(id="d", body="fourth post", tags=("zig", "ada", "zig"))
        writer.add_document(id="e", body="fifth post")
    return index


def ids(searcher: Searcher, query: object, **options: object) -> list[str]:
    return [hit.id for hit in searcher.search(query, limit=100, **options)]  # type: ignore[arg-type]


def test_each_value_is_a_term_and_the_list_is_stored(index: Index) -> None:
    with Searcher(index) as searcher:
        assert sorted(ids(searcher, "tags:python")) == ["a", "c"]
        assert ids(searcher, "tags:sql") == ["a"]
        assert ids(searcher, Term("tags", "ada")) == ["d"]
        assert ids(searcher, "tags:sql AND tags:python") == ["a"]
        assert ids(searcher, "tags:\"sql python\"") == []  # not one value
        hits = {hit.id: hit for hit in searcher.search("post", limit=10)}
        assert hits["a"]["tags"] == ["sql", "python"]
        assert hits["c"]["tags"] == "python"
        assert hits["d"]["tags"] == ["zig", "ada", "zig"]  # stored as given
        assert "tags" not in hits["e"].fields
        # A repeated value is one term of the document: its frequency is 1.
        assert searcher.doc_freq("tags", "zig") == 1


def test_list_values_must_be_strings_and_nothing_is_left_behind(index: Index) -> None:
    with index.writer() as writer:
        with pytest.raises(SchemaError, match=r"'tags'.*list of strings.*int 3"):
            writer.add_document(id="x", body="bad", tags=["ok", 3])
        with pytest.raises(SchemaError, match=r"'id' is id and takes a string, got list"):
            writer.add_document(id=["x", "y"], body="bad")
        with pytest.raises(SchemaError, match=r"'body' is text and takes a string, got list"):
            writer.add_document(id="x", body=["bad"])
        writer.add_document(id="f", body="empty", tags=[])
    with Searcher(index) as searcher:
        assert searcher.doc_count == 6
        assert ids(searcher, "tags:ok") == []
        assert ids(searcher, "empty") == ["f"]
        assert searcher.search("empty").hits[0]["tags"] == []


def test_update_and_delete_by_any_value(index: Index) -> None:
    with index.writer() as writer:
        writer.update_document(id="a", body="first post again", tags=["go"])
        assert writer.delete_by_term("tags", "ada") == 1
    with Searcher(index) as searcher:
        assert ids(searcher, "tags:sql") == []
        assert ids(searcher, "tags:python") == ["c"]
        assert ids(searcher, "tags:go") == ["a"]
        assert ids(searcher, "tags:zig") == []
    # Buffered documents too: deleted by one of their values before the commit.
    with index.writer() as writer:
        writer.add_document(id="g", body="buffered", tags=["kept", "dropped"])
        assert writer.delete_by_term("tags", "dropped") == 1
    with Searcher(index) as searcher:
        assert ids(searcher, "tags:kept") == []


def test_merged_segments_keep_every_value(index: Index) -> None:
    with index.writer() as writer:
        writer.optimize()
    with Searcher(index) as searcher:
        assert len(searcher.readers) == 1
        assert sorted(ids(searcher, "tags:zig OR tags:sql")) == ["a", "d"]
        assert {hit.id: hit.fields.get("tags") for hit in searcher.search("post", limit=10)}["a"] == ["sql", "python"]


def test_sort_by_smallest_value_ascending_and_largest_descending(index: Index) -> None:
    with Searcher(index) as searcher:
        # Smallest values: a sql/python -> python, b rust, c python, d ada; e has none.
        assert ids(searcher, "post", sort="tags") == ["d", "a", "c", "b", "e"]
        # Largest values: a sql, b rust, c python, d zig.
        assert ids(searcher, "post", sort="-tags") == ["d", "a", "b", "c", "e"]


def test_worker_processes_index_lists_too(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index", Schema(id=ID(), tags=KEYWORD()))
    documents = [{"id": str(n), "tags": [f"t{n % 3}", f"t{n % 5}"]} for n in range(40)]
    with index.writer() as writer:
        assert writer.add_documents(documents, workers=2, batch_size=10) == 40
    with Searcher(index) as searcher:
        expected = sorted(str(n) for n in range(40) if 1 in (n % 3, n % 5))
        assert sorted(ids(searcher, "tags:t1")) == expected
        hits = searcher.search("tags:t2", limit=100, facets=["tags"])
    assert hits.facets["tags"].as_dict()["t2"] == len(hits.hits)
