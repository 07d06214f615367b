"""A field's term dictionary: sorted terms encoded as one byte blob and its offsets
(written by the segment writer and by merges), and :class:`TermDictionary`, the binary
search that reads them in place. Lexicons are stored and read the same way."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from operator import methodcaller

import numpy as np
import numpy.typing as npt

from searchlib import codec
from searchlib.errors import CorruptIndexError
from searchlib.segment.arrays import ascending, int_view, slice_starts
from searchlib.storage import release_pages


def utf8_sorted(strings: Iterable[str]) -> list[str]:
    """``strings`` in the order of their UTF-8 bytes, which is code point order (lone
    surrogates included, as ``surrogatepass`` encodes them): sorting the strings
    themselves needs no encoded copy and no (bytes, id) pair per term."""
    return sorted(strings)


def encode_sorted(strings: list[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]:
    """``codec.encode_terms`` of strings already in UTF-8 order, encoded as one string
    rather than as a bytes object per term (about 45 bytes each, briefly)."""
    encode = methodcaller("encode", "utf-8", "surrogatepass")
    sizes = np.fromiter(map(len, map(encode, strings)), dtype=np.int64, count=len(strings))
    blob = np.frombuffer(encode("".join(strings)), dtype=codec.BYTE_DTYPE)
    return blob, slice_starts(sizes)


class TermDictionary:
    """Binary search over one field's byte-sorted terms, read in place.

    Every ``SAMPLE_EVERY``-th term is kept in a Python list (a small terms index, as in
    Lucene), so a look-up is one C-level bisect over the sample and a few probes into
    the mapped bytes, without loading the dictionary.
    """

    SAMPLE_EVERY = 32

    #: Fewest terms :meth:`find_many` reads a range of the dictionary for.
    BULK_FIND_MIN = 64
    #: How many dictionary terms per term sought :meth:`find_many` reads at most.
    BULK_FIND_SPAN = 8

    def __init__(self, term_bytes: np.ndarray, term_offsets: np.ndarray, path: str) -> None:
        # Offsets that start at 0, never go down and end at the bytes' length keep every
        # slice inside the bytes; one vectorized pass per field, on first use.
        if (
            len(term_offsets) == 0
            or int(term_offsets[0]) != 0
            or int(term_offsets[-1]) != len(term_bytes)
            or not ascending(term_offsets)
        ):
            raise CorruptIndexError(path, "term offsets do not match the term bytes")
        self.path = path
        self._offsets_array = term_offsets
        # Plain memoryviews of the mapped arrays: indexing them yields Python ints and
        # bytes several times faster than numpy scalars, and copies nothing up front.
        self._bytes = np.ascontiguousarray(term_bytes).data.cast("B")
        self._offsets = int_view(term_offsets)
        self._sample: list[bytes] | None = None

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        offsets = self._offsets
        return bytes(self._bytes[offsets[index] : offsets[index + 1]])

    def _load_sample(self) -> list[bytes]:
        every = self.SAMPLE_EVERY
        starts = self._offsets_array[:-1:every].tolist()
        ends = self._offsets_array[1::every].tolist()
        data = self._bytes
        return [bytes(data[start:end]) for start, end in zip(starts, ends)]

    def find(self, term: str) -> int:
        """The term's index, or -1 when the field does not hold it.

        A query looks up each new word here a few times (lexicons, then each field's
        terms), so the probes within a block are written out rather than made through
        ``bisect_left(self, ...)``, which costs a method call per probe.
        """
        key = term.encode("utf-8", "surrogatepass")
        sample = self._sample
        if sample is None:
            sample = self._sample = self._load_sample()
        block = bisect_right(sample, key) - 1
        if block < 0:
            return -1
        low = block * self.SAMPLE_EVERY
        if sample[block] == key:
            return low
        offsets, data = self._offsets, self._bytes
        count = len(offsets) - 1
        low, high = low + 1, min(count, low + self.SAMPLE_EVERY)
        while low < high:  # the first term >= key in the block, after its sampled term
            middle = (low + high) >> 1
            if bytes(data[offsets[middle] : offsets[middle + 1]]) < key:
                low = middle + 1
            else:
                high = middle
        if low < count and bytes(data[offsets[low] : offsets[low + 1]]) == key:
            return low
        return -1

    def find_many(self, terms: Sequence[str]) -> list[int]:
        """Each term's index (-1 where the field does not hold it).

        Many terms that lie close together in the dictionary (a prefix's expansion) are
        found by reading the range from the least to the greatest once, into a dict;
        scattered terms (a fuzzy word's or a wildcard's, mostly) or few terms by
        :meth:`find` each, which costs a binary search apiece.
        """
        if len(terms) < self.BULK_FIND_MIN:
            return [self.find(term) for term in terms]
        keys = [term.encode("utf-8", "surrogatepass") for term in terms]
        start = self.bound(min(keys), after=False)
        end = self.bound(max(keys), after=True)
        if end - start > self.BULK_FIND_SPAN * len(keys):
            return [self.find(term) for term in terms]
        index_of = {key: index for index, key in enumerate(self.slice_bytes(start, end), start)}
        return [index_of.get(key, -1) for key in keys]

    def terms(self, start: int = 0, end: int | None = None) -> list[str]:
        """The terms from index ``start`` to ``end`` (default: all), in order."""
        stop = len(self) if end is None else end
        return self.terms_at(range(start, stop))

    def terms_at(self, indexes: Iterable[int]) -> list[str]:
        """The terms at the given dictionary indexes."""
        try:
            return [self[i].decode("utf-8", "surrogatepass") for i in indexes]
        except UnicodeDecodeError as exc:
            raise CorruptIndexError(self.path, f"a term is not UTF-8 ({exc})") from None

    def term(self, index: int) -> str:
        """The term at a dictionary index, decoded."""
        return self.terms_at((index,))[0]

    def bound(self, key: bytes, *, after: bool) -> int:
        """Where ``key`` would go: the index of the first term ``>= key`` (or ``> key``
        when ``after``), by binary search over the mapped bytes."""
        return bisect_right(self, key) if after else bisect_left(self, key)

    def prefix_range(self, prefix: bytes) -> tuple[int, int]:
        """The index range ``[start, end)`` of the terms that start with ``prefix``.

        UTF-8 never holds the byte 0xFF, so ``prefix + b"\xff"`` sorts after every term
        with the prefix and before every other term greater than it.
        """
        return self.bound(prefix, after=False), self.bound(prefix + b"\xff", after=False)

    def slice_bytes(self, start: int, end: int) -> list[bytes]:
        """The UTF-8 bytes of terms ``start`` .. ``end - 1``: a merge takes the terms of
        several dictionaries a range at a time, never whole dictionaries at once, and
        :meth:`find_many` reads the range its terms lie in."""
        offsets = self._offsets
        slices = map(slice, offsets[start:end], offsets[start + 1 : end + 1])
        return list(map(bytes, map(self._bytes.__getitem__, slices)))

    def release_pages(self) -> None:
        """Drop the mapped pages read so far from the resident set (see
        storage.release_pages): a merge reads a dictionary once, a range at a time."""
        release_pages(self._bytes)
