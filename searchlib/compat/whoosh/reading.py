"""Whoosh's ``IndexReader``, the part applications read: counts, terms, stored fields.

Document numbers count segment after segment in the snapshot, as the searcher's do;
deleted documents keep their numbers until a merge.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from searchlib.compat.whoosh import Refusing
from searchlib.searcher import Searcher as SearchlibSearcher


class ReaderClosed(Exception):
    """Whoosh's error for a closed reader; kept so code catching it still imports."""


class IndexReader(Refusing):
    def __init__(self, searcher: SearchlibSearcher) -> None:
        self._searcher = searcher
        self._readers = list(searcher.readers)
        self._offsets: list[int] = []
        start = 0
        for reader in self._readers:
            self._offsets.append(start)
            start += reader.doc_count

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass

    def doc_count(self) -> int:
        return sum(reader.live_count for reader in self._readers)

    def doc_count_all(self) -> int:
        return sum(reader.doc_count for reader in self._readers)

    def has_deletions(self) -> bool:
        return self.doc_count() != self.doc_count_all()

    def _address(self, docnum: int) -> tuple[int, int]:
        for segment in range(len(self._offsets) - 1, -1, -1):
            if docnum >= self._offsets[segment]:
                if docnum - self._offsets[segment] >= self._readers[segment].doc_count:
                    break
                return segment, docnum - self._offsets[segment]
        raise IndexError(f"no document number {docnum}")

    def is_deleted(self, docnum: int) -> bool:
        segment, doc = self._address(docnum)
        return not bool(self._readers[segment].live[doc])

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        segment, doc = self._address(docnum)
        return self._readers[segment].stored_fields(doc)

    def all_doc_ids(self) -> Iterator[int]:
        for segment, reader in enumerate(self._readers):
            live = reader.live
            for doc in range(reader.doc_count):
                if live[doc]:
                    yield self._offsets[segment] + doc

    def iter_docs(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for docnum in self.all_doc_ids():
            yield docnum, self.stored_fields(docnum)

    def all_stored_fields(self) -> Iterator[dict[str, Any]]:
        for _, fields in self.iter_docs():
            yield fields

    def field_terms(self, fieldname: str) -> list[str]:
        terms: set[str] = set()
        for reader in self._readers:
            dictionary = reader.dictionary(fieldname)
            if dictionary is not None:
                terms.update(dictionary.terms())
        return sorted(terms)

    def lexicon(self, fieldname: str) -> list[bytes]:
        return [term.encode("utf-8") for term in self.field_terms(fieldname)]

    def all_terms(self) -> Iterator[tuple[str, bytes]]:
        for name in sorted({n for reader in self._readers for n in reader.fields_with_terms()}):
            for term in self.lexicon(name):
                yield name, term

    def __contains__(self, term: tuple[str, Any]) -> bool:
        return self.doc_frequency(*term) > 0

    def _text(self, text: Any) -> str:
        return text.decode("utf-8") if isinstance(text, bytes) else str(text)

    def doc_frequency(self, fieldname: str, text: Any) -> int:
        term = self._text(text)
        count = 0
        for reader in self._readers:
            postings = reader.postings(fieldname, term)
            if postings is not None:
                count += int(reader.live[postings.docs].sum())
        return count

    def frequency(self, fieldname: str, text: Any) -> int:
        term = self._text(text)
        total = 0
        for reader in self._readers:
            postings = reader.postings(fieldname, term)
            if postings is not None:
                total += int(postings.freqs[reader.live[postings.docs]].sum())
        return total

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        segment, doc = self._address(docnum)
        reader = self._readers[segment]
        if fieldname not in reader.fields_with_terms():
            return default
        return int(reader.field_lengths(fieldname)[doc])

    def field_length(self, fieldname: str) -> int:
        return sum(int(reader.field_lengths(fieldname)[reader.live].sum())
                   for reader in self._readers if fieldname in reader.fields_with_terms())

    def max_field_length(self, fieldname: str) -> int:
        return max((int(reader.field_lengths(fieldname)[reader.live].max(initial=0))
                    for reader in self._readers if fieldname in reader.fields_with_terms()), default=0)
