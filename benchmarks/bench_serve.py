"""``searchlib serve`` under load: SciFact's queries from concurrent clients on loopback.

One ``searchlib serve`` process (writes allowed, with a token) serves a copy of a SciFact
index (id, title and text, stored, so that hits carry snippets as the search page asks
for them). Two phases follow, each ``--duration`` seconds:

1. **search**: ``--clients`` threads (8 by default), each with its own keep-alive HTTP
   connection, send SciFact's 300 queries round and round (each thread starting at a
   different one) to ``GET /api/search?q=...`` (top 10 with snippets, did-you-mean
   when few hits), as fast as the answers come;
2. **search + writes**: the same, while a writer thread posts ``--batch`` new documents
   (SciFact's own, under new ids) to ``POST /api/documents`` and then ``POST
   /api/commit``, once every ``--commit-interval`` seconds;
3. **search after**: searches alone again, to see whether the memory the writes took
   stays taken.

For each phase it reports requests per second, p50 and p99 latency in milliseconds and
errors (any answer but a 200, or no answer), and the server's resident memory (RSS,
from ``/proc``, sampled every half second): at the phase's start and end, its peak, and
every 5 s.
The clients run in this process, on the same machine as the server: on a small machine
they take CPU from it, and the figures are those of the pair.

It prints and writes ``benchmarks/results/serve.md``. Run from the repository root, with
the server extra and httpx installed (``pip install -e ".[server]" httpx``)::

    python benchmarks/bench_serve.py                     # ../shared/datasets/scifact, 30 s a phase
    python benchmarks/bench_serve.py --duration 5 --no-write-results
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from importlib.metadata import version
from typing import Any

import httpx

from bench_data import iter_docs, load_queries
from bench_report import cpu_model, git

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SCRATCH = BENCH_DIR / "scratch"
RESULTS = BENCH_DIR / "results" / "serve.md"
MARKER = "<!-- written by benchmarks/bench_serve.py: rerun it rather than editing by hand -->"


# --- the index and the server ------------------------------------------------------------


def pristine_index(dataset: Path) -> Path:
    """A SciFact index built once and kept in ``benchmarks/scratch/`` (stored fields, so
    that hits have snippets); each run serves a copy, as the writes change it."""
    from searchlib import ID, TEXT, Index, Schema

    path = SCRATCH / f"serve-{dataset.name}"
    if (path / "done").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    index = Index.create(str(path / "index"), Schema(id=ID(), title=TEXT(), text=TEXT()))
    with index.writer() as writer:
        for doc in iter_docs(dataset):
            writer.add_document({"id": doc.id, "title": doc.title, "text": doc.text})
    (path / "done").write_text("")
    return path


def rss_bytes(pid: int) -> int | None:
    """The process's resident set size, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class ServerProcess:
    """``searchlib serve`` on a free port of loopback, writes allowed with a fresh token."""

    def __init__(self, index: Path, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_urlsafe(16)
        script = Path(sys.executable).parent / "searchlib"
        command = [str(script) if script.exists() else "searchlib", "serve", "--index", str(index),
                   "--port", str(self.port), "--allow-writes"]
        self._log = log.open("wb")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "SEARCHLIB_TOKEN": self.token})
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}; see {log}")
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the server did not answer within 120 s; see {log}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# --- the load ----------------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, of the 200s
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, bytes)
    documents_added: int = 0
    commits: int = 0
    commit_seconds: list[float] = field(default_factory=list)
    write_errors: int = 0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def quantile(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

        rss = [value for _, value in self.rss]
        return {
            "phase": self.name, "seconds": round(self.seconds, 2), "requests": len(self.latencies) + self.errors,
            "requests_per_second": round((len(self.latencies) + self.errors) / self.seconds, 1),
            "p50_ms": round(quantile(0.50), 2), "p99_ms": round(quantile(0.99), 2), "errors": self.errors,
            "error_examples": self.error_examples[:5],
            "rss_start_mb": round(rss[0] / 1e6, 1) if rss else None,
            "rss_end_mb": round(rss[-1] / 1e6, 1) if rss else None,
            "rss_peak_mb": round(max(rss) / 1e6, 1) if rss else None,
            "documents_added": self.documents_added, "commits": self.commits,
            "commit_p50_ms": round(statistics.median(self.commit_seconds) * 1000, 1) if self.commit_seconds else None,
            "write_errors": self.write_errors,
            "rss_every_5s_mb": [round(value / 1e6) for at, value in _every(self.rss, 5.0)],
        }


def _every(samples: list[tuple[float, int]], step: float) -> list[tuple[float, int]]:
    """The first sample of each ``step`` seconds, and the last."""
    kept: list[tuple[float, int]] = []
    for at, value in samples:
        if not kept or at >= kept[-1][0] + step:
            kept.append((at, value))
    if samples and kept[-1] != samples[-1]:
        kept.append(samples[-1])
    return kept


def run_phase(name: str, server: ServerProcess, queries: list[str], clients: int, duration: float,
              writer: Callable[[threading.Event, Phase], None] | None = None) -> Phase:
    """``clients`` threads searching for ``duration`` seconds (and ``writer``, if any,
    beside them), the server's RSS sampled throughout."""
    phase = Phase(name)
    stop = threading.Event()
    lock = threading.Lock()

    def client(number: int) -> None:
        latencies: list[float] = []
        errors: list[str] = []
        at = number * len(queries) // clients
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while not stop.is_set():
                query = queries[at % len(queries)]
                at += 1
                started = time.perf_counter()
                try:
                    response = http.get("/api/search", params={"q": query})
                    elapsed = time.perf_counter() - started
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors.append(f"{response.status_code} for {query!r}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__} for {query!r}: {exc}")
        with lock:
            phase.latencies.extend(latencies)
            phase.errors += len(errors)
            phase.error_examples.extend(errors[:5])

    def sampler(started: float) -> None:
        while True:
            value = rss_bytes(server.process.pid)
            if value is not None:
                phase.rss.append((time.monotonic() - started, value))
            if stop.wait(0.5):
                break
        value = rss_bytes(server.process.pid)
        if value is not None:
            phase.rss.append((time.monotonic() - started, value))

    started = time.monotonic()
    threads = [threading.Thread(target=sampler, args=(started,))]
    threads += [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    if writer is not None:
        threads.append(threading.Thread(target=writer, args=(stop, phase)))
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started
    return phase


def make_writer(server: ServerProcess, dataset: Path, batch: int,
                interval: float) -> Callable[[threading.Event, Phase], None]:
    """A writer that adds ``batch`` documents and commits, every ``interval`` seconds."""

    def documents() -> Iterator[dict[str, str]]:
        round_number = 0
        while True:
            round_number += 1
            for doc in iter_docs(dataset):
                yield {"id": f"w{round_number}-{doc.id}", "title": doc.title, "text": doc.text}

    def write(stop: threading.Event, phase: Phase) -> None:
        source = documents()
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, timeout=60, headers=headers) as http:
            next_at = time.monotonic()
            while not stop.is_set():
                body = [next(source) for _ in range(batch)]
                try:
                    added = http.post("/api/documents", json=body)
                    started = time.perf_counter()
                    committed = http.post("/api/commit")
                    elapsed = time.perf_counter() - started
                    if added.status_code == 202 and committed.status_code == 200:
                        phase.documents_added += batch
                        phase.commits += 1
                        phase.commit_seconds.append(elapsed)
                    else:
                        phase.write_errors += 1
                except httpx.HTTPError:
                    phase.write_errors += 1
                next_at += interval
                stop.wait(max(0.0, next_at - time.monotonic()))

    return write


# --- the report --------------------------------------------------------------------------


def machine() -> str:
    cores = os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{cpu_model()}, {cores} cores; Python {platform.python_version()}; load average {load} at the end"


def render(summaries: list[dict[str, Any]], args: argparse.Namespace, documents: int, queries: int,
           health: dict[str, Any]) -> str:
    commit = git("rev-parse", "--short", "HEAD", cwd=REPO) or "unknown"
    lines = [
        MARKER,
        f"# `searchlib serve` under load: {args.dataset.name}",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; commit `{commit}`",
        f"- Machine: {machine()}",
        f"- Index: {documents:,} documents (id, title, text; stored), one `searchlib serve` process "
        f"(uvicorn {version('uvicorn')}, Starlette {version('starlette')}, one worker) on loopback; "
        f"clients: httpx {httpx.__version__}",
        f"- Load: {args.clients} client threads in one process on the same machine, each with a keep-alive "
        f"connection, sending {queries} queries round and round to `GET /api/search?q=...` "
        "(top 10, snippets, did-you-mean), for "
        f"{args.duration:g} s a phase; while writing, {args.batch} documents are posted and committed "
        f"every {args.commit_interval:g} s",
        "",
        "| phase | requests | requests/s | p50 ms | p99 ms | errors | RSS start / end / peak MB |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in summaries:
        lines.append(f"| {row['phase']} | {row['requests']:,} | {row['requests_per_second']:.1f} | "
                     f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | "
                     f"{row['rss_start_mb']} / {row['rss_end_mb']} / {row['rss_peak_mb']} |")
    writes = summaries[1]
    lines += [
        "",
        f"While writing: {writes['documents_added']:,} documents added in {writes['commits']} commits "
        f"(commit p50 {writes['commit_p50_ms']} ms), {writes['write_errors']} failed writes; the server "
        f"then searched {health.get('documents', '?'):,} documents at generation {health.get('generation', '?')}.",
    ]
    lines.append("\nThe RSS counts the writer's buffers and the pages of memory-mapped segment files that "
                 "searches touched: each commit adds a segment and merges rewrite them, so it rises while "
                 "writing and falls back once the writes stop and replaced segments are let go.")
    lines.append("\nThe server's RSS every 5 s, MB:\n")
    for row in summaries:
        lines.append(f"- {row['phase']}: {', '.join(str(value) for value in row['rss_every_5s_mb'])}")
    for row in summaries:
        if row["error_examples"]:
            lines.append(f"\nErrors in {row['phase']}: " + "; ".join(row["error_examples"]))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, nargs="?", default=REPO.parent / "shared" / "datasets" / "scifact",
                        help="a BEIR-layout dataset (default: ../shared/datasets/scifact)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase (default 30)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--batch", type=int, default=20, help="documents added per commit (default 20)")
    parser.add_argument("--commit-interval", type=float, default=1.0, help="seconds between commits (default 1)")
    parser.add_argument("--no-write-results", action="store_true", help=f"print only; leave {RESULTS} alone")
    args = parser.parse_args()

    queries = [query.text for query in load_queries(args.dataset)]
    if not queries:
        raise SystemExit(f"{args.dataset} has no queries.jsonl")
    pristine = pristine_index(args.dataset)
    work = SCRATCH / "serve-run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine / "index", work / "index")
    server = ServerProcess(work / "index", work / "server.log")
    try:
        documents = httpx.get(server.url + "/health", timeout=30).json()["documents"]
        run_phase("warm-up", server, queries, args.clients, min(5.0, args.duration))
        summaries = [run_phase("search", server, queries, args.clients, args.duration).summary()]
        print(json.dumps(summaries[-1]), flush=True)
        writer = make_writer(server, args.dataset, args.batch, args.commit_interval)
        summaries.append(run_phase("search + writes", server, queries, args.clients, args.duration, writer).summary())
        print(json.dumps(summaries[-1]), flush=True)
        summaries.append(run_phase("search after", server, queries, args.clients, args.duration).summary())
        print(json.dumps(summaries[-1]), flush=True)
        health = httpx.get(server.url + "/health", timeout=30).json()
    finally:
        server.stop()
    report = render(summaries, args, documents, len(queries), health)
    print(report)
    if not args.no_write_results:
        RESULTS.write_text(report)
        print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
