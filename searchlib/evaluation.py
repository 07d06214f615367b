"""Evaluation: how good are the rankings? Measured on a BEIR-layout test collection.

A dataset directory holds:

- ``corpus.jsonl`` — one JSON object a line with ``_id`` (or ``id``), ``title`` and ``text``;
- ``queries.jsonl`` — one JSON object a line with ``_id`` (or ``id``) and ``text``;
- ``qrels.tsv`` — relevance judgments: ``query-id<TAB>corpus-id<TAB>score`` after a header.

:func:`load_dataset` reads and checks all three, naming the file and line of anything
malformed and of judgments that point at unknown queries or documents.
:func:`evaluate` runs every judged query through a :class:`~searchlib.searcher.Searcher`
(its text read as plain words: a test collection's questions are not query syntax)
and scores the rankings with ``ir-measures`` (the optional ``eval`` extra:
``pip install searchlib[eval]``): nDCG@10, Recall@100, MAP@100 and MRR@10.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from searchlib.errors import SearchlibError
from searchlib.index import Index
from searchlib.parser import escape
from searchlib.schema import ID, TEXT, Schema
from searchlib.searcher import Searcher

#: The measures reported, by their ir-measures names.
MEASURES = ("nDCG@10", "R@100", "AP@100", "RR@10")
#: How deep each query's ranking goes (the deepest cut-off of MEASURES).
RUN_DEPTH = 100


class DatasetError(SearchlibError):
    """A test collection is missing a file or has a malformed line."""


@dataclass
class Dataset:
    """A loaded test collection."""

    path: Path
    corpus: list[dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def judged_queries(self) -> dict[str, str]:
        """The queries that have at least one judgment, in file order."""
        return {qid: text for qid, text in self.queries.items() if qid in self.qrels}


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DatasetError(f"{path}: missing (a BEIR dataset has corpus.jsonl, queries.jsonl, qrels.tsv)")
    return path


def _json_lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, object) for every non-blank line; a malformed line is a DatasetError."""
    with open(_require(path), encoding="utf-8", errors="strict", newline="") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                location = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    raise DatasetError(f"{location}: not valid JSON ({exc})") from None
                if not isinstance(record, dict):
                    raise DatasetError(f"{location}: expected a JSON object")
                yield location, record
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def _record_id(location: str, record: dict[str, Any]) -> str:
    value = record.get("_id", record.get("id"))
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == "":
        raise DatasetError(f"{location}: no \"_id\" (or \"id\") string")
    return str(value)


def _text(location: str, record: dict[str, Any], key: str) -> str:
    value = record.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DatasetError(f"{location}: \"{key}\" is {type(value).__name__}, expected a string")
    return value


def load_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Read and check a BEIR-layout dataset directory."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory (expected corpus.jsonl, queries.jsonl, qrels.tsv in it)")
    corpus: list[dict[str, str]] = []
    seen: set[str] = set()
    for location, record in _json_lines(root / "corpus.jsonl"):
        doc_id = _record_id(location, record)
        if doc_id in seen:
            raise DatasetError(f"{location}: document id {doc_id!r} appears twice")
        seen.add(doc_id)
        corpus.append({"id": doc_id, "title": _text(location, record, "title"), "text": _text(location, record, "text")})
    queries: dict[str, str] = {}
    for location, record in _json_lines(root / "queries.jsonl"):
        queries[_record_id(location, record)] = _text(location, record, "text")
    return Dataset(root, corpus, queries, _read_qrels(root / "qrels.tsv", queries, seen))


def _read_qrels(path: Path, queries: dict[str, str], documents: set[str]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(_require(path), encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("\t")
            if not line.strip() or (number == 1 and fields[0] == "query-id"):
                continue
            location = f"{path}:{number}"
            if len(fields) != 3:
                raise DatasetError(f"{location}: expected 3 tab-separated columns, found {len(fields)}")
            query_id, doc_id, score = (f.strip() for f in fields)
            try:
                relevance = int(score)
            except ValueError:
                raise DatasetError(f"{location}: score {score!r} is not a whole number") from None
            if query_id not in queries:
                raise DatasetError(f"{location}: query {query_id!r} is not in queries.jsonl")
            if doc_id not in documents:
                raise DatasetError(f"{location}: document {doc_id!r} is not in corpus.jsonl")
            qrels.setdefault(query_id, {})[doc_id] = relevance
    return qrels


def dataset_schema(analyzer: str = "english") -> Schema:
    """The schema a dataset's documents are indexed with."""
    return Schema(id=ID(), title=TEXT(analyzer), text=TEXT(analyzer))


def build_index(dataset: Dataset, path: str | os.PathLike[str], analyzer: str = "english") -> Index:
    """Index a dataset's corpus into a new index at ``path``."""
    index = Index.create(path, dataset_schema(analyzer))
    with index.writer() as writer:
        for document in dataset.corpus:
            writer.add_document(document)
    return index.reopen()


Run = dict[str, list[tuple[str, float]]]


def run_queries(
    searcher: Searcher,
    queries: dict[str, str],
    *,
    depth: int = RUN_DEPTH,
    progress: Callable[[int], None] | None = None,
) -> Run:
    """Rank the top ``depth`` documents for every query: {query id: [(doc id, score)]}."""
    run: Run = {}
    for query_id, text in queries.items():
        results = searcher.search(escape(text), limit=depth)
        run[query_id] = [(hit.id, hit.score) for hit in results]
        if progress is not None:
            progress(1)
    return run


def score_run(run: Run, qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean of each measure over every judged query (a query with no hits scores 0)."""
    try:
        import ir_measures
    except ImportError:
        raise SearchlibError(
            "evaluation needs the ir-measures package: pip install 'searchlib[eval]'"
        ) from None
    measures = {ir_measures.parse_measure(name): name for name in MEASURES}
    flat_run = {query_id: {doc_id: score for doc_id, score in hits} for query_id, hits in run.items()}
    sums = dict.fromkeys(MEASURES, 0.0)
    for result in ir_measures.iter_calc(list(measures), qrels, flat_run):
        sums[measures[result.measure]] += result.value
    # ir-measures skips queries without hits; they count here, as zeros.
    return {name: total / len(qrels) if qrels else 0.0 for name, total in sums.items()}


def write_trec_run(run: Run, handle: TextIO, tag: str = "searchlib") -> None:
    """Write a run in TREC format: ``qid Q0 docid rank score tag``."""
    for query_id, hits in run.items():
        for rank, (doc_id, score) in enumerate(hits, start=1):
            handle.write(f"{query_id} Q0 {doc_id} {rank} {score:.6f} {tag}\n")
