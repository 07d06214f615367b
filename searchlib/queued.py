"""QueuedWriter: many threads add, update and delete; one thread writes and commits.

An index has one writer at a time, used by one thread, and every commit costs a few
fsyncs: a web application whose request handlers each opened a writer would wait on the
lock and commit once per request. A :class:`QueuedWriter` holds the index's one writer
in a thread of its own. Any thread hands it changes, which are checked against the
schema at once (a bad document raises in the thread that gave it) and queued; the
writer's thread applies them in order and commits after ``commit_every`` changes or
``commit_interval`` seconds, whichever comes first (Whoosh's BufferedWriter and
AsyncWriter do this for Whoosh).

Nothing is lost: the changes since the last commit are kept until a commit publishes
them. When a commit fails (a full disk, say), the writer is rolled back, and the next
attempt opens a new one and applies those changes again; :meth:`QueuedWriter.close`
commits what is queued and, if that still fails, raises :class:`CommitError` holding
every change that was not committed.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol

from searchlib.errors import SchemaError, SearchlibError
from searchlib.index import Index
from searchlib.storage import DEFAULT_WRITER_TIMEOUT

if TYPE_CHECKING:
    from searchlib.schema import Schema
    from searchlib.writer import IndexWriter

logger = logging.getLogger(__name__)

#: Changes between commits, by default.
DEFAULT_COMMIT_EVERY = 1000
#: Seconds a change waits at most for its commit, by default (more while commits fail).
DEFAULT_COMMIT_INTERVAL = 1.0
#: Changes queued and not yet applied before the threads that add more wait, by default.
DEFAULT_MAX_QUEUED = 10_000


class _Writes(Protocol):
    """What an operation needs of a writer: an IndexWriter or a QueuedWriter."""

    def add_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> Any: ...

    def update_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> Any: ...

    def delete_by_term(self, field_name: str, value: str) -> Any: ...


@dataclass(frozen=True)
class Operation:
    """One change handed to a queued writer: what :class:`CommitError` gives back."""

    kind: Literal["add", "update", "delete"]
    #: The document to add, or the new version to update to.
    document: Mapping[str, Any] | None = None
    #: The field and value whose documents a deletion deletes.
    term: tuple[str, str] | None = None

    def apply(self, writer: _Writes) -> None:
        """Make the change through ``writer`` (an IndexWriter or a QueuedWriter)."""
        if self.kind == "add":
            writer.add_document(self.document)
        elif self.kind == "update":
            writer.update_document(self.document)
        else:
            assert self.term is not None
            writer.delete_by_term(*self.term)


class CommitError(SearchlibError):
    """A queued writer could not commit; ``operations`` are the changes that are not in
    the index, in order. Raised by :meth:`QueuedWriter.close`, they are given up: apply
    them through another writer to keep them. Raised by :meth:`QueuedWriter.commit`, they
    are still queued and will be tried again."""

    def __init__(self, message: str, operations: list[Operation]) -> None:
        super().__init__(message)
        self.operations = operations


@dataclass
class _CommitRequest:
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


_STOP = object()


class QueuedWriter:
    """A writer that many threads may use at once; it commits by count or by time.

    ``index`` is an :class:`~searchlib.index.Index` or its path. The writer's lock is
    taken here (waiting up to ``timeout`` seconds, as :meth:`Index.writer` does, which
    also gets ``writer_options`` such as ``ram_buffer_mb``) and held until :meth:`close`.

    A commit comes after ``commit_every`` changes or ``commit_interval`` seconds after
    the oldest uncommitted change, and on :meth:`commit` and :meth:`close`. Threads that
    hand over changes while ``max_queued`` are waiting to be applied wait for room.

    ``on_commit(generation)`` is called in the writer's thread after each commit, before
    :meth:`commit` returns: ``on_commit=lambda _: manager.maybe_refresh()`` lets a
    :class:`~searchlib.manager.SearcherManager` show every commit to the next searches.

    Use it as a context manager or call :meth:`close`: what is still queued is committed
    then (and at interpreter exit, if neither was done). ``generation`` is the index's
    generation as of the last commit; ``last_error`` is the error of the last failed
    commit (or write before it), until a commit succeeds; ``failed_commits`` counts them.
    """

    def __init__(
        self,
        index: Index | str | os.PathLike[str],
        *,
        commit_every: int = DEFAULT_COMMIT_EVERY,
        commit_interval: float = DEFAULT_COMMIT_INTERVAL,
        max_queued: int = DEFAULT_MAX_QUEUED,
        timeout: float = DEFAULT_WRITER_TIMEOUT,
        on_commit: Callable[[int], object] | None = None,
        **writer_options: Any,
    ) -> None:
        if commit_every < 1:
            raise ValueError(f"commit_every must be at least 1, got {commit_every}")
        if not commit_interval > 0:
            raise ValueError(f"commit_interval must be positive, got {commit_interval}")
        self._index = index if isinstance(index, Index) else Index.open(index)
        self.commit_every = commit_every
        self.commit_interval = commit_interval
        self._timeout = timeout
        self._on_commit = on_commit
        self._writer_options = writer_options
        self._writer: IndexWriter | None = self._open_writer()  # a LockError is the caller's
        #: Checks changes in the threads that hand them over (it only reads the schema).
        self._checker: IndexWriter = self._writer
        self.generation: int = self._writer.generation
        self.last_error: BaseException | None = None
        self.failed_commits = 0
        # Owned by the writer's thread: the changes since the last commit, in order.
        self._uncommitted: list[Operation] = []
        self._oldest: float | None = None  # when the oldest of them was applied
        self._retry_at = 0.0  # no commit before this, after a failed one
        self._final: CommitError | None = None
        self._queue: queue.Queue[object] = queue.Queue(max_queued)
        #: Held while a change is queued, so that none comes in behind the closing one.
        self._gate = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="searchlib-queued-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    @property
    def schema(self) -> Schema:
        """The index's schema, which changes are checked against."""
        return self._checker.schema

    # --- any thread -------------------------------------------------------------------

    def add_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Queue a document to add (checked against the schema now)."""
        values = {**(document or {}), **fields}
        self._checker.check_document(values)
        self._put(Operation("add", values))

    def update_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Queue a new version of the document with the same ID (checked now)."""
        values = {**(document or {}), **fields}
        self._checker.check_document(values, update=True)
        self._put(Operation("update", values))

    def delete_by_term(self, field_name: str, value: str) -> None:
        """Queue the deletion of every document whose ID or KEYWORD field equals ``value``."""
        self._checker.check_delete(field_name, value)
        self._put(Operation("delete", term=(field_name, value)))

    def commit(self) -> int:
        """Wait until every change queued before this call is committed; return the
        generation. A failed commit raises :class:`CommitError` (its changes stay
        queued and are tried again, at the latest by :meth:`close`)."""
        request = _CommitRequest()
        self._put(request)
        self._wait(request.done)
        if request.error is not None:
            raise CommitError(f"the commit failed: {request.error}", self._pending()) from request.error
        return self.generation

    def close(self) -> None:
        """Commit everything queued, release the index's lock and stop the writer's
        thread. If that last commit fails, raise :class:`CommitError` with every change
        not committed; the lock is released all the same."""
        with self._gate:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._wait(None)
        atexit.unregister(self.close)
        if self._final is not None:
            raise self._final

    def _put(self, item: object) -> None:
        with self._gate:
            if self._closed:
                raise SearchlibError("this queued writer is closed")
            self._queue.put(item)

    def _wait(self, event: threading.Event | None) -> None:
        """Wait for ``event`` (or, with None, for the writer's thread to end), failing
        if the thread ended without setting it."""
        while True:
            if event is not None and event.wait(0.1):
                return
            self._thread.join(0 if event is not None else 0.1)
            if not self._thread.is_alive():
                if event is None or event.is_set():
                    return
                raise SearchlibError("the queued writer's thread has stopped")

    def _pending(self) -> list[Operation]:
        """The uncommitted changes (a copy: the writer's thread owns the list)."""
        return list(self._uncommitted)

    def __enter__(self) -> QueuedWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()  # what was handed over is committed, even when the block raised

    # --- the writer's thread ----------------------------------------------------------

    def _open_writer(self) -> IndexWriter:
        return self._index.writer(timeout=self._timeout, **self._writer_options)

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._until_due())
            except queue.Empty:
                self._commit()
                continue
            if isinstance(item, Operation):
                self._apply(item)
                if self._is_due():
                    self._commit()
            elif isinstance(item, _CommitRequest):
                item.error = self._commit()
                item.done.set()
            else:
                self._stop()
                return

    def _until_due(self) -> float | None:
        """Seconds until the next commit by time; None when nothing waits for one."""
        if self._oldest is None:
            return None
        return max(0.0, max(self._oldest + self.commit_interval, self._retry_at) - time.monotonic())

    def _is_due(self) -> bool:
        """Whether enough changes wait, or the oldest long enough (the queue may never
        run empty while a backlog is applied, so time is checked here too)."""
        if self._oldest is None:
            return False
        now = time.monotonic()
        if now < self._retry_at:
            return False
        return len(self._uncommitted) >= self.commit_every or now >= self._oldest + self.commit_interval

    def _apply(self, operation: Operation) -> None:
        self._uncommitted.append(operation)
        if self._oldest is None:
            self._oldest = time.monotonic()
        if self._writer is None:
            return  # after a failed commit: the next attempt applies it with the others
        try:
            operation.apply(self._writer)
        except SchemaError as exc:
            self._refuse(operation, exc)  # checked when queued: only a changed schema gets here
        except Exception as exc:  # a flush that failed, say: roll back, try again later
            self._failed(exc)

    def _refuse(self, operation: Operation, error: SchemaError) -> None:
        self._uncommitted.remove(operation)
        logger.error("a queued %s was refused and dropped: %s", operation.kind, error)

    def _commit(self) -> BaseException | None:
        """Commit the changes applied; return the error if that failed."""
        if not self._uncommitted:
            return None
        try:
            writer = self._writer if self._writer is not None else self._reopen()
            writer.commit()
        except Exception as exc:
            self._failed(exc)
            return exc
        self.generation = writer.generation
        self._uncommitted = []
        self._oldest = None
        self._retry_at = 0.0
        self.last_error = None
        if self._on_commit is not None:
            try:
                self._on_commit(self.generation)
            except Exception:  # the commit stands; the application's callback failed
                logger.exception("a queued writer's on_commit callback failed")
        return None

    def _reopen(self) -> IndexWriter:
        """A new writer with the uncommitted changes applied again, in order."""
        writer = self._open_writer()
        self._writer = self._checker = writer
        for operation in list(self._uncommitted):
            try:
                operation.apply(writer)
            except SchemaError as exc:
                self._refuse(operation, exc)
        return writer

    def _failed(self, error: BaseException) -> None:
        """Roll the writer back after ``error``; its changes stay, for the next attempt."""
        self.last_error = error
        self.failed_commits += 1
        logger.warning("a queued writer's commit failed (%s); %d changes kept to try again in %g s",
                       error, len(self._uncommitted), self.commit_interval)
        if self._writer is not None:
            try:
                self._writer.abort()
            except Exception:  # what abort could not delete, the next writer removes
                pass
            self._writer = None
        self._retry_at = time.monotonic() + self.commit_interval

    def _stop(self) -> None:
        error = self._commit()
        if error is not None:
            self._final = CommitError(
                f"the last commit failed ({error}); {len(self._uncommitted)} changes were not committed "
                "and are in this error's operations", self._pending(),
            )
            self._final.__cause__ = error
        if self._writer is not None:
            try:
                self._writer.abort()  # nothing is left uncommitted: this only releases the lock
            except Exception as exc:
                logger.error("a queued writer could not release the index's lock: %s", exc)
            self._writer = None
