"""Crash safety: a writer killed with SIGKILL at random moments never damages the index.

Each trial starts a real writer process (tests/robustness/crash_writer.py) that adds,
updates, deletes and commits numbered batches, some with worker processes, with flushes
and merges along the way, and kills it after a seeded random delay. After every kill no
process of the writer remains, the lock is free at once, and the index opens, passes
``check``, and holds exactly the documents of the batches whose commit returned (plus
the one being committed, if the kill came after its manifest was written).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from searchlib import Index
from searchlib.check import check_index
from searchlib.errors import LockError
from searchlib.storage import Directory
from tests.robustness.crash_writer import SCHEMA, expected_ids, plan

WRITER = Path(__file__).with_name("crash_writer.py")
TRIALS = 50

#: How long the processes of a killed writer may take to vanish (they are sent SIGKILL
#: as it dies; one that survives this long survives for good).
GRACE_SECONDS = 10.0


@dataclass
class Kill:
    """What a killed writer had done, and what it left running."""

    committed: int  # the last batch whose commit returned
    committing: int | None  # the batch being committed when it was killed, if any
    lock_free: bool  # whether a new writer got the lock at once, as soon as it was dead
    survivors: list[int]  # processes of the writer still alive after GRACE_SECONDS
    lock_free_after: bool  # whether the lock was free once its processes were all gone


def group_members(group: int) -> list[int]:
    """Live (not zombie) processes in process group ``group``, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state not in ("Z", "X"):
            members.append(int(entry))
    return members


def survivors_of(group: int) -> list[int]:
    """The processes of ``group`` still alive once GRACE_SECONDS have passed."""
    deadline = time.monotonic() + GRACE_SECONDS
    while (members := group_members(group)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return members


@dataclass
class Writer:
    """A writer process in a session (and process group) of its own, so that every
    process it starts can be found by its group afterwards. Its output is a pipe read
    without buffering, its errors go to a file: a process it leaves behind may keep
    both open, and the test must not wait for that."""

    process: subprocess.Popen[bytes]
    errors: IO[bytes]

    def read_line(self) -> str:
        """One line of the writer's output, read a byte at a time (nothing after it)."""
        assert self.process.stdout is not None
        data = b""
        while not data.endswith(b"\n"):
            byte = os.read(self.process.stdout.fileno(), 1)
            if not byte:
                break
            data += byte
        return data.decode()

    def read_rest(self) -> str:
        """What the dead writer wrote and the test has not read."""
        assert self.process.stdout is not None
        handle = self.process.stdout.fileno()
        os.set_blocking(handle, False)
        chunks = []
        while True:
            try:
                chunk = os.read(handle, 65536)
            except BlockingIOError:  # a surviving process holds the pipe open
                break
            if not chunk:
                break
            chunks.append(chunk)
        self.process.stdout.close()
        return b"".join(chunks).decode()

    def error_text(self) -> str:
        self.errors.seek(0)
        text = self.errors.read().decode(errors="replace")
        self.errors.close()
        return text


def start_writer(args: list[str], env: dict[str, str] | None = None) -> Writer:
    """Start ``python ARGS...`` as a :class:`Writer`, with ``env`` added to the environment."""
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **(env or {})}
    errors = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=errors, bufsize=0,
        env=environment, start_new_session=True,
    )
    return Writer(process, errors)


def finish(writer: Writer, path: Path, first: int = 0) -> Kill:
    """Wait for a killed writer of the index ``path``; see whether the lock is free at
    once; read which batches it committed; find its survivors."""
    writer.process.wait(timeout=120)
    lock_free = lock_is_free(path)
    out, err = writer.read_rest(), writer.error_text()
    assert writer.process.returncode == -signal.SIGKILL, err
    survivors = survivors_of(writer.process.pid)
    lock_free_after = lock_free or lock_is_free(path)
    for pid in survivors:  # leave nothing running, whatever the test then says
        os.kill(pid, signal.SIGKILL)
    committed, committing = first - 1, None
    for line in out.splitlines():
        word, _, number = line.partition(" ")
        assert word in ("ready", "committing", "committed"), line
        if word == "ready":
            continue
        if word == "committed":
            committed, committing = int(number), None
        else:
            committing = int(number)
    return Kill(committed, committing, lock_free, survivors, lock_free_after)


def run_and_kill(path: Path, first: int, seed: int, delay: float) -> Kill:
    """Run the writer from batch ``first`` and kill it after ``delay`` s."""
    writer = start_writer([str(WRITER), str(path), str(first), str(seed)])
    assert writer.read_line().strip() == "ready"  # kill while it writes, not while it imports
    time.sleep(delay)
    writer.process.send_signal(signal.SIGKILL)
    return finish(writer, path, first)


def lock_is_free(path: Path) -> bool:
    """Whether a new writer gets the lock at once (timeout 0)."""
    try:
        Directory(path).lock(timeout=0).release()
    except LockError:
        return False
    return True


def live_ids(path: Path) -> list[str]:
    """The IDs of the live documents, duplicates kept (a phantom copy would show)."""
    _, readers = Index.open_snapshot(path)
    return sorted(r.id_value(d) for r in readers for d in range(r.doc_count) if r.live[d])


def settle(path: Path, kill: Kill) -> int:
    """Check the index after ``kill``: sound, and holding exactly the documents of the
    last committed batch or of the one being committed; return that batch."""
    report = check_index(path)
    assert report.ok, report.problems
    ids = live_ids(path)
    assert Index.open(path).doc_count == len(ids)
    if ids == sorted(expected_ids(kill.committed)):
        return kill.committed
    assert kill.committing is not None and ids == sorted(expected_ids(kill.committing)), f"{len(ids)} documents"
    return kill.committing


def test_random_kills_never_lose_a_commit_or_damage_the_index(tmp_path: Path) -> None:
    path = tmp_path / "index"
    Index.create(path, SCHEMA)
    rng = random.Random(2026)
    last = -1
    killed_in_commit = 0
    for trial in range(TRIALS):
        kill = run_and_kill(path, last + 1, trial, rng.uniform(0.0, 0.8))
        assert kill.survivors == [], f"trial {trial}: processes of the killed writer survive"
        # Free at once, unless the kill caught the writer forking a worker: the new
        # worker holds the lock's descriptor until it runs (its first act closes it).
        # Free for sure once every process of the writer is gone.
        assert kill.lock_free_after, f"trial {trial}: the index stays locked"
        killed_in_commit += kill.committing is not None
        last = settle(path, kill)
    # The writers got work done between the kills (how much depends on the machine's
    # speed and load).
    assert last >= 10
    assert killed_in_commit >= 5  # and many kills came in the middle of a commit
    assert any(plan(b).parallel for b in range(last + 1))  # some batches used workers
    with Index.open(path).writer() as writer:  # which removes what the killed ones left
        writer.add_document(id="last", batch="last", body="talks")
    assert not [name for name in os.listdir(path) if name.endswith(".tmp")]
