"""Storage: the files of an index directory, written atomically, and the writer lock.

Everything that touches the file system for an index goes through :class:`Directory`:

- :meth:`Directory.write_file` writes to a temporary name, fsyncs it, renames it into
  place and fsyncs the directory, so a file either exists complete or not at all;
- :meth:`Directory.map_file` memory-maps a file read-only for the codec, and
  :func:`release_pages` lets a reader that streams through a mapping once drop what it
  has read from its resident set;
- :meth:`Directory.lock` takes the one-writer-per-index OS lock (``fcntl.flock``), which
  the operating system drops when the holding process dies, so a crashed writer never
  leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import numpy as np

from searchlib.errors import LockError

LOCK_NAME = "write.lock"
_TEMP_SUFFIX = ".tmp"


class Directory:
    """An index directory on disk."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Directory({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.is_dir()

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def list_files(self) -> list[str]:
        return sorted(entry.name for entry in self.path.iterdir() if entry.is_file())

    def file_path(self, name: str) -> Path:
        return self.path / name

    def file_size(self, name: str) -> int:
        return (self.path / name).stat().st_size

    def read_bytes(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def map_file(self, name: str) -> memoryview:
        """Map a file read-only; an empty file gives an empty view."""
        with open(self.path / name, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return memoryview(b"")
            return memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))

    def write_file(self, name: str, chunks: Iterable[bytes]) -> int:
        """Write ``chunks`` to ``name`` atomically and durably; return the byte count."""
        final = self.path / name
        temp = self.path / (name + _TEMP_SUFFIX)
        written = 0
        with open(temp, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
        self.sync()
        return written

    def delete(self, name: str) -> None:
        try:
            (self.path / name).unlink()
        except FileNotFoundError:
            pass

    def spill(self, name: str, dtype: np.dtype[Any]) -> SpillFile:
        """A temporary array file ``name`` + ``.tmp`` in this directory."""
        return SpillFile(_SpillLane(self.path / (name + _TEMP_SUFFIX), np.dtype(dtype)))

    def spills(self, prefix: str) -> Spills:
        """Spill files ``prefix.spill<n>.tmp`` made on demand, removed together."""
        return Spills(self, prefix)

    def sync(self) -> None:
        """Fsync the directory itself so renames and deletions are durable."""
        handle = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)

    def lock(self, timeout: float = 0.0) -> WriteLock:
        """Take the writer lock, waiting up to ``timeout`` seconds for another holder."""
        return WriteLock(self.path / LOCK_NAME, timeout)


def release_pages(data: np.ndarray | memoryview) -> None:
    """Drop the pages of the read-only file mapping behind ``data`` from this process's
    resident set; a no-op for memory that is not a mapping.

    Every page read through a mapping counts in the process's RSS until the mapping is
    closed, so a merge streaming through gigabytes of segment and spill files would look
    (and, to a container's memory limit, be) as large as those files. The pages stay in
    the operating system's page cache: a later read faults them back in without I/O.
    Only for read-only mappings (all searchlib maps): a private writable mapping would
    lose its changes.
    """
    mapping = _mapping_behind(data)
    if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mapping.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # closed, or the platform refuses: only a hint
            pass


def _mapping_behind(data: Any) -> mmap.mmap | None:
    """The ``mmap`` an array or memoryview is a view of, following ``base``/``obj`` links."""
    for _ in range(8):  # views of views of a mapping are a few links deep at most
        if isinstance(data, mmap.mmap):
            return data
        data = data.obj if isinstance(data, memoryview) else getattr(data, "base", None)
        if data is None:
            return None
    return None


class SpillFile:
    """A 1-D array written piece by piece to a temporary file and read back memory-mapped.

    Merges and flushes spill their largest outputs here, so their memory stays bounded
    by one chunk however large the segment is. The file ends in ``.tmp``: a writer that
    died leaves nothing a later writer does not remove.

    A spill file is a region of a :class:`_SpillLane`, which it may share with other
    spills of the same dtype written before and after it (see :class:`Spills`).
    """

    def __init__(self, lane: _SpillLane) -> None:
        if lane.writer is not None or lane.is_mapped:
            raise ValueError(f"{lane.path} is not free for another spill")
        lane.writer = self
        self.lane = lane
        self.dtype = lane.dtype
        self.start = lane.length
        self.length = 0

    @property
    def path(self) -> Path:
        return self.lane.path

    def append(self, values: np.ndarray) -> None:
        assert self.lane.writer is self, "append after finish or read"
        self.length += self.lane.append(values)

    def finish(self) -> None:
        """Done appending: the lane may take the next spill of its dtype."""
        if self.lane.writer is self:
            self.lane.writer = None

    def read(self) -> np.ndarray:
        """The whole array, memory-mapped (nothing is loaded until it is read).

        The first read of any spill of a lane maps the lane and closes it to new spills:
        read once every spill that shares it is written (one mapping, one descriptor).
        """
        self.finish()
        return self.lane.view(self.start, self.start + self.length)

    def remove(self) -> None:
        self.finish()
        self.lane.remove()


class _SpillLane:
    """One temporary file that spills of one dtype are appended to one after another,
    and mapped once when they are read."""

    def __init__(self, path: Path, dtype: np.dtype[Any]) -> None:
        self.path = path
        self.dtype = dtype
        self.length = 0
        #: The spill being appended, if any: one at a time, so each spill is contiguous.
        self.writer: SpillFile | None = None
        self._handle: BinaryIO | None = open(path, "wb")
        self._mapped: np.ndarray | None = None

    @property
    def is_mapped(self) -> bool:
        return self._handle is None

    def append(self, values: np.ndarray) -> int:
        assert self._handle is not None, "append after read"
        data = np.ascontiguousarray(values, dtype=self.dtype)
        data.tofile(self._handle)
        self.length += len(data)
        return len(data)

    def view(self, start: int, end: int) -> np.ndarray:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            if self.length:
                self._mapped = np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.length,))
        if self._mapped is None or end <= start:
            return np.zeros(0, dtype=self.dtype)
        return self._mapped[start:end]

    def remove(self) -> None:
        """Delete the file (arrays read from it stay readable: the mapping keeps it)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._mapped = None
        self.path.unlink(missing_ok=True)


class Spills:
    """The spill files of one segment being written: ``spills(dtype)`` makes the next
    one; leaving the ``with`` block removes them all (the segment's own files, written
    from them, are complete by then).

    Spills share files: a new spill of a dtype goes on in a file of that dtype that no
    spill is being written to and none has been read from, so a flush or merge of any
    number of fields holds as many files open as it writes spills at once (a few), not
    one per field, and maps each once. Read a field's spills after every field is
    written, or each read closes its file to the fields after it.
    """

    def __init__(self, directory: Directory, prefix: str) -> None:
        self.directory = directory
        self.prefix = prefix
        self._lanes: list[_SpillLane] = []

    def __call__(self, dtype: np.dtype[Any]) -> SpillFile:
        wanted = np.dtype(dtype)
        for lane in self._lanes:
            if lane.dtype == wanted and lane.writer is None and not lane.is_mapped:
                return SpillFile(lane)
        name = f"{self.prefix}.spill{len(self._lanes)}{_TEMP_SUFFIX}"
        self._lanes.append(_SpillLane(self.directory.path / name, wanted))
        return SpillFile(self._lanes[-1])

    def __enter__(self) -> Spills:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for lane in self._lanes:
            lane.remove()
        self._lanes = []


class WriteLock:
    """An exclusive OS lock on ``write.lock``; the holder's PID is written into it."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(handle)
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "?"
                    os.close(handle)
                    raise LockError(
                        f"index {path.parent} is locked by process {holder}; "
                        "wait for its writer to finish"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode("ascii"), 0)
        self._handle: int | None = handle

    def release(self) -> None:
        if self._handle is not None:
            os.ftruncate(self._handle, 0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
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
