"""Many distinct fields at length: python tests/stress/many_fields_stress.py [FIELDS] [--descriptors N]

Documents with 120 fields each, drawn from FIELDS distinct TEXT fields (default 100,000),
are indexed in two commits (two segments, so that every field is spilled twice), merged
into one, searched and checked, with the process's descriptor limit lowered to
``--descriptors`` (default 1,024, the usual one). Prints the time of each step (wall
clock and this process's CPU) and the peak resident memory, so that running it at several sizes shows how each step grows with
the number of fields. Not part of the default test command.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import ID, TEXT, Index, Schema, Searcher  # noqa: E402
from searchlib.check import check_index  # noqa: E402

PER_DOCUMENT = 120


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("fields", type=int, nargs="?", default=100_000)
    options.add_argument("--descriptors", type=int, default=1024)
    args = options.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.descriptors, hard))
    scratch = Path(tempfile.mkdtemp())
    try:
        run(args.fields, scratch / "index")
    finally:
        shutil.rmtree(scratch)  # gigabytes at 100,000 fields


def run(fields: int, path: Path) -> None:
    """Index, merge, search and check ``fields`` fields at ``path``, printing each step."""
    names = [f"f{number}" for number in range(fields)]
    # Enough documents that every field is in each of the two segments, about.
    per_segment = max(40, 3 * fields // PER_DOCUMENT)
    rng = random.Random(5)
    steps: list[tuple[str, float]] = []
    started, cpu_started = time.perf_counter(), time.process_time()

    def step(name: str) -> None:
        nonlocal started, cpu_started
        now, cpu = time.perf_counter(), time.process_time()
        steps.append((name, now - started))
        print(f"{name}: {now - started:.1f} s ({cpu - cpu_started:.1f} s CPU), peak RSS {peak_mb():.0f} MB", flush=True)
        started, cpu_started = now, cpu

    index = Index.create(path, Schema(id=ID()))
    with index.writer() as writer:
        for name in names:
            writer.add_field(name, TEXT("standard"))
    step(f"schema of {fields:,} fields committed")
    for segment in range(2):
        with index.writer(merge_factor=100) as writer:
            for number in range(segment * per_segment, (segment + 1) * per_segment):
                chosen = rng.sample(names, PER_DOCUMENT)
                writer.add_document(id=f"d{number}", **{name: f"w{rng.randrange(50)} {name}x" for name in chosen})
        step(f"segment {segment + 1}: {per_segment:,} documents indexed and committed")
    with index.writer() as writer:
        writer.optimize()
    step("the two segments merged")
    with Searcher(index.reopen()) as searcher:
        step("searcher opened")
        total = sum(searcher.search(f"{name}:{name}x").total for name in names[:: max(1, fields // 100)])
        step(f"100 field searches ({total:,} hits)")
    report = check_index(path)
    step(f"check: {'ok' if report.ok else report.problems[:3]}")
    size = sum(file.stat().st_size for file in path.iterdir())
    print(f"{fields:,} fields: index {size / 1e6:.0f} MB, total {sum(t for _, t in steps):.0f} s, peak RSS {peak_mb():.0f} MB")
    if not report.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
