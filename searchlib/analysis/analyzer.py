"""The analyzer: a tokenizer and its filters, with the cached fast path indexing runs on.

Fast path
---------
When every filter maps one token to at most one token by its text alone (all but
synonyms do), the chain is a function of the raw word. :meth:`Analyzer.terms` then
tokenizes with the tokenizer's single regex pass and maps each raw word through a
cache to its final term: one dict lookup per token, and the filters (a stemmer costs
tens of microseconds a word) run once per distinct word. The cache is bounded: it is
emptied when it passes ``cache_size`` entries, so a corpus with millions of distinct
words cannot grow it without limit; :meth:`Analyzer.cache_stats` reports its hit rate.

General path
------------
:meth:`Analyzer.tokens` yields :class:`Token` objects with positions and offsets and
runs every kind of filter, including those that add tokens (synonyms). For a chain the
fast path can run, both paths give the same terms at the same positions; the tests
check that on arbitrary Unicode.

Positions count tokens from the tokenizer, so a dropped stop word leaves a gap:
"talks with Hamas" gives ``talk`` at 0 and ``hamas`` at 2, which keeps phrases honest.

The compiled core
-----------------
An analyzer made only of built-in parts has a chain spec (:meth:`Analyzer.core_spec`,
JSON) that the compiled core (``searchlib._core.CoreAnalyzer``) builds the same chain
from, with its own term cache. :meth:`terms`, :meth:`term_list` and :meth:`tokens` then
run in the core, with the same terms, positions and offsets (a property test checks that
on arbitrary Unicode); a chain with a custom or NLTK part runs here, in Python.
"""

from __future__ import annotations


from searchlib.analysis.tokens import DROPPED, StreamFilter, Token, TokenFilter, Tokenizer
from searchlib.errors import AnalyzerError

TYPE_CHECKING = False  # typing's flag, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any, Callable

AnyFilter = TokenFilter | StreamFilter


class Analyzer:
    """A tokenizer and a chain of filters, with a bounded per-word term cache.

    Parameters
    ----------
    tokenizer:
        Splits the text into raw tokens.
    filters:
        Applied in order; a per-token filter returning ``None`` drops the token.
    cache_size:
        Most raw words the fast path remembers before its cache is emptied.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        filters: Iterable[AnyFilter] = (),
        *,
        cache_size: int = 500_000,
    ) -> None:
        if not isinstance(tokenizer, Tokenizer):
            raise AnalyzerError(
                f"an analyzer must start with a tokenizer, not {type(tokenizer).__name__}"
            )
        self.tokenizer = tokenizer
        self.filters: list[AnyFilter] = list(filters)
        for item in self.filters:
            if isinstance(item, Tokenizer):
                raise AnalyzerError(
                    f"{type(item).__name__} is a tokenizer; only the first step of a chain may be one"
                )
            if not isinstance(item, (TokenFilter, StreamFilter)):
                raise AnalyzerError(f"{type(item).__name__} is not a token filter")
        self.cache_size = cache_size
        #: The name and JSON parameters this analyzer was built from (set by get_analyzer).
        self.spec: dict[str, Any] | None = None
        #: Whether the cached fast path applies (no filter adds tokens).
        self.is_fast = all(isinstance(item, TokenFilter) for item in self.filters)
        costly = [i for i, item in enumerate(self.filters) if getattr(item, "costly", False)]
        #: Where the costly part of the chain starts; None when nothing is costly or the
        #: chain is not fast (a lexicon maps one word to one term).
        self.costly_from: int | None = costly[0] if costly and self.is_fast else None
        #: Optional look-up of what the costly filters make of a lexicon key (see
        #: :meth:`lexicon_key`): an index's stored lexicon, so that query words and
        #: snippets need not import or run a stemmer. Returns None when it does not know.
        self.known_terms: Callable[[str], str | None] | None = None
        self._cache = _TermCache(self._remember)
        self._lookups = 0
        self._misses = 0
        self._core: Any = None  # the core's analyzer, built on first use; False: none

    def __or__(self, other: AnyFilter) -> Analyzer:
        return Analyzer(self.tokenizer, [*self.filters, other], cache_size=self.cache_size)

    # --- the compiled core -----------------------------------------------------------

    def core_spec(self) -> str | None:
        """The chain as the compiled core's spec (JSON), or None when a part of it is not
        built into the core (a custom tokenizer or filter, an NLTK stemmer, a regex
        tokenizer other than letters). The core builds this chain with
        ``CoreAnalyzer(spec)`` (Python) or ``Analyzer::from_spec`` (Rust)."""
        tokenizer = self.tokenizer.core_spec()
        filters = [item.core_spec() for item in self.filters]
        if tokenizer is None or any(spec is None for spec in filters):
            return None
        from searchlib import _core

        return _core.dump_json({"tokenizer": tokenizer, "filters": filters})

    def core(self) -> Any:
        """The core's analyzer for this chain (``searchlib._core.CoreAnalyzer``), or None
        when the chain runs in Python."""
        if self._core is None:
            spec = self.core_spec()
            self._core = False
            if spec is not None:
                from searchlib import _core

                try:
                    self._core = _core.CoreAnalyzer(spec, self.cache_size)
                except ValueError:  # a part the core refuses: Python runs the chain
                    self._core = False
        return self._core or None

    # --- one word ---------------------------------------------------------------------

    def term_for(self, raw: str) -> str | None:
        """Run one raw token through the per-token filters, uncached."""
        return _run_filters(raw, self.filters)

    def normalize(self, pattern: str) -> str:
        """``pattern`` through the normalizing filters only (case folding, accent
        folding): how prefix, wildcard and regex patterns meet the indexed terms, which
        a stemmer must not touch ("universit*" must not become "univers*")."""
        for item in self.filters:
            if isinstance(item, TokenFilter) and item.normalizes:
                pattern = item.map_term(pattern) or pattern
        return pattern

    def lexicon_key(self, raw: str) -> str | None:
        """A raw token after the cheap filters that precede the costly ones (a stemmer).

        An index stores, per segment and field, the term each such key became, so a
        word already indexed is analyzed again without the costly filters. None when a
        cheap filter drops the token (a stop word), or when the chain has nothing costly.
        """
        if self.costly_from is None:
            return None
        return _run_filters(raw, self.filters[: self.costly_from])

    def costly_term(self, key: str) -> str | None:
        """What the costly filters make of a lexicon key."""
        return _run_filters(key, self.filters[self.costly_from :])

    def term(self, raw: str) -> str | None:
        """The term of one raw token, through the cache (fast chains only)."""
        self._lookups += 1
        return self._cache[raw]

    def _remember(self, raw: str) -> str | None:
        self._misses += 1
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        if self.costly_from is None:
            term = self.term_for(raw)
        else:
            key = self.lexicon_key(raw)
            term = DROPPED
            if key is not None:
                term = self._known_term(raw, key)
                if term is None:
                    term = self.costly_term(key)
        self._cache[raw] = term
        return term

    def _known_term(self, raw: str, key: str) -> str | None:
        """The term of lexicon ``key`` if it is already known: None means "run the costly
        filters".

        First the cache's entry for the key as a raw word: "Talks" is usually missed
        after "talks" was seen, and its key "talks" is that word's, as long as the
        cheap filters leave the key as it is (checked: they are cheap). This is why the
        stemmer's own memo can stay small. Then the index's lexicon, if one is attached.
        """
        if key != raw:
            cached = self._cache.get(key)  # dict.get: a miss computes nothing
            if cached is not None and self.lexicon_key(key) == key:
                return cached
        return self.known_terms(key) if self.known_terms is not None else None

    # --- whole texts ------------------------------------------------------------------

    def terms(self, text: str) -> list[str | None]:
        """Fast path: the term of each raw token in order, ``None`` where dropped.

        The list index is the token's position. Only for fast chains (``is_fast``).
        """
        if not self.is_fast:
            raise AnalyzerError(f"{self!r} adds tokens, so it has no fast path; use tokens()")
        core = self.core()
        if core is not None:
            try:
                terms: list[str | None] = core.terms(text)
                return terms
            except UnicodeEncodeError:  # a lone surrogate, which the core cannot take
                pass
        return self.map_words(self.tokenizer.words(text))

    def map_words(self, words: list[str]) -> list[str | None]:
        """Map raw tokens to terms through the cache (one dict lookup per token)."""
        if not self.filters:  # nothing to map: the raw tokens are the terms
            return list(words)
        self._lookups += len(words)
        # A hit is one C-level dict lookup; a miss calls _remember via __missing__.
        return list(map(self._cache.__getitem__, words))

    def term_list(self, text: str) -> list[str]:
        """The terms of ``text`` in order, dropped tokens left out (either path)."""
        core = self.core()
        if core is not None:
            try:
                found: list[str] = core.terms_batch([text])[0][0]
                return found
            except UnicodeEncodeError:  # a lone surrogate: Python's chain takes it
                pass
        if self.is_fast:
            return [term for term in self.terms(text) if term is not None]
        return [token.text for token in self.tokens(text)]

    def term_lists(self, texts: list[str]) -> list[list[str]]:
        """:meth:`term_list` of each text, in one call into the core for them all (the
        words of a query the parser has not seen yet)."""
        core = self.core()
        if core is not None:
            try:
                return [terms for terms, _ in core.terms_batch(texts)]
            except UnicodeEncodeError:  # a lone surrogate somewhere: text by text
                pass
        return [self.term_list(text) for text in texts]

    def tokens(self, text: str, *, cached: bool = True) -> Iterator[Token]:
        """General path: tokens with positions and source offsets, dropped ones left out.

        ``cached=False`` runs every filter here, on every token, bypassing the word cache
        and the core (the reference both are tested against).
        """
        core = self.core() if cached else None
        if core is not None:
            try:
                return map(Token, *core.tokens(text))
            except UnicodeEncodeError:  # a lone surrogate: Python's chain takes it
                pass
        stream: Iterator[Token] = self.tokenizer.tokens(text)
        if self.is_fast and cached:
            return self._cached_tokens(stream)
        for item in self.filters:
            stream = item.apply(stream) if isinstance(item, StreamFilter) else _map_tokens(item, stream)
        return stream if self.is_fast else _unique_per_position(stream)

    def _cached_tokens(self, stream: Iterable[Token]) -> Iterator[Token]:
        for token in stream:
            term = self.term(token.text)
            if term is not None:
                yield Token(term, token.pos, token.start, token.end)

    def cache_stats(self) -> dict[str, float]:
        """Lookups, misses, hit rate and current size of the fast-path cache (both the
        core's and this object's, which serves :meth:`term` and :meth:`map_words`)."""
        lookups, misses, size = self._lookups, self._misses, len(self._cache)
        if self._core:
            core_lookups, core_misses, size = self._core.cache_stats()
            lookups, misses, size = lookups + core_lookups, misses + core_misses, size + len(self._cache)
        hit_rate = 1.0 - misses / lookups if lookups else 0.0
        return {"lookups": lookups, "misses": misses, "hit_rate": hit_rate, "size": size}

    def __repr__(self) -> str:
        return " | ".join(repr(part) for part in [self.tokenizer, *self.filters])


class _TermCache(dict[str, "str | None"]):
    """Raw word -> term. A missing word is computed by ``compute``, which stores it."""

    def __init__(self, compute: Callable[[str], str | None]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, raw: str) -> str | None:
        return self._compute(raw)


def _run_filters(term: str, filters: Iterable[AnyFilter]) -> str | None:
    for token_filter in filters:
        mapped = token_filter.map_term(term)  # type: ignore[union-attr]
        if mapped is None:
            return DROPPED
        term = mapped
    return term


def _unique_per_position(stream: Iterator[Token]) -> Iterator[Token]:
    """Drop a token whose term an earlier token at the same position already has: a
    synonym that stems like its word ("cars" -> "car") would otherwise count twice."""
    position, seen = -1, set[str]()
    for token in stream:
        if token.pos != position:
            position, seen = token.pos, set()
        if token.text not in seen:
            seen.add(token.text)
            yield token


def _map_tokens(token_filter: TokenFilter, stream: Iterable[Token]) -> Iterator[Token]:
    for token in stream:
        term = token_filter.map_term(token.text)
        if term is not None:
            yield Token(term, token.pos, token.start, token.end)
