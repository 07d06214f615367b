"""Run searchlib beside its peers (Whoosh, tantivy, SQLite FTS5, bm25s) on the same data.

Each engine indexes the same corpus in its own process (so peak RSS is its own), then
answers the dataset's queries; quality is scored with ir-measures where there are
relevance judgments. An engine that takes a thread count (searchlib, tantivy) runs once
per ``--threads`` count. The whole round is repeated ``--reps`` times, the engines
interleaved (each round starts one engine later than the one before), so that a slow
spell of a shared machine does not fall on one engine alone; each figure is the median
of the rounds, and the ratios compare those medians, all from the same run.

Results go to ``<out>/<dataset>.json`` (every figure and every round's, the machine and
the commit), ``<out>/<dataset>.md`` (tables with ratio columns against searchlib, also
printed) and ``<out>/<dataset>.png`` (bar charts of each engine's ratio to searchlib);
``<out>`` is ``benchmarks/results/peers/`` unless ``--out`` says otherwise.
Indexes, logs and synthetic data go to ``benchmarks/scratch/`` (git-ignored).

Run from the repository root, with the peers installed::

    pip install -r benchmarks/requirements.txt
    python benchmarks/run.py ../shared/datasets/scifact
    python benchmarks/run.py ../shared/datasets/cranfield --engines searchlib,tantivy,fts5
    python benchmarks/run.py ../shared/datasets/enwiki-sample --engines searchlib,tantivy,fts5 \
        --threads 1,2 --reps 5                                     # corpus only: indexing
    python benchmarks/run.py --scale 100000 --queries-limit 200    # synthetic corpus
    python benchmarks/run.py ../shared/datasets/scifact --searchlib-rev HEAD  # committed searchlib
    python benchmarks/run.py --render benchmarks/results/peers/scifact.json --note "..."  # re-render

DATASET is a BEIR-layout folder: ``corpus.jsonl`` (id, title, text), and optionally
``queries.jsonl`` (id, text) and ``qrels.tsv`` (``query-id corpus-id score``). Without
queries only indexing is measured; without qrels, no quality figures.

Engines (``--engines``, comma-separated; default all): searchlib (BM25 k1=1.2, b=0.75
like the peers, which are also searchlib's defaults; the reference for ratios), whoosh,
tantivy, fts5, bm25s. See ``engines/`` for how each is set
up and the notes in the markdown for where one cannot match the others.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from bench_data import CorpusStats, Qrel, corpus_stats, iter_docs, load_qrels, load_queries
from engines import ENGINES, REFERENCE

BENCH_DIR = Path(__file__).resolve().parent
REPOSITORY = BENCH_DIR.parent
SCRATCH = BENCH_DIR / "scratch"
COLD_START_RUNS = 7
#: Keep numeric libraries to one thread in the workers.
SINGLE_THREAD_ENV = {name: "1" for name in (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS",
)}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env(searchlib_root: Path | None) -> dict[str, str]:
    """The environment of every child: one thread, and searchlib from ``searchlib_root`` if given."""
    env = {**os.environ, **SINGLE_THREAD_ENV}
    if searchlib_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(searchlib_root), env.get("PYTHONPATH")]))
    return env


def searchlib_snapshot(revision: str) -> tuple[Path, str]:
    """Extract ``searchlib/`` at ``revision`` (``git archive``, read-only for the repository)."""
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=REPOSITORY, capture_output=True,
                            text=True, check=True).stdout.strip()
    root = SCRATCH / f"searchlib-{commit}"
    if not (root / "searchlib" / "__init__.py").exists():
        root.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "searchlib"], cwd=REPOSITORY,
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
    return root, commit


# --- the engines' processes -------------------------------------------------------------


class Variant(NamedTuple):
    """One engine at one thread count: a row of the results."""

    key: str
    threads: int
    threaded: bool  # whether the engine takes a thread count (else ``threads`` is 1)

    @property
    def name(self) -> str:
        """``searchlib@2`` for a threaded engine, the plain key otherwise."""
        return f"{self.key}@{self.threads}" if self.threaded else self.key

    def label(self, engine_label: str) -> str:
        if not self.threaded:
            return engine_label
        return f"{engine_label}, {self.threads} thread" + ("s" if self.threads > 1 else "")


def worker_command(variant: Variant, dataset: Path, index_dir: Path, result: Path,
                   queries_limit: int | None) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", variant.key, "--dataset", str(dataset),
               "--index-dir", str(index_dir), "--result", str(result), "--threads", str(variant.threads)]
    if queries_limit is not None:
        command += ["--queries-limit", str(queries_limit)]
    return command


# Children run in SCRATCH, so that none imports ./searchlib from its working directory.
def run_engine(variant: Variant, dataset: Path, workdir: Path, queries_limit: int | None,
               timeout: float | None, env: dict[str, str]) -> dict[str, Any]:
    """Run one engine's worker; return its report, or a failure with the log's last lines."""
    name = variant.name
    result, log_path = workdir / f"{name}.result.json", workdir / f"{name}.log"
    result.unlink(missing_ok=True)
    command = worker_command(variant, dataset, workdir / name, result, queries_limit)
    # A Rust engine's thread pool (rayon) may size itself from this; numpy stays at one.
    env = {**env, "RAYON_NUM_THREADS": str(variant.threads)}
    start = time.perf_counter()
    try:
        with log_path.open("w", encoding="utf-8") as output:
            completed = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, timeout=timeout,
                                       env=env, cwd=SCRATCH)
    except subprocess.TimeoutExpired:
        return {"engine": variant.key, "status": "timeout", "error": f"no result after {timeout:.0f} s"}
    log(f"[{name}] finished in {time.perf_counter() - start:.1f} s (exit {completed.returncode})")
    if completed.returncode != 0 or not result.exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        return {"engine": variant.key, "status": "failed", "error": " / ".join(tail)}
    report: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    report["status"] = "ok"
    return report


# --- searchlib's cold start -----------------------------------------------------------------


def cold_start_word(dataset: Path) -> str:
    """A content word to search for: the longest word of the first query (or first title)."""
    queries = load_queries(dataset, limit=1)
    text = queries[0].text if queries else next(iter_docs(dataset)).title
    words = [w for w in text.split() if w.isalpha()] or ["the"]
    return max(words, key=len).lower()


def searchlib_command() -> list[str]:
    script = Path(sys.executable).parent / "searchlib"
    return [str(script)] if script.exists() else [sys.executable, "-m", "searchlib.cli"]


def cold_start(index_dir: Path, word: str, env: dict[str, str], runs: int = COLD_START_RUNS) -> dict[str, Any]:
    """Time ``searchlib query WORD --index DIR`` as a whole process, ``runs`` times."""
    command = searchlib_command() + ["query", word, "--index", str(index_dir)]
    seconds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, cwd=SCRATCH, env=env)
        seconds.append(time.perf_counter() - start)
        if completed.returncode not in (0, 1):  # 1: no matches, still a complete query
            raise RuntimeError(f"{shlex.join(command)} failed: {completed.stderr.decode()[-300:]}")
    return {"cold_start_s": statistics.median(seconds), "cold_start_runs_s": seconds,
            "cold_start_command": shlex.join(["searchlib", *command[-4:]])}


# --- the whole run --------------------------------------------------------------------------


def choose_engines(requested: str) -> list[str]:
    keys = [key.strip() for key in requested.split(",") if key.strip()]
    unknown = [key for key in keys if key not in ENGINES]
    if unknown:
        raise SystemExit(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    return keys


def thread_counts(requested: str) -> list[int]:
    counts = [int(count) for count in requested.split(",") if count.strip()]
    if not counts or min(counts) < 1:
        raise SystemExit(f"--threads wants counts of 1 or more, got {requested!r}")
    return counts


def choose_variants(keys: Sequence[str], counts: Sequence[int]) -> list[Variant]:
    """Each engine once per thread count if it takes one, else once (one thread)."""
    from engines import load_engine

    variants: list[Variant] = []
    for key in keys:
        if load_engine(key).threaded:
            variants += [Variant(key, count, True) for count in counts]
        else:
            variants.append(Variant(key, 1, False))
    return variants


def reference_name(variants: Sequence[Variant]) -> str | None:
    """The row ratios are taken against: searchlib with the fewest threads."""
    own = [v for v in variants if v.key == REFERENCE]
    return min(own, key=lambda v: v.threads).name if own else None


def resolve_dataset(args: argparse.Namespace) -> Path:
    if args.scale is not None:
        from bench_synthetic import synthetic_dataset

        log(f"generating (or reusing) a synthetic corpus of {args.scale:,} documents, seed {args.seed}")
        return synthetic_dataset(SCRATCH, args.scale, args.seed)
    if args.dataset is None:
        raise SystemExit("give a DATASET folder or --scale N")
    if not (args.dataset / "corpus.jsonl").is_file():
        raise SystemExit(f"{args.dataset} has no corpus.jsonl")
    return args.dataset.resolve()


def output_paths(out: Path, name: str) -> dict[str, Path]:
    """Where the results go; refuses to overwrite a markdown file that run.py did not write."""
    from bench_report import MARKER

    paths = {suffix: out / f"{name}.{suffix}" for suffix in ("json", "md", "png")}
    if paths["md"].exists():
        with paths["md"].open(encoding="utf-8") as handle:
            if handle.readline().rstrip("\n") != MARKER:
                raise SystemExit(f"{paths['md']} was not written by run.py; choose another --out")
    return paths


def describe_dataset(dataset: Path, queries_limit: int | None) -> dict[str, Any]:
    stats = corpus_stats(dataset)
    queries = load_queries(dataset, queries_limit)
    judged = {qrel.query_id for qrel in load_qrels(dataset)} & {query.id for query in queries}
    return {"name": dataset.name, "path": str(dataset), "documents": stats.documents,
            "input_bytes": stats.input_bytes, "input_mb": stats.input_bytes / 1e6,
            "queries": len(queries), "judged_queries": len(judged)}


def searchlib_environment(revision: str | None) -> tuple[dict[str, str], str]:
    """The children's environment, and which searchlib code they import."""
    if revision is None:
        return child_env(None), "the working tree (editable install)"
    root, commit = searchlib_snapshot(revision)
    return child_env(root), f"commit {commit} (git archive of {revision}, on PYTHONPATH)"


def interleaved(variants: Sequence[Variant], rounds: int) -> list[tuple[int, Variant]]:
    """(round, variant) in running order: each round starts one variant later.

    >>> [(r, v.name) for r, v in interleaved([Variant("a", 1, False), Variant("b", 1, False)], 2)]
    [(0, 'a'), (0, 'b'), (1, 'b'), (1, 'a')]
    """
    order: list[tuple[int, Variant]] = []
    for round_ in range(rounds):
        shift = round_ % len(variants)
        order += [(round_, variant) for variant in [*variants[shift:], *variants[:shift]]]
    return order


def run_engines(variants: Sequence[Variant], dataset: Path, args: argparse.Namespace, env: dict[str, str],
                stats: CorpusStats, qrels: Sequence[Qrel]) -> dict[str, dict[str, Any]]:
    """Each variant's figures over the rounds (or its failure), in the order given."""
    from bench_report import combine_runs, figures

    workdir = SCRATCH / "run" / dataset.name
    workdir.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {variant.name: [] for variant in variants}
    failures: dict[str, dict[str, Any]] = {}
    for round_, variant in interleaved(variants, args.reps):
        if variant.name in failures:
            continue
        log(f"[{variant.name}] round {round_ + 1}/{args.reps}")
        report = run_engine(variant, dataset, workdir, args.queries_limit, args.timeout, env)
        if report["status"] != "ok":
            log(f"[{variant.name}] {report['status']}: {report['error']}")
            failures[variant.name] = {"label": variant.name, "threads": variant.threads, **report}
            continue
        report["label"] = variant.label(report["label"])
        runs[variant.name].append(figures(report, stats, qrels))
    engines: dict[str, dict[str, Any]] = {}
    for variant in variants:
        if variant.name in failures:
            engines[variant.name] = failures[variant.name]
            continue
        engines[variant.name] = combine_runs(runs[variant.name])
        if variant.name == reference_name(variants):
            engines[variant.name].update(cold_start(workdir / variant.name, cold_start_word(dataset), env))
    return engines


def write_outputs(result: dict[str, Any], paths: dict[str, Path]) -> str:
    """Write the JSON, markdown and chart; return the markdown."""
    from bench_report import markdown_report, ratio_chart

    paths["json"].parent.mkdir(parents=True, exist_ok=True)
    paths["json"].write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    markdown = markdown_report(result)
    paths["md"].write_text(markdown, encoding="utf-8")
    title = f"{result['dataset']['name']}: ratio to searchlib"
    if not ratio_chart(result["engines"], result["reference"], title, paths["png"]):
        log("no chart: no searchlib row or no other engine to compare")
    return markdown


def render(path: Path, note: str | None) -> str:
    """Write a run's markdown and chart again from its JSON (and set its note, if given)."""
    result = json.loads(path.read_text(encoding="utf-8"))
    if note is not None:
        result["note"] = note
    paths = output_paths(path.parent, path.stem)
    return write_outputs(result, paths)


def benchmark(args: argparse.Namespace) -> str:
    """The whole run; returns the markdown report."""
    from bench_report import machine_info, working_tree

    started = time.perf_counter()
    machine = machine_info(REPOSITORY)  # before the run: the tree may change while it goes on
    dataset = resolve_dataset(args)
    paths = output_paths(args.out, dataset.name)
    description = describe_dataset(dataset, args.queries_limit)
    env, source = searchlib_environment(args.searchlib_rev)
    if args.searchlib_rev is not None:  # so that choose_variants sees the searchlib measured
        sys.path.insert(0, env["PYTHONPATH"].split(os.pathsep)[0])
    variants = choose_variants(choose_engines(args.engines), thread_counts(args.threads))
    log(f"{dataset.name}: {description['documents']:,} documents, {description['queries']} queries; "
        f"{args.reps} rounds of {', '.join(v.name for v in variants)}; searchlib from {source}")

    stats = CorpusStats(description["documents"], description["input_bytes"])
    engines = run_engines(variants, dataset, args, env, stats, load_qrels(dataset))

    machine["working_tree_at_end"] = working_tree(REPOSITORY)
    machine["load_average_at_end"] = os.getloadavg()
    result = {"dataset": description, "machine": machine, "command": shlex.join(["python", *sys.argv]),
              "note": args.note,
              "searchlib_source": source, "reference": reference_name(variants), "rounds": args.reps,
              "threads": thread_counts(args.threads), "engines": engines,
              "elapsed_s": time.perf_counter() - started}
    return write_outputs(result, paths)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?", type=Path, help="BEIR-layout dataset folder")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated engines (default: {','.join(ENGINES)})")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "peers",
                        help="where the .json, .md and .png go (default: benchmarks/results/peers, "
                             "beside, not over, bench_scifact.py's results/scifact.md)")
    parser.add_argument("--queries-limit", type=int, help="run only the first N queries")
    parser.add_argument("--scale", type=int, metavar="N",
                        help="instead of DATASET, a synthetic corpus of N documents (no qrels)")
    parser.add_argument("--seed", type=int, default=0, help="seed for --scale (default 0)")
    parser.add_argument("--threads", default="1",
                        help="comma-separated indexing thread counts for the engines that take one "
                             "(searchlib, tantivy); the others run with one (default: 1)")
    parser.add_argument("--reps", type=int, default=3,
                        help="rounds of every engine, interleaved; figures are medians (default: 3)")
    parser.add_argument("--timeout", type=float, help="give up on an engine after this many seconds")
    parser.add_argument("--note", help="a remark for the report, e.g. what else the machine was doing")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="run nothing: write the markdown and chart again from a run's JSON "
                             "(with --note, the note is set in the JSON too)")
    parser.add_argument("--searchlib-rev", metavar="REV",
                        help="benchmark searchlib as committed at REV (e.g. HEAD) instead of the working "
                             "tree: its searchlib/ is extracted with git archive into benchmarks/scratch/")
    worker = parser.add_argument_group("internal: one engine's process")
    worker.add_argument("--worker", metavar="ENGINE", help=argparse.SUPPRESS)
    worker.add_argument("--dataset", dest="worker_dataset", type=Path, help=argparse.SUPPRESS)
    worker.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    worker.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        from bench_worker import run_worker

        run_worker(args.worker, args.worker_dataset, args.index_dir, args.result, args.queries_limit,
                   int(args.threads))
        return 0
    from bench_report import MARKER

    markdown = render(args.render, args.note) if args.render else benchmark(args)
    print(markdown.removeprefix(MARKER + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
