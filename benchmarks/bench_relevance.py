"""How searchlib's ranking defaults were chosen: nDCG@10 over stemmers and BM25 parameters.

searchlib's defaults must rank well on any English corpus, so they are not fitted to a
test collection. This script shows where the chosen defaults (Porter2 stems, k1=1.2,
b=0.75) sit among their neighbours on every judged collection in ../shared/datasets, so
anyone can check that they are the textbook values and not a per-dataset optimum.

For each dataset and stemmer it builds one index (title and text, BM25F) with
``searchlib.evaluation`` and scores every judged query at each (k1, b) of a small grid.
Writes ``benchmarks/results/relevance.md`` (or ``--out``).

Run from the repository root::

    python benchmarks/bench_relevance.py
    python benchmarks/bench_relevance.py ../shared/datasets/scifact --out /tmp/relevance.md
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
from pathlib import Path

from bench_report import cpu_model, git
from searchlib import ID, TEXT, Index, Schema
from searchlib.analysis import (
    Analyzer,
    LowercaseFilter,
    PorterStemFilter,
    StopFilter,
    UnicodeWordTokenizer,
    register_analyzer,
)
from searchlib.evaluation import build_index, load_dataset, run_queries, score_run
from searchlib.scoring import DEFAULT_B, DEFAULT_K1
from searchlib.searcher import Searcher

BENCH_DIR = Path(__file__).resolve().parent
DATASETS = BENCH_DIR.parent.parent / "shared" / "datasets"
GRID = [(k1, b) for k1 in (0.9, 1.2, 1.5) for b in (0.4, 0.75)]
#: Analyzer name -> how it differs from the default ``english``.
STEMMERS = {"english": "Porter2 (NLTK Snowball English; the default)", "english-porter": "Porter (NLTK)"}


def english_porter() -> Analyzer:
    """The ``english`` chain with the original Porter stemmer, for comparison."""
    return UnicodeWordTokenizer() | LowercaseFilter() | StopFilter() | PorterStemFilter()


def judged_datasets() -> list[Path]:
    return sorted(path for path in DATASETS.iterdir() if (path / "qrels.tsv").exists())


def measure(dataset_path: Path) -> list[tuple[str, float, float, float]]:
    """(analyzer, k1, b, nDCG@10) for every stemmer and grid point."""
    dataset = load_dataset(dataset_path)
    rows = []
    for analyzer in STEMMERS:
        with tempfile.TemporaryDirectory() as scratch:
            index = build_index(dataset, Path(scratch) / "index", analyzer)
            for k1, b in GRID:
                with Searcher(index, k1=k1, b=b) as searcher:
                    run = run_queries(searcher, dataset.judged_queries)
                rows.append((analyzer, k1, b, score_run(run, dataset.qrels)["nDCG@10"]))
                print(f"{dataset_path.name}: {analyzer} k1={k1} b={b} nDCG@10={rows[-1][3]:.4f}", flush=True)
    return rows


def measure_title_weight(dataset_path: Path, weight: float = 2.0) -> float:
    """nDCG@10 at the defaults with the title weighted ``weight`` times the text in BM25F."""
    dataset = load_dataset(dataset_path)
    with tempfile.TemporaryDirectory() as scratch:
        index = Index.create(Path(scratch) / "index", Schema(id=ID(), title=TEXT(boost=weight), text=TEXT()))
        with index.writer() as writer:
            for document in dataset.corpus:
                writer.add_document(document)
        with Searcher(index) as searcher:
            run = run_queries(searcher, dataset.judged_queries)
    return score_run(run, dataset.qrels)["nDCG@10"]


def report(results: dict[str, list[tuple[str, float, float, float]]], title_weighted: dict[str, float]) -> str:
    commit = git("rev-parse", "--short", "HEAD", cwd=BENCH_DIR) or "unknown"
    lines = [
        "<!-- written by benchmarks/bench_relevance.py: rerun it rather than editing by hand -->",
        "# Relevance of searchlib's defaults beside their neighbours",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
        f"commit `{commit}`; {cpu_model()}",
        f"- Defaults: k1={DEFAULT_K1}, b={DEFAULT_B}, analyzer `english` "
        "(Unicode words, case folding, 153 English stop words, Porter2 stems); title and text "
        "searched together with BM25F, both with weight 1.",
        "- Figures: nDCG@10 over every judged query (ir-measures); **bold** marks the defaults.",
        "",
    ]
    for name, rows in results.items():
        lines += [f"## {name}", "", "| stemmer | " + " | ".join(f"k1={k1} b={b}" for k1, b in GRID) + " |"]
        lines.append("|---|" + "---:|" * len(GRID))
        for analyzer, label in STEMMERS.items():
            cells = []
            for k1, b in GRID:
                value = next(v for a, x, y, v in rows if a == analyzer and (x, y) == (k1, b))
                is_default = analyzer == "english" and (k1, b) == (DEFAULT_K1, DEFAULT_B)
                cells.append(f"**{value:.4f}**" if is_default else f"{value:.4f}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        best = max(rows, key=lambda row: row[3])
        lines += [
            "",
            f"Best on the grid: {best[0]} k1={best[1]} b={best[2]}: {best[3]:.4f}. "
            f"With the defaults but the title weighted 2 (`TEXT(boost=2.0)`): {title_weighted[name]:.4f}.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", type=Path, help="BEIR-layout folders (default: every judged one)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "relevance.md")
    args = parser.parse_args()
    register_analyzer("english-porter", english_porter)
    paths = args.datasets or judged_datasets()
    results = {path.name: measure(path) for path in paths}
    title_weighted = {path.name: measure_title_weight(path) for path in paths}
    args.out.write_text(report(results, title_weighted) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
