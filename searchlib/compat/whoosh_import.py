"""Copy a Whoosh index into a searchlib index: schema, documents, and a check of both.

Whoosh keeps its table of contents and schema as pickles, so *opening a Whoosh index
runs code the index names*: only an index from a trusted source should be imported
(:data:`TRUST_WARNING`, which the command prints first). The searchlib index written
is searchlib's own format, which holds no code.

What is mapped (:func:`map_schema`):

- ``TEXT``: its analyzer onto the nearest preset (:func:`map_analyzer`): Whoosh's
  ``StandardAnalyzer`` (words, lowercase, stop words) onto ``english`` without stems,
  ``StemmingAnalyzer`` onto ``english`` with NLTK's Porter stemmer (Whoosh stems with
  the original Porter algorithm), ``SimpleAnalyzer`` onto ``standard``,
  ``KeywordAnalyzer`` onto ``whitespace``, ``LanguageAnalyzer(lang)`` onto the
  language's preset; the field boost is kept;
- ``NGRAM``/``NGRAMWORDS`` onto ``ngram`` with the same sizes;
- ``ID``: the unique one (``unique=True``) becomes the ID field (updates and deletes go
  by it); any other becomes a ``KEYWORD``;
- ``KEYWORD``: a ``KEYWORD`` whose values are the terms Whoosh made of the text (split
  at commas or spaces, lowercased if the field said so), stored as that list;
- ``NUMERIC`` (int or float), ``DATETIME``, ``BOOLEAN``, ``STORED``: the same types.

A field that Whoosh indexed without storing has no text to copy. For a field whose
terms are its values (``ID``, ``KEYWORD``, ``NUMERIC``, ``DATETIME``, ``BOOLEAN``) the
values are read back from the inverted index (each term's postings give the documents
holding it); a ``TEXT`` field's words cannot be put back in order, so it is created
empty and named in the report (:attr:`ImportReport.unrecoverable`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from searchlib.errors import SearchlibError
from searchlib.schema import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Field, Schema

TRUST_WARNING = (
    "opening a Whoosh index unpickles its table of contents and schema, which runs code "
    "the index names: import only an index from a trusted source"
)

#: Whoosh's language codes (``whoosh.lang``) and the searchlib preset of each.
LANGUAGES = {
    "ar": "arabic", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french",
    "de": "german", "hu": "hungarian", "it": "italian", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "es": "spanish", "sv": "swedish", "tr": "turkish",
}

#: A sample query matching more documents than this is left out of the check: both hit
#: sets would be read whole, and the sample is about mappings, not frequent words.
MAX_CHECKED_HITS = 10_000

#: Field types whose terms are their values, so an unstored field can be read back.
_VALUE_KINDS = ("id", "keyword", "numeric", "datetime", "boolean")


class WhooshImportError(SearchlibError):
    """The Whoosh package is missing, or the directory holds no Whoosh index."""


@dataclass
class FieldMapping:
    """How one Whoosh field becomes a searchlib field."""

    name: str
    whoosh_type: str
    field: Field
    #: Where the mapping is only the closest there is: what differs, as a sentence.
    note: str | None = None
    #: Turns a stored Whoosh value into the value searchlib is given.
    convert: Callable[[Any], Any] = lambda value: value


@dataclass
class ImportReport:
    """What an import did: the field mappings, the documents copied, and the check."""

    fields: list[FieldMapping] = field(default_factory=list)
    documents: int = 0
    #: Indexed-but-unstored TEXT fields: their words cannot be recovered.
    unrecoverable: list[str] = field(default_factory=list)
    #: Indexed-but-unstored value fields whose values were read back from the terms.
    recovered: list[str] = field(default_factory=list)
    #: Whoosh fields left out (a name searchlib does not take, an unknown type), with why.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    queries: int = 0
    same: int = 0
    #: Sample queries left out of the check for matching too many documents.
    too_common: int = 0
    #: Sample queries whose hit sets differ: (query text, Whoosh's count, searchlib's count).
    differences: list[tuple[str, int, int]] = field(default_factory=list)

    def expected_differences(self) -> list[str]:
        """Why hit sets may differ, one sentence a mapped field that is not exact."""
        notes = [f"{m.name}: {m.note}" for m in self.fields if m.note]
        notes += [f"{name}: indexed but not stored in Whoosh, so empty here" for name in self.unrecoverable]
        return notes


def load_whoosh() -> Any:
    """The ``whoosh`` package, or an error saying how to install it."""
    try:
        import whoosh.index
    except ImportError:
        raise WhooshImportError(
            "importing a Whoosh index needs the whoosh package: pip install \"searchlib[whoosh]\""
        ) from None
    return whoosh


def open_whoosh(directory: str, indexname: str | None) -> Any:
    """Open the Whoosh index in ``directory`` (read-only); this unpickles it."""
    whoosh = load_whoosh()
    name = indexname or whoosh.index._DEF_INDEX_NAME
    if not whoosh.index.exists_in(directory, indexname=name):
        raise WhooshImportError(f"{directory} holds no Whoosh index named {name!r}")
    return whoosh.index.open_dir(directory, indexname=name, readonly=True)


def map_analyzer(analyzer: Any) -> tuple[str, dict[str, Any], str | None]:
    """The searchlib preset (name, parameters) nearest a Whoosh analyzer, and a note
    when it is not the same chain."""
    from whoosh import analysis

    items = list(getattr(analyzer, "items", [analyzer]))
    kinds = [type(item).__name__ for item in items]
    tokenizer = items[0] if items else None
    pattern = getattr(getattr(tokenizer, "expression", None), "pattern", None)
    stem = next((item for item in items if isinstance(item, analysis.StemFilter)), None)
    stop = next((item for item in items if isinstance(item, analysis.StopFilter)), None)
    lowercase = any(isinstance(item, analysis.LowercaseFilter) for item in items)
    if kinds == ["IDTokenizer"]:
        return "keyword", {}, None
    if isinstance(tokenizer, analysis.NgramTokenizer):
        note = None if lowercase else "Whoosh did not lowercase the n-grams; searchlib's ngram does"
        return "ngram", {"min_size": tokenizer.min, "max_size": tokenizer.max}, note
    if pattern == r"[^ \t\r\n]+":
        note = "lowercased in Whoosh; whitespace keeps the case" if lowercase else None
        return "whitespace", {}, note
    words = pattern == r"\w+(\.?\w+)*"
    differs = "" if words else f" (Whoosh's tokenizer was {kinds[0]}, here Unicode words)"
    if stem is not None:
        language = LANGUAGES.get(stem.lang or "en", stem.lang or "english")
        if language == "english":
            return "english", {"stemmer": "porter"}, (
                "Whoosh's Porter stemmer and stop list (single letters dropped) against NLTK's Porter "
                f"and searchlib's English stop list{differs}")
        return language, {}, f"Snowball {language} stems and stop list as searchlib has them{differs}"
    if stop is not None:
        return "english", {"stemmer": "none"}, (
            f"Whoosh's stop list (single letters dropped) against searchlib's English stop list{differs}")
    if words and lowercase and len(items) == 2:
        return "standard", {}, None
    return "standard", {}, f"no equivalent of {' | '.join(kinds)}; closest preset standard"


def map_field(name: str, whoosh_field: Any, *, is_key: bool) -> FieldMapping:
    """The searchlib field for one Whoosh field (raises ``TypeError`` for an unknown type)."""
    from whoosh import fields as wf

    type_name = type(whoosh_field).__name__
    stored = bool(getattr(whoosh_field, "stored", False))
    boost = float(getattr(getattr(whoosh_field, "format", None), "field_boost", 1.0) or 1.0)
    boost_note = None if boost == 1.0 else f"field boost {boost} kept only on TEXT fields; dropped"
    analyzer = getattr(whoosh_field, "analyzer", None)

    def terms_of(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return [token.text for token in analyzer(value)] if analyzer is not None else [value]

    if isinstance(whoosh_field, (wf.TEXT, wf.NGRAM, wf.NGRAMWORDS)):
        preset, params, note = map_analyzer(whoosh_field.analyzer)
        return FieldMapping(name, type_name, TEXT(preset, stored=stored, boost=boost, analyzer_params=params), note)
    if isinstance(whoosh_field, wf.ID):
        if is_key:
            return FieldMapping(name, type_name, ID(stored=stored), boost_note)
        return FieldMapping(name, type_name, KEYWORD(stored=stored), boost_note, terms_of)
    if isinstance(whoosh_field, wf.KEYWORD):
        return FieldMapping(name, type_name, KEYWORD(stored=stored), boost_note, terms_of)
    if isinstance(whoosh_field, wf.DATETIME):
        return FieldMapping(name, type_name, DATETIME(stored=stored), boost_note)
    if isinstance(whoosh_field, wf.NUMERIC):
        kind = "int" if whoosh_field.numtype is int and not whoosh_field.decimal_places else "float"
        return FieldMapping(name, type_name, NUMERIC(kind, stored=stored), boost_note)
    if isinstance(whoosh_field, wf.BOOLEAN):
        return FieldMapping(name, type_name, BOOLEAN(stored=stored), boost_note)
    if isinstance(whoosh_field, wf.STORED):
        return FieldMapping(name, type_name, STORED())
    raise TypeError(f"Whoosh field type {type_name} has no searchlib equivalent")


def map_schema(whoosh_schema: Any, report: ImportReport) -> Schema:
    """searchlib's schema for a Whoosh schema; fields it cannot map go to ``report.skipped``."""
    unique = [name for name, f in whoosh_schema.items() if getattr(f, "unique", False)]
    key = next((name for name in unique if type(whoosh_schema[name]).__name__ == "ID"), None)
    schema = Schema()
    for name, whoosh_field in whoosh_schema.items():
        if name.startswith("_"):
            report.skipped.append((name, "searchlib field names may not start with '_'"))
            continue
        try:
            mapping = map_field(name, whoosh_field, is_key=name == key)
        except TypeError as exc:
            report.skipped.append((name, str(exc)))
            continue
        schema.add_field(name, mapping.field)
        report.fields.append(mapping)
    return schema


def _recovered_values(reader: Any, whoosh_schema: Any, mapping: FieldMapping) -> dict[int, list[Any]]:
    """An unstored value field's values per Whoosh document number, read from its terms."""
    whoosh_field = whoosh_schema[mapping.name]
    values: dict[int, list[Any]] = {}
    for term in whoosh_field.sortable_terms(reader, mapping.name):
        value = whoosh_field.from_bytes(term)
        for docnum in reader.postings(mapping.name, term).all_ids():
            values.setdefault(docnum, []).append(value)
    return values


def _documents(reader: Any, whoosh_schema: Any, report: ImportReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each live Whoosh document as searchlib fields, with its Whoosh document number."""
    mappings = {m.name: m for m in report.fields}
    recovered: dict[str, dict[int, list[Any]]] = {}
    for mapping in report.fields:
        if mapping.field.stored or not getattr(whoosh_schema[mapping.name], "indexed", True):
            continue
        if mapping.field.kind in _VALUE_KINDS:
            recovered[mapping.name] = _recovered_values(reader, whoosh_schema, mapping)
            report.recovered.append(mapping.name)
        elif mapping.field.kind == "text":
            report.unrecoverable.append(mapping.name)
    unmapped: set[str] = set()
    for docnum, stored in reader.iter_docs():
        document: dict[str, Any] = {}
        for name, value in stored.items():
            known = mappings.get(name)
            if known is None:
                if name not in unmapped:
                    unmapped.add(name)
                    if not any(skipped == name for skipped, _ in report.skipped):
                        report.skipped.append((name, "a dynamic (glob) field's values; not copied"))
            elif value is not None:
                document[name] = known.convert(value)
        for name, by_doc in recovered.items():
            found = by_doc.get(docnum)
            if found:
                multi = mappings[name].field.kind == "keyword"
                document[name] = sorted(found) if multi else found[0]
        yield docnum, document


def import_index(
    whoosh_dir: str, index_dir: str, *, indexname: str | None = None,
    progress: Callable[[int, int], None] | None = None, sample: int = 50, seed: int = 0,
) -> ImportReport:
    """Copy the Whoosh index in ``whoosh_dir`` into a new searchlib index at
    ``index_dir``, then run ``sample`` queries made of its own terms against both and
    count those that find the same documents. ``progress(done, total)`` is called as
    documents are copied."""
    from searchlib.index import Index

    report = ImportReport()
    whoosh_index = open_whoosh(whoosh_dir, indexname)
    whoosh_schema = whoosh_index.schema
    schema = map_schema(whoosh_schema, report)
    if Index.exists(index_dir):
        raise WhooshImportError(f"{index_dir} already holds a searchlib index; import into a new directory")
    index = Index.create(index_dir, schema)
    order: list[int] = []
    with whoosh_index.reader() as reader:
        total = reader.doc_count()
        with index.writer() as writer:
            for docnum, document in _documents(reader, whoosh_schema, report):
                writer.add_document(document)
                order.append(docnum)
                report.documents += 1
                if progress is not None:
                    progress(report.documents, total)
    verify(whoosh_index, index_dir, report, order, sample=sample, seed=seed)
    return report


def sample_queries(reader: Any, report: ImportReport, sample: int, seed: int) -> list[tuple[str, str]]:
    """Queries made of the index's own terms, as (field, word): the most frequent terms
    of each searchable text or keyword field and a seeded random choice of the rest."""
    rng = random.Random(seed)
    fields = [m.name for m in report.fields
              if m.field.kind in ("text", "keyword", "id") and m.name not in report.unrecoverable]
    chosen: list[tuple[str, str]] = []
    per_field = max(1, sample // max(1, len(fields)))
    for name in fields:
        terms = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in reader.lexicon(name)]
        terms = [t for t in terms if t.isalnum()]
        frequent = [t.decode("utf-8") if isinstance(t, bytes) else str(t)
                    for _, t in reader.most_frequent_terms(name, number=per_field // 2 or 1)]
        rest = rng.sample(terms, min(len(terms), per_field - len(frequent)))
        chosen += [(name, term) for term in dict.fromkeys([*frequent, *rest]) if term.isalnum()]
    return chosen[:sample]


def verify(whoosh_index: Any, index_dir: str, report: ImportReport, order: list[int], *, sample: int, seed: int) -> None:
    """Run sample queries against both indexes; count those with the same hit sets.

    A document is known on both sides by its unique key when the index has a stored
    one, else by its place in the import (the Whoosh document number it came from):
    one writer keeps the order documents were added in."""
    from whoosh.qparser import QueryParser as WhooshParser

    from searchlib.parser import escape
    from searchlib.searcher import Searcher

    ordinal = {docnum: place for place, docnum in enumerate(order)}
    key = next((m.name for m in report.fields if m.field.kind == "id" and m.field.stored), None)
    with whoosh_index.searcher() as whoosh_searcher, Searcher(index_dir) as searcher:
        offsets = []
        start = 0
        for reader in searcher.readers:
            offsets.append(start)
            start += reader.doc_count
        limit = min(max(1, searcher.doc_count), MAX_CHECKED_HITS)
        for name, word in sample_queries(whoosh_searcher.reader(), report, sample, seed):
            whoosh_query = WhooshParser(name, whoosh_index.schema).parse(word)
            whoosh_hits = whoosh_searcher.search(whoosh_query, limit=limit)
            hits = searcher.search(f"{name}:{escape(word)}", limit=limit)
            if len(whoosh_hits) > limit or hits.total > limit:
                report.too_common += 1  # a set too large to compare cheaply
                continue
            if key is not None:  # known by the unique key on both sides
                expected: set[Any] = {hit.get(key) for hit in whoosh_hits}
                found: set[Any] = {hit.id for hit in hits}
            else:
                expected = {ordinal.get(hit.docnum, -1) for hit in whoosh_hits}
                found = {offsets[hit.segment] + hit.doc for hit in hits}
            report.queries += 1
            if expected == found:
                report.same += 1
            else:
                report.differences.append((f"{name}:{word}", len(expected), len(found)))


def describe(report: ImportReport) -> list[str]:
    """The report as lines for a person to read."""
    lines = [f"copied {report.documents} documents"]
    for mapping in report.fields:
        line = f"  {mapping.name}: Whoosh {mapping.whoosh_type} -> {mapping.field.kind}"
        if mapping.field.is_text:
            line += f" ({mapping.field.analyzer} {mapping.field.analyzer_params or ''})".replace(" )", ")")
        if mapping.field.kind == "id":
            line += " (the unique key)"
        lines.append(line + ("" if mapping.field.stored else ", not stored"))
    for name, why in report.skipped:
        lines.append(f"  {name}: left out: {why}")
    for name in report.recovered:
        lines.append(f"  {name}: indexed but not stored in Whoosh; its values were read back from its terms")
    for name in report.unrecoverable:
        lines.append(f"  {name}: indexed but not stored in Whoosh; its text cannot be recovered, so it is empty")
    lines.append(f"verified: {report.same} of {report.queries} sample queries return the same hits in both"
                 + (f" ({report.too_common} left out, matching over {MAX_CHECKED_HITS:,} documents)"
                    if report.too_common else ""))
    noted = {m.name for m in report.fields if m.note}
    for text, whoosh_count, searchlib_count in report.differences[:20]:
        why = " (expected: the analyzer differs, below)" if text.split(":", 1)[0] in noted else ""
        lines.append(f"  differs: {text}: Whoosh {whoosh_count} hits, searchlib {searchlib_count}{why}")
    expected = report.expected_differences()
    if expected:
        lines.append("expected differences:")
        lines += [f"  {note}" for note in expected]
    return lines
