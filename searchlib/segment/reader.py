"""Reading a segment: :class:`SegmentReader` maps its files and answers term,
postings, positions, lengths, columns and stored-field look-ups without loading the
whole dictionary; each array's layout is checked from the tables on open, and its
contents once, on first use, before anything is sliced with them.

Doc ids are local to a segment (0 .. doc_count - 1); which ones are deleted is given by
the generation's deletes file, applied through :attr:`SegmentReader.live`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from searchlib import codec
from searchlib.errors import CorruptIndexError
from searchlib.segment.arrays import ascending, int_view
from searchlib.segment.meta import SegmentMeta
from searchlib.segment.store import StoredFields, read_live
from searchlib.segment.termdict import TermDictionary
from searchlib.storage import Directory

#: Term look-ups a reader remembers (the statistics pass and scoring share them).
TERM_MEMO_SIZE = 4096
#: Per-document arrays derived from a segment by the layers above (scoring's length
#: norms) that a reader keeps for them.
DERIVED_ARRAYS = 32


class Postings(NamedTuple):
    """One term's postings in one segment: parallel arrays, doc ids ascending.

    A named tuple: a query makes one per new term and field, and a tuple is several
    times cheaper to make than a frozen dataclass."""

    docs: npt.NDArray[np.uint32]
    freqs: npt.NDArray[np.uint32]


class SegmentReader:
    """Read access to one segment as of one generation's deletions."""

    def __init__(self, directory: Directory, meta: SegmentMeta) -> None:
        self.meta = meta
        self.directory = directory
        for file_name, size in meta.files.items():
            path = str(directory.file_path(file_name))
            try:
                actual = directory.file_size(file_name)
            except FileNotFoundError:
                raise CorruptIndexError(path, "file is missing") from None
            if actual != size:
                raise CorruptIndexError(path, f"size is {actual} bytes, the manifest says {size}")
        self._terms_file = codec.ArrayFile(directory, meta.component("terms"), codec.KIND_TERMS)
        self._postings_file = codec.ArrayFile(directory, meta.component("post"), codec.KIND_POSTINGS)
        self._norms_file = codec.ArrayFile(directory, meta.component("norms"), codec.KIND_NORMS)
        self._store_file = codec.ArrayFile(directory, meta.component("store"), codec.KIND_STORE)
        first_docs = self._store_file["block_first_doc"]
        stored_count = int(first_docs[-1]) if len(first_docs) else -1
        if stored_count != meta.doc_count:
            raise CorruptIndexError(
                self._store_file.path, f"holds {stored_count} documents, the manifest says {meta.doc_count}"
            )
        self._check_layout()
        self.store = StoredFields(self._store_file, meta.doc_count, meta.name)
        self.live = read_live(directory, meta)
        #: Whether no document of the segment is deleted, so queries skip live checks.
        self.all_live = bool(self.live.all())
        self._postings_by_field: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._dictionaries: dict[str, TermDictionary | None] = {}
        self._lexicons: dict[str, TermDictionary | None] = {}
        self._lexicon_target_views: dict[str, memoryview] = {}
        self._term_indexes: dict[tuple[str, str], int] = {}
        self._starts_views: dict[str, memoryview] = {}
        self._checked_positions: set[str] = set()
        self._term_postings: dict[str, dict[str, Postings | None]] = {}
        self._live_doc_freqs: dict[tuple[tuple[str, ...], str], int] = {}
        self._derived: dict[Hashable, np.ndarray] = {}

    @property
    def doc_count(self) -> int:
        return self.meta.doc_count

    def _check_layout(self) -> None:
        """Check, from the files' tables alone (no data is read), that the arrays a
        search uses exist, are one-dimensional, and have lengths that agree with each
        other and with the manifest's document count: what the reader then indexes by
        doc id or term number stays in bounds without a check per look-up."""
        docs = self.doc_count
        terms, postings, norms, store = self._terms_file, self._postings_file, self._norms_file, self._store_file

        def length(file: codec.ArrayFile, name: str) -> int:
            shape = file.shape(name)
            if shape is None:
                raise CorruptIndexError(file.path, f"array {name!r} is missing")
            if len(shape) != 1:
                raise CorruptIndexError(file.path, f"array {name!r} has shape {shape}, not a list")
            return shape[0]

        def expect(file: codec.ArrayFile, name: str, wanted: int, of_what: str) -> None:
            found = length(file, name)
            if found != wanted:
                raise CorruptIndexError(file.path, f"array {name!r} has {found} entries for {wanted} {of_what}")

        expect(store, "id_offsets", docs + 1, "documents (plus one)")
        expect(store, "block_offsets", length(store, "block_first_doc"), "blocks (plus one)")
        length(store, "blocks"), length(store, "id_bytes")
        for name in store.names():
            if name.startswith("column."):
                expect(store, name, docs, "documents")
        for name in norms.names():
            expect(norms, name, docs, "documents")
        for field_name in codec.fields_with_terms(terms.names()):
            names = codec.field_arrays(field_name)
            count = length(terms, names.term_offsets) - 1
            if count < 0:
                raise CorruptIndexError(terms.path, f"array '{names.term_offsets}' is empty")
            expect(terms, names.doc_freq, count, "terms")
            expect(terms, names.postings_start, count + 1, "terms (plus one)")
            expect(terms, names.positions_start, count + 1, "terms (plus one)")
            expect(postings, names.freqs, length(postings, names.docs), "postings")
            length(postings, names.positions)
            if names.lexicon_bytes in terms:
                keys = length(terms, names.lexicon_offsets) - 1
                expect(terms, names.lexicon_terms, max(keys, 0), "lexicon keys")

    def component(self, extension: str) -> codec.ArrayFile:
        """The segment's ``terms``, ``post``, ``norms`` or ``store`` file, mapped."""
        return {
            "terms": self._terms_file, "post": self._postings_file,
            "norms": self._norms_file, "store": self._store_file,
        }[extension]

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

    @property
    def files(self) -> list[codec.ArrayFile]:
        return [self._terms_file, self._postings_file, self._norms_file, self._store_file]

    def dictionary(self, field_name: str) -> TermDictionary | None:
        """The field's term dictionary, or None when no document of the segment has it."""
        if field_name not in self._dictionaries:
            term_bytes = self._terms_file.get(codec.field_arrays(field_name).term_bytes)
            if term_bytes is None:
                self._dictionaries[field_name] = None
            else:
                offsets = self._terms_file[codec.field_arrays(field_name).term_offsets]
                self._dictionaries[field_name] = TermDictionary(
                    term_bytes, offsets, self._terms_file.path
                )
        return self._dictionaries[field_name]

    def lexicon(self, field_name: str) -> TermDictionary | None:
        """The field's lexicon keys (words before the stemmer), or None without one."""
        if field_name not in self._lexicons:
            self._lexicons[field_name] = self._open_lexicon(field_name)
        return self._lexicons[field_name]

    def lexicon_term(self, field_name: str, key: str) -> str | None:
        """The term a lexicon key (a word after the cheap filters) became in this field.

        None when no document of the segment has the word in the field, or the field's
        analyzer keeps no lexicon.
        """
        lexicon = self.lexicon(field_name)
        at = -1 if lexicon is None else lexicon.find(key)
        if at < 0:
            return None
        dictionary = self.dictionary(field_name)
        term_index = self._lexicon_targets(field_name)[at]
        if dictionary is None or term_index >= len(dictionary):
            raise CorruptIndexError(self._terms_file.path, f"lexicon of {field_name!r} points past its terms")
        term = dictionary.term(term_index)
        self._remember_term_index(field_name, term, term_index)  # the query asks for it next
        return term

    def _lexicon_targets(self, field_name: str) -> memoryview:
        """The field's ``lexicon_terms`` as a memoryview: indexing it gives Python ints fast."""
        view = self._lexicon_target_views.get(field_name)
        if view is None:
            targets = self._terms_file[codec.field_arrays(field_name).lexicon_terms]
            view = self._lexicon_target_views[field_name] = int_view(targets)
        return view

    def _open_lexicon(self, field_name: str) -> TermDictionary | None:
        names = codec.field_arrays(field_name)
        key_bytes = self._terms_file.get(names.lexicon_bytes)
        if key_bytes is None:
            return None
        path = self._terms_file.path
        lexicon = TermDictionary(key_bytes, self._terms_file[names.lexicon_offsets], path)
        if len(self._terms_file[names.lexicon_terms]) != len(lexicon):
            raise CorruptIndexError(path, f"lexicon of {field_name!r} has keys without terms")
        return lexicon

    def term_index(self, field_name: str, term: str) -> int:
        """The term's index in the field's dictionary, or -1; recent look-ups are memoized."""
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

    def note_live_doc_freq(self, fields: tuple[str, ...], term: str, count: int) -> None:
        """Remember that ``count`` live documents hold ``term`` in any of ``fields``.

        Scoring counts this while it adds a term's fields up per document (see
        :func:`searchlib.impacts.impact_arrays`), so the document frequency its idf needs
        is not counted again from the postings.
        """
        memo = self._live_doc_freqs
        if len(memo) >= TERM_MEMO_SIZE:
            memo.clear()
        memo[(fields, term)] = count

    def noted_live_doc_freq(self, fields: tuple[str, ...], term: str) -> int | None:
        """What :meth:`note_live_doc_freq` last noted for ``term`` in ``fields``, if kept."""
        return self._live_doc_freqs.get((fields, term))

    def postings(self, field_name: str, term: str) -> Postings | None:
        """The term's postings (deleted docs included), or None if the term is absent."""
        index = self.term_index(field_name, term)
        return None if index < 0 else self._postings_at(field_name, term, index)

    def _postings_arrays(self, field_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The field's postings_start, docs and freqs arrays (looked up once per field)."""
        arrays = self._postings_by_field.get(field_name)
        if arrays is None:
            names = codec.field_arrays(field_name)
            starts = self._terms_file[names.postings_start]
            docs = self._postings_file[names.docs]
            freqs = self._postings_file[names.freqs]
            # Once per field: slices between consecutive starts stay inside the postings,
            # and every doc id indexes the segment's per-document arrays.
            if int(starts[0]) != 0 or int(starts[-1]) != len(docs) or not ascending(starts):
                raise CorruptIndexError(self._terms_file.path, f"postings slices of {field_name!r} are out of order")
            if len(docs) and int(docs.max()) >= self.doc_count:
                raise CorruptIndexError(self._postings_file.path, f"postings of {field_name} out of range")
            arrays = self._postings_by_field[field_name] = (starts, docs, freqs)
        return arrays

    def _postings_at(self, field_name: str, term: str, index: int) -> Postings:
        starts, all_docs, all_freqs = self._postings_arrays(field_name)
        begin, end = int(starts[index]), int(starts[index + 1])
        return Postings(all_docs[begin:end], all_freqs[begin:end])

    def term_postings(self, field_name: str, terms: Iterable[str]) -> list[Postings | None]:
        """Each term's postings (deleted docs included; None where the field lacks the
        term), as views into the field's arrays; recent look-ups are memoized per field,
        so a query repeating earlier terms slices nothing."""
        memo = self._term_postings.get(field_name)
        if memo is None or len(memo) >= TERM_MEMO_SIZE:
            memo = self._term_postings[field_name] = {}
        wanted = terms if isinstance(terms, list) else list(terms)
        indexes = self._unmemoized_term_indexes(field_name, wanted, memo)
        found: list[Postings | None] = []
        field_arrays = None  # the field's starts, docs and freqs, fetched on first need
        for term in wanted:
            if term in memo:
                found.append(memo[term])
                continue
            index = indexes[term] if indexes is not None else self.term_index(field_name, term)
            postings = None
            if index >= 0:
                if field_arrays is None:
                    field_arrays = (self._postings_starts(field_name), *self._checked_postings(field_name))
                starts, docs, freqs = field_arrays
                begin, end = starts[index], starts[index + 1]
                postings = Postings(docs[begin:end], freqs[begin:end])
            memo[term] = postings
            found.append(postings)
        return found

    def _unmemoized_term_indexes(
        self, field_name: str, terms: list[str], memo: dict[str, Postings | None]
    ) -> dict[str, int] | None:
        """The dictionary indexes of the ``terms`` not in ``memo``, found together
        (:meth:`TermDictionary.find_many`) when there are many; None when there are
        few, which :meth:`term_index` looks up one by one through its own memo."""
        if len(terms) < TermDictionary.BULK_FIND_MIN:
            return None
        missing = [term for term in terms if term not in memo]
        if len(missing) < TermDictionary.BULK_FIND_MIN:
            return None
        dictionary = self.dictionary(field_name)
        if dictionary is None:
            return dict.fromkeys(missing, -1)
        return dict(zip(missing, dictionary.find_many(missing)))

    def _checked_postings(self, field_name: str) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
        """Every posting of the field (docs and freqs, deleted docs included), term after
        term, for :meth:`term_postings` to slice.

        The doc ids are checked against the segment's size once, on first use (see
        :meth:`_postings_arrays`), so that the slices can be used as indexes without a
        check per query.
        """
        _, docs, freqs = self._postings_arrays(field_name)
        return docs, freqs

    def _postings_starts(self, field_name: str) -> memoryview:
        """The field's postings_start as a memoryview: indexing it gives Python ints fast."""
        view = self._starts_views.get(field_name)
        if view is None:
            starts = self._postings_arrays(field_name)[0]
            view = self._starts_views[field_name] = int_view(starts)
        return view

    def positions(self, field_name: str, term: str) -> tuple[Postings, npt.NDArray[np.uint32]] | None:
        """Postings plus the positions array of the term (``freqs[i]`` entries per posting)."""
        index = self.term_index(field_name, term)
        if index < 0:
            return None
        postings = self._postings_at(field_name, term, index)
        names = codec.field_arrays(field_name)
        starts = self._terms_file[names.positions_start]
        positions = self._postings_file[names.positions]
        if field_name not in self._checked_positions:
            if int(starts[0]) != 0 or int(starts[-1]) != len(positions) or not ascending(starts):
                raise CorruptIndexError(self._terms_file.path, f"positions slices of {field_name!r} are out of order")
            self._checked_positions.add(field_name)
        return postings, positions[int(starts[index]) : int(starts[index + 1])]

    def docs_of_terms(self, field_name: str, start: int, end: int) -> npt.NDArray[np.uint32]:
        """The doc ids (deleted ones included, repeated across terms) of the terms with
        dictionary index ``start`` to ``end``: one contiguous slice of the postings."""
        if end <= start:
            return np.zeros(0, dtype=np.uint32)
        starts, docs, _ = self._postings_arrays(field_name)
        return docs[int(starts[start]) : int(starts[end])]

    def doc_freq_at(self, field_name: str, index: int) -> int:
        """Documents (deleted ones included) holding the field's ``index``-th term."""
        return int(self._terms_file[codec.field_arrays(field_name).doc_freq][index])

    def has_field(self, field_name: str) -> npt.NDArray[np.bool_]:
        """Which documents have at least one term in the field (lengths where the field
        keeps them; postings for KEYWORD and ID fields, which keep none)."""
        if codec.field_arrays(field_name).norms in self._norms_file:
            return self.field_lengths(field_name) > 0
        has = np.zeros(self.doc_count, dtype=bool)
        dictionary = self.dictionary(field_name)
        if dictionary is not None:
            has[self.docs_of_terms(field_name, 0, len(dictionary))] = True
        return has

    def field_lengths(self, field_name: str) -> npt.NDArray[np.uint32]:
        """Per-document token counts of a text field (zeros if the segment lacks it)."""
        lengths = self._norms_file.get(codec.field_arrays(field_name).norms)
        if lengths is None:
            return np.zeros(self.doc_count, dtype=codec.LENGTH_DTYPE)
        if len(lengths) != self.doc_count:
            raise CorruptIndexError(self._norms_file.path, f"norms of {field_name!r} have the wrong size")
        return lengths

    def keeps_lengths(self, field_name: str) -> bool:
        """Whether the segment has the field's lengths: a KEYWORD or ID field has none
        (nor has a field no document of the segment holds). Reads only the table."""
        return codec.field_arrays(field_name).norms in self._norms_file

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
        values_name, present_name = codec.column_array_names(field_name)
        values = self._store_file.get(values_name)
        present = self._store_file.get(present_name)
        if present is None:  # a segment written before presence arrays had their own prefix
            present = self._store_file.get(codec.legacy_present_array_name(field_name))
        if values is None or present is None:
            return None
        if len(values) != self.doc_count or len(present) != self.doc_count:
            raise CorruptIndexError(self._store_file.path, f"column {field_name!r} has the wrong size")
        return values, present.astype(bool)
