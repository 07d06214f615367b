"""Indexing at scale: time, peak RSS and index size at 100k, 300k and 1M documents.

Each size is a seeded synthetic Zipf corpus (``bench_synthetic``), indexed from a
streamed ``corpus.jsonl`` by a fresh child process with positions and stored text,
through ``Index.writer(ram_buffer_mb=...)``, with one commit at the end (so flushes and
merges happen inside it). The child reports wall time, its peak resident set (Linux
``VmHWM``, which starts at the interpreter's and numpy's own), the index size on disk
and the number of segments. Writes ``benchmarks/results/scale.md`` (or ``--out``).

Run from the repository root::

    python benchmarks/bench_scale.py                         # 100k, 300k, 1M
    python benchmarks/bench_scale.py --sizes 100000 --ram-buffer-mb 32
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import directory_size, iter_docs
from bench_report import cpu_model, git
from bench_synthetic import synthetic_dataset

BENCH_DIR = Path(__file__).resolve().parent
SCRATCH = BENCH_DIR / "scratch"


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(dataset: Path, ram_buffer_mb: float) -> None:
    """Index ``dataset`` into a temporary index and print one JSON line of figures."""
    from searchlib import ID, TEXT, Index, Schema

    with tempfile.TemporaryDirectory(dir=SCRATCH) as scratch:
        path = Path(scratch) / "index"
        index = Index.create(path, Schema(id=ID(), title=TEXT(), text=TEXT()))
        started = time.perf_counter()
        documents = 0
        with index.writer(ram_buffer_mb=ram_buffer_mb) as writer:
            for doc in iter_docs(dataset):
                writer.add_document(id=doc.id, title=doc.title, text=doc.text)
                documents += 1
        seconds = time.perf_counter() - started
        print(json.dumps({
            "documents": documents, "seconds": seconds, "docs_per_s": documents / seconds,
            "peak_rss_mb": peak_rss_mb(), "index_mb": directory_size(path) / 1e6,
            "segments": len(index.reopen().segments),
        }))


def report(results: list[dict[str, float]], ram_buffer_mb: float) -> str:
    commit = git("rev-parse", "--short", "HEAD", cwd=BENCH_DIR) or "unknown"
    lines = [
        "<!-- written by benchmarks/bench_scale.py: rerun it rather than editing by hand -->",
        "# Indexing at scale (synthetic Zipf corpus)",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; commit `{commit}`",
        f"- Machine: {cpu_model()}; one core; Python {platform.python_version()}",
        f"- Writer: `ram_buffer_mb={ram_buffer_mb}`, default merge policy (merge_factor 10), one commit;"
        " analyzer `english` on title and text, positions and stored text",
        "",
        "| documents | seconds | docs/s | peak RSS MB | index MB | segments | s per 100k docs |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['documents']:,} | {r['seconds']:.1f} | {r['docs_per_s']:,.0f} | {r['peak_rss_mb']:.0f} | "
            f"{r['index_mb']:.1f} | {r['segments']} | {r['seconds'] / r['documents'] * 1e5:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--ram-buffer-mb", type=float, default=64.0)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "scale.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    SCRATCH.mkdir(exist_ok=True)
    if args.child:
        child(args.child, args.ram_buffer_mb)
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        dataset = synthetic_dataset(SCRATCH, size)
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(dataset), "--ram-buffer-mb", str(args.ram_buffer_mb)],
            capture_output=True, text=True, check=True,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        print(f"{size:,}: {results[-1]}", flush=True)
        args.out.write_text(report(results, args.ram_buffer_mb), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
