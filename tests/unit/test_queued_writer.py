"""QueuedWriter: many threads hand changes to one writer thread, which commits by count
or time, and nothing handed over is lost, not even when a commit fails."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from searchlib import (
    ID, KEYWORD, TEXT, Index, LockError, QueuedWriter, Schema, SchemaError, Searcher, SearcherManager, SearchlibError,
)
from searchlib.queued import CommitError, Operation
from searchlib.storage import Directory

PATIENCE = 120.0


@pytest.fixture
def index(tmp_path: Path) -> Index:
    index = Index.create(tmp_path / "index", Schema(id=ID(), body=TEXT(), tag=KEYWORD()))
    with index.writer() as writer:
        writer.add_document(id="old", body="words from before", tag="old")
    return index.reopen()


def stored(path: Path) -> dict[str, str]:
    """Every live document's id and body (each body holds "words")."""
    with Searcher(path) as searcher:
        results = searcher.search("words", limit=100_000)
        return {hit["id"]: hit["body"] for hit in results}


THREADS = 8
PER_THREAD = 300


def expected_after(changes: Iterable[int]) -> dict[str, str]:
    """What the threads' changes leave, whatever their interleaving: each thread changes
    its own documents only, in its own order."""
    documents = {"old": "words from before"}
    for thread in changes:
        for number in range(PER_THREAD):
            key = f"t{thread}-{number}"
            documents[key] = f"words of {key}"
            if number % 3 == 0:
                documents[key] = f"updated words of {key}"
            if number % 5 == 0:
                del documents[key]
    return documents


def test_many_threads_add_update_and_delete_and_close_loses_nothing(index: Index) -> None:
    start = index.generation
    writer = QueuedWriter(index, commit_every=250, commit_interval=0.05)
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for number in range(PER_THREAD):
                key = f"t{thread}-{number}"
                writer.add_document(id=key, body=f"words of {key}", tag=f"t{thread}")
                if number % 3 == 0:
                    writer.update_document(id=key, body=f"updated words of {key}", tag=f"t{thread}")
                if number % 5 == 0:
                    writer.delete_by_term("id", key)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)
    writer.close()
    assert errors == []
    assert stored(index.path) == expected_after(range(THREADS))
    changes = THREADS * (PER_THREAD + PER_THREAD // 3 + PER_THREAD // 5)
    final = Index.open(index.path)
    assert final.generation - start >= changes // 250  # it committed by count on the way
    assert writer.generation == final.generation and writer.failed_commits == 0
    with final.writer(timeout=0):  # the lock was released
        pass


def test_a_change_is_committed_within_the_interval_without_close(index: Index) -> None:
    with QueuedWriter(index, commit_every=10**6, commit_interval=0.05) as writer:
        writer.add_document(id="new", body="words by time")
        deadline = time.monotonic() + PATIENCE
        while Index.open(index.path).doc_count < 2:
            assert time.monotonic() < deadline, "no commit by time"
            time.sleep(0.01)
        assert "new" in stored(index.path)
        assert writer.failed_commits == 0


def test_a_backlog_is_committed_by_time_while_it_is_applied(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    from searchlib.writer import IndexWriter

    real = IndexWriter.add_document

    def slow(self: IndexWriter, document: object = None, **fields: object) -> None:
        time.sleep(0.002)  # a long document: the queue never runs empty while it is worked off
        real(self, document, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(IndexWriter, "add_document", slow)
    start = Index.open(index.path).generation
    with QueuedWriter(index, commit_every=10**6, commit_interval=0.05) as writer:
        for number in range(200):
            writer.add_document(id=f"d{number}", body="words")
        final = writer.commit()
    assert final - start >= 2  # commits by time came before the one asked for
    assert len(stored(index.path)) == 201


def test_commit_waits_for_what_was_queued(index: Index) -> None:
    with QueuedWriter(index, commit_every=10**6, commit_interval=3600) as writer:
        for number in range(50):
            writer.add_document(id=f"d{number}", body="words")
        generation = writer.commit()
        assert Index.open(index.path).generation == generation
        assert len(stored(index.path)) == 51
        assert writer.commit() == generation  # nothing new: no new generation


def test_each_commit_is_announced_before_commit_returns(index: Index) -> None:
    manager = SearcherManager(index)
    announced: list[int] = []

    def refresh(generation: int) -> None:
        announced.append(generation)
        manager.maybe_refresh()

    with QueuedWriter(index, commit_every=10**6, commit_interval=3600, on_commit=refresh) as writer:
        writer.add_document(id="new", body="words")
        generation = writer.commit()
        assert announced == [generation] and manager.generation == generation
        with manager.searcher() as searcher:
            assert searcher.search("words").total == 2
        writer.add_document(id="newer", body="words")
    assert len(announced) == 2  # the commit at close too
    manager.close()


def test_a_failing_callback_leaves_the_commit_standing(index: Index) -> None:
    def fail(generation: int) -> None:
        raise RuntimeError("the application's mistake")

    with QueuedWriter(index, on_commit=fail) as writer:
        writer.add_document(id="new", body="words")
        writer.commit()
        assert writer.last_error is None
    assert "new" in stored(index.path)


def test_a_bad_change_raises_in_the_thread_that_gives_it(index: Index) -> None:
    with QueuedWriter(index) as writer:
        with pytest.raises(SchemaError):
            writer.add_document(id="x", colour="red")  # no such field
        with pytest.raises(SchemaError):
            writer.update_document(body="no id")
        with pytest.raises(SchemaError):
            writer.delete_by_term("body", "there")  # a TEXT field
        with pytest.raises(SchemaError):
            writer.add_document(id="", body="empty id")
        writer.add_document(id="good", body="words")
    assert set(stored(index.path)) == {"old", "good"}


def test_it_holds_the_lock_until_closed(index: Index) -> None:
    writer = QueuedWriter(index)
    with pytest.raises(LockError):
        index.writer(timeout=0)
    with pytest.raises(LockError):
        QueuedWriter(index, timeout=0)
    writer.close()
    writer.close()  # a second close does nothing
    with pytest.raises(SearchlibError, match="closed"):
        writer.add_document(id="late", body="words")
    with index.writer(timeout=0):
        pass


def failing_manifests(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """Make writing the next ``times`` manifests fail as a full disk does; the names
    tried are returned (as they are tried)."""
    real = Directory.write_file
    tried: list[str] = []

    def write_file(self: Directory, name: str, chunks: Iterable[bytes]) -> int:
        if name.startswith("manifest-"):
            tried.append(name)
            if len(tried) <= times:
                raise OSError(errno.ENOSPC, "No space left on device", str(self.path / name))
        return real(self, name, chunks)

    monkeypatch.setattr(Directory, "write_file", write_file)
    return tried


def test_a_failed_commit_keeps_its_changes_for_the_next(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    tried = failing_manifests(monkeypatch, times=1)
    writer = QueuedWriter(index, commit_every=10**6, commit_interval=3600)
    writer.add_document(id="a", body="words")
    writer.delete_by_term("id", "old")
    with pytest.raises(CommitError) as caught:
        writer.commit()
    assert isinstance(caught.value.__cause__, OSError) and caught.value.__cause__.errno == errno.ENOSPC
    assert [op.kind for op in caught.value.operations] == ["add", "delete"]
    assert writer.failed_commits == 1 and isinstance(writer.last_error, OSError)
    assert set(stored(index.path)) == {"old"}  # the index is as it was
    writer.update_document(id="a", body="updated words")
    writer.add_document(id="b", body="words")
    writer.close()  # tries again: a new writer, the changes applied again, in order
    assert len(tried) == 2
    assert stored(index.path) == {"a": "updated words", "b": "words"}
    assert writer.last_error is None
    with Searcher(index.path) as searcher:  # one consistent generation on disk
        assert searcher.search("words").total == 2


def test_a_commit_that_keeps_failing_gives_back_every_change(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_manifests(monkeypatch, times=10**6)
    before = Index.open(index.path).generation
    writer = QueuedWriter(index, commit_every=3, commit_interval=0.01)
    given = [
        Operation("add", {"id": "a", "body": "words"}),
        Operation("add", {"id": "b", "body": "words"}),
        Operation("update", {"id": "a", "body": "updated words"}),
        Operation("delete", term=("id", "old")),
        Operation("add", {"id": "c", "body": "words"}),
    ]
    for operation in given:
        operation.apply(writer)
    with pytest.raises(CommitError) as caught:
        writer.close()
    assert caught.value.operations == given  # all of them, in order
    assert "5 changes were not committed" in str(caught.value)
    assert writer.failed_commits >= 1
    assert Index.open(index.path).generation == before  # nothing half-written
    monkeypatch.undo()  # the disk has room again: the changes go through another writer
    with Index.open(index.path).writer(timeout=0) as recovery:  # the lock was released
        for operation in caught.value.operations:
            operation.apply(recovery)
    assert stored(index.path) == {"a": "updated words", "b": "words", "c": "words"}


def test_changes_queued_when_the_program_ends_are_committed(index: Index) -> None:
    script = textwrap.dedent(
        """
        import sys
        from searchlib import QueuedWriter
        writer = QueuedWriter(sys.argv[1], commit_every=10**6, commit_interval=3600)
        for number in range(100):
            writer.add_document(id=f"d{number}", body="words")
        # no close(): the program just ends
        """
    )
    result = subprocess.run([sys.executable, "-c", script, str(index.path)], capture_output=True, text=True,
                            timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    assert len(stored(index.path)) == 101
