"""Damage every kind of index file, one byte or one cut at a time, and classify what a
search then does.

A small index (four segments, deletions and an update, every field kind, a stemmed TEXT
analyzer so the terms files hold lexicons) answers a fixed set of queries: rankings and
scores, stored fields, snippets, phrases, expansions, sorts, ranges, filters,
suggestions. Then, one case at a time, a file of the index is damaged (a byte XORed with
a random value, or the file truncated), the index is opened, the queries run again, and
the file is restored. Each case is one of:

- ``error``: a searchlib error whose message names the damaged file;
- ``unread``: the same results, with a proof that the byte is not used by a search: the
  file is not part of the newest generation (an older manifest or deletes file), the
  newest manifest decodes to the same content, or ``searchlib check`` reports the file
  while the byte lies outside every array the search read (padding, the footer's body
  checksum, an array none of the queries needs);
- ``SILENT``: different results without an error (or the same ones without a proof);
- ``UNCAUGHT``: an exception that is not searchlib's own;
- ``UNNAMED``: a searchlib error that does not name the damaged file.

The target is 0 in the last three columns. Run from the repository root::

    python tests/stress/damage_stress.py                   # 2,400 flips, 40 cuts per file
    python tests/stress/damage_stress.py --flips 300 --cuts 5 --seed 3   # a short run

It prints a table by file kind and damage, every failing case, and the time taken. The
classification itself is in tests/robustness/test_damaged_index.py, whose quick test
runs a few hundred cases.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.robustness.test_damaged_index import (  # noqa: E402
    FAILURES,
    build_damage_index,
    classify,
    damage_cases,
    damage_table,
    run_queries,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flips", type=int, default=2400, help="single-byte flips, shared evenly between file kinds")
    parser.add_argument("--cuts", type=int, default=40, help="random truncation lengths per file (plus fixed ones)")
    parser.add_argument("--documents", type=int, default=80)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "idx"
        build_damage_index(path, documents=args.documents, seed=args.seed)
        baseline = run_queries(path)[0]
        files = sorted(p.name for p in path.iterdir())
        print(f"index: {len(files)} files ({', '.join(files)})")
        cases = damage_cases(path, flips=args.flips, truncations_per_file=args.cuts, seed=args.seed)
        outcomes = []
        for number, case in enumerate(cases, 1):
            outcomes.append((case, *classify(path, case, baseline)))
            if number % 500 == 0:
                print(f"  {number}/{len(cases)} cases, {time.perf_counter() - started:.0f} s", flush=True)
    print(damage_table(outcomes))
    failures = [(case, outcome, detail) for case, outcome, detail in outcomes if outcome in FAILURES]
    for case, outcome, detail in failures:
        print(f"{outcome}: {case}: {detail[:200]}")
    reasons: dict[str, int] = {}
    for _, outcome, detail in outcomes:
        if outcome == "unread":
            reasons[detail] = reasons.get(detail, 0) + 1
    for reason, count in sorted(reasons.items()):
        print(f"unread, {reason}: {count}")
    flips = sum(case.how == "flip" for case, _, _ in outcomes)
    print(
        f"{len(outcomes)} cases ({flips} flips, {len(outcomes) - flips} truncations) in "
        f"{time.perf_counter() - started:.0f} s: {len(failures)} failures "
        f"({', '.join(f'{sum(o == name for _, o, _ in outcomes)} {name}' for name in FAILURES)})"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
