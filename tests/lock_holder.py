"""A process that holds an index's write lock until told to let go, for the lock tests.

Run as ``python tests/lock_holder.py DIRECTORY [--as-windows]``: it takes the lock,
prints ``locked PID``, waits for a line on stdin (or its end), releases the lock and
prints ``released``. With ``--as-windows`` (or after :func:`act_as_windows` in any
process) ``fcntl`` cannot be imported and a stand-in for ``msvcrt`` takes its place, so
searchlib locks through its Windows implementation.
"""

from __future__ import annotations

import errno
import os
import sys
import types

#: The calls searchlib made to the stand-in ``msvcrt.locking``: (mode, position, bytes).
LOCKING_CALLS: list[tuple[int, int, int]] = []


def act_as_windows() -> None:
    """Make ``import fcntl`` fail and put a stand-in ``msvcrt`` in its place.

    The stand-in's ``locking`` does what Windows' does, locking ``nbytes`` from the
    file's current position without waiting (``LK_NBLCK``, EACCES when another holds
    them) or unlocking them (``LK_UNLCK``), through POSIX record locks (``lockf``) on
    the same byte range, taken from ``fcntl`` before it is hidden. One difference
    remains: record locks belong to a process, Windows locks to a handle, so two
    holders must be two processes.
    """
    import fcntl as real_fcntl

    for name in [name for name in sys.modules if name == "searchlib" or name.startswith("searchlib.")]:
        del sys.modules[name]  # nothing of searchlib may have seen fcntl
    sys.modules["fcntl"] = None  # type: ignore[assignment]  # `import fcntl` raises ImportError
    msvcrt = types.ModuleType("msvcrt")
    msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK, msvcrt.LK_RLCK, msvcrt.LK_NBRLCK = 0, 1, 2, 3, 4  # type: ignore[attr-defined]

    def locking(fd: int, mode: int, nbytes: int) -> None:
        position = os.lseek(fd, 0, os.SEEK_CUR)
        LOCKING_CALLS.append((mode, position, nbytes))
        if mode == msvcrt.LK_NBLCK:  # type: ignore[attr-defined]
            try:
                real_fcntl.lockf(fd, real_fcntl.LOCK_EX | real_fcntl.LOCK_NB, nbytes, position, os.SEEK_SET)
            except OSError:
                raise PermissionError(errno.EACCES, "Permission denied") from None
        elif mode == msvcrt.LK_UNLCK:  # type: ignore[attr-defined]
            real_fcntl.lockf(fd, real_fcntl.LOCK_UN, nbytes, position, os.SEEK_SET)
        else:
            raise ValueError(f"searchlib should only lock without waiting and unlock, not mode {mode}")

    msvcrt.locking = locking  # type: ignore[attr-defined]
    sys.modules["msvcrt"] = msvcrt


def main(arguments: list[str]) -> None:
    if "--as-windows" in arguments:
        act_as_windows()
    from searchlib.locking import backend
    from searchlib.storage import Directory

    lock = Directory(arguments[0]).lock()
    print(f"locked {os.getpid()} {backend().name}", flush=True)
    sys.stdin.readline()
    lock.release()
    print("released", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
