"""The crash test at length: python tests/stress/crash_stress.py [TRIALS] (default 1000).

Same trial as tests/robustness/test_crash.py (a real writer killed with SIGKILL at a
seeded random moment, then open, check and count), many more times, printing progress.
Not part of the default test command. tests/stress/kill_stress.py mixes in index
creation and failpoints, and counts lock waits and surviving processes.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import Index  # noqa: E402
from searchlib.check import check_index  # noqa: E402
from tests.robustness.crash_writer import SCHEMA, expected_ids  # noqa: E402
from tests.robustness.test_crash import live_ids, run_and_kill  # noqa: E402


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    path = Path(tempfile.mkdtemp()) / "index"
    Index.create(path, SCHEMA)
    rng = random.Random(7)
    last, in_commit = -1, 0
    for trial in range(trials):
        kill = run_and_kill(path, last + 1, trial, rng.uniform(0.0, 0.6))
        committed, committing = kill.committed, kill.committing
        in_commit += committing is not None
        if not kill.lock_free or kill.survivors:
            raise SystemExit(f"trial {trial}: lock free {kill.lock_free}, surviving processes {kill.survivors}")
        report = check_index(path)
        if not report.ok:
            raise SystemExit(f"trial {trial}: check failed: {report.problems}")
        ids = live_ids(path)
        if ids == sorted(expected_ids(committed)):
            last = committed
        elif committing is not None and ids == sorted(expected_ids(committing)):
            last = committing
        else:
            raise SystemExit(f"trial {trial}: {len(ids)} documents, expected batches up to {committed}")
        if trial % 50 == 0:
            segments = len(Index.open(path).segments)
            print(f"trial {trial}: {len(ids)} documents, {segments} segments, {in_commit} kills mid-commit", flush=True)
    print(f"{trials} trials: every kill left a sound index with exactly the committed documents")


if __name__ == "__main__":
    main()
