"""Whole-process start-up: a script that imports the engine, opens an index and runs one
query, searchlib beside tantivy-py, and ``searchlib query "direct talks"`` on the seeds.

An application that searches from a short-lived process (a CLI, a serverless handler, a
test) pays for import, open and the first query every time. This measures exactly that
with hyperfine: each command runs as a fresh process, the two engines' scripts in
alternating rounds (the machine is shared, so a slow minute hits both), and each figure
is the median over every run of every round.

- The SciFact indexes are the ones ``benchmarks/run.py`` leaves in
  ``benchmarks/scratch/run/scifact/`` (``searchlib@1`` and ``tantivy@1``); run it first.
- The query is the first SciFact query, as a user would type it, top 10, with the
  id of each hit read (tantivy: from its doc store).
- Bytecode: the commands run with ``PYTHONDONTWRITEBYTECODE`` unset, so Python reads the
  ``.pyc`` files that ``pip install`` writes for an installed package (an editable
  install writes them on the first import); a machine that forbids them pays for
  compiling every module on every start.

Run from the repository root, with the peers installed::

    python benchmarks/run.py ../shared/datasets/scifact --engines searchlib,tantivy --threads 1 --reps 1
    python benchmarks/bench_startup.py            # writes benchmarks/results/startup.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_report import cpu_model, git

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "benchmarks" / "scratch"
RESULTS = ROOT / "benchmarks" / "results" / "startup.md"

SEARCHLIB_SCRIPT = """\
import sys
from searchlib import Searcher
with Searcher(sys.argv[1]) as searcher:
    hits = searcher.search(sys.argv[2], limit=10, strict=False)
    print([hit.id for hit in hits])
"""

TANTIVY_SCRIPT = """\
import sys
import tantivy
index = tantivy.Index.open(sys.argv[1])
analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.stopword("english")).filter(tantivy.Filter.stemmer("english")).build())
index.register_tokenizer("en_stop_stem", analyzer)
searcher = index.searcher()
query = index.parse_query(sys.argv[2], ["title", "text"])
hits = searcher.search(query, 10).hits
print([searcher.doc(address).get_first("id") for _, address in hits])
"""


def first_query(dataset: Path) -> str:
    with (dataset / "queries.jsonl").open(encoding="utf-8") as lines:
        return str(json.loads(next(lines))["text"])


def hyperfine(commands: dict[str, list[str]], runs: int, env: dict[str, str], cwd: Path) -> dict[str, list[float]]:
    """Each command's run times in seconds, from one hyperfine call."""
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "times.json"
        names = list(commands)
        argv = ["hyperfine", "--warmup", "2", "--runs", str(runs), "--style", "none", "-N",
                "--export-json", str(export)]
        for name in names:
            argv += ["--command-name", name, subprocess.list2cmdline(commands[name])]
        subprocess.run(argv, check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
        report = json.loads(export.read_text())
    return {name: result["times"] for name, result in zip(names, report["results"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared" / "datasets" / "scifact")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10, help="runs of each command per round")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if shutil.which("hyperfine") is None:
        print("bench_startup: hyperfine is not installed (apt install hyperfine)", file=sys.stderr)
        return 2
    indexes = SCRATCH / "run" / args.dataset.name
    searchlib_index, tantivy_index = indexes / "searchlib@1", indexes / "tantivy@1"
    for path in (searchlib_index, tantivy_index):
        if not path.is_dir():
            print(f"bench_startup: {path} is missing; run benchmarks/run.py on {args.dataset} first",
                  file=sys.stderr)
            return 2
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    query = first_query(args.dataset)
    work = SCRATCH / "startup"
    work.mkdir(parents=True, exist_ok=True)
    (work / "searchlib_script.py").write_text(SEARCHLIB_SCRIPT)
    (work / "tantivy_script.py").write_text(TANTIVY_SCRIPT)
    seeds_dir = work / "seeds-project"  # `searchlib query` builds ./index from ./seeds on first use
    shutil.rmtree(seeds_dir, ignore_errors=True)
    shutil.copytree(ROOT / "seeds", seeds_dir / "seeds")
    cli = str(Path(sys.executable).parent / "searchlib")
    subprocess.run([cli, "query", "direct talks"], cwd=seeds_dir, env=env, check=True, capture_output=True)

    script_commands = {
        "searchlib script": [sys.executable, str(work / "searchlib_script.py"), str(searchlib_index), query],
        "tantivy-py script": [sys.executable, str(work / "tantivy_script.py"), str(tantivy_index), query],
    }
    times: dict[str, list[float]] = {name: [] for name in [*script_commands, "searchlib query (seeds)"]}
    for round_number in range(args.rounds):
        order = list(script_commands) if round_number % 2 == 0 else list(reversed(script_commands))
        for name in order:
            times[name] += hyperfine({name: script_commands[name]}, args.runs, env, work)[name]
        times["searchlib query (seeds)"] += hyperfine(
            {"cli": [cli, "query", "direct talks"]}, args.runs, env, seeds_dir)["cli"]

    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    ratio = medians["searchlib script"] / medians["tantivy-py script"]
    lines = [
        "<!-- written by benchmarks/bench_startup.py: rerun it rather than editing by hand -->",
        "# Whole-process start-up: import, open, one query",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; commit `{git('rev-parse', '--short', 'HEAD', cwd=ROOT)}`",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())} at the end",
        f"- hyperfine, {args.rounds} rounds of {args.runs} runs per command (2 warm-up runs each), "
        "the two scripts alternating; medians over every run",
        f"- Query: the first SciFact query, {query!r}, top 10, ids read; indexes from benchmarks/run.py",
        "- `.pyc` files allowed (PYTHONDONTWRITEBYTECODE unset), as for a package pip installed",
        "",
        "| command | median ms | min ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for name, values in times.items():
        lines.append(f"| {name} | {medians[name]:.1f} | {min(values) * 1000:.1f} | {max(values) * 1000:.1f} |")
    lines += ["", f"searchlib's script takes {ratio:.2f}x the time of tantivy-py's (below 1 is faster).", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
