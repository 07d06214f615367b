"""A user's script built from the README's examples, annotated as a user of a typed
library would annotate it: ``mypy --strict`` must accept it with searchlib installed
(``tests/typecheck/test_mypy.py``), and it runs (``python -m tests.typecheck.readme_usage``)."""

from __future__ import annotations

import json
import tempfile
from typing import Any

import threading

from searchlib import (
    ID, KEYWORD, NUMERIC, TEXT, FacetResult, Hit, Index, QueryError, QueuedWriter, RangeFacet, Results, Schema,
    Searcher, SearcherManager,
)
from searchlib.analysis import ASCIIFoldingFilter, LowercaseFilter, UnicodeWordTokenizer, register_analyzer
from searchlib.highlight import format_spans
from searchlib.parser import QueryParser, escape
from searchlib.query import Phrase, Query, Range, Term
from searchlib.scoring import BM25Settings


def build(path: str) -> Index:
    schema = Schema(path=ID(), title=TEXT(), body=TEXT())
    index = Index.create(path, schema)
    with index.writer() as writer:  # commits when the block ends, rolls back on an error
        writer.add_document(path="a.txt", title="Ceasefire", body="Envoys held direct talks on Monday.")
        writer.add_document(path="b.txt", title="Markets", body="Shares fell as talking points shifted.")
        writer.update_document(path="b.txt", title="Markets", body="Shares rose on Tuesday.")
    return index


def show(hit: Hit) -> str:
    spans: list[dict[str, Any]] = format_spans(hit.fragments())
    marked: str = hit.snippet(format="html", before='<em class="hl">', after="</em>")
    return f"{hit.rank} {round(hit.score, 3)} {hit['path']} {hit.snippet()} {marked} {len(spans)}"


def search(index: Index) -> list[str]:
    lines: list[str] = []
    with Searcher(index) as searcher:  # sees the newest commit
        results: Results = searcher.search("direct talking", limit=10)
        lines.append(str(results.total))
        lines.extend(show(hit) for hit in results)
        page: dict[str, Any] = results.to_dict(exclude=["body"], max_field_chars=1000)
        lines.append(json.dumps(page))
        tree: Query = Term("body", "talk") & ~Term("body", "war")
        lines.append(str(searcher.search(tree).total))
        try:
            searcher.search("direct AND (talks", strict=True)
        except QueryError as error:
            lines.append(error.caret())
    notes: list[str] = []
    parsed: Query = QueryParser(index.schema, ["title", "body"], default_operator="AND").parse(
        escape("what -dash is (it"), strict=False, warnings=notes)
    lines.append(repr(parsed))
    return lines


def composed(path: str) -> list[str]:
    schema = Schema(id=ID(), year=NUMERIC("int"), body=TEXT())
    index = Index.create(path, schema, scoring=BM25Settings("bm25+", k1=1.5, b=0.7))
    with index.writer() as writer:
        writer.add_document(id="a", year=2024, body="Envoys held direct talks on Monday.")
        writer.add_document(id="b", year=2025, body="Direct flights resumed; talks stalled.")
    with Searcher(index) as searcher:
        query = Phrase("body", ("direct", "talk")) | Term("body", "flight")
        results = searcher.search(query, sort="-year", filter=Range("year", 2020, None))
        ids: list[str] = [hit.id for hit in results]
        corrected: str | None = searcher.did_you_mean("direkt talks")
        similar = [h.id for h in searcher.more_like_this("a")]
        return [str(ids), results[0].explain().format(), str(corrected), str(similar)]


def analyzers() -> None:
    name = TEXT("edge_ngram", analyzer_params={"max_size": 10}, query_analyzer="standard")
    register_analyzer("folded", lambda: UnicodeWordTokenizer() | LowercaseFilter() | ASCIIFoldingFilter())
    body = TEXT("folded")  # café matches cafe; register it again before opening the index
    Schema(name=name, body=body)


def embedded(path: str) -> int:
    """The README's embedding example: a shared searcher and a queued writer."""
    index = Index.create(path, Schema(path=ID(), body=TEXT()))
    manager = SearcherManager(index)
    writer = QueuedWriter(index, commit_every=100, commit_interval=0.5, on_commit=lambda _: manager.maybe_refresh())

    def upload(number: int) -> None:
        writer.update_document(path=f"report-{number}.txt", body=f"Report {number} on the direct talks.")

    threads = [threading.Thread(target=upload, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.commit()
    with manager.searcher() as searcher:
        found = len(searcher.search("direct talks", limit=3))
    writer.close()
    manager.close()
    return found


def faceted(path: str) -> dict[str | int | float | bool, int]:
    """The README's facets example."""
    schema = Schema(id=ID(), body=TEXT(), tags=KEYWORD(), price=NUMERIC("float"))
    index = Index.create(path, schema)
    with index.writer() as writer:
        writer.add_document(id="1", body="a guide to joins", tags=["sql", "python"], price=12.5)
        writer.add_document(id="2", body="a guide to traits", tags=["rust"], price=40.0)
    with Searcher(index) as searcher:
        results = searcher.search("guide", limit=1, facets=[
            "tags", RangeFacet("price", [("under 20", None, 20), ("20 and up", 20, None)]),
        ])
        tags: FacetResult = results.facets["tags"]
        return tags.as_dict()


def main() -> None:
    analyzers()
    print("\n".join(search(build(tempfile.mkdtemp()))))
    print("\n".join(composed(tempfile.mkdtemp())))
    print(embedded(tempfile.mkdtemp()), faceted(tempfile.mkdtemp()))


if __name__ == "__main__":
    main()
