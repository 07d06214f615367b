"""tantivy-py (Rust tantivy): two text fields with an English stop-word + stemming analyzer."""

from __future__ import annotations

from collections.abc import Sequence

import tantivy

from bench_data import Doc
from engines import Engine, Hits

FIELDS = ["title", "text"]
TOKENIZER = "en_stop_stem"
WRITER_HEAP = 128_000_000


def register_analyzer(index: tantivy.Index) -> None:
    """tantivy's ``en_stem`` chain with its English stop-word filter added before stemming.

    ``en_stem`` is simple tokenizer | remove_long(40) | lowercase | stemmer(english); the
    analyzer is not stored in the index, so it is registered on every ``Index`` object.
    """
    analyzer = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )
    index.register_tokenizer(TOKENIZER, analyzer)


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for field in FIELDS:
        builder.add_text_field(field, stored=False, tokenizer_name=TOKENIZER)
    return builder.build()


class Tantivy(Engine):
    label = "tantivy"
    package = "tantivy"
    threaded = True
    notes = {
        "fields": "two fields, title and text (query parser over both); per-field scores added",
        "analysis": "en_stem (simple tokenizer, remove_long 40, lowercase, Snowball English "
                    "stemmer = Porter2, not Porter) plus tantivy's English stop filter "
                    "(Lucene's 33 words)",
        "bm25": "tantivy's BM25, fixed k1=1.2, b=0.75 (not settable)",
        "stored": "id only; positions indexed (default)",
        "threads": "N indexing threads (writer num_threads=N, 128 MB heap shared by them); "
                   "merges may run on tantivy's merge threads and are waited for inside the "
                   "timed build",
        "queries": "a query made only of stop words is answered with no hits (tantivy's "
                   "parser rejects some of them with 'Only excluding terms given')",
    }

    def build(self, docs: Sequence[Doc]) -> None:
        self.fresh_directory()
        index = tantivy.Index(schema(), path=str(self.path))
        register_analyzer(index)
        writer = index.writer(WRITER_HEAP, num_threads=self.threads)
        for doc in docs:
            writer.add_document(tantivy.Document(id=doc.id, title=doc.title, text=doc.text))
        writer.commit()
        writer.wait_merging_threads()

    def open(self) -> None:
        self.index = tantivy.Index.open(str(self.path))
        register_analyzer(self.index)
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, words: Sequence[str], k: int) -> Hits:
        try:
            query = self.index.parse_query(" ".join(words), FIELDS)
        except ValueError as exc:
            if "Only excluding terms" in str(exc):  # every word was a stop word
                return []
            raise
        hits = self.searcher.search(query, k).hits
        return [(str(self.searcher.doc(address).get_first("id")), score) for score, address in hits]
