"""Figures, tables and charts for the peer benchmark (``benchmarks/run.py``).

Turns the workers' raw reports into per-engine figures (throughput, latency percentiles,
ir-measures quality), then writes them as JSON, as a markdown table with ratio columns
against searchlib, and as a PNG of bar charts.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench_data import CorpusStats, Qrel

MB = 1e6  # 1 MB = 10**6 bytes
MIB = float(1 << 20)  # 1 MiB = 2**20 bytes
#: First line of every markdown report, so that a rerun overwrites only its own files.
MARKER = "<!-- written by benchmarks/run.py: rerun it rather than editing by hand -->"


# --- the machine ----------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git(*args: str, cwd: Path) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def working_tree(repository: Path) -> dict[str, Any]:
    """Which tracked files differ from HEAD, and a hash of that diff (to spot edits mid-run)."""
    status = git("status", "--porcelain", "--untracked-files=no", cwd=repository)
    diff = git("diff", "HEAD", cwd=repository)
    return {
        "modified_files": [line.split(maxsplit=1)[1] for line in status.splitlines()] if status else [],
        "diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else None,
    }


def machine_info(repository: Path) -> dict[str, Any]:
    tree = working_tree(repository)
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "--short", "HEAD", cwd=repository),
        "uncommitted_changes": bool(tree["modified_files"]),
        "working_tree_at_start": tree,
        "load_average_at_start": os.getloadavg(),
    }


# --- figures --------------------------------------------------------------------------


def quality(rankings: dict[str, list[list[Any]]], qrels: Sequence[Qrel]) -> dict[str, float]:
    """nDCG@10 and Recall@100, averaged over every judged query that was run (no hits: 0)."""
    import ir_measures
    from ir_measures import R, nDCG

    measures = {"ndcg@10": nDCG @ 10, "recall@100": R @ 100}
    judged = {qrel.query_id for qrel in qrels} & set(rankings)
    if not judged:
        return {}
    run = [
        ir_measures.ScoredDoc(query_id, str(doc_id), float(score))
        for query_id, hits in rankings.items()
        for doc_id, score in hits
    ]
    wanted = [ir_measures.Qrel(q.query_id, q.doc_id, q.relevance) for q in qrels if q.query_id in judged]
    sums = dict.fromkeys(measures.values(), 0.0)
    for metric in ir_measures.iter_calc(list(measures.values()), wanted, run):
        if metric.query_id in judged:
            sums[metric.measure] += metric.value
    result = {name: sums[measure] / len(judged) for name, measure in measures.items()}
    result["judged_queries"] = len(judged)
    return result


def latency_figures(latencies: Sequence[float]) -> dict[str, float]:
    seconds = np.asarray(latencies)
    return {
        "queries": len(seconds),
        "qps": len(seconds) / float(seconds.sum()),
        "latency_p50_ms": 1000 * float(np.percentile(seconds, 50)),
        "latency_p99_ms": 1000 * float(np.percentile(seconds, 99)),
        "latency_mean_ms": 1000 * float(seconds.mean()),
    }


def figures(report: dict[str, Any], stats: CorpusStats, qrels: Sequence[Qrel]) -> dict[str, Any]:
    """One engine's figures from its worker's report."""
    seconds = report["index_seconds"]
    result: dict[str, Any] = {
        "label": report["label"],
        "version": report["version"],
        "library_file": report.get("library_file"),
        "status": "ok",
        "threads": report.get("threads", 1),
        "index_s": seconds,
        "docs_per_s": stats.documents / seconds,
        "mb_per_s": stats.input_bytes / MB / seconds,
        "mib_per_s": stats.input_bytes / MIB / seconds,
        "index_mb": report["index_bytes"] / MB,
        "index_mib": report["index_bytes"] / MIB,
        "peak_rss_mb": report["peak_rss_mb"],
        "rss_after_loading_corpus_mb": report["rss_after_loading_corpus_mb"],
        "import_s": report["import_seconds"],
    }
    if "index_cpu_seconds" in report:
        result["index_cpu_s"] = report["index_cpu_seconds"]
        result["cores_busy"] = report["index_cpu_seconds"] / seconds
    if "index_peak_threads" in report:
        result["index_peak_threads"] = report["index_peak_threads"]
        result["index_peak_threads_by_name"] = report.get("index_peak_threads_by_name", {})
    if report.get("children_peak_rss_mb"):
        result["children_peak_rss_mb"] = report["children_peak_rss_mb"]
    if "latencies_s" in report:
        result.update(latency_figures(report["latencies_s"]))
        if "first_pass_latencies_s" in report:
            first = report["first_pass_latencies_s"]
            result["first_pass_qps"] = len(first) / sum(first)
        result["queries_without_hits"] = report["queries_without_hits"]
        result.update(quality(report["rankings"], qrels))
    result["notes"] = report["notes"]
    return result


#: Figures that do not vary from round to round (taken from the first round).
FIXED = {"label", "version", "library_file", "status", "threads", "index_peak_threads",
         "index_peak_threads_by_name", "notes", "queries", "judged_queries",
         "queries_without_hits", "ndcg@10", "recall@100"}
#: Per-round figures kept in the JSON beside the medians.
PER_ROUND = ("index_s", "mib_per_s", "index_mib", "cores_busy", "index_peak_threads", "index_peak_threads_by_name",
             "peak_rss_mb")


def combine_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One variant's figures over its rounds: the median of each measured figure.

    The rankings (and so nDCG and recall) are the same in every round; the timings and
    sizes are medians, and each round's own are kept under ``rounds``.
    """
    combined: dict[str, Any] = {}
    for key, value in runs[0].items():
        if key in FIXED or not isinstance(value, (int, float)) or isinstance(value, bool):
            combined[key] = value
        else:
            combined[key] = float(np.median([run[key] for run in runs if key in run]))
    combined["rounds"] = [{key: run[key] for key in PER_ROUND if key in run} for run in runs]
    return combined


# --- markdown -------------------------------------------------------------------------

#: (key, header, format) of the table's figure columns.
COLUMNS: list[tuple[str, str, str]] = [
    ("version", "version", "{}"),
    ("index_s", "index s", "{:.2f}"),
    ("docs_per_s", "docs/s", "{:,.0f}"),
    ("mib_per_s", "MiB/s", "{:.2f}"),
    ("cores_busy", "cores busy", "{:.2f}"),
    ("index_mib", "index MiB", "{:.1f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
    ("qps", "QPS", "{:,.0f}"),
    ("first_pass_qps", "first-pass QPS", "{:,.0f}"),
    ("latency_p50_ms", "p50 ms", "{:.2f}"),
    ("latency_p99_ms", "p99 ms", "{:.2f}"),
    ("ndcg@10", "nDCG@10", "{:.4f}"),
    ("recall@100", "R@100", "{:.4f}"),
]
#: (key, header) of the ratio columns: engine / searchlib.
RATIOS: list[tuple[str, str]] = [
    ("mib_per_s", "MiB/s ×"),
    ("qps", "QPS ×"),
    ("ndcg@10", "nDCG@10 ×"),
    ("index_mib", "size ×"),
    ("peak_rss_mb", "RSS ×"),
]


def ratio(engine: dict[str, Any], reference: dict[str, Any] | None, key: str) -> float | None:
    if reference is None or key not in engine or not reference.get(key):
        return None
    return engine[key] / reference[key]


def present(engines: dict[str, dict[str, Any]], key: str) -> bool:
    return any(key in figures for figures in engines.values())


def markdown_table(engines: dict[str, dict[str, Any]], reference_key: str) -> str:
    reference = engines.get(reference_key)
    columns = [c for c in COLUMNS if present(engines, c[0])]
    ratios = [r for r in RATIOS if present(engines, r[0])] if reference else []
    header = ["engine"] + [c[1] for c in columns] + [r[1] for r in ratios]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for figures in engines.values():
        if figures["status"] != "ok":
            cells = [figures["status"]] + [""] * (len(header) - 2)
        else:
            cells = [fmt.format(figures[key]) if key in figures else "–" for key, _, fmt in columns]
            for key, _ in ratios:
                value = ratio(figures, reference, key)
                cells.append("–" if value is None else f"{value:.2f}")
        lines.append("| " + " | ".join([figures["label"]] + cells) + " |")
    return "\n".join(lines)


def cpu_throughput(figures: dict[str, Any]) -> float:
    """Median over the rounds of MiB indexed per CPU second (every thread and worker)."""
    rounds = [r for r in figures.get("rounds", [figures]) if r.get("cores_busy")]
    return float(np.median([r["mib_per_s"] / r["cores_busy"] for r in rounds]))


def indexing_table(engines: dict[str, dict[str, Any]], thread_counts: Sequence[int]) -> str:
    """Indexing only: each row's median MiB/s with its range over the rounds, its size,
    and its ratios to searchlib at each thread count measured (engine / searchlib)."""
    references = {count: engines.get(f"searchlib@{count}") for count in thread_counts}
    references = {count: f for count, f in references.items() if f and f["status"] == "ok"}
    header = ["engine", "MiB/s (median)", "range over rounds", "cores busy", "MiB per CPU-s", "peak threads",
              "index MiB"]
    header += [f"MiB/s × vs searchlib {count}t" for count in references]
    header += [f"size × vs searchlib {count}t" for count in references]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for figures in engines.values():
        if figures["status"] != "ok":
            continue
        speeds = [r["mib_per_s"] for r in figures.get("rounds", [])] or [figures["mib_per_s"]]
        cells = [figures["label"], f"{figures['mib_per_s']:.2f}", f"{min(speeds):.2f}–{max(speeds):.2f}",
                 f"{figures['cores_busy']:.2f}" if "cores_busy" in figures else "–",
                 f"{cpu_throughput(figures):.2f}" if "cores_busy" in figures else "–",
                 str(max(r.get("index_peak_threads", 0) for r in figures.get("rounds", [figures]))),
                 f"{figures['index_mib']:.1f}"]
        cells += [f"{figures['mib_per_s'] / ref['mib_per_s']:.2f}" for ref in references.values()]
        cells += [f"{figures['index_mib'] / ref['index_mib']:.2f}" for ref in references.values()]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Threads seen during each build (the most at once of each name, over the rounds):", ""]
    for figures in engines.values():
        if figures["status"] == "ok" and "index_peak_threads_by_name" in figures:
            peaks: dict[str, int] = {}
            for round_ in figures.get("rounds", [figures]):
                for name, count in round_.get("index_peak_threads_by_name", {}).items():
                    peaks[name] = max(peaks.get(name, 0), count)
            seen = ", ".join(f"`{name}` ×{count}" for name, count in sorted(peaks.items()))
            lines.append(f"- {figures['label']}: {seen}")
    return "\n".join(lines)


def format_load(load: Sequence[float] | None) -> str:
    return "/".join(f"{value:.2f}" for value in load) if load else "?"


def tree_note(machine: dict[str, Any]) -> str:
    start, end = machine["working_tree_at_start"], machine.get("working_tree_at_end", {})
    if not start["modified_files"] and not end.get("modified_files"):
        return ""
    changed = ", ".join(start["modified_files"]) or "nothing"
    note = f" plus uncommitted changes to {changed} (diff {start['diff_sha256']})"
    if end and end != start:
        note += f"; the working tree changed during the run (diff {end['diff_sha256']} at the end)"
    return note


def markdown_report(result: dict[str, Any]) -> str:
    machine, dataset, engines = result["machine"], result["dataset"], result["engines"]
    reference_key = result["reference"]
    rounds = result.get("rounds", 1)
    queries = dataset.get("queries", 0)
    lines = [
        MARKER,
        f"# {dataset['name']}: searchlib beside its peers",
        "",
        f"- Date: {machine['date']}; commit `{machine['commit']}`" + tree_note(machine),
        f"- searchlib code measured: {result['searchlib_source']}",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}; load average "
        f"(1/5/15 min) {format_load(machine['load_average_at_start'])} at the start, "
        f"{format_load(machine.get('load_average_at_end'))} at the end",
        f"- Data: {dataset['documents']:,} documents, {dataset['input_bytes'] / MIB:.1f} MiB "
        f"({dataset['input_mb']:.2f} MB) of title + text (UTF-8; 1 MiB = 2^20 bytes)"
        + (f", {queries} queries ({dataset.get('judged_queries', 0)} judged)" if queries else
           "; no queries: indexing only"),
        f"- Command: `{result['command']}`",
        f"- Whole run: {result['elapsed_s']:.0f} s; {rounds} round(s) of every engine, interleaved; "
        "each figure is the median over the rounds",
        *([f"- Note: {result['note']}"] if result.get("note") else []),
        "",
        "## Indexing",
        "",
        indexing_table(engines, result.get("threads", [1])),
        "",
        "Ratios (×) are the engine's median divided by searchlib's median at the thread count named, "
        "both from this run: above 1 is faster (MiB/s) or bigger (size). **cores busy** is the "
        "build's CPU time (every thread, and any worker process) over its wall time; **peak threads** "
        "the most threads the engine's process ran at once during the build (the most over the rounds; "
        "a Python process has one, and searchlib's `workers` are processes, not threads). **MiB per CPU-s** "
        "is the corpus over the build's CPU time: it moves less than MiB/s when other work takes the cores, "
        "but it does not show what several threads gain.",
        "",
        "## Every figure",
        "",
        markdown_table(engines, reference_key),
        "",
    ]
    if reference_key in engines:
        lines += [f"Ratio columns (×) are the engine's figure divided by the `{engines[reference_key]['label']}` "
                  "row (BM25 k1=1.2, b=0.75, like the peers): above 1 is faster or better for MiB/s, "
                  "QPS and nDCG@10, and bigger (worse) for size and RSS.", ""]
    cold = engines.get(reference_key, {}).get("cold_start_s")
    if cold is not None:
        lines += [f"Cold start: `searchlib query` as a whole process took {cold:.2f} s "
                  f"(median of {len(engines[reference_key]['cold_start_runs_s'])} runs, "
                  f"`{engines[reference_key]['cold_start_command']}`).", ""]
    failures = [f for f in engines.values() if f["status"] != "ok"]
    if failures:
        lines += ["Failed:", ""] + [f"- {f['label']}: {f['status']}: `{f.get('error', '')}`" for f in failures] + [""]
    lines += ["## How each engine was set up", ""]
    for figures in (f for f in engines.values() if f["status"] == "ok"):
        notes = "; ".join(f"{name}: {text}" for name, text in figures.get("notes", {}).items())
        lines.append(f"- **{figures['label']}** ({figures.get('version', '?')}): {notes}")
    lines += ["", METHOD]
    return "\n".join(lines) + "\n"


METHOD = """## What the figures are

- Every engine runs in its own process, one after the other; the round of every engine
  is repeated (``--reps``), each round starting one engine later, and each figure is the
  median over the rounds (the JSON keeps every round's). The process loads the corpus
  into memory first; **index s** is the wall time from an empty directory to a committed,
  on-disk index (for bm25s: tokenizing, indexing and `save`); **MiB/s** is the corpus's
  title + text bytes over it. **peak RSS** is the
  process's peak resident set at its end (Linux `VmHWM`; `ru_maxrss` is not used because
  Linux carries the parent's peak over into a child it starts), so it includes the
  interpreter and the corpus held in memory (`rss_after_loading_corpus_mb` in the JSON is
  that floor).
- **index MiB** is every file under the engine's index directory. Every engine stores
  only the id (what a search returns), so sizes compare the same stored content.
- Queries: each query's text is reduced to its lowercased words (`\\w+`), which every
  engine gets combined with OR. The index is opened from disk, one warm-up pass runs at
  top-10, then one timed pass of the same queries at top-10, one query at a time on one
  thread: **QPS** is queries / total time, **p50/p99** are percentiles of per-query
  latency. A query's time includes reading the ids of its hits.
- **first-pass QPS** is the warm-up pass's rate: each query seen for the first time by
  a freshly opened index. The timed pass repeats those queries, so an engine that keeps
  work between queries (searchlib's cache of terms' BM25 tf parts) gains there; this
  column shows what it costs without that.
- **nDCG@10** and **R@100** come from a separate untimed top-100 pass, scored with
  ir-measures and averaged over every judged query (a query without hits counts as 0).
- The machine is a shared VM; timings there vary by tens of percent from run to run,
  which the interleaved rounds and medians temper but do not remove: read small
  differences as noise.
"""


# --- chart ----------------------------------------------------------------------------

CHARTS: list[tuple[str, str, bool]] = [
    ("mib_per_s", "indexing MiB/s", True),
    ("qps", "queries/s (top-10)", True),
    ("ndcg@10", "nDCG@10", False),
]


def minor_label(value: float, _position: object) -> str:
    """Label a log axis's minor ticks at 2× and 5× of each decade only, so they stay legible."""
    if value <= 0:
        return ""
    mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
    return f"{value:g}×" if mantissa in (2, 5) else ""


def ratio_chart(engines: dict[str, dict[str, Any]], reference_key: str, title: str, path: Path) -> bool:
    """Bar charts of each other engine's ratio to the reference; False if nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    reference = engines.get(reference_key)
    if reference is None or reference["status"] != "ok":
        return False
    others = {k: f for k, f in engines.items() if k != reference_key and f["status"] == "ok"}
    charts = [c for c in CHARTS if reference.get(c[0]) and any(c[0] in f for f in others.values())]
    if not charts:
        return False
    figure, axes = plt.subplots(1, len(charts), figsize=(4.6 * len(charts), 4.2), squeeze=False)
    for axis, (key, name, logarithmic) in zip(axes[0], charts, strict=False):
        shown = [f for f in others.values() if key in f]
        values = [ratio(f, reference, key) or 0.0 for f in shown]
        colours = ["#9db4d3" if f["label"].startswith("searchlib") else "#3b6ea5" for f in shown]
        if logarithmic:  # bars grow from 1x, up for faster, down for slower
            bars = axis.bar(range(len(values)), [v - 1 for v in values], bottom=1, color=colours)
            axis.set_yscale("log")
        else:
            bars = axis.bar(range(len(values)), values, color=colours)
        axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        axis.yaxis.set_minor_formatter(FuncFormatter(minor_label))
        axis.axhline(1.0, color="#c0392b", linewidth=1)
        axis.set_xticks(range(len(values)), [f["label"] for f in shown], rotation=30, ha="right")
        axis.set_title(f"{name}\n(engine / {reference['label']})")
        for bar, value in zip(bars, values, strict=True):
            axis.annotate(f"{value:.2f}×", (bar.get_x() + bar.get_width() / 2, value),
                          ha="center", va="top" if logarithmic and value < 1 else "bottom", fontsize=8)
        axis.margins(y=0.15)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
