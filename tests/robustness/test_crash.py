"""Crash safety: a writer killed with SIGKILL at random moments never damages the index.

Each trial starts a real writer process (tests/robustness/crash_writer.py) that adds and
commits numbered batches, with flushes and merges along the way, and kills it after a
seeded random delay. After every kill the index must open, pass ``check``, and hold
exactly the documents of the batches whose commit returned (plus the one being
committed, if the kill came after its manifest was written).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from searchlib import ID, TEXT, Index, Schema
from searchlib.check import check_index

WRITER = Path(__file__).with_name("crash_writer.py")
TRIALS = 100
BATCH = 20


def run_and_kill(path: Path, first: int, seed: int, delay: float) -> tuple[int, int | None]:
    """Run the writer from batch ``first``, kill it after ``delay`` s; return
    (last batch whose commit returned, batch being committed when killed or None)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), str(first), str(seed)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"  # kill while it writes, not while it imports
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL, err
    committed, committing = first - 1, None
    for line in out.splitlines():
        word, number = line.split()
        assert word in ("committing", "committed"), line
        if word == "committed":
            committed, committing = int(number), None
        else:
            committing = int(number)
    return committed, committing


def expected_ids(last_batch: int) -> set[str]:
    ids = {f"{b}-{i}" for b in range(last_batch + 1) for i in range(BATCH)}
    return ids


def test_random_kills_never_lose_a_commit_or_damage_the_index(tmp_path: Path) -> None:
    path = tmp_path / "index"
    Index.create(path, Schema(id=ID(), body=TEXT("standard")))
    rng = random.Random(2026)
    last = -1
    killed_in_commit = 0
    for trial in range(TRIALS):
        committed, committing = run_and_kill(path, last + 1, trial, rng.uniform(0.0, 0.4))
        killed_in_commit += committing is not None
        report = check_index(path)
        assert report.ok, (trial, report.problems)
        index = Index.open(path)
        with_last = expected_ids(committed)
        with_pending = expected_ids(committing) if committing is not None else with_last
        _, readers = Index.open_snapshot(path)
        ids = {r.id_value(d) for r in readers for d in range(r.doc_count) if r.live[d]}
        assert ids in (with_last, with_pending), f"trial {trial}: {len(ids)} documents"
        assert index.doc_count == len(ids)
        last = committed if ids == with_last else committing  # type: ignore[assignment]
    # The writers got work done between the kills. (How much depends on the machine's
    # speed and load: a loaded 2-core VM reached batch 73 where a quiet one passes 100.)
    assert last >= 25
    assert killed_in_commit >= 10  # and many kills came in the middle of a commit
