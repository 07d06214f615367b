"""SQLite FTS5 through the standard library's sqlite3, ranked by its built-in bm25()."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from bench_data import Doc
from engines import Engine, Hits

DATABASE = "index.sqlite"
#: A contentless FTS5 table (``content=''``: the text is indexed, not kept) and a plain table
#: of ids keyed by the same rowid, so that only the id is stored, as in the other engines.
CREATE = (
    "CREATE TABLE ids (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE docs USING fts5(title, text, content='', tokenize='porter unicode61')",
)
INSERT_ID = "INSERT INTO ids (rowid, id) VALUES (?, ?)"
INSERT = "INSERT INTO docs (rowid, title, text) VALUES (?, ?, ?)"
SEARCH = (
    "SELECT ids.id, hits.score FROM (SELECT rowid, bm25(docs) AS score FROM docs WHERE docs MATCH ? "
    "ORDER BY score LIMIT ?) AS hits JOIN ids ON ids.rowid = hits.rowid ORDER BY hits.score"
)


def match_expression(words: Sequence[str]) -> str:
    """Each word as an FTS5 string (so none reads as syntax), combined with OR.

    >>> match_expression(["not", "p53"])
    '"not" OR "p53"'
    """
    return " OR ".join('"' + word.replace('"', '""') + '"' for word in words)


class Fts5(Engine):
    label = "SQLite FTS5"
    package = "sqlite3"
    notes = {
        "fields": "two columns, title and text; FTS5's bm25() sums the "
                  "term frequencies of both columns (weights 1) and normalises by the whole "
                  "row's length, i.e. it scores the row like one concatenated document",
        "analysis": "porter unicode61: Unicode words, case folding, diacritics removed, Porter "
                    "stemmer; FTS5 has no stop-word filter, so stop words are indexed and queried",
        "bm25": "FTS5's bm25(), fixed k1=1.2, b=0.75 (not settable)",
        "stored": "id only: a contentless FTS5 table (content='') and a table of ids by rowid; "
                  "positions indexed (detail=full)",
        "threads": "one (one connection, one transaction)",
    }

    @property
    def database(self) -> str:
        return str(self.path / DATABASE)

    def build(self, docs: Sequence[Doc]) -> None:
        self.fresh_directory()
        connection = sqlite3.connect(self.database)
        try:
            with connection:
                for statement in CREATE:
                    connection.execute(statement)
                connection.executemany(INSERT_ID, ((row, doc.id) for row, doc in enumerate(docs, 1)))
                connection.executemany(INSERT, ((row, doc.title, doc.text) for row, doc in enumerate(docs, 1)))
        finally:
            connection.close()

    def open(self) -> None:
        self.connection = sqlite3.connect(self.database)

    def search(self, words: Sequence[str], k: int) -> Hits:
        if not words:
            return []
        rows = self.connection.execute(SEARCH, (match_expression(words), k))
        return [(doc_id, -score) for doc_id, score in rows]  # bm25(): lower is better

    def close(self) -> None:
        self.connection.close()

    @classmethod
    def version(cls) -> str:
        return f"SQLite {sqlite3.sqlite_version}"
