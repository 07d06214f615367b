"""Whoosh (pure Python): StemmingAnalyzer fields ranked by BM25F."""

from __future__ import annotations

from collections.abc import Sequence

from whoosh import index as whoosh_index
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.scoring import BM25F

from bench_data import Doc
from engines import B, K1, Engine, Hits

FIELDS = ["title", "text"]


class Whoosh(Engine):
    label = "whoosh"
    package = "whoosh"
    notes = {
        "fields": "two fields, title and text (MultifieldParser, OrGroup); per-field scores added",
        "analysis": "StemmingAnalyzer: regex words, lowercase, Whoosh's English stop list "
                    "(34 words), drops 1-letter tokens, Porter stemmer",
        "bm25": "BM25F(B=0.75, K1=1.2)",
        "stored": "id only; positions indexed (TEXT default)",
        "threads": "one (writer procs=1, limitmb=128)",
    }

    def build(self, docs: Sequence[Doc]) -> None:
        self.fresh_directory()
        analyzer = StemmingAnalyzer()
        schema = Schema(
            id=ID(stored=True),
            title=TEXT(analyzer=analyzer),
            text=TEXT(analyzer=analyzer),
        )
        writer = whoosh_index.create_in(str(self.path), schema).writer(procs=1, limitmb=128)
        for doc in docs:
            writer.add_document(id=doc.id, title=doc.title, text=doc.text)
        writer.commit()

    def open(self) -> None:
        index = whoosh_index.open_dir(str(self.path))
        self.searcher = index.searcher(weighting=BM25F(B=B, K1=K1))
        self.parser = MultifieldParser(FIELDS, index.schema, group=OrGroup)

    def search(self, words: Sequence[str], k: int) -> Hits:
        results = self.searcher.search(self.parser.parse(" ".join(words)), limit=k)
        return [(hit["id"], hit.score) for hit in results]

    def close(self) -> None:
        self.searcher.close()
