"""Index and IndexWriter: commits, updates, deletes, rollback, locking, clean-up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from searchlib import ID, KEYWORD, NUMERIC, STORED, TEXT, Index, Schema, Searcher, Term
from searchlib.errors import IndexNotFoundError, LockError, SchemaError, SearchlibError


def ids(index: Index, query: str = "talks") -> list[str]:
    with Searcher(index) as searcher:
        return sorted(hit.id for hit in searcher.search(query, limit=100))


def test_each_commit_adds_one_segment(news_index: Index) -> None:
    assert len(news_index.segments) == 2
    assert news_index.doc_count == 3
    assert news_index.generation == 3


def test_update_replaces_the_old_version_in_the_same_commit(news_index: Index) -> None:
    assert ids(news_index) == ["a", "c"]
    with news_index.writer() as writer:
        writer.update_document(path="a", title="Weather", body="Sunny.")
    assert ids(news_index) == ["c"]
    assert news_index.reopen().doc_count == 3


def test_updating_twice_in_one_batch_keeps_the_last(news_index: Index) -> None:
    with news_index.writer() as writer:
        writer.update_document(path="z", body="first talks")
        writer.update_document(path="z", body="second talks")
    with Searcher(news_index.reopen()) as searcher:
        hits = [h for h in searcher.search("talks", limit=10) if h.id == "z"]
    assert [h["body"] for h in hits] == ["second talks"]


def test_delete_by_term_counts_and_removes(news_index: Index) -> None:
    with news_index.writer() as writer:
        assert writer.delete_by_term("path", "c") == 1
        assert writer.delete_by_term("path", "c") == 0
    reopened = news_index.reopen()
    assert reopened.doc_count == 2
    assert ids(reopened) == ["a"]


def test_fully_deleted_segments_leave_the_manifest(news_index: Index) -> None:
    with news_index.writer() as writer:
        writer.delete_by_term("path", "c")
    assert len(news_index.reopen().segments) == 1


def test_exception_in_the_block_rolls_back(news_index: Index) -> None:
    with pytest.raises(RuntimeError):
        with news_index.writer() as writer:
            writer.add_document(path="d", body="talks")
            raise RuntimeError("boom")
    assert news_index.reopen().doc_count == 3
    with news_index.writer() as writer:  # the lock was released
        writer.add_document(path="d", body="talks")
    assert news_index.reopen().doc_count == 4


def test_closed_writer_refuses_work(news_index: Index) -> None:
    writer = news_index.writer()
    writer.close()
    with pytest.raises(SearchlibError, match="closed"):
        writer.add_document(path="x", body="y")


def test_files_older_than_the_previous_generation_are_removed(news_index: Index) -> None:
    with news_index.writer() as writer:
        writer.delete_by_term("path", "a")
    with news_index.writer() as writer:
        writer.delete_by_term("path", "c")  # the whole second segment goes
    newest = news_index.reopen()
    files = set(p.name for p in news_index.path.iterdir())
    manifests = sorted(f for f in files if f.startswith("manifest-"))
    assert manifests == [f"manifest-{newest.generation - 1}.json", f"manifest-{newest.generation}.json"]
    assert not any(f.endswith(".tmp") for f in files)
    assert len(newest.segments) == 1
    assert any(f.startswith("seg-00000001") for f in files)  # kept for the previous generation
    with newest.writer() as writer:
        writer.add_document(path="z", body="more")
    assert not any(p.name.startswith("seg-00000001") for p in news_index.path.iterdir())


def test_a_searcher_keeps_its_snapshot_across_commits(news_index: Index) -> None:
    searcher = Searcher(news_index)
    with news_index.writer() as writer:
        writer.delete_by_term("path", "a")
        writer.add_document(path="e", body="more talks")
    assert sorted(h.id for h in searcher.search("talks")) == ["a", "c"]
    assert ids(news_index) == ["c", "e"]


def test_schema_rejects_type_changes_and_unknown_fields(news_index: Index) -> None:
    with news_index.writer() as writer:
        with pytest.raises(SchemaError, match="already defined as text"):
            writer.add_field("title", KEYWORD())
        with pytest.raises(SchemaError, match="unknown field 'nope'"):
            writer.add_document(path="x", nope="y")
        with pytest.raises(SchemaError, match="takes a string"):
            writer.add_document(path="x", body=5)
        writer.add_field("tag", KEYWORD())
        writer.add_document(path="t", tag="news", body="tagged talks")
    assert "tag" in news_index.reopen().schema


def test_create_refuses_foreign_and_existing_directories(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(IndexNotFoundError, match="not empty"):
        Index.create(foreign, Schema(body=TEXT()))
    Index.create(tmp_path / "new", Schema(body=TEXT()))
    with pytest.raises(SearchlibError, match="already holds"):
        Index.create(tmp_path / "new", Schema(body=TEXT()))


def test_open_explains_how_to_create_an_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="does not exist.*searchlib index"):
        Index.open(tmp_path / "missing")
    with pytest.raises(IndexNotFoundError, match="not a searchlib index"):
        Index.open(tmp_path)


def test_second_writer_fails_naming_the_holder(news_index: Index) -> None:
    with news_index.writer():
        with pytest.raises(LockError, match=r"locked by process \d+"):
            news_index.writer(lock_timeout=0.1)


def test_lock_of_a_killed_process_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "idx"
    Index.create(path, Schema(path=ID(), body=TEXT()))
    script = textwrap.dedent(
        f"""
        import os, signal
        from searchlib import Index
        writer = Index.open({str(path)!r}).writer()
        writer.add_document(path="lost", body="never committed")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -9
    with Index.open(path).writer() as writer:
        writer.add_document(path="kept", body="committed")
    assert Index.open(path).doc_count == 1


def test_a_rejected_document_leaves_no_trace(news_index: Index) -> None:
    with news_index.writer() as writer:
        writer.add_field("extra", STORED())
        writer.add_document(path="bad", body="zebra")
        with pytest.raises(SchemaError, match="cannot be saved as JSON"):
            writer.add_document(path="nan", body="zebra", extra=float("nan"))
        writer.add_document(path="good", body="apple")
    with Searcher(news_index) as searcher:
        assert [h.id for h in searcher.search("zebra")] == ["bad"]
        assert [h.id for h in searcher.search("apple")] == ["good"]


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 0.0, -1.0])
def test_a_boost_must_be_positive_and_finite(bad: float) -> None:
    """An index stores standard JSON, which has no NaN or Infinity: such a boost is
    refused when the field is defined, not written where no reader could parse it."""
    with pytest.raises(SchemaError, match="boost must be a positive, finite number"):
        TEXT(boost=bad)


def test_analyzer_parameters_must_be_standard_json() -> None:
    with pytest.raises(SchemaError, match="analyzer parameters must be JSON values"):
        TEXT(analyzer="ngram", analyzer_params={"min_size": float("nan")})


def test_empty_id_is_refused(news_index: Index) -> None:
    with news_index.writer() as writer:
        with pytest.raises(SchemaError, match="ID field 'path' must not be empty"):
            writer.add_document(path="", body="orphan")


def test_a_failed_commit_releases_the_lock(news_index: Index) -> None:
    blocker = news_index.path / f"manifest-{news_index.generation + 1}.json.tmp"
    blocker.mkdir()  # the manifest cannot be written: its temporary name is taken
    with pytest.raises(OSError):
        with news_index.writer() as writer:
            writer.add_document(path="d", body="talks")
    blocker.rmdir()
    with news_index.writer() as writer:  # not locked by this very process
        writer.add_document(path="d", body="talks")
    assert news_index.reopen().doc_count == 4


def test_readers_racing_a_committing_writer_always_see_a_whole_generation(tmp_path: Path) -> None:
    path = tmp_path / "race"
    index = Index.create(path, Schema(path=ID(), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(path="doc", body="version zero talks")
    script = textwrap.dedent(
        f"""
        from searchlib import Index
        index = Index.open({str(path)!r})
        for number in range(1, 150):
            with index.writer(lock_timeout=5) as writer:
                writer.update_document(path="doc", body=f"version {{number}} talks")
        """
    )
    writer_process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    searches = 0
    try:
        while writer_process.poll() is None:
            with Searcher(path) as searcher:
                results = searcher.search("talks")
                assert results.total == 1 and results[0].id == "doc"
                searches += 1
    finally:
        _, errors = writer_process.communicate(timeout=120)
    assert writer_process.returncode == 0, errors
    assert searches > 0


def test_delete_by_query_reaches_committed_and_buffered_documents(news_index: Index) -> None:
    with news_index.writer() as writer:
        writer.add_document(path="new", title="Ceasefire", body="a buffered talk")
        assert writer.delete_by_query("talks") == 3  # a and c (committed) and the buffered one
        assert writer.delete_by_query(Term("path", "new")) == 0  # already gone
    with Searcher(news_index) as searcher:
        assert searcher.search("talks").total == 0


def test_delete_by_query_takes_query_syntax_with_ranges(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "idx", Schema(id=ID(), body=TEXT(), year=NUMERIC("int")))
    with index.writer() as writer:
        for number, body in enumerate(["old talks", "old rain", "new talks"]):
            writer.add_document(id=str(number), body=body, year=2000 + number)
    with index.writer() as writer:
        assert writer.delete_by_query("talks AND year:[* TO 2001]") == 1
    with Searcher(index) as searcher:
        assert sorted(hit.id for hit in searcher.search("*")) == ["1", "2"]


def test_a_searcher_keeps_its_snapshot_across_merges(news_index: Index) -> None:
    with Searcher(news_index) as searcher:
        before = [(hit.id, hit.score, hit.snippet()) for hit in searcher.search("talks shares")]
        with news_index.writer() as writer:
            writer.delete_by_term("path", before[0][0])
            writer.add_document(path="z", title="More talks", body="talks talks talks")
            writer.optimize()
        with news_index.writer() as writer:  # a second commit removes the merged-away files
            writer.add_document(path="y", body="later")
        assert [(hit.id, hit.score, hit.snippet()) for hit in searcher.search("talks shares")] == before
    assert len(news_index.reopen().segments) == 2


def test_reopen_moves_a_searcher_to_the_newest_generation(news_index: Index) -> None:
    with Searcher(news_index) as searcher:
        assert searcher.reopen() is searcher  # nothing committed since
        with news_index.writer() as writer:
            writer.add_document(path="d", body="fresh talks")
        newer = searcher.reopen()
        assert newer is not searcher and newer.doc_count == searcher.doc_count + 1
        assert "d" not in {hit.id for hit in searcher.search("talks")}
        assert "d" in {hit.id for hit in newer.search("talks")}
        newer.close()
