"""Reading BEIR-layout datasets for the peer benchmark (``benchmarks/run.py``).

A dataset directory holds ``corpus.jsonl`` (``id``, ``title``, ``text``) and, unless it
is corpus-only, ``queries.jsonl`` (``id``, ``text``) and ``qrels.tsv`` (header
``query-id corpus-id score``). Everything here streams the corpus, so the parent
process never holds a whole corpus in memory.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

WORD = re.compile(r"\w+")


class Doc(NamedTuple):
    """One corpus document, as every engine receives it."""

    id: str
    title: str
    text: str


class Query(NamedTuple):
    """One query: its id, the text as given and the plain words every engine is given."""

    id: str
    text: str
    words: tuple[str, ...]


class Qrel(NamedTuple):
    query_id: str
    doc_id: str
    relevance: int


@dataclass(frozen=True)
class CorpusStats:
    documents: int
    input_bytes: int  # UTF-8 bytes of title + text, summed over the corpus


def query_words(text: str) -> tuple[str, ...]:
    """The query's plain words, lowercased: no operator, quote or bracket survives.

    Lowercasing keeps words such as ``AND``/``OR``/``NOT`` from reading as operators in
    the engines whose query languages have them; every engine lowercases anyway.

    >>> query_words('Does "IL-6" (interleukin) AND/OR p53 -matter?')
    ('does', 'il', '6', 'interleukin', 'and', 'or', 'p53', 'matter')
    """
    return tuple(WORD.findall(text.lower()))


def iter_docs(path: Path) -> Iterator[Doc]:
    """Stream ``corpus.jsonl`` one document at a time (missing title or text: empty)."""
    with (path / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                yield Doc(str(row["id"]), row.get("title") or "", row.get("text") or "")


def corpus_stats(path: Path) -> CorpusStats:
    """Count documents and input bytes in one streaming pass."""
    documents = size = 0
    for doc in iter_docs(path):
        documents += 1
        size += len(doc.title.encode()) + len(doc.text.encode())
    return CorpusStats(documents, size)


def has_queries(path: Path) -> bool:
    return (path / "queries.jsonl").is_file()


def has_qrels(path: Path) -> bool:
    return (path / "qrels.tsv").is_file()


def load_queries(path: Path, limit: int | None = None) -> list[Query]:
    """The first ``limit`` queries of ``queries.jsonl`` (all of them if ``limit`` is None)."""
    if not has_queries(path):
        return []
    queries: list[Query] = []
    with (path / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(queries) >= limit:
                break
            if line.strip():
                row = json.loads(line)
                queries.append(Query(str(row["id"]), row["text"], query_words(row["text"])))
    return queries


def load_qrels(path: Path) -> list[Qrel]:
    """Read ``qrels.tsv`` with its ``query-id corpus-id score`` header."""
    if not has_qrels(path):
        return []
    with (path / "qrels.tsv").open(encoding="utf-8", newline="") as handle:
        return [
            Qrel(row["query-id"].strip(), row["corpus-id"].strip(), int(row["score"]))
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def directory_size(path: Path) -> int:
    """Bytes in every file under ``path`` (or of ``path`` itself if it is a file)."""
    if path.is_file():
        return path.stat().st_size
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())
