"""SearcherManager: one shared searcher per generation, swapped for a newer one while
searches on the old one finish.

A :class:`~searchlib.searcher.Searcher` is a snapshot: it never sees later commits, and
closing it under a thread that is searching makes that search fail. An application whose
threads search while another commits needs someone to decide when the old snapshot may
go. The manager counts who uses each searcher: :meth:`SearcherManager.acquire` hands out
the current one and counts the user; :meth:`SearcherManager.maybe_refresh` opens the
newest generation and makes it current; a searcher that is no longer current is closed
by whichever :meth:`SearcherManager.release` ends its last use. Lucene calls this a
SearcherManager, and tantivy's reader with a reload policy does the same.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from searchlib.errors import SearchlibError
from searchlib.index import Index, latest_generation
from searchlib.searcher import Searcher
from searchlib.storage import Directory


@dataclass
class _Lease:
    """A searcher with the count of its users; ``current`` while new users get it."""

    searcher: Searcher
    users: int = 0
    current: bool = True


class SearcherManager:
    """Hands out the index's current searcher to many threads and refreshes it safely.

    ::

        manager = SearcherManager(index)
        with manager.searcher() as searcher:      # or acquire() ... release(searcher)
            results = searcher.search("direct talks")
        manager.maybe_refresh()                   # after a commit, or on a timer

    ``options`` are passed to every :class:`~searchlib.searcher.Searcher` it opens
    (``fields``, ``default_operator``, ``k1``...). ``warm``, if given, is called with
    each new searcher before any thread gets it (a few typical queries there load what
    the first real ones would otherwise wait for).

    A searcher that :meth:`acquire` returned must be given back with :meth:`release`,
    once, and must not be closed by its user: the manager closes it when it is neither
    current nor in use. Results and hits keep working after their searcher is released.
    """

    def __init__(
        self,
        index: Index | str | os.PathLike[str],
        *,
        warm: Callable[[Searcher], object] | None = None,
        **options: Any,
    ) -> None:
        self._path = index.path if isinstance(index, Index) else index
        self._directory = Directory(self._path)
        self._options = options
        self._warm = warm
        #: Guards the leases and their counts; held only for a few operations.
        self._lock = threading.Lock()
        #: One refresh at a time: a second caller waits for the first, then looks again.
        self._refreshing = threading.Lock()
        self._closed = False
        self._current = self._open()
        #: Every searcher still open, by its id(): the current one and those in use.
        self._leases: dict[int, _Lease] = {id(self._current.searcher): self._current}

    def _open(self) -> _Lease:
        """A lease on a new searcher of the newest generation, warmed, not yet current."""
        searcher = Searcher(self._path, **self._options)
        if self._warm is not None:
            try:
                self._warm(searcher)
            except BaseException:
                searcher.close()
                raise
        return _Lease(searcher)

    @property
    def generation(self) -> int:
        """The generation the current searcher sees."""
        return self._current.searcher.index.generation

    def acquire(self) -> Searcher:
        """The current searcher, counted as in use until :meth:`release` gives it back."""
        with self._lock:
            if self._closed:
                raise SearchlibError("this SearcherManager is closed")
            lease = self._current
            lease.users += 1
            return lease.searcher

    def release(self, searcher: Searcher) -> None:
        """Give back a searcher :meth:`acquire` returned; the last user of one that is no
        longer current closes it."""
        with self._lock:
            lease = self._leases.get(id(searcher))
            if lease is None or lease.searcher is not searcher or lease.users == 0:
                raise ValueError("release() takes a searcher acquire() returned and that was not released since")
            lease.users -= 1
            if lease.users or lease.current:
                return
            del self._leases[id(searcher)]
        searcher.close()

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """``with manager.searcher() as searcher:`` acquires and releases around the block."""
        searcher = self.acquire()
        try:
            yield searcher
        finally:
            self.release(searcher)

    def maybe_refresh(self) -> bool:
        """Make the newest committed generation current, if it is newer; return whether
        it was. Searches on the old searcher go on; it closes when the last is released.

        The new searcher is opened (and warmed) before it is swapped in, without holding
        up :meth:`acquire`; concurrent refreshes run one after the other.
        """
        with self._refreshing:
            if self._closed:
                raise SearchlibError("this SearcherManager is closed")
            old = self._current
            if latest_generation(self._directory) == old.searcher.index.generation:
                return False
            lease = self._open()
            with self._lock:
                self._leases[id(lease.searcher)] = lease
                self._current = lease
                retired = self._retire(old)
            if retired:
                old.searcher.close()
            return True

    def _retire(self, lease: _Lease) -> bool:
        """Make ``lease`` no longer current; whether it is unused and should be closed.
        Called with the lock held."""
        lease.current = False
        if lease.users:
            return False
        del self._leases[id(lease.searcher)]
        return True

    def close(self) -> None:
        """Stop handing out searchers; the current one closes once nobody uses it."""
        with self._refreshing:
            with self._lock:
                if self._closed:
                    return
                self._closed = True
                retired = self._retire(self._current)
            if retired:
                self._current.searcher.close()

    def __enter__(self) -> SearcherManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
