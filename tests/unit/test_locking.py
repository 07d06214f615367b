"""The write lock against real processes: a writer waits for the holder, says so, and
gives up naming it; the lock works without ``fcntl`` through its Windows implementation.

Every holder here is another process (``tests/lock_holder.py``), as in production: the
lock is the operating system's, and only another process shows what it does.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from searchlib import ID, TEXT, Index, LockError, Schema, Searcher
from searchlib.locking import WINDOWS_LOCK_OFFSET, LockHolder
from tests.conftest import REPO_ROOT, searchlib_command

HOLDER_SCRIPT = REPO_ROOT / "tests" / "lock_holder.py"

#: How long a test waits for a subprocess to say something before it fails: generous,
#: as the machine may be loaded; never reached when things work.
PATIENCE = 120.0


class Holder:
    """A process holding an index's write lock until :meth:`release`."""

    def __init__(self, path: Path, *, as_windows: bool = False) -> None:
        args = [sys.executable, str(HOLDER_SCRIPT), str(path)] + (["--as-windows"] if as_windows else [])
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        assert line[:1] == ["locked"], self.process.stderr.read() if self.process.stderr else line
        self.pid = int(line[1])
        self.backend = line[2]

    def release(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "released"
        assert self.process.wait(timeout=PATIENCE) == 0

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=PATIENCE)


@contextmanager
def holding(path: Path, *, as_windows: bool = False) -> Iterator[Holder]:
    holder = Holder(path, as_windows=as_windows)
    try:
        yield holder
    finally:
        if holder.process.poll() is None:
            holder.kill()


@pytest.fixture
def index(tmp_path: Path) -> Index:
    index = Index.create(tmp_path / "index", Schema(path=ID(), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(path="a", body="first words")
    return index


def test_a_writer_gives_up_naming_the_holder(index: Index) -> None:
    with holding(index.path) as holder:
        before = time.time()
        with pytest.raises(LockError) as caught:
            index.writer(timeout=0.2)
    message = str(caught.value)
    assert f"locked by process {holder.pid} on host {socket.gethostname()} since 20" in message
    assert "waited 0.2 s" in message and "timeout" in message
    found = caught.value.holder
    assert found is not None and found.pid == holder.pid and found.host == socket.gethostname()
    assert found.since is not None and before - 60 < found.since <= before  # taken before we asked
    with index.writer(timeout=0) as writer:  # the holder let go as it ended: the lock is free
        writer.add_document(path="b", body="second words")
    assert Index.open(index.path).doc_count == 2


def test_a_writer_waits_for_the_holder_and_says_so(index: Index, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="searchlib")
    opened: list[object] = []
    with holding(index.path) as holder:
        waiter = threading.Thread(target=lambda: opened.append(index.writer(timeout=PATIENCE)))
        waiter.start()
        deadline = time.monotonic() + PATIENCE
        while not any("waiting" in record.getMessage() for record in caplog.records):
            assert time.monotonic() < deadline and waiter.is_alive(), "the writer neither waited nor said so"
            time.sleep(0.01)
        assert opened == []  # still waiting while the holder holds
        holder.release()
        waiter.join(PATIENCE)
    assert len(opened) == 1
    writer = opened[0]
    writer.add_document(path="b", body="written after waiting")  # type: ignore[attr-defined]
    writer.close()  # type: ignore[attr-defined]
    with Searcher(index) as searcher:
        assert searcher.search("waiting").total == 1
    waiting = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waiting) == 1  # said once, not at every try
    assert f"process {holder.pid} on host" in waiting[0] and str(index.path) in waiting[0]
    assert all(r.name == "searchlib.locking" for r in caplog.records if "waiting" in r.getMessage())


def test_a_dead_holder_leaves_the_lock_free(index: Index) -> None:
    with holding(index.path) as holder:
        holder.kill()  # its details stay in the file; the OS lock went with it
        assert LockHolder.decode((index.path / "write.lock").read_bytes()).pid == holder.pid
        with index.writer(timeout=0) as writer:
            writer.add_document(path="b", body="after a crash")
    assert Index.open(index.path).doc_count == 2


def test_the_cli_says_it_waits_for_the_lock(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Envoys held direct talks.\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    made = subprocess.run(searchlib_command() + ["index", "notes.txt", "--index", str(index_dir)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=PATIENCE)
    assert made.returncode == 0, made.stderr
    (tmp_path / "more.txt").write_text("Markets rose on Tuesday.\n", encoding="utf-8")
    with holding(index_dir) as holder:
        cli = subprocess.Popen(searchlib_command() + ["index", "more.txt", "--index", str(index_dir)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert cli.stderr is not None
        said = _read_until(cli.stderr, "waiting")
        assert f"process {holder.pid}" in said
        assert cli.poll() is None  # it waits
        holder.release()
        _, rest = cli.communicate(timeout=PATIENCE)
    assert cli.returncode == 0, said + rest
    assert "indexed 1 documents from 1 files" in rest
    with Searcher(index_dir) as searcher:
        assert searcher.search("markets").total == 1


def _read_until(stream: object, word: str) -> str:
    """What ``stream`` (a subprocess's pipe) says up to the first line holding ``word``."""
    said = ""
    deadline = time.monotonic() + PATIENCE
    while word not in said:
        assert time.monotonic() < deadline, f"no {word!r} in {said!r}"
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            line = stream.readline()  # type: ignore[attr-defined]
            assert line, f"the stream ended without {word!r}: {said!r}"
            said += line
    return said


@pytest.mark.parametrize("content", [b"", b"garbage \xff\x00", b"[1, 2]", b'{"pid": "12", "since": true}', b"-5"])
def test_lock_file_details_that_cannot_be_read_name_nobody(content: bytes) -> None:
    holder = LockHolder.decode(content)
    assert holder.pid is None and holder.since is None
    assert holder.describe() == "another process"


def test_lock_file_details_of_every_kind_are_read() -> None:
    assert LockHolder.decode(b"4242\n") == LockHolder(pid=4242)  # as an older searchlib wrote it
    written = LockHolder(pid=7, host="web-1", since=1_765_100_000.0)
    assert LockHolder.decode(written.encode()) == written
    assert written.describe() == "process 7 on host web-1 since 2025-12-07 09:33:20 UTC"
    long_host = json.dumps({"pid": 7, "host": "h" * 10_000}).encode()
    assert LockHolder.decode(long_host).host == "h" * 255


# --- without fcntl: the Windows implementation, behind the same interface -------------

WITHOUT_FCNTL = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    sys.modules["fcntl"] = None  # `import fcntl` now raises ImportError
    import searchlib
    names = [m.name for m in pkgutil.walk_packages(searchlib.__path__, "searchlib.")]
    for name in names:
        importlib.import_module(name)
    assert "fcntl" not in [n for n, m in sys.modules.items() if m is not None]
    print(len(names))
    from searchlib import ID, Index, LockError, Schema
    try:
        Index.create(sys.argv[1], Schema(path=ID()))
    except LockError as exc:
        print(exc)
    """
)


def test_every_module_imports_without_fcntl(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", WITHOUT_FCNTL, str(tmp_path / "index")], capture_output=True,
                            text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    count, message = result.stdout.splitlines()
    assert int(count) > 40  # every module was found and imported, none needs fcntl
    # Linux has no msvcrt either: taking a lock says why it cannot, instead of an ImportError.
    assert "neither fcntl nor msvcrt" in message


AS_WINDOWS = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[2])
    import lock_holder
    lock_holder.act_as_windows()
    from searchlib import ID, TEXT, Index, LockError, Schema, Searcher
    from searchlib.locking import backend
    path = sys.argv[1]
    report = {"backend": backend().name}
    if sys.argv[3] == "create":
        index = Index.create(path, Schema(path=ID(), body=TEXT()))
        with index.writer() as writer:
            writer.add_document(path="a", body="locked the windows way")
    else:
        try:
            Index.open(path).writer(timeout=0.2)
        except LockError as exc:
            report["error"] = str(exc)
            report["pid"] = exc.holder.pid
        with Index.open(path).writer(timeout=120) as writer:  # once the holder let go
            writer.add_document(path="b", body="after the windows holder")
    with Searcher(path) as searcher:
        report["total"] = searcher.search("windows").total
    report["calls"] = lock_holder.LOCKING_CALLS
    print(json.dumps(report))
    """
)


def _as_windows(path: Path, step: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", AS_WINDOWS, str(path), str(HOLDER_SCRIPT.parent), step],
                            capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_the_windows_lock_works_through_its_interface(tmp_path: Path) -> None:
    path = tmp_path / "index"
    made = _as_windows(path, "create")
    assert made["backend"] == "msvcrt" and made["total"] == 1
    calls = [tuple(call) for call in made["calls"]]  # type: ignore[union-attr]
    # Each lock, taken and given back, on one byte far past the holder's details.
    assert calls and all(position == WINDOWS_LOCK_OFFSET and size == 1 for _, position, size in calls)
    assert [mode for mode, _, _ in calls] == [2, 0] * (len(calls) // 2)
    with holding(path, as_windows=True) as holder:
        assert holder.backend == "msvcrt"
        # The holder's details stay readable while it holds the lock.
        assert LockHolder.decode((path / "write.lock").read_bytes()).pid == holder.pid
        waiter = subprocess.Popen([sys.executable, "-c", AS_WINDOWS, str(path), str(HOLDER_SCRIPT.parent), "wait"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert waiter.stderr is not None
        _read_until(waiter.stderr, "waiting up to 120 s")  # the second try waits
        holder.release()
        out, err = waiter.communicate(timeout=PATIENCE)
    assert waiter.returncode == 0, err
    report = json.loads(out)
    assert report["backend"] == "msvcrt"
    assert f"locked by process {holder.pid} on host" in report["error"] and report["pid"] == holder.pid
    assert report["total"] == 2
    assert os.path.exists(path / "write.lock")


def test_searching_loads_no_lock_code(index: Index) -> None:
    """The lock's module (and the embedding helpers) load only when a writer needs them."""
    script = "import sys; from searchlib import Searcher; Searcher(sys.argv[1]).search('words'); " \
             "print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script, str(index.path)], capture_output=True, text=True,
                            timeout=PATIENCE)
    assert result.returncode == 0, result.stderr
    modules = set(result.stdout.split())
    assert "searchlib.searcher" in modules
    assert modules & {"searchlib.locking", "searchlib.manager", "searchlib.queued", "fcntl", "msvcrt"} == set()
