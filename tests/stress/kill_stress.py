"""Random SIGKILL trials across every kind of write: python tests/stress/kill_stress.py [TRIALS] [SEED]
(default 1000 trials, seed 7). Not part of the default test command.

Three kinds of trial, mixed at random:

- a real writer (tests/robustness/crash_writer.py: adds one by one and with two worker
  processes, updates, deletes by ID and by query, merges, optimize, commits) killed
  after a random delay;
- the same writer killed by itself at a random failpoint (searchlib.failpoints) on a
  random pass, or after a delay if it never gets there;
- ``searchlib index FILE --index NEW`` killed at a random moment of its first second,
  while it creates the index, or a process creating index after index (``Index.create``)
  killed at a random moment.

After each kill: a new writer must get the lock with timeout 0 (a wait, and a lock still
held after 10 s, are counted: a kill in the instant the writer forks a worker leaves the
lock's descriptor in the new worker until it runs, whose first act is to close it), no process of the killed one may remain (its process
group is read from /proc), the index must open and pass ``check``, and its documents
must be exactly those of the last commit that returned, or of the one being committed
(documents missing are counted as lost, others or duplicates as phantom). A killed
creation must leave no index or an empty one, and indexing into it again must work.
Prints one summary line with the counts and the time taken.
"""

from __future__ import annotations

import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import Index  # noqa: E402
from searchlib.check import check_index  # noqa: E402
from searchlib.errors import IndexNotFoundError, LockError, SearchlibError  # noqa: E402
from searchlib.failpoints import ENVIRONMENT_VARIABLE, POINTS  # noqa: E402
from searchlib.ingest import ingest  # noqa: E402
from searchlib.storage import Directory  # noqa: E402
from tests.conftest import searchlib_command  # noqa: E402
from tests.robustness.crash_writer import SCHEMA, expected_ids, plan  # noqa: E402
from tests.robustness.test_crash import (  # noqa: E402
    WRITER, Kill, finish, live_ids, lock_is_free, start_writer, survivors_of,
)
from tests.robustness.test_create_kills import CREATOR, state_after_kill  # noqa: E402

#: Failpoints a writer session passes (creation's own are for the creation trials).
WRITER_POINTS = [name for name in POINTS if not name.startswith("create.")]


@dataclass
class Tally:
    trials: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    phantom: int = 0
    unopenable: int = 0  # indexes that failed to open or check
    lock_waits: int = 0  # the lock was not free at once after the kill
    stuck_locks: int = 0  # ... nor after 10 s
    survivors: int = 0  # processes of a killed writer still alive after the grace time
    mid_commit: int = 0
    creations_recovered: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, trial: int, problem: str) -> None:
        self.problems.append(f"trial {trial}: {problem}")
        print(f"PROBLEM trial {trial}: {problem}", flush=True)


def check_lock(path: Path, kill: Kill, tally: Tally, trial: int, context: str = "") -> None:
    tally.survivors += len(kill.survivors)
    if kill.survivors:
        tally.note(trial, f"{len(kill.survivors)} processes of the killed writer survived")
    if kill.lock_free:
        return
    tally.lock_waits += 1
    try:
        Directory(path).lock(timeout=10).release()
        tally.note(trial, f"the lock was free only after a wait {context}")
    except LockError:
        tally.stuck_locks += 1
        tally.note(trial, f"the lock stayed held {context}")


def writer_trial(path: Path, last: int, trial: int, rng: random.Random, tally: Tally) -> int:
    """Kill a writer continuing after batch ``last``; check; return the batch now last."""
    env = {}
    if rng.random() < 0.2:
        point = rng.choice(WRITER_POINTS)
        env[ENVIRONMENT_VARIABLE] = f"{point}={rng.randint(1, 6)}"
        tally.trials[f"failpoint {point}"] += 1
    else:
        tally.trials["writer"] += 1
    writer = start_writer([str(WRITER), str(path), str(last + 1), str(trial)], env=env)
    if writer.read_line().strip() != "ready":
        tally.note(trial, f"the writer did not start: {writer.error_text()[-500:]}")
        return last
    time.sleep(rng.uniform(0.0, 1.0))
    if writer.process.poll() is None:
        writer.process.send_signal(signal.SIGKILL)
    kill = finish(writer, path, last + 1)
    batch = plan(kill.committed + 1)
    check_lock(path, kill, tally, trial, f"(killed in batch {batch.number}, {'parallel' if batch.parallel else 'sequential'}, {env or 'timed'})")
    tally.mid_commit += kill.committing is not None
    try:
        report = check_index(path)
        ids = live_ids(path)
    except SearchlibError as exc:
        report, ids = None, []
        tally.note(trial, f"the index does not open: {exc}")
    if report is None or not report.ok:
        tally.unopenable += 1
        if report is not None:
            tally.note(trial, f"check failed: {report.problems[:3]}")
        return last
    candidates = [kill.committed] + ([kill.committing] if kill.committing is not None else [])
    got = Counter(ids)
    best = min(candidates, key=lambda b: len(expected_ids(b) ^ set(got)) + sum(got.values()) - len(got))
    expected = expected_ids(best)
    lost = len(expected - set(got))
    phantom = len(set(got) - expected) + sum(got.values()) - len(got)
    if lost or phantom:
        tally.lost += lost
        tally.phantom += phantom
        tally.note(trial, f"{lost} lost, {phantom} phantom documents (expected batches up to {best})")
    return best


def creation_trial(base: Path, trial: int, rng: random.Random, document: Path, tally: Tally) -> None:
    """Kill a process creating indexes; check each can be opened or indexed into."""
    if rng.random() < 0.5:
        cli_creation_trial(base, trial, rng, document, tally)
        return
    tally.trials["creation loop"] += 1
    folder = base / f"creations-{trial}"
    folder.mkdir()
    writer = start_writer(["-c", CREATOR, str(folder)])
    if writer.read_line().strip() != "ready":
        tally.note(trial, f"the creator did not start: {writer.error_text()[-500:]}")
        return
    time.sleep(rng.uniform(0.0, 0.5))
    writer.process.send_signal(signal.SIGKILL)
    writer.process.wait(timeout=120)
    writer.read_rest(), writer.error_text()
    survivors = survivors_of(writer.process.pid)
    for path in sorted(folder.iterdir()):
        free = lock_is_free(path)
        check_lock(path, Kill(-1, None, free, survivors, free), tally, trial)
        survivors = []
        try:
            if state_after_kill(path) == "no index":
                tally.creations_recovered += 1
                Index.create(path, SCHEMA)
            if Index.open(path).doc_count != 0:
                raise AssertionError("not empty")
        except (AssertionError, SearchlibError, OSError) as exc:
            tally.unopenable += 1
            tally.note(trial, f"{path.name} after a killed creation: {exc!r}")
    shutil.rmtree(folder, ignore_errors=True)


def cli_creation_trial(base: Path, trial: int, rng: random.Random, document: Path, tally: Tally) -> None:
    """Kill ``searchlib index`` creating a new index; check it can be indexed into."""
    tally.trials["cli creation"] += 1
    path = base / f"created-{trial}"
    writer = start_writer([*searchlib_command(), "index", str(document), "--index", str(path)])
    time.sleep(rng.uniform(0.0, 1.0))
    if writer.process.poll() is None:
        writer.process.send_signal(signal.SIGKILL)
    writer.process.wait(timeout=120)
    if writer.process.returncode != -signal.SIGKILL:  # it finished first: nothing to recover
        writer.read_rest(), writer.error_text()
        return
    kill = finish(writer, path) if path.is_dir() else Kill(-1, None, True, [], True)
    check_lock(path, kill, tally, trial)
    try:
        index = Index.open(path)
        if index.doc_count not in (0, 1):
            tally.phantom += index.doc_count
            tally.note(trial, f"a killed creation left {index.doc_count} documents")
    except IndexNotFoundError:
        tally.creations_recovered += 1
    except SearchlibError as exc:
        tally.unopenable += 1
        tally.note(trial, f"a killed creation left an index that does not open: {exc}")
        return
    try:
        ingest(path, [document])
        if Index.open(path).doc_count != 1 or not check_index(path).ok:
            tally.unopenable += 1
            tally.note(trial, "indexing again after a killed creation went wrong")
    except (SearchlibError, OSError) as exc:
        tally.unopenable += 1
        tally.note(trial, f"indexing again after a killed creation failed: {exc}")
    shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    base = Path(tempfile.mkdtemp(prefix="kill-stress-"))
    document = base / "note.txt"
    document.write_text("Envoys held direct talks on the ceasefire.\n")
    path = base / "index"
    Index.create(path, SCHEMA)
    last = -1
    tally = Tally()
    started = time.monotonic()
    for trial in range(trials):
        if rng.random() < 0.15:
            creation_trial(base, trial, rng, document, tally)
        else:
            last = writer_trial(path, last, trial, rng, tally)
        if trial % 50 == 0:
            print(f"trial {trial}: batch {last}, {len(expected_ids(last))} documents, "
                  f"{sum(tally.trials.values())} trials, {len(tally.problems)} problems", flush=True)
    elapsed = time.monotonic() - started
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(tally.trials.items()) if not kind.startswith("failpoint"))
    failpoints = sum(count for kind, count in tally.trials.items() if kind.startswith("failpoint"))
    print(
        f"{trials} SIGKILL trials ({kinds}, {failpoints} at failpoints) in {elapsed:.0f} s: "
        f"{tally.lost} lost, {tally.phantom} phantom, {tally.unopenable} failed to open or check, "
        f"{tally.lock_waits} lock waits, {tally.stuck_locks} stuck locks, {tally.survivors} surviving processes; "
        f"{tally.mid_commit} kills mid-commit, {tally.creations_recovered} creations left no index, last batch {last}",
        flush=True,
    )
    shutil.rmtree(base, ignore_errors=True)
    raise SystemExit(1 if tally.problems else 0)


if __name__ == "__main__":
    main()
