"""The crash test at length: python tests/stress/crash_stress.py [TRIALS] (default 1000).

Same trial as tests/robustness/test_crash.py (a real writer killed with SIGKILL at a
seeded random moment, then open, check and count), many more times, printing progress.
Not part of the default test command.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import ID, TEXT, Index, Schema  # noqa: E402
from searchlib.check import check_index  # noqa: E402
from tests.robustness.test_crash import expected_ids, run_and_kill  # noqa: E402


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    path = Path(tempfile.mkdtemp()) / "index"
    Index.create(path, Schema(id=ID(), body=TEXT("standard")))
    rng = random.Random(7)
    last, in_commit = -1, 0
    for trial in range(trials):
        committed, committing = run_and_kill(path, last + 1, trial, rng.uniform(0.0, 0.6))
        in_commit += committing is not None
        report = check_index(path)
        if not report.ok:
            raise SystemExit(f"trial {trial}: check failed: {report.problems}")
        _, readers = Index.open_snapshot(path)
        ids = {r.id_value(d) for r in readers for d in range(r.doc_count) if r.live[d]}
        if ids == expected_ids(committed):
            last = committed
        elif committing is not None and ids == expected_ids(committing):
            last = committing
        else:
            raise SystemExit(f"trial {trial}: {len(ids)} documents, expected batches up to {committed}")
        if trial % 50 == 0:
            print(f"trial {trial}: {len(ids)} documents, {len(readers)} segments, {in_commit} kills mid-commit", flush=True)
    print(f"{trials} trials: every kill left a sound index with exactly the committed documents")


if __name__ == "__main__":
    main()
