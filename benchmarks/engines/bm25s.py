"""bm25s: sparse-matrix BM25 in numpy, with PyStemmer for stemming."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from pathlib import Path

import bm25s
import Stemmer

from bench_data import Doc
from engines import B, K1, Engine, Hits

STOPWORDS = "en"


class Bm25s(Engine):
    label = "bm25s"
    package = "bm25s"
    notes = {
        "fields": "one text: title + ' ' + text (bm25s has no fields)",
        "analysis": "bm25s.tokenize: lowercase, regex words of 2+ characters, bm25s's English "
                    "stop list (33 words), PyStemmer 'porter' (the original Porter algorithm)",
        "bm25": "method='lucene', k1=1.2, b=0.75",
        "stored": "id only (saved as the corpus beside the index); no positions",
        "threads": "one (n_threads=0; numpy backend)",
        "timing": "the build includes tokenizing the whole corpus in memory and saving the "
                  "index; documents without any matching word (score 0) are dropped from hits",
    }

    def __init__(self, path: Path, threads: int = 1) -> None:
        super().__init__(path, threads)
        self.stemmer = Stemmer.Stemmer("porter")

    def build(self, docs: Sequence[Doc]) -> None:
        self.fresh_directory()
        tokens = bm25s.tokenize(
            [f"{doc.title} {doc.text}" for doc in docs],
            stopwords=STOPWORDS, stemmer=self.stemmer, show_progress=False,
        )
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.index(tokens, show_progress=False)
        retriever.save(str(self.path), corpus=[{"id": doc.id} for doc in docs], show_progress=False)

    def open(self) -> None:
        self.retriever = bm25s.BM25.load(str(self.path), load_corpus=True, mmap=False)

    def search(self, words: Sequence[str], k: int) -> Hits:
        tokens = bm25s.tokenize(
            [" ".join(words)], stopwords=STOPWORDS, stemmer=self.stemmer,
            return_ids=False, show_progress=False,
        )
        docs, scores = self.retriever.retrieve(
            tokens, k=min(k, len(self.retriever.corpus)), show_progress=False, n_threads=0
        )  # with a loaded corpus, the hits are its rows
        return [(doc["id"], float(score)) for doc, score in zip(docs[0], scores[0], strict=True) if score > 0]

    @classmethod
    def version(cls) -> str:
        return f"{importlib.metadata.version('bm25s')} (PyStemmer {importlib.metadata.version('PyStemmer')})"
