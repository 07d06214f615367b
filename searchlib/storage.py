"""Storage: the files of an index directory, written atomically, and the writer lock.

Everything that touches the file system for an index goes through :class:`Directory`:

- :meth:`Directory.write_file` writes to a temporary name, fsyncs it, renames it into
  place and fsyncs the directory, so a file either exists complete or not at all;
- :meth:`Directory.map_file` memory-maps a file read-only for the codec, and
  :func:`release_pages` lets a reader that streams through a mapping once drop what it
  has read from its resident set;
- every read (:meth:`Directory.map_file`, :meth:`Directory.read_bytes`,
  :meth:`Directory.file_size`) opens only a regular file inside the directory: a name
  with a separator or ``..``, a symbolic link (even one pointing inside), a FIFO, a
  device or a directory is refused with a :class:`CorruptIndexError` naming the file in
  the index and saying nothing of what lies elsewhere, so an index from an untrusted
  source can neither read outside itself nor block a reader on a FIFO;
- :meth:`Directory.lock` takes the one-writer-per-index OS lock, which the operating
  system drops when the holding process dies (see :mod:`searchlib.locking`).
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    import mmap
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any, BinaryIO

    import numpy as np

    from searchlib.locking import WriteLock

from searchlib.errors import CorruptIndexError

LOCK_NAME = "write.lock"
#: How long a writer waits for another to finish by default, in seconds: longer than a
#: typical commit, short enough that a writer that never finishes is reported while
#: someone still watches.
DEFAULT_WRITER_TIMEOUT = 5.0
TEMP_SUFFIX = ".tmp"
_NOT_REGULAR = "is not a regular file (a symbolic link, directory, FIFO or device); an index holds only regular files"


class Directory:
    """An index directory on disk.

    Reading goes by ``root``, the path as given, through :mod:`os`: a process that only
    searches never imports :mod:`pathlib` (with the ``urllib.parse`` and ``ipaddress``
    it loads, about 4 ms of start-up). ``path``, for writing and for messages, is the
    same directory as a :class:`~pathlib.Path`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.root: str = os.fspath(path) or os.curdir  # "" is the current directory, as for a Path
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            from pathlib import Path

            self._path = Path(self.root)
        return self._path

    def __repr__(self) -> str:
        return f"Directory({str(self.path)!r})"

    def exists(self) -> bool:
        return os.path.isdir(self.root)

    def create(self) -> None:
        """Make the directory and any missing parents, durably: the parent of each
        directory made (and of the index directory itself) is fsynced, so a new index
        directory does not vanish in a power loss after its first commit returned."""
        missing: list[Path] = []
        ancestor = self.path
        while not ancestor.is_dir():
            missing.append(ancestor)
            if ancestor.parent == ancestor:
                break
            ancestor = ancestor.parent
        for directory in reversed(missing):
            directory.mkdir(exist_ok=True)  # a plain file in the way raises FileExistsError
            _fsync_directory(directory.parent)
        if not missing:
            _fsync_directory(self.path.parent)

    def list_files(self) -> list[str]:
        with os.scandir(self.root) as entries:
            return sorted(entry.name for entry in entries if entry.is_file())

    def file_path(self, name: str) -> str:
        return os.path.join(self.root, name)

    def file_size(self, name: str) -> int:
        """The size of the regular file ``name`` (a link or special file is refused)."""
        path = self._inside(name)
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise CorruptIndexError(str(path), _NOT_REGULAR)
        return info.st_size

    def read_bytes(self, name: str, limit: int | None = None) -> bytes:
        """The whole regular file ``name``; one larger than ``limit`` bytes is refused
        before anything is read."""
        handle = self._open_regular(name)
        try:
            size = os.fstat(handle).st_size
            if limit is not None and size > limit:
                raise CorruptIndexError(self.file_path(name), f"{size} bytes, more than the limit of {limit}")
            with open(handle, "rb", closefd=False) as reader:
                data = reader.read(size + 1)  # + 1: a file that grew is read whole or caught
        finally:
            os.close(handle)
        if limit is not None and len(data) > limit:
            raise CorruptIndexError(self.file_path(name), f"more than the limit of {limit} bytes")
        return data

    def map_file(self, name: str) -> memoryview:
        """Map a regular file read-only; an empty file gives an empty view."""
        handle = self._open_regular(name)
        try:
            if os.fstat(handle).st_size == 0:
                return memoryview(b"")
            import mmap  # array files only (a C module a search of an index without deletes skips)

            return memoryview(mmap.mmap(handle, 0, access=mmap.ACCESS_READ))
        finally:
            os.close(handle)

    def _inside(self, name: str) -> str:
        """The path of ``name``, which must be a plain name in this directory."""
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
            raise CorruptIndexError(self.root, f"{name!r} is not a plain file name")
        return self.file_path(name)

    def _open_regular(self, name: str) -> int:
        """A read-only descriptor on the regular file ``name`` in this directory.

        ``O_NOFOLLOW`` refuses a symbolic link and ``O_NONBLOCK`` keeps a FIFO from
        blocking the open; ``fstat`` of the open file (not of the name, which could be
        swapped meanwhile) then refuses anything that is not a regular file. A missing
        file raises FileNotFoundError, which a reader racing a commit retries on.
        """
        path = self._inside(name)
        if not _NO_FOLLOW and stat.S_ISLNK(_lstat_or_missing(path)):
            # No O_NOFOLLOW here (Windows): the name is checked before the open instead.
            raise CorruptIndexError(str(path), _NOT_REGULAR)
        try:
            handle = os.open(path, os.O_RDONLY | _NO_FOLLOW | _READ_FLAGS)
        except FileNotFoundError:
            raise
        except OSError as exc:
            import errno  # only a refused open needs the codes: searching never loads them

            if exc.errno in (errno.ELOOP, errno.EMLINK, errno.EISDIR, errno.ENXIO, errno.ENODEV):
                raise CorruptIndexError(str(path), _NOT_REGULAR) from None
            raise CorruptIndexError(str(path), f"cannot be opened ({os.strerror(exc.errno or 0)})") from None
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            os.close(handle)
            raise CorruptIndexError(str(path), _NOT_REGULAR)
        return handle

    def write_file(self, name: str, chunks: Iterable[bytes]) -> int:
        """Write ``chunks`` to ``name`` atomically and durably; return the byte count."""
        from searchlib.failpoints import failpoint  # the crash tests' hooks: writing loads them

        final = self.path / name
        temp = self.path / (name + TEMP_SUFFIX)
        written = 0
        with open(temp, "wb") as handle:
            failpoint("write.temp_open")
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        failpoint("write.before_rename")
        os.replace(temp, final)
        failpoint("write.before_sync")
        self.sync()
        return written

    def delete(self, name: str) -> None:
        try:
            (self.path / name).unlink()
        except FileNotFoundError:
            pass

    def sync(self) -> None:
        """Fsync the directory itself so renames and deletions are durable."""
        _fsync_directory(self.path)

    def lock(self, timeout: float = 0.0) -> WriteLock:
        """Take the writer lock, waiting up to ``timeout`` seconds for another holder
        (a :class:`~searchlib.errors.LockError` naming it when the time is up)."""
        from searchlib.locking import WriteLock  # only writers load the lock's code

        return WriteLock(self.path / LOCK_NAME, timeout)


#: ``O_NOFOLLOW`` where the system has it (0 on Windows, where a link is refused by name).
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: The other flags a segment file is opened with, where they exist: a FIFO does not
#: block the open, no child inherits the descriptor, no newline translation.
_READ_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _lstat_or_missing(path: str) -> int:
    """The mode of ``path`` itself (a link not followed); 0 when it does not exist, so
    that the open which follows raises FileNotFoundError as it would anyway."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return 0


def _fsync_directory(path: Path) -> None:
    """Make a rename in ``path`` durable. Windows cannot open a directory to flush it
    (NTFS journals the rename itself), so there it does nothing."""
    if os.name == "nt":
        return
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


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
    import mmap

    mapping = _mapping_behind(data)
    if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mapping.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # closed, or the platform refuses: only a hint
            pass


def _mapping_behind(data: Any) -> mmap.mmap | None:
    """The ``mmap`` an array or memoryview is a view of, following ``base``/``obj`` links."""
    import mmap

    for _ in range(8):  # views of views of a mapping are a few links deep at most
        if isinstance(data, mmap.mmap):
            return data
        data = data.obj if isinstance(data, memoryview) else getattr(data, "base", None)
        if data is None:
            return None
    return None
