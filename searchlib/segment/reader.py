"""Reading a segment: :class:`SegmentReader` opens its five files through the compiled
core (``searchlib._core.SegmentReader``, which maps them and checks every byte it reads)
and answers term, postings, positions, lengths, columns and stored-field look-ups with
numpy arrays, a batch at a time.

Doc ids are local to a segment (0 .. doc_count - 1); which ones are deleted is given by
the generation's deletes file, applied through :attr:`SegmentReader.live`.
"""

from __future__ import annotations

from searchlib import _core, codec
from searchlib.errors import CorruptIndexError
from searchlib.segment.meta import SegmentMeta
from searchlib.storage import Directory

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
    from typing import Any

    import numpy as np
    import numpy.typing as npt

    from searchlib.segment.store import StoredFields
    from searchlib.segment.termdict import TermDictionary

#: Term look-ups a reader remembers (the statistics pass and scoring share them).
TERM_MEMO_SIZE = 4096
#: Per-document arrays derived from a segment by the layers above (scoring's length
#: norms) that a reader keeps for them.
DERIVED_ARRAYS = 32

_U32 = "<u4"  # little-endian uint32, as numpy spells it


class Postings(tuple["npt.NDArray[np.uint32]", "npt.NDArray[np.uint32]"]):
    """One term's postings in one segment: parallel arrays, doc ids ascending.

    A pair: a query makes one per new term and field, and a tuple is several times
    cheaper to make than a record (a ``NamedTuple`` would load :mod:`typing`)."""

    __slots__ = ()

    def __new__(cls, docs: npt.NDArray[np.uint32], freqs: npt.NDArray[np.uint32]) -> Postings:
        return tuple.__new__(cls, (docs, freqs))

    @property
    def docs(self) -> npt.NDArray[np.uint32]:
        return self[0]

    @property
    def freqs(self) -> npt.NDArray[np.uint32]:
        return self[1]


class Lexicon:
    """A field's lexicon in one segment, read whole: its keys (words after the filters
    before the stemmer) in UTF-8 order, and the ordinal of the term each became. It
    serves suggestions, which list every word; a single word is looked up in the core
    (:meth:`SegmentReader.lexicon_term`)."""

    def __init__(self, keys: list[str], term_indexes: npt.NDArray[np.uint32]) -> None:
        self.keys = keys
        self.term_indexes = term_indexes

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int) -> bytes:
        return self.keys[index].encode("utf-8")

    def terms(self) -> list[str]:
        """Every key, in order."""
        return self.keys


def _u32(data: bytes) -> npt.NDArray[np.uint32]:
    import numpy as np
    return np.frombuffer(data, dtype=_U32)


class SegmentReader:
    """Read access to one segment as of one generation's deletions."""

    def __init__(self, directory: Directory, meta: SegmentMeta) -> None:
        self.meta = meta
        self.directory = directory
        for file_name, size in meta.files.items():
            path = directory.file_path(file_name)
            try:
                actual = directory.file_size(file_name)
            except FileNotFoundError:
                raise CorruptIndexError(path, "file is missing") from None
            if actual != size:
                raise CorruptIndexError(path, f"size is {actual} bytes, the manifest says {size}")
        self.paths = tuple(directory.file_path(meta.component(ext)) for ext in codec.SEGMENT_COMPONENTS)
        try:
            self.core = _core.SegmentReader(self.paths, meta.doc_count)
        except FileNotFoundError as exc:  # removed since the size check: a newer commit's clean-up
            raise CorruptIndexError(str(exc.filename or meta.name), "file is missing") from None
        #: Per field with terms: (term count, keeps positions, keeps lengths).
        self._fields: dict[str, tuple[int, bool, bool]] = {
            name: (count, positions, norms) for name, count, positions, norms in self.core.fields()
        }
        self._store: StoredFields | None = None  # made on first use (a page's ids come from the core)
        #: Which documents are live, read now when the generation deleted some (None:
        #: all are, and the mask is made only if something asks for it).
        self._live = None
        if meta.deletes is not None:
            from searchlib.segment.store import read_live  # deletes: numpy loads too

            self._live = read_live(directory, meta)
        #: Whether no document of the segment is deleted, so queries skip live checks.
        self.all_live = self._live is None or bool(self._live.all())
        self._dictionaries: dict[str, TermDictionary | None] = {}
        self._lexicons: dict[str, Lexicon | None] = {}
        self._lengths: dict[str, npt.NDArray[np.uint32] | None] = {}
        self._columns: dict[str, tuple[np.ndarray, npt.NDArray[np.bool_]] | None] = {}
        self._term_indexes: dict[tuple[str, str], int] = {}
        self._term_postings: dict[str, dict[str, Postings | None]] = {}
        self._derived: dict[Hashable, np.ndarray] = {}
        self._query_segment: _core.QuerySegment | None = None

    @property
    def doc_count(self) -> int:
        return self.meta.doc_count

    @property
    def live(self) -> npt.NDArray[np.bool_]:
        """A flag per document: live (True) or deleted as of this generation."""
        if self._live is None:
            from searchlib.segment.store import read_live

            self._live = read_live(self.directory, self.meta)  # all True: no deletes file
        return self._live

    @property
    def store(self) -> StoredFields:
        """The segment's stored fields and ID column."""
        if self._store is None:
            from searchlib.segment.store import StoredFields

            self._store = StoredFields(self.core, self.paths[4], self.meta.doc_count, self.meta.name)
        return self._store

    @property
    def live_count(self) -> int:
        """How many of the segment's documents are live (the manifest's count, which
        opening checked against the deletes file)."""
        return self.meta.live_count

    @property
    def query_segment(self) -> _core.QuerySegment:
        """This segment as the core's searches read it: its reader, its deletions, and
        the length norms its searches compute, kept for the next."""
        if self._query_segment is None:
            live = None if self.all_live else self.live.tobytes()  # numpy bools are bytes of 0 and 1
            self._query_segment = _core.QuerySegment(self.core, live)
        return self._query_segment

    @property
    def files(self) -> list[str]:
        """The paths of the segment's five files."""
        return list(self.paths)

    def verify(self) -> None:
        """Check every checksum and structure of the segment's files (CorruptIndexError
        naming the damaged file): what ``searchlib check`` runs."""
        self.core.verify()

    # --- stored fields ---------------------------------------------------------------

    def stored_lines(self, keep: npt.NDArray[np.bool_] | None = None) -> Iterator[bytes]:
        """See :meth:`StoredFields.stored_lines`."""
        return self.store.stored_lines(keep)

    def id_bytes(self) -> list[bytes]:
        """See :meth:`StoredFields.id_bytes`."""
        return self.store.id_bytes()

    def id_value(self, doc_id: int) -> str | None:
        """See :meth:`StoredFields.id_value`."""
        return self.store.id_value(doc_id)

    def stored_fields(self, doc_id: int) -> dict[str, Any]:
        """See :meth:`StoredFields.stored_fields`."""
        return self.store.stored_fields(doc_id)

    # --- terms -----------------------------------------------------------------------

    def fields_with_terms(self) -> list[str]:
        """The fields that some document of the segment has terms in, sorted."""
        return sorted(self._fields)

    def dictionary(self, field_name: str) -> TermDictionary | None:
        """The field's term dictionary, or None when no document of the segment has it."""
        if field_name not in self._dictionaries:
            from searchlib.segment.termdict import TermDictionary  # patterns and suggestions: not a plain search

            info = self._fields.get(field_name)
            self._dictionaries[field_name] = (
                None if info is None else TermDictionary(self.core, field_name, info[0], self.paths[0])
            )
        return self._dictionaries[field_name]

    def lexicon(self, field_name: str) -> Lexicon | None:
        """The field's lexicon (its words before the stemmer, each with the term it
        became), or None: fields without a stemmer keep none."""
        if field_name not in self._lexicons:
            entries = self.core.lexicon_entries(field_name)
            self._lexicons[field_name] = None if entries is None else Lexicon(entries[0], _u32(entries[1]))
        return self._lexicons[field_name]

    def lexicon_size(self, field_name: str) -> int:
        """How many words the field's lexicon holds (0 without one), read from its
        header: nothing is decoded."""
        return int(self.core.lexicon_len(field_name) or 0)

    def lexicon_term(self, field_name: str, key: str) -> str | None:
        """The term a lexicon key (a word after the filters before the stemmer) became in
        this field; None when no document of the segment has the word in the field, or
        the field keeps no lexicon. The core searches the lexicon's blocks, so a query
        word costs one block scan, not the whole lexicon in Python."""
        index = self.core.lexicon_find_many(field_name, [key])[0]
        dictionary = self.dictionary(field_name)
        if index < 0 or dictionary is None:
            return None
        term = dictionary.term(index)
        self._remember_term_index(field_name, term, index)  # the query asks for it next
        return term

    def term_index(self, field_name: str, term: str) -> int:
        """The term's ordinal in the field's dictionary, or -1; recent look-ups are memoized."""
        index = self._term_indexes.get((field_name, term))
        if index is None:
            dictionary = self.dictionary(field_name)
            index = -1 if dictionary is None else dictionary.find(term)
            self._remember_term_index(field_name, term, index)
        return index

    def _remember_term_index(self, field_name: str, term: str, index: int) -> None:
        if len(self._term_indexes) >= TERM_MEMO_SIZE:
            self._term_indexes.clear()
        self._term_indexes[(field_name, term)] = index

    def doc_freq_at(self, field_name: str, index: int) -> int:
        """Documents (deleted ones included) holding the field's ``index``-th term."""
        dictionary = self.dictionary(field_name)
        if dictionary is None or not 0 <= index < len(dictionary):
            raise IndexError(f"term {index} of field {field_name!r}")
        return dictionary.doc_freq(index)

    def doc_freqs(self, field_name: str) -> npt.NDArray[np.uint32]:
        """Documents (deleted ones included) holding each of the field's terms, by ordinal."""
        import numpy as np
        dictionary = self.dictionary(field_name)
        return np.zeros(0, dtype=_U32) if dictionary is None else dictionary.doc_freqs()

    # --- postings --------------------------------------------------------------------

    def postings(self, field_name: str, term: str) -> Postings | None:
        """The term's postings (deleted docs included), or None if the term is absent."""
        return self.term_postings(field_name, [term])[0]

    def term_postings(self, field_name: str, terms: Iterable[str]) -> list[Postings | None]:
        """Each term's postings (deleted docs included; None where the field lacks the
        term); the terms not memoized are found and decoded in one call into the core,
        and recent look-ups are memoized per field."""
        memo = self._term_postings.get(field_name)
        if memo is None or len(memo) >= TERM_MEMO_SIZE:
            memo = self._term_postings[field_name] = {}
        wanted = terms if isinstance(terms, list) else list(terms)
        missing = list(dict.fromkeys(term for term in wanted if term not in memo))
        if missing:
            dictionary = self.dictionary(field_name)
            if dictionary is None:
                memo.update(dict.fromkeys(missing))
            else:
                indexes = [self._term_indexes.get((field_name, term)) for term in missing]
                unknown = [term for term, index in zip(missing, indexes) if index is None]
                found = iter(dictionary.find_many(unknown) if unknown else ())
                found_indexes = [next(found) if index is None else index for index in indexes]
                present = [(term, index) for term, index in zip(missing, found_indexes) if index >= 0]
                for term, index in zip(missing, found_indexes):
                    self._remember_term_index(field_name, term, index)
                    if index < 0:
                        memo[term] = None
                if present:
                    docs, freqs, counts = self.core.postings_many(field_name, [index for _, index in present])
                    all_docs, all_freqs = _u32(docs), _u32(freqs)
                    start = 0
                    for (term, _), count in zip(present, _u32(counts).tolist()):
                        memo[term] = Postings(all_docs[start : start + count], all_freqs[start : start + count])
                        start += count
        return [memo[term] for term in wanted]

    def positions(self, field_name: str, term: str) -> tuple[Postings, npt.NDArray[np.uint32]] | None:
        """Postings plus the positions array of the term (``freqs[i]`` entries per posting)."""
        index = self.term_index(field_name, term)
        if index < 0:
            return None
        docs, freqs, positions = self.core.positions(field_name, index)
        return Postings(_u32(docs), _u32(freqs)), _u32(positions)

    def docs_of_terms(self, field_name: str, start: int, end: int) -> npt.NDArray[np.uint32]:
        """The doc ids (deleted ones included, repeated across terms) of the terms with
        ordinals ``start`` to ``end``, term after term."""
        import numpy as np
        if end <= start or field_name not in self._fields:
            return np.zeros(0, dtype=_U32)
        return _u32(self.core.docs_of_range(field_name, start, end))

    # --- lengths and columns ---------------------------------------------------------

    def has_field(self, field_name: str) -> npt.NDArray[np.bool_]:
        """Which documents have at least one term in the field (lengths where the field
        keeps them; postings for KEYWORD and ID fields, which keep none)."""
        import numpy as np
        if self.keeps_lengths(field_name):
            return self.field_lengths(field_name) > 0
        has = np.zeros(self.doc_count, dtype=bool)
        info = self._fields.get(field_name)
        if info is not None:
            has[self.docs_of_terms(field_name, 0, info[0])] = True
        return has

    def field_lengths(self, field_name: str) -> npt.NDArray[np.uint32]:
        """Per-document token counts of a text field (zeros if the segment lacks it),
        decoded once per open segment."""
        import numpy as np
        if field_name not in self._lengths:
            data = self.core.norms(field_name)
            self._lengths[field_name] = None if data is None else _u32(data)
        lengths = self._lengths[field_name]
        return np.zeros(self.doc_count, dtype=_U32) if lengths is None else lengths

    def length_stats(self, field_names: Sequence[str]) -> tuple[int, list[int], list[int]] | None:
        """How many live documents have a term in any of ``field_names``, each field's
        total length over live documents and how many live documents have a term in each,
        counted by the core in one pass; None when a field keeps no lengths here (a
        KEYWORD or ID field: :meth:`has_field` knows those)."""
        if not all(self.keeps_lengths(name) or name not in self._fields for name in field_names):
            return None
        live = None if self.all_live else self.live.tobytes()
        count, totals, counts = self.core.length_stats(list(field_names), live)
        return count, totals, counts

    def keeps_lengths(self, field_name: str) -> bool:
        """Whether the segment has the field's lengths: a KEYWORD or ID field has none
        (nor has a field no document of the segment holds)."""
        info = self._fields.get(field_name)
        return info is not None and info[2]

    def derived(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A per-document array a layer above computes from this segment (BM25's length
        norms, see :func:`searchlib.scoring.length_norms`), kept with the reader so it
        is computed once per ``key`` while the segment is open, not once per query."""
        derived = self._derived.get(key)
        if derived is None:
            derived = compute()
            if len(self._derived) >= DERIVED_ARRAYS:
                self._derived.clear()
            self._derived[key] = derived
        return derived

    def column(self, field_name: str) -> tuple[np.ndarray, npt.NDArray[np.bool_]] | None:
        """A NUMERIC, DATETIME or BOOLEAN field's values per document and which documents
        have one, or None when no document of the segment has the field."""
        import numpy as np
        if field_name not in self._columns:
            found = self.core.column(field_name)
            if found is None:
                self._columns[field_name] = None
            else:
                dtype, values, present = found
                self._columns[field_name] = (
                    np.frombuffer(values, dtype=np.dtype(dtype)),
                    np.frombuffer(present, dtype=np.uint8).astype(bool),
                )
        return self._columns[field_name]
