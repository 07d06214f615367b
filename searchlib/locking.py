"""The one-writer-per-index lock: an OS file lock on ``write.lock``, on POSIX or Windows.

The lock itself is an operating-system lock the kernel drops when the holding process
dies, so a crashed writer never leaves a stale lock behind:

- on POSIX, ``fcntl.flock`` on the whole file;
- on Windows, ``msvcrt.locking`` on one byte far past the end of the file. Windows
  locks are mandatory (a locked byte cannot even be read by another process), so the
  byte locked is never one the holder's details are written in.

Neither module is imported until a lock is first taken (:func:`backend`), so
``import searchlib`` works wherever Python does; a search loads neither, nor this
module (:meth:`~searchlib.storage.Directory.lock` imports it).

The file holds who took the lock (process, host, time), one line of JSON. That is only
ever shown, in the message of a writer that waits or gives up (:class:`LockHolder`):
whatever the file says, a dead holder's lock is free.

A POSIX lock belongs to the open file description, which a forked child would share:
every forked child closes its copy of the descriptor at once (``os.register_at_fork``),
so only the writer itself ever holds the lock, and an exec'd child never gets it (the
descriptor is close-on-exec).
"""

from __future__ import annotations

import errno
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from searchlib.errors import LockError

#: How often a waiting writer tries the lock again, in seconds.
POLL_INTERVAL = 0.05

#: Where the Windows lock sits: one byte far past anything the file holds.
WINDOWS_LOCK_OFFSET = 1 << 30

#: The most of the file read for the holder's details (they take well under 200 bytes).
HOLDER_MAX_BYTES = 512

_OPEN_FLAGS = (
    os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOINHERIT", 0) | getattr(os, "O_BINARY", 0)
)


class LockBackend(Protocol):
    """An exclusive, non-blocking lock on an open file that the OS drops when the
    process dies; one implementation per operating system."""

    name: str

    def try_lock(self, handle: int) -> bool:
        """Take the lock on ``handle``; False when another holds it (never waits)."""
        ...

    def unlock(self, handle: int) -> None:
        """Give up the lock taken on ``handle`` (the descriptor stays open)."""
        ...


class FlockBackend:
    """POSIX: ``flock`` on the whole file, per open file description."""

    name = "fcntl"

    def __init__(self) -> None:
        import fcntl

        self._fcntl: Any = fcntl  # Any: type-checked on any platform, imported on POSIX

    def try_lock(self, handle: int) -> bool:
        try:
            self._fcntl.flock(handle, self._fcntl.LOCK_EX | self._fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        return True

    def unlock(self, handle: int) -> None:
        self._fcntl.flock(handle, self._fcntl.LOCK_UN)


class MsvcrtBackend:
    """Windows: ``msvcrt.locking`` on the byte at :data:`WINDOWS_LOCK_OFFSET`, per handle.

    ``msvcrt.locking`` locks from the file's current position, so each call seeks there
    first; the holder's details at the start of the file stay readable to others.
    """

    name = "msvcrt"

    def __init__(self) -> None:
        import msvcrt

        self._msvcrt: Any = msvcrt  # Any: type-checked on any platform, imported on Windows

    def try_lock(self, handle: int) -> bool:
        os.lseek(handle, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            self._msvcrt.locking(handle, self._msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            # EACCES (a lock violation) or EDEADLOCK: another handle holds the byte.
            if exc.errno in (errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK), errno.EDEADLK):
                return False
            raise
        return True

    def unlock(self, handle: int) -> None:
        os.lseek(handle, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        self._msvcrt.locking(handle, self._msvcrt.LK_UNLCK, 1)


_backend: LockBackend | None = None


def backend() -> LockBackend:
    """The lock implementation of this platform, chosen (and its module imported) on
    first use: ``fcntl`` where it exists, else ``msvcrt``."""
    global _backend
    if _backend is None:
        try:
            _backend = FlockBackend()
        except ImportError:
            try:
                _backend = MsvcrtBackend()
            except ImportError:
                raise LockError(
                    "this platform has neither fcntl nor msvcrt: searchlib cannot lock an index for writing"
                ) from None
    return _backend


@dataclass(frozen=True)
class LockHolder:
    """Who took a lock, as its file says: shown to a writer that waits for it.

    Every part may be missing (an older searchlib wrote only the PID; a holder dies
    between taking the lock and writing its details) or stale, so none of it decides
    anything.
    """

    pid: int | None = None
    host: str | None = None
    #: When the lock was taken, in seconds since the epoch.
    since: float | None = None

    @classmethod
    def here(cls) -> LockHolder:
        """This process, now."""
        import socket  # only a writer needs the host name

        return cls(os.getpid(), socket.gethostname(), time.time())

    def encode(self) -> bytes:
        return (json.dumps({"pid": self.pid, "host": self.host, "since": self.since}) + "\n").encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> LockHolder:
        """The details in ``data``, or as many of them as can be read: JSON as written
        by :meth:`encode`, or a bare PID; anything else gives an empty holder."""
        text = data.decode("utf-8", "replace").strip()
        if text.isascii() and text.isdigit():
            return cls(pid=int(text))
        try:
            fields = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(fields, dict):
            return cls()
        pid, host, since = fields.get("pid"), fields.get("host"), fields.get("since")
        return cls(
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            host=host[:255] if isinstance(host, str) else None,
            since=float(since) if isinstance(since, (int, float)) and not isinstance(since, bool) else None,
        )

    def describe(self) -> str:
        """``process 123 on host web-1 since 2026-12-07 10:31:02 UTC``, as far as known."""
        if self.pid is None:
            return "another process"
        text = f"process {self.pid}"
        if self.host:
            text += f" on host {self.host}"
        if self.since is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.since))
            text += f" since {stamp}"
        return text


class WriteLock:
    """The exclusive OS lock on an index's ``write.lock``, with the holder's details
    written into the file.

    ``timeout`` is how long to wait for another holder, in seconds; a writer that has to
    wait says so once through the ``searchlib.locking`` logger (a warning, which Python
    prints on stderr when the application has set up no logging), and one that gives up
    raises :class:`~searchlib.errors.LockError` naming the holder.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        lock = backend()
        handle = os.open(path, _OPEN_FLAGS, 0o644)
        try:
            if not lock.try_lock(handle):
                _wait(lock, handle, path, timeout)
            os.ftruncate(handle, 0)
            os.lseek(handle, 0, os.SEEK_SET)
            os.write(handle, LockHolder.here().encode())
        except BaseException:
            os.close(handle)  # closing drops the lock too, if it was taken
            raise
        self._backend = lock
        self._handle: int | None = handle
        self._owner = os.getpid()
        _HELD.add(handle)

    @property
    def held(self) -> bool:
        """Whether this process holds the lock (a forked child of the holder does not)."""
        return self._handle is not None and self._owner == os.getpid()

    def release(self) -> None:
        if self._handle is None:
            return
        if self._owner == os.getpid():
            _HELD.discard(self._handle)
            try:
                os.ftruncate(self._handle, 0)
                self._backend.unlock(self._handle)
            finally:
                os.close(self._handle)
        # In a forked child the descriptor is already closed, and an unlock through it
        # would have released the parent's lock (they share one open file description).
        self._handle = None

    def __enter__(self) -> WriteLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _wait(lock: LockBackend, handle: int, path: Path, timeout: float) -> None:
    """Try the lock until ``timeout`` seconds have passed, saying once that this writer
    waits and for whom; raise LockError naming the holder when the time is up."""
    started = time.monotonic()
    if timeout > 0:
        import logging  # only a writer that has to wait needs it

        logging.getLogger(__name__).warning(
            "waiting up to %g s for the write lock of index %s, held by %s",
            timeout, path.parent, read_holder(handle).describe(),
        )
    while True:
        remaining = started + timeout - time.monotonic()
        if remaining <= 0:
            holder = read_holder(handle)
            waited = f" (waited {timeout:g} s)" if timeout > 0 else ""
            raise LockError(
                f"index {path.parent} is locked by {holder.describe()}{waited}; wait for its writer "
                "to finish, or give a longer timeout (index.writer(timeout=SECONDS))",
                holder=holder,
            )
        time.sleep(min(POLL_INTERVAL, remaining))
        if lock.try_lock(handle):
            return


def read_holder(handle: int) -> LockHolder:
    """The holder's details from the start of the lock file open as ``handle``."""
    try:
        os.lseek(handle, 0, os.SEEK_SET)
        return LockHolder.decode(os.read(handle, HOLDER_MAX_BYTES))
    except OSError:
        return LockHolder()


#: The descriptors of the locks this process holds, closed in every forked child.
_HELD: set[int] = set()


def _close_locks_in_child() -> None:
    for handle in _HELD:
        try:
            os.close(handle)
        except OSError:
            pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_locks_in_child)
