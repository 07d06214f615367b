"""A field's term dictionary, read through the compiled core: terms sorted by their
UTF-8 bytes and addressed by ordinal (written by the core's segment writer and merge;
layout in ``core/FORMAT.md``, reader in ``core/src/termdict.rs``).

:class:`TermDictionary` keeps the interface the query code uses (find a term, the
ordinal range of a prefix, terms by ordinal); each call is one call into the core, which
checks every byte it reads.

A stemmed field's segments also keep a lexicon (its words as written, each with the
term it became); :func:`keeps_compiled_lexicon` and :func:`lexicon_key_analyzer` say
which fields have one and how a word becomes its key, for the writer that makes it and
the suggestions that read it.
"""

from __future__ import annotations


TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # numpy loads only when a function needs it, not on import
    from collections.abc import Iterable, Sequence
    from typing import Any

    import numpy as np
    import numpy.typing as npt

    from searchlib.analysis import Analyzer


class TermDictionary:
    """One field's terms in one segment, in UTF-8 byte order, addressed by ordinal."""

    #: Kept for callers that batch look-ups: :meth:`find_many` is one core call however many.
    BULK_FIND_MIN = 64

    def __init__(self, core: Any, field_name: str, count: int, path: str) -> None:
        self._core = core
        self.field_name = field_name
        self._count = count
        self.path = path

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> bytes:
        if not 0 <= index < self._count:
            raise IndexError(index)
        found: bytes = self._core.term_bytes(self.field_name, index, index + 1)[0]
        return found

    def find(self, term: str) -> int:
        """The term's ordinal, or -1 when the field does not hold it."""
        return self.find_many([term])[0]

    def find_many(self, terms: Sequence[str]) -> list[int]:
        """Each term's ordinal (-1 where the field does not hold it), in one core call."""
        encoded = [_core_str(term) for term in terms]
        found: list[int] = self._core.find_many(self.field_name, encoded)
        # A term that cannot be UTF-8 (a lone surrogate) was made unfindable above.
        return [-1 if original != sent else at for original, sent, at in zip(terms, encoded, found)]

    def terms(self, start: int = 0, end: int | None = None) -> list[str]:
        """The terms from ordinal ``start`` to ``end`` (default: all), in order."""
        stop = self._count if end is None else min(end, self._count)
        if stop <= start:
            return []
        found: list[str] = self._core.terms(self.field_name, start, stop)
        return found

    def terms_at(self, indexes: Iterable[int]) -> list[str]:
        """The terms at the given ordinals."""
        return [self.term(index) for index in indexes]

    def term(self, index: int) -> str:
        """The term at an ordinal."""
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self.terms(index, index + 1)[0]

    def bound(self, key: bytes, *, after: bool) -> int:
        """Where ``key`` would go: the ordinal of the first term ``>= key`` (``> key``
        when ``after``)."""
        found: int = self._core.bound(self.field_name, key, after)
        return found

    def prefix_range(self, prefix: bytes) -> tuple[int, int]:
        """The ordinal range ``[start, end)`` of the terms that start with ``prefix``."""
        start, end = self._core.prefix_range(self.field_name, prefix)
        return int(start), int(end)

    def slice_bytes(self, start: int, end: int) -> list[bytes]:
        """The UTF-8 bytes of terms ``start`` .. ``end - 1``."""
        if end <= start:
            return []
        found: list[bytes] = self._core.term_bytes(self.field_name, start, end)
        return found

    def doc_freqs(self, start: int = 0, end: int | None = None) -> npt.NDArray[np.uint32]:
        """Documents (deleted ones included) holding each term ``start`` .. ``end - 1``."""
        import numpy as np
        stop = self._count if end is None else min(end, self._count)
        return np.frombuffer(self._core.doc_freqs(self.field_name, start, max(start, stop)), dtype="<u4")

    def doc_freq(self, index: int) -> int:
        """Documents (deleted ones included) holding term ``index`` (one look-up: no array)."""
        return int.from_bytes(self._core.doc_freqs(self.field_name, index, index + 1), "little")

    def release_pages(self) -> None:
        """Nothing to release: the core reads the dictionary in place, a block at a time."""


def _core_str(term: str) -> str:
    """``term`` as the core takes it: a string with a lone surrogate cannot cross (no
    term in an index holds one, since the core's terms are UTF-8), so it is replaced
    by one that finds nothing."""
    try:
        term.encode("utf-8")
    except UnicodeEncodeError:
        return "\x00\ufffe"  # never a term: the analyzers drop control characters
    return term


def keeps_compiled_lexicon(analyzer: Analyzer) -> bool:
    """Whether a field of ``analyzer`` keeps a lexicon made by the core: its chain ends
    in the compiled stemmer (see :func:`core_chain`)."""
    from searchlib.analysis.filters import CompiledSnowballStemFilter  # an analyzer exists: loaded

    filters = analyzer.filters
    return analyzer.is_fast and bool(filters) and isinstance(filters[-1], CompiledSnowballStemFilter)


#: Each analyzer's key chain, made once (a dict, not functools' cache: a search does not
#: load functools); emptied when it holds this many.
_KEY_ANALYZERS: dict[Analyzer, Analyzer] = {}
_KEY_ANALYZERS_SIZE = 64


def lexicon_key_analyzer(analyzer: Analyzer) -> Analyzer:
    """The chain before the compiled stemmer: what makes a lexicon key of a word."""
    keys = _KEY_ANALYZERS.get(analyzer)
    if keys is None:
        if len(_KEY_ANALYZERS) >= _KEY_ANALYZERS_SIZE:
            _KEY_ANALYZERS.clear()
        from searchlib.analysis import Analyzer  # loaded already: an analyzer is given

        keys = _KEY_ANALYZERS[analyzer] = Analyzer(analyzer.tokenizer, list(analyzer.filters[:-1]))
    return keys
