"""Indexing at scale: time, peak RSS and index size at 100k, 300k and 1M documents.

Each size is a seeded synthetic Zipf corpus (``bench_synthetic``), indexed from a
streamed ``corpus.jsonl`` by a fresh child process with positions and stored text,
through ``Index.writer(ram_buffer_mb=...)``, with one commit at the end (so flushes and
merges happen inside it). The child reports wall time, its peak resident set (Linux
``VmHWM``: anonymous memory plus the mapped file pages it touched, starting at the
interpreter's and numpy's own), the index size on disk and the number of segments.
The smallest size is then indexed again with each RAM buffer of ``--buffer-series``,
to show the peak following the setting. The report says whether time grew close to
linearly (the exponent of a power-law fit of seconds against documents) and whether the
peak stayed flat across sizes. Writes ``benchmarks/results/scale.md`` and ``scale.json``
beside it (or ``--out``), rewritten after every size, so a long run shows its progress.

Run from the repository root::

    python benchmarks/bench_scale.py             # 100k, 300k, 1M at 64 MB; 100k at 16 and 256 MB
    python benchmarks/bench_scale.py --sizes 100000,300000 --buffer-series ""
    python benchmarks/bench_scale.py --sizes 100000 --ram-buffer-mb 32 --buffer-series ""
    python benchmarks/bench_scale.py --render benchmarks/results/scale.json --note "..."  # re-render
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_data import directory_size, iter_docs
from bench_report import cpu_model, git
from bench_synthetic import synthetic_dataset

BENCH_DIR = Path(__file__).resolve().parent
SCRATCH = BENCH_DIR / "scratch"
MIB = 1 << 20
#: Time counts as close to linear when seconds ~ documents ** exponent with at most this.
LINEAR_EXPONENT = 1.1
#: The peak counts as flat when the largest size's is at most this much above the smallest's.
FLAT_RSS_GROWTH = 0.15


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class AnonymousPeak:
    """The highest anonymous memory (``RssAnon``: the heap, the buffers) the process
    held, sampled every 20 ms by a thread. VmHWM also counts the pages of mapped files
    the process touched, and a merge maps and reads its input segments whole: those
    pages are the kernel's to drop, not memory the writer holds, so whether the writer's
    memory stays flat is read here."""

    def __init__(self) -> None:
        self.mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    self.mib = max(self.mib, int(line.split()[1]) / 1024)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.mib


def child(dataset: Path, ram_buffer_mb: float) -> None:
    """Index ``dataset`` into a temporary index and print one JSON line of figures."""
    from searchlib import ID, TEXT, Index, Schema

    anonymous = AnonymousPeak()

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
        peak_anon = anonymous.stop()
        print(json.dumps({
            "documents": documents, "ram_buffer_mb": ram_buffer_mb, "seconds": seconds,
            "docs_per_s": documents / seconds, "peak_rss_mib": peak_rss_mib(), "peak_anon_mib": peak_anon,
            "index_mb": directory_size(path) / 1e6, "segments": len(index.reopen().segments),
        }))


def startup_child() -> None:
    """Print the peak RSS of a process that has only loaded searchlib and stemmed a word."""
    from searchlib.analysis import get_analyzer

    get_analyzer("english").terms("talks")
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}))


def startup_rss_mib() -> float:
    """What a process holds before it indexes anything: the interpreter, numpy and
    searchlib with NLTK's stemmer imported (NLTK's package imports scipy when it is
    installed, as the benchmark requirements make it)."""
    output = subprocess.run([sys.executable, __file__, "--startup"], capture_output=True, text=True, check=True).stdout
    return float(json.loads(output.strip().splitlines()[-1])["peak_rss_mib"])


def run(size: int, ram_buffer_mb: float) -> dict[str, Any]:
    """Index the corpus of ``size`` documents in a fresh process; its figures."""
    dataset = synthetic_dataset(SCRATCH, size)
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(dataset), "--ram-buffer-mb", str(ram_buffer_mb)],
        capture_output=True, text=True, check=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    print(f"{size:,} at {ram_buffer_mb:g} MB: {result}", flush=True)
    return result


def table(results: list[dict[str, Any]]) -> list[str]:
    """Markdown rows; "above buffer" is the peak minus the RAM buffer setting."""
    lines = [
        "| documents | RAM buffer MB | seconds | docs/s | peak RSS MiB | above buffer MiB | peak anonymous MiB"
        " | index MB | segments | s per 100k docs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        above = r["peak_rss_mib"] - r["ram_buffer_mb"] * 1e6 / MIB
        lines.append(
            f"| {r['documents']:,} | {r['ram_buffer_mb']:g} | {r['seconds']:.1f} | {r['docs_per_s']:,.0f} | "
            f"{r['peak_rss_mib']:.0f} | {above:.0f} | {r.get('peak_anon_mib', float('nan')):.0f} | "
            f"{r['index_mb']:.1f} | {r['segments']} | "
            f"{r['seconds'] / r['documents'] * 1e5:.1f} |"
        )
    return lines


def time_exponent(results: list[dict[str, Any]]) -> float | None:
    """The least-squares slope of log(seconds) on log(documents): 1.0 is linear."""
    points = [(math.log(r["documents"]), math.log(r["seconds"])) for r in results]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)


def scaling(results: list[dict[str, Any]]) -> dict[str, Any]:
    """How time and peak RSS grew from the smallest size to the largest, with verdicts."""
    if len({r["documents"] for r in results}) < 2:
        return {}
    smallest = min(results, key=lambda r: r["documents"])
    largest = max(results, key=lambda r: r["documents"])
    exponent = time_exponent(results)
    growth = largest["peak_rss_mib"] / smallest["peak_rss_mib"] - 1
    anon_growth = largest.get("peak_anon_mib", math.nan) / smallest.get("peak_anon_mib", math.nan) - 1
    return {
        "time_exponent": exponent,
        "time_close_to_linear": exponent is not None and exponent <= LINEAR_EXPONENT,
        "per_doc_time_growth": (largest["seconds"] / largest["documents"])
                               / (smallest["seconds"] / smallest["documents"]) - 1,
        "peak_rss_growth": growth,
        "peak_anon_growth": anon_growth,
        "peak_anon_flat": anon_growth <= FLAT_RSS_GROWTH,
        "sizes": [smallest["documents"], largest["documents"]],
    }


def verdict(results: list[dict[str, Any]], ram_buffer_mb: float) -> list[str]:
    figures = scaling(results)
    if not figures:
        return []
    low, high = figures["sizes"]
    return [
        "",
        f"From {low:,} to {high:,} documents: time grew as documents^{figures['time_exponent']:.2f} "
        f"({'close to linear' if figures['time_close_to_linear'] else 'not close to linear'}: "
        f"the bar is an exponent of at most {LINEAR_EXPONENT}), the time per document by "
        f"{figures['per_doc_time_growth']:+.0%}; the peak anonymous memory moved by "
        f"{figures['peak_anon_growth']:+.0%} ({'flat' if figures['peak_anon_flat'] else 'not flat'}: the bar is "
        f"{FLAT_RSS_GROWTH:.0%}) at `ram_buffer_mb={ram_buffer_mb:g}`, and the peak RSS by "
        f"{figures['peak_rss_growth']:+.0%}, the rest being pages of the segment files merges map and read.",
    ]


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "--short", "HEAD", cwd=BENCH_DIR) or "unknown",
        "load_average": os.getloadavg(), "niceness": os.nice(0),
    }


def report(results: list[dict[str, Any]], series: list[dict[str, Any]], ram_buffer_mb: float, startup: float,
           host: dict[str, Any]) -> str:
    load = "/".join(f"{value:.2f}" for value in host["load_average"])
    lines = [
        "<!-- written by benchmarks/bench_scale.py: rerun it rather than editing by hand -->",
        "# Indexing at scale (synthetic Zipf corpus)",
        "",
        f"- Date: {host['date']}; commit `{host['commit']}`",
        f"- Machine: {host['cpu']}, {host['cores']} cores, the writer on one; Python {host['python']}; "
        f"load average (1/5/15 min) {load} at the start; niceness {host['niceness']}",
        *([f"- Note: {host['note']}"] if host.get("note") else []),
        f"- Writer: `ram_buffer_mb={ram_buffer_mb:g}`, default merge policy (merge_factor 10), one commit;"
        " analyzer `english` on title and text, positions and stored text",
        "- Peak RSS is Linux `VmHWM` (MiB): anonymous memory plus the pages of mapped files"
        " the process touched; \"above buffer\" subtracts the `ram_buffer_mb` setting. Peak anonymous"
        " is the highest `RssAnon` (heap and buffers, no file pages) sampled every 20 ms: what the writer"
        " itself holds, and what \"flat\" is judged on.",
        f"- Before indexing anything, a process with searchlib loaded and NLTK's stemmer imported peaks"
        f" at {startup:.0f} MiB (NLTK's package imports scipy when it is installed, as the benchmark"
        " requirements make it): that much of \"above buffer\" is not the writer's.",
        "",
        *table(results),
        *verdict(results, ram_buffer_mb),
    ]
    if series:
        lines += [
            "",
            "## The RAM buffer setting",
            "",
            f"The {series[0]['documents']:,}-document corpus again with other `ram_buffer_mb` settings:",
            "the peak follows the setting, and the rest is the interpreter, the analyzer's",
            "caches and the working memory of a flush or a merge.",
            "",
            *table(series),
        ]
    return "\n".join(lines) + "\n"


def render(path: Path, note: str | None) -> None:
    """Write ``scale.md`` again beside its JSON (setting the note in both, if given)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if note is not None:
        data["machine"]["note"] = note
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    markdown = report(data["results"], data["buffer_series"], data["ram_buffer_mb"], data["startup_peak_rss_mib"],
                      data["machine"])
    path.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(f"wrote {path.with_suffix('.md')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--ram-buffer-mb", type=float, default=64.0)
    parser.add_argument("--buffer-series", default="16,64,256",
                        help="RAM buffer settings (MB) to index the smallest size with; empty for none")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "scale.md")
    parser.add_argument("--note", help="a remark for the report, e.g. what else the machine was doing")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="run nothing: write the markdown again from a run's JSON (and set --note in it)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--startup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    SCRATCH.mkdir(exist_ok=True)
    if args.child:
        child(args.child, args.ram_buffer_mb)
        return
    if args.startup:
        startup_child()
        return
    if args.render:
        render(args.render, args.note)
        return
    host = {**machine(), "note": args.note}
    startup = startup_rss_mib()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []

    def write() -> None:
        args.out.write_text(report(results, series, args.ram_buffer_mb, startup, host), encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps({
            "machine": host, "ram_buffer_mb": args.ram_buffer_mb, "startup_peak_rss_mib": startup,
            "results": results, "buffer_series": series, "scaling": scaling(results),
        }, indent=2) + "\n", encoding="utf-8")

    for size in sizes:
        results.append(run(size, args.ram_buffer_mb))
        write()
    for ram_buffer_mb in (float(mb) for mb in args.buffer_series.split(",") if mb.strip()):
        done = [r for r in results if r["documents"] == min(sizes) and r["ram_buffer_mb"] == ram_buffer_mb]
        series.append(done[0] if done else run(min(sizes), ram_buffer_mb))
        write()
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
