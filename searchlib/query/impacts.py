"""A term's BM25 tf part in a segment, computed over whole postings arrays and kept for
the next query that needs it.

A term's score in a document is ``boost * idf * tf_part``. The idf depends on the query's
collection statistics; the tf part (BM25F's saturated, length-normalized, field-weighted
term frequency, see :mod:`searchlib.scoring`) depends only on:

- the segment and its deletions (a reader);
- the term and the fields it is searched in, with their weights;
- the BM25 variant, ``k1``, ``b`` and the fields' average lengths.

Those are the same in every query that searches the term the same way, so the tf part
can be computed once per segment and kept in an :class:`ImpactCache`, bounded by the
number of postings it holds. Word use follows Zipf's law: a few terms make up much of
what users type, and a query over cached terms only concatenates their parts,
multiplies by idf and sums per document. A term not cached is computed together with
the query's other missing terms (:func:`impact_arrays`), in a fixed number of array
passes however many there are.

This is an impact index (per-posting score contributions, as bm25s keeps for its whole
vocabulary) built lazily and per query setting. Computing one at index time would fix
``k1``, ``b`` and the average lengths, which searchlib lets a query, a searcher and a
sharded search (global statistics) choose.
"""

from __future__ import annotations

import threading

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from searchlib.grouping import sum_by_key
from searchlib.scoring import CollectionStats, FieldSet, Similarity, weighted_inverse_norms
from searchlib.segment import SegmentReader

#: Postings the cache of a :class:`~searchlib.Searcher` holds unless told otherwise: at 16
#: bytes each (doc id and tf part), about 32 MB.
DEFAULT_IMPACT_CACHE_POSTINGS = 2_000_000

#: Keys whose recent uses a cache counts before it halves every count (forgetting
#: those used once): the memory of what is popular now, not ever.
USE_HISTORY = 100_000

#: Queries with more terms than this (a pattern's expansion, mostly rare terms) are
#: scored without the cache: keeping each term would cost a copy of its postings and
#: push out the frequent terms that everyday queries share.
MAX_CACHED_TERMS = 64

#: The most scoring settings (segment, fields and weights, variant, k1, b, average
#: lengths) a cache tells apart before it starts afresh.
MAX_SETTINGS = 4096


class ScoredTerm(Protocol):
    """A term as BM25F scores it: the fields it is searched in, their weights, the term
    (a :class:`~searchlib.query.CombinedTerm` is one)."""

    @property
    def fields(self) -> FieldSet: ...

    @property
    def weights(self) -> tuple[float, ...]: ...

    @property
    def text(self) -> str: ...


class TfScoring(Protocol):
    """What the tf part depends on besides the segment and the term (a
    :class:`~searchlib.query.ScoringContext` is one)."""

    @property
    def stats(self) -> CollectionStats: ...

    @property
    def k1(self) -> float: ...

    @property
    def b(self) -> float: ...

    @property
    def similarity(self) -> Similarity: ...


@dataclass(frozen=True)
class ImpactArrays:
    """Several terms' impacts in one segment as parallel arrays, ordered by term, then
    doc: each live posting's doc, tf part, and term (its index in the list asked for)."""

    docs: npt.NDArray[np.int64]
    tf_parts: npt.NDArray[np.float64]
    terms: npt.NDArray[np.int64]


@dataclass(frozen=True)
class TermImpacts:
    """One term's live documents in one segment (ascending) and its tf part in each."""

    docs: npt.NDArray[np.int64]
    tf_parts: npt.NDArray[np.float64]


@dataclass
class CacheLookup:
    """What a cache holds of a query's terms in one segment, from :meth:`ImpactCache.look_up`."""

    #: Per term: its impacts, or None (no live posting, or not in the cache).
    found: list[TermImpacts | None]
    #: The terms not in the cache, by index, ascending.
    missing: list[int]
    keys: list[tuple[int, str]]


class ImpactCache:
    """Recently used terms' :class:`TermImpacts`, per segment and scoring setting, holding
    at most ``max_postings`` postings (0 keeps nothing; a term without postings counts
    as one).

    Full, it drops the least recently used terms to make room, but only for a term
    looked up clearly more often than the first of them (TinyLFU's admission): when queries
    cycle through more terms than fit, plain LRU would drop every term just before its
    next use, and pay for copying each one in, to keep nothing useful.

    Threads searching with one :class:`~searchlib.Searcher` share its cache. A lock
    guards the cache's own structures (entries and their order, use counts, setting
    numbers) for the few dict operations of a look-up or an insertion, once per query
    and segment; computing impacts and copying them in happen outside it, and a
    setting already numbered is read without it.
    """

    def __init__(self, max_postings: int = DEFAULT_IMPACT_CACHE_POSTINGS) -> None:
        if max_postings < 0:
            raise ValueError(f"an impact cache's size must not be negative, got {max_postings}")
        self.max_postings = max_postings
        self.postings = 0
        self._entries: OrderedDict[tuple[int, str], TermImpacts | None] = OrderedDict()
        #: Recent look-ups per key, kept or not: what admission goes by.
        self._uses: dict[tuple[int, str], int] = {}
        self._settings: dict[Hashable, int] = {}
        self._next_setting = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def setting(self, reader: SegmentReader, fields: FieldSet, weights: tuple[float, ...], scoring: TfScoring) -> int:
        """A number for this way of scoring terms in ``fields`` of ``reader``: a key is
        ``(setting, term)``, so a look-up hashes an int and a string, not the setting."""
        # The averages first, outside the lock: the first query over a field counts them.
        averages = tuple(scoring.stats.average_length(name) for name in fields)
        described = (reader, fields, weights, scoring.similarity.name, scoring.k1, scoring.b, averages)
        number = self._settings.get(described)
        if number is None:
            with self._lock:  # two threads must not give one number to two settings
                number = self._settings.get(described)
                if number is None:
                    if len(self._settings) >= MAX_SETTINGS:
                        self._clear()
                    # Never reused, even after a clear: a query may hold numbers from before it.
                    number = self._settings[described] = self._next_setting
                    self._next_setting += 1
        return number

    def look_up(self, reader: SegmentReader, terms: Sequence[ScoredTerm], scoring: TfScoring) -> CacheLookup:
        """The cached impacts of ``terms`` in ``reader``, and which terms are missing."""
        keys: list[tuple[int, str]] = []
        last: tuple[FieldSet, tuple[float, ...]] | None = None
        setting = 0
        for term in terms:
            if (term.fields, term.weights) != last:  # terms mostly share their fields
                last = (term.fields, term.weights)
                setting = self.setting(reader, term.fields, term.weights, scoring)
            keys.append((setting, term.text))
        with self._lock:
            cached = [self._get(key) for key in keys]
        missing = [slot for slot, entry in enumerate(cached) if entry is False]
        found: list[TermImpacts | None] = [None if entry is False else entry for entry in cached]  # type: ignore[misc]
        return CacheLookup(found, missing, keys)

    def get(self, key: tuple[int, str]) -> TermImpacts | None | bool:
        """The entry for ``key`` (None: the term has no live posting), or False if absent.

        Every look-up counts as a use of the key, kept or not.
        """
        with self._lock:
            return self._get(key)

    def _get(self, key: tuple[int, str]) -> TermImpacts | None | bool:
        uses = self._uses
        uses[key] = uses.get(key, 0) + 1
        if len(uses) > USE_HISTORY:
            # Age the counts: halve them, forgetting keys used once since the last time.
            self._uses = {used: count // 2 for used, count in uses.items() if count > 1}
        found = self._entries.get(key, False)
        if found is not False:
            self._entries.move_to_end(key)
        return found

    def remember(self, lookup: CacheLookup, computed: ImpactArrays | None) -> None:
        """Offer the impacts computed for ``lookup``'s missing terms (in that order) to the
        cache; those it admits are copied, so each holds only its own postings."""
        if computed is None:
            bounds = [0] * (len(lookup.missing) + 1)
        else:
            bounds = np.searchsorted(computed.terms, np.arange(len(lookup.missing) + 1)).tolist()
        offered = [(lookup.keys[slot], bounds[index], bounds[index + 1]) for index, slot in enumerate(lookup.missing)]
        with self._lock:
            admitted = [(key, start, end) for key, start, end in offered if self._admits(key, max(1, end - start))]
        if not admitted:
            return
        kept: list[tuple[tuple[int, str], TermImpacts | None]] = []
        for key, start, end in admitted:  # copied outside the lock: other threads go on
            impacts = None
            if computed is not None and end > start:
                docs, tf_parts = computed.docs[start:end].copy(), computed.tf_parts[start:end].copy()
                docs.flags.writeable = tf_parts.flags.writeable = False  # shared by later queries
                impacts = TermImpacts(docs, tf_parts)
            kept.append((key, impacts))
        with self._lock:
            for key, impacts in kept:
                self._put(key, impacts)

    def _admits(self, key: tuple[int, str], size: int) -> bool:
        if size > self.max_postings or key in self._entries:
            return False
        if self.postings + size <= self.max_postings or not self._entries:
            return True
        # More often by over one look-up: terms that queries cycle through are looked up
        # equally often, give or take the one look-up of the current round.
        oldest = next(iter(self._entries))
        return self._uses.get(key, 0) > self._uses.get(oldest, 0) + 1

    def put(self, key: tuple[int, str], impacts: TermImpacts | None) -> None:
        """Keep ``impacts`` under ``key``, dropping the least recently used entries to make
        room (whatever :meth:`remember` would admit); one larger than the whole cache is
        not kept."""
        with self._lock:
            self._put(key, impacts)

    def _put(self, key: tuple[int, str], impacts: TermImpacts | None) -> None:
        size = _entry_size(impacts)
        entries = self._entries
        if size > self.max_postings or key in entries:
            return
        while entries and self.postings + size > self.max_postings:
            _, dropped = entries.popitem(last=False)
            self.postings -= _entry_size(dropped)
        entries[key] = impacts
        self.postings += size

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._entries.clear()
        self._uses.clear()
        self._settings.clear()
        self.postings = 0


def _entry_size(impacts: TermImpacts | None) -> int:
    return 1 if impacts is None else max(1, len(impacts.docs))


def impact_arrays(reader: SegmentReader, terms: Sequence[ScoredTerm], scoring: TfScoring) -> ImpactArrays | None:
    """The impacts of all ``terms`` in ``reader`` at once; None if none has a live posting.

    The postings of every term in every field are gathered with one concatenation; a
    term's fields are added up per document (BM25F) by summing equal ``term * size +
    doc`` keys; the sums saturate in one pass. Python work is per term; numpy work is a
    fixed number of passes, however many terms there are.
    """
    size = reader.doc_count
    gathered = _gather_postings(reader, terms, scoring) if terms else None
    if gathered is None:
        return None
    if gathered.keys is None:  # one (field, weight): a term's postings are one ascending run
        docs, pseudo_tf = gathered.docs, gathered.pseudo_tf
        term_of = np.repeat(np.arange(len(terms), dtype=np.int64), gathered.counts)
    else:
        groups = sum_by_key(gathered.keys, gathered.pseudo_tf)
        keys, pseudo_tf = groups.keys, groups.sums
        term_of = keys // size
        docs = keys - term_of * size
    tf_parts = np.asarray(scoring.similarity.saturate(pseudo_tf, scoring.k1), dtype=np.float64)
    if not reader.all_live:
        is_live = reader.live.take(docs)
        docs, tf_parts, term_of = docs[is_live], tf_parts[is_live], term_of[is_live]
        if not len(docs):
            return None
    return ImpactArrays(docs, tf_parts, term_of)


def live_doc_counts(arrays: ImpactArrays | None, count: int) -> list[int]:
    """How many live documents each of the ``count`` terms in ``arrays`` has in the
    segment: its live document frequency in the fields it was searched in."""
    if arrays is None:
        return [0] * count
    return np.bincount(arrays.terms, minlength=count).tolist()


def split_by_term(arrays: ImpactArrays | None, count: int) -> list[TermImpacts | None]:
    """Each of the ``count`` terms' impacts in ``arrays`` as views (None: no live posting)."""
    if arrays is None:
        return [None] * count
    bounds = np.searchsorted(arrays.terms, np.arange(count + 1)).tolist()
    return [
        TermImpacts(arrays.docs[start:end], arrays.tf_parts[start:end]) if end > start else None
        for start, end in zip(bounds, bounds[1:])
    ]


@dataclass
class _GatheredPostings:
    """Postings of several terms in several fields, as parallel arrays: each posting's
    doc (deleted ones included) and weighted length-normalized tf, and, when there is
    more than one (field, weight), the key ``term * size + doc`` that adds a term's
    fields up. Postings are ordered by (field, weight), then term, then doc.

    ``counts`` are the postings per term when there is one (field, weight).
    """

    docs: npt.NDArray[np.int64]
    pseudo_tf: npt.NDArray[np.float64]
    keys: npt.NDArray[np.int64] | None
    counts: npt.NDArray[np.int64]


def _gather_postings(reader: SegmentReader, terms: Sequence[ScoredTerm], scoring: TfScoring) -> _GatheredPostings | None:
    """Every posting of every term in every field it is searched in; None if there is none."""
    size = reader.doc_count
    counts = np.zeros(len(terms), dtype=np.int64)
    slots: list[int] = []
    lengths: list[int] = []
    doc_slices: list[npt.NDArray[np.uint32]] = []
    freq_slices: list[npt.NDArray[np.uint32]] = []
    inverse_norms: list[npt.NDArray[np.float64]] = []
    spans: list[tuple[int, int]] = []
    total = 0
    for (name, weight), members in _terms_by_field(terms).items():
        span_start = total
        for slot, postings in zip(members, reader.term_postings(name, [terms[slot].text for slot in members])):
            if postings is not None and len(postings.docs):
                slots.append(slot)
                lengths.append(len(postings.docs))
                doc_slices.append(postings.docs)
                freq_slices.append(postings.freqs)
                total += lengths[-1]
        if total > span_start:
            spans.append((span_start, total))
            average = scoring.stats.average_length(name)
            inverse_norms.append(weighted_inverse_norms(reader, name, average, scoring.b, weight))
    if not total:
        return None
    # int64 once: every later index by doc would convert uint32 on its own.
    docs = np.concatenate(doc_slices, dtype=np.int64)
    pseudo_tf = np.empty(total, dtype=np.float64)
    for norms, (start, end) in zip(inverse_norms, spans):
        norms.take(docs[start:end], out=pseudo_tf[start:end])
    pseudo_tf *= np.concatenate(freq_slices)
    if len(spans) == 1:
        counts[slots] = lengths
        return _GatheredPostings(docs, pseudo_tf, None, counts)
    keys = np.repeat(np.array(slots, dtype=np.int64) * size, lengths)
    keys += docs
    return _GatheredPostings(docs, pseudo_tf, keys, counts)


def _terms_by_field(terms: Sequence[ScoredTerm]) -> dict[tuple[str, float], list[int]]:
    """Per (field, weight): the indexes of the terms searched in it so, ascending."""
    fields, weights = terms[0].fields, terms[0].weights
    if all(term.fields == fields and term.weights == weights for term in terms):
        # The usual case, words over the default fields: one list serves every field.
        everyone = list(range(len(terms)))
        return {(name, weight): everyone for name, weight in zip(fields, weights)}
    by_field: dict[tuple[str, float], list[int]] = {}
    for slot, term in enumerate(terms):
        for name, weight in zip(term.fields, term.weights):
            by_field.setdefault((name, weight), []).append(slot)
    return by_field
