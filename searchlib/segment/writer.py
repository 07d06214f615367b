"""Writing a segment: :class:`SegmentWriter` checks documents against the schema in
Python and hands them, a batch at a time, to the compiled core's inverter
(``searchlib._core.SegmentBuilder``), which analyzes their text, builds postings in
memory and writes the segment's files (their layout: ``core/FORMAT.md``).

Tokens never become Python objects on this path: a document crosses into the core as
its stored JSON line, its id, the text of each indexed field and its column values. A
field whose analyzer has a part written in Python (a custom filter, an NLTK stemmer) is
analyzed here and its terms cross instead. The core releases the GIL while it works, so
writers in several threads index on several cores.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from searchlib import _core, codec
from searchlib.analysis import Analyzer
from searchlib.columns import column_value
from searchlib.errors import SchemaError
from searchlib.failpoints import failpoint
from searchlib.schema import Field, Schema
from searchlib.segment.meta import SegmentMeta
from searchlib.segment.termdict import keeps_compiled_lexicon, lexicon_key_analyzer
from searchlib.storage import TEMP_SUFFIX, Directory

if TYPE_CHECKING:  # only several-thread writers make executors; queries never import them
    from concurrent.futures import Executor, Future

#: Tokens one field of a segment may hold: positions and frequencies are 32 bits (a
#: writer flushes long before, at ``ram_buffer_mb``; see IndexWriter).
MAX_FIELD_TOKENS = (1 << 32) - 1
#: Documents checked in Python before they cross into the core together.
BATCH_DOCS = 256
#: Batches a writer with its own thread may have queued for the core at once.
MAX_IN_FLIGHT = 2
#: What a distinct word kept for a Python-analyzed field's lexicon costs (a str in a set).
RAW_WORD_BYTES = 100


@dataclass
class CheckedDocument:
    """A document that passed :meth:`SegmentWriter.check`, ready to buffer."""

    stored_line: bytes
    indexed: list[tuple[str, str, bool]]  # (field, value, exact term?)
    columns: dict[str, int | float]
    id_bytes: bytes


def column_kind(definition: Field) -> str:
    """The core's kind of a column field's values: int64, float64 or bool."""
    if definition.kind == "numeric":
        return "float" if definition.numeric_type == "float" else "int"
    return "int" if definition.kind == "datetime" else "bool"


def segment_paths(directory: Directory, name: str, suffix: str = "") -> tuple[str, str, str, str, str]:
    """The paths of a segment's five files (``suffix`` appended, for temporary copies)."""
    return tuple(  # type: ignore[return-value]
        directory.file_path(f"{name}.{extension}") + suffix for extension in codec.SEGMENT_COMPONENTS
    )


def publish_segment(directory: Directory, name: str, doc_count: int, sizes: list[int]) -> SegmentMeta:
    """Rename a segment's files, written and fsynced under temporary names by the core,
    into place, and fsync the directory: the same steps as :meth:`Directory.write_file`,
    with its failpoints, so a crash leaves either no file or a whole one."""
    temps = segment_paths(directory, name, TEMP_SUFFIX)
    finals = segment_paths(directory, name)
    failpoint("segment.written")
    failpoint("write.before_rename")
    for temp, final in zip(temps, finals):
        os.replace(temp, final)
    failpoint("write.before_sync")
    directory.sync()
    files = {f"{name}.{extension}": size for extension, size in zip(codec.SEGMENT_COMPONENTS, sizes)}
    return SegmentMeta(name=name, doc_count=doc_count, files=files)


def discard_temporary(directory: Directory, name: str) -> None:
    """Remove what a failed write of segment ``name`` left under temporary names."""
    for temp in segment_paths(directory, name, TEMP_SUFFIX):
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass


class SegmentWriter:
    """Collects documents for one new segment and writes it.

    Parameters
    ----------
    schema:
        Decides which fields are indexed, stored, analyzed.
    analyzers:
        One analyzer per indexed field; fields whose analyzer the core builds give it
        their spec, and the core keeps its own term cache per writer.
    executor:
        A thread of its own (an executor of one worker) to hand batches to the core in:
        the caller goes on checking documents while the core inverts, and writers with
        executors of their own index on several cores (see ``IndexWriter(threads=N)``).
        Without one, batches are inverted in the calling thread.
    """

    def __init__(
        self, schema: Schema, analyzers: Mapping[str, Analyzer], executor: Executor | None = None
    ) -> None:
        self.schema = schema
        self.analyzers = analyzers
        self.doc_count = 0
        self._builder = _core.SegmentBuilder([], [])
        # The ID field's value is kept once, in the segment's ids: stored lines leave it
        # out and readers put it back (an ID field the schema gains later stays in them).
        id_field = schema.id_field
        self._stored_id = id_field if id_field is not None and schema[id_field].stored else None
        if self._stored_id is not None:
            self._builder.set_stored_id(self._stored_id)
        self._field_numbers: dict[str, int] = {}
        self._python_analyzed: dict[str, Analyzer] = {}  # fields whose terms Python makes
        self._raw_words: dict[str, set[str]] = {}  # their words, for a lexicon (costly stemmers)
        self._column_numbers: dict[str, int] = {}
        self._batch: list[tuple[bytes, bytes, list[Any], list[Any], list[Any]]] = []
        self._batch_bytes = 0
        self._executor = executor
        self._in_flight: deque[tuple[Future[Any], int]] = deque()  # batches handed over, with their bytes

    def check(self, document: Mapping[str, Any]) -> CheckedDocument:
        """Check a whole document against the schema without buffering anything."""
        stored: dict[str, Any] = {}
        indexed: list[tuple[str, str, bool]] = []
        columns: dict[str, int | float] = {}
        for name, value in document.items():
            definition = self.schema[name]
            if value is None:
                continue
            if definition.is_column:
                columns[name], value = column_value(definition.kind, definition.numeric_type, value, name)
            if definition.is_indexed:
                if definition.kind == "keyword" and isinstance(value, (list, tuple)):
                    value = list(value)  # stored as a list; each distinct value a term
                    indexed.extend((name, term, True) for term in _keyword_values(name, value))
                else:
                    if not isinstance(value, str):
                        raise SchemaError(
                            f"field {name!r} is {definition.kind} and takes a string"
                            + (" or a list of strings" if definition.kind == "keyword" else "")
                            + f", got {type(value).__name__}"
                        )
                    if definition.kind == "id" and not value:
                        raise SchemaError(f"the ID field {name!r} must not be empty")
                    indexed.append((name, value, not definition.is_text))
            if definition.stored and name != self._stored_id:
                stored[name] = value
        try:
            line = json.dumps(stored, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"a stored value cannot be saved as JSON: {exc}") from None
        encoded = line.encode("utf-8", "surrogatepass")
        if len(encoded) > codec.MAX_STORED_BLOCK_BYTES:  # a reader's bound on a stored block
            raise SchemaError(
                f"the document's stored fields take more than {codec.MAX_STORED_BLOCK_BYTES >> 20} MiB as JSON; "
                "store less of it (stored=False on its largest fields)"
            )
        id_field = self.schema.id_field
        id_value = document.get(id_field) if id_field else None
        return CheckedDocument(
            encoded, indexed, columns,
            id_value.encode("utf-8", "surrogatepass") if isinstance(id_value, str) else b"",
        )

    def add(self, document: Mapping[str, Any]) -> int:
        """Buffer one document; return its segment-local doc id.

        The whole document is checked before anything is buffered, so a rejected
        document leaves no trace in the segment.
        """
        return self.add_checked(self.check(document))

    def add_checked(self, document: CheckedDocument) -> int:
        """Buffer a document :meth:`check` accepted; return its segment-local doc id."""
        doc_id = self.doc_count
        texts: list[tuple[int, bytes]] = []
        tokens: list[tuple[int, list[str], list[int]]] = []
        for name, value, _ in document.indexed:
            number = self._field_numbers.get(name)
            if number is None:
                number = self._add_field(name)
            analyzer = self._python_analyzed.get(name)
            if analyzer is None:
                texts.append((number, value.encode("utf-8", "surrogatepass")))
            else:
                tokens.append((number, *_python_terms(analyzer, value, self._raw_words.get(name))))
        columns: list[tuple[int, int | float | bool]] = []
        for name, column in document.columns.items():
            number = self._column_numbers.get(name)
            if number is None:
                number = self._column_numbers[name] = self._builder.add_column(name, column_kind(self.schema[name]))
            columns.append((number, bool(column) if self.schema[name].kind == "boolean" else column))
        self._batch.append((document.stored_line, document.id_bytes, texts, tokens, columns))
        self._batch_bytes += len(document.stored_line) + sum(len(text) for _, text in texts) + 200
        self.doc_count += 1
        if len(self._batch) >= BATCH_DOCS:
            self.send()
        return doc_id

    def _add_field(self, name: str) -> int:
        definition = self.schema[name]
        analyzer = self.analyzers[name]
        spec, stemmer = core_chain(analyzer)
        if spec is None:
            self._python_analyzed[name] = analyzer
            if analyzer.costly_from is not None:
                self._raw_words[name] = set()
        number: int = self._builder.add_field(name, spec or "", definition.is_text, definition.is_text, stemmer)
        self._field_numbers[name] = number
        return number

    def _send_lexicons(self) -> None:
        """Hand the core the lexicons of the fields Python analyzes with a costly
        stemmer: each word after the cheap filters, with the term it became."""
        for name, words in self._raw_words.items():
            analyzer = self.analyzers[name]
            term_of_key: dict[str, str] = {}
            for word in words:
                key = analyzer.lexicon_key(word)
                if key is None or key in term_of_key:
                    continue
                term = analyzer.term(word)
                if term is not None:
                    term_of_key[key] = term
            self._builder.set_lexicon(self._field_numbers[name], list(term_of_key.items()))

    def send(self) -> None:
        """Hand the checked documents to the core (which releases the GIL meanwhile): in
        this thread, or queued to the writer's own, at most ``MAX_IN_FLIGHT`` batches
        ahead (so memory stays bounded however fast documents come)."""
        if not self._batch:
            return
        batch, size = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        if self._executor is None:
            self._builder.add_batch(batch)
            return
        while len(self._in_flight) >= MAX_IN_FLIGHT:
            self._in_flight.popleft()[0].result()
        self._in_flight.append((self._executor.submit(self._builder.add_batch, batch), size))

    def settle(self) -> None:
        """Every batch handed over, inverted (raising what the core raised)."""
        self.send()
        while self._in_flight:
            self._in_flight.popleft()[0].result()

    @property
    def token_count(self) -> int:
        """Terms buffered so far, over all fields (as of the last batch inverted)."""
        return int(self._builder.token_count)

    def docs_with_exact_term(self, field_name: str, term: str) -> list[int]:
        """Buffered doc ids whose ID or KEYWORD field ``field_name`` equals ``term``."""
        self.settle()
        return list(self._builder.docs_with_term(field_name, term))

    def write(self, directory: Directory, name: str) -> SegmentMeta:
        """Write the buffered documents as segment ``name``: the core writes and fsyncs
        each file under a temporary name, then they are renamed into place."""
        self.settle()
        self._send_lexicons()
        failpoint("write.temp_open")
        try:
            sizes = self._builder.write(segment_paths(directory, name, TEMP_SUFFIX))
            return publish_segment(directory, name, self.doc_count, sizes)
        except BaseException:
            discard_temporary(directory, name)
            raise

    def estimated_bytes(self) -> int:
        """About how much memory the buffered documents hold (what a RAM budget bounds):
        the core's count of its buffers (exact capacities plus a per-term overhead) and
        the batches not yet inverted."""
        pending = sum(size for future, size in self._in_flight if not future.done())
        words = RAW_WORD_BYTES * sum(map(len, self._raw_words.values()))  # Python-analyzed lexicons
        return int(self._builder.memory()) + self._batch_bytes + pending + words


def _keyword_values(name: str, values: list[Any]) -> list[str]:
    """The distinct values of a multi-valued KEYWORD field, in the order given: each is
    one term of the document, counted once (a repeated tag is still one tag)."""
    for value in values:
        if not isinstance(value, str):
            raise SchemaError(
                f"field {name!r} is keyword and takes a string or a list of strings; "
                f"the list holds {type(value).__name__} {value!r}"
            )
    return list(dict.fromkeys(values))


def core_chain(analyzer: Analyzer) -> tuple[str | None, str]:
    """How the core runs ``analyzer``: its chain spec (None when Python must run it) and,
    for a chain ending in the compiled stemmer, the stemmer's spec apart, with the chain
    before it, so the core keeps the field's lexicon (words before the stemmer, each
    with its term: suggestions offer words, not stems)."""
    if keeps_compiled_lexicon(analyzer):
        stemmer = analyzer.filters[-1].core_spec()
        keys = lexicon_key_analyzer(analyzer).core_spec()
        if stemmer is not None and keys is not None:
            return keys, json.dumps(stemmer)
    return analyzer.core_spec(), ""


def _python_terms(analyzer: Analyzer, value: str, raw_words: set[str] | None) -> tuple[list[str], list[int]]:
    """The terms and positions a Python analyzer makes of ``value`` (dropped tokens left
    out), for a field whose analyzer the core cannot run; its words are added to
    ``raw_words`` when the field keeps a lexicon."""
    if analyzer.is_fast:
        terms, positions = [], []
        words = analyzer.tokenizer.words(value)
        if raw_words is not None:
            raw_words.update(words)
        for position, term in enumerate(analyzer.map_words(words)):
            if term is not None:
                terms.append(term)
                positions.append(position)
        return terms, positions
    found = list(analyzer.tokens(value))
    return [token.text for token in found], [token.pos for token in found]
