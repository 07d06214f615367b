"""Analysis: turning text into the terms an index stores and a query looks up.

Roles
-----
- A **tokenizer** splits text into raw tokens, each a :class:`Token` carrying its
  position and the exact character span it came from (``text[start:end]``).
- A **filter** transforms a token stream: lowercase it, drop stop words, stem it.
- An **analyzer** is a tokenizer followed by filters, built with ``|``::

      >>> analyzer = UnicodeWordTokenizer() | LowercaseFilter() | StopFilter()
      >>> [t.text for t in analyzer.tokens("The Direct Talks")]
      ['direct', 'talks']

The fast path
-------------
Every built-in filter here acts on one token at a time, and its output depends only on
the token's text. So an analyzer can skip building ``Token`` objects while indexing:
it tokenizes with one regex pass and maps each raw token through a cache to its final
term (:meth:`Analyzer.terms`). Stemming a word in NLTK costs tens of microseconds; a
cache hit costs a dict lookup, and Zipf's law makes nearly every lookup a hit. The
cache is bounded (it is emptied when it passes ``cache_size`` entries), and its hit
rate is reported by :meth:`Analyzer.cache_stats`.

Positions count raw tokens, so a dropped stop word leaves a gap: "talks with Hamas"
gives ``talks`` at 0 and ``hamas`` at 2, which keeps phrase queries honest.

Serialization
-------------
An index stores each field's analyzer as ``{"name": ..., "params": {...}}`` (JSON, never
pickled) and rebuilds it on open with :func:`analyzer_from_spec`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Protocol

import regex

from searchlib.errors import AnalyzerError

#: What a raw token maps to when a filter drops it (a stop word).
DROPPED = None


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its text after filtering, its position and its source span."""

    text: str
    pos: int
    start: int
    end: int


class Tokenizer(Protocol):
    """Splits text into raw tokens."""

    def tokens(self, text: str) -> Iterator[Token]:
        """Yield raw tokens with positions and character offsets."""
        ...

    def words(self, text: str) -> list[str]:
        """Return the raw token texts only: the indexing fast path, no offsets."""
        ...


class TokenFilter(Protocol):
    """Maps one raw term to its output term, or to ``DROPPED``."""

    def map_term(self, term: str) -> str | None:
        """Return the filtered form of ``term``, or ``None`` to drop it."""
        ...


class UnicodeWordTokenizer:
    """Runs of Unicode word characters (letters, marks, digits, underscore) in any script.

    Apostrophes, hyphens and other punctuation separate tokens: "Israel's" gives
    ``Israel`` and ``s``; "ceasefire-talks" gives ``ceasefire`` and ``talks``.
    """

    _pattern = regex.compile(r"\w+")

    def tokens(self, text: str) -> Iterator[Token]:
        for pos, match in enumerate(self._pattern.finditer(text)):
            yield Token(match.group(), pos, match.start(), match.end())

    def words(self, text: str) -> list[str]:
        words: list[str] = self._pattern.findall(text)
        return words

    def __or__(self, other: TokenFilter) -> Analyzer:
        return Analyzer(self, [other])


class KeywordTokenizer:
    """The whole value as one token (for identifiers, tags and dates)."""

    def tokens(self, text: str) -> Iterator[Token]:
        if text:
            yield Token(text, 0, 0, len(text))

    def words(self, text: str) -> list[str]:
        return [text] if text else []

    def __or__(self, other: TokenFilter) -> Analyzer:
        return Analyzer(self, [other])


class LowercaseFilter:
    """Unicode case folding: ``Straße`` and ``STRASSE`` both become ``strasse``."""

    def map_term(self, term: str) -> str | None:
        return term.casefold()


class StopFilter:
    """Drops stop words; by default the English list shipped with searchlib."""

    def __init__(self, words: Iterable[str] | None = None) -> None:
        self.words = frozenset(words) if words is not None else english_stop_words()

    def map_term(self, term: str) -> str | None:
        return DROPPED if term in self.words else term


class StemFilter:
    """Base of the NLTK stemmers: the stemmer is built on first use and memoized.

    NLTK takes a quarter of a second to import, so it is imported only when a word misses
    every cache: the analyzer's, this filter's memo, and the per-segment lexicon an index
    stores for query words (see :attr:`Analyzer.known_terms`). Stems are memoized on the
    filter's input, so "Cell" and "cell" (two raw tokens, one lowercased term) are stemmed
    once.
    """

    #: Slow (or slow to import): an index records what this filter made of each word.
    costly = True

    def __init__(self, memo_size: int = 200_000) -> None:
        self._memo_size = memo_size
        self._stem: Callable[[str], str] | None = None

    def _make_stemmer(self) -> Callable[[str], str]:
        raise NotImplementedError

    def map_term(self, term: str) -> str | None:
        if self._stem is None:
            self._stem = lru_cache(maxsize=self._memo_size)(self._make_stemmer())
        return self._stem(term)


class PorterStemFilter(StemFilter):
    """NLTK's Porter stemmer: ``talks``, ``talking`` and ``talked`` become ``talk``."""

    def _make_stemmer(self) -> Callable[[str], str]:
        from nltk.stem.porter import PorterStemmer

        stem: Callable[[str], str] = PorterStemmer().stem
        return stem


class SnowballStemFilter(StemFilter):
    """NLTK's Snowball stemmer for ``language`` (for English, Porter2).

    Porter2 revises the original Porter rules ("generously" gives ``generous``, not
    ``gener``; "dying" gives ``die``) and is about a third faster in NLTK.
    """

    def __init__(self, language: str = "english", memo_size: int = 200_000) -> None:
        super().__init__(memo_size)
        self.language = language

    def _make_stemmer(self) -> Callable[[str], str]:
        from nltk.stem.snowball import SnowballStemmer

        stem: Callable[[str], str] = SnowballStemmer(self.language).stem
        return stem


@cache
def english_stop_words() -> frozenset[str]:
    """The English stop list shipped in ``searchlib/data/stopwords_en.txt``."""
    # Read beside this module rather than through importlib.resources, whose import
    # alone costs ~15 ms of every `searchlib query`.
    text = (Path(__file__).parent / "data" / "stopwords_en.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


class Analyzer:
    """A tokenizer and a chain of per-token filters, with a bounded term cache.

    Parameters
    ----------
    tokenizer:
        Splits the text into raw tokens.
    filters:
        Applied in order to each raw token; a filter returning ``None`` drops it.
    cache_size:
        Most raw tokens remembered by the fast path before the cache is emptied.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        filters: Iterable[TokenFilter] = (),
        *,
        cache_size: int = 500_000,
    ) -> None:
        if not callable(getattr(tokenizer, "tokens", None)):
            raise AnalyzerError(
                f"an analyzer must start with a tokenizer, not {type(tokenizer).__name__}"
            )
        self.tokenizer = tokenizer
        self.filters: list[TokenFilter] = list(filters)
        for item in self.filters:
            if not callable(getattr(item, "map_term", None)):
                raise AnalyzerError(f"{type(item).__name__} is not a token filter")
        self.cache_size = cache_size
        self.spec: dict[str, Any] | None = None
        costly = [i for i, item in enumerate(self.filters) if getattr(item, "costly", False)]
        #: Where the costly part of the chain starts (None: the whole chain is cheap).
        self.costly_from: int | None = costly[0] if costly else None
        #: Optional look-up of what the costly filters make of a lexicon key (see
        #: :meth:`lexicon_key`): an index's stored lexicon, so that query words and
        #: snippets need not import or run a stemmer. Returns None when it does not know.
        self.known_terms: Callable[[str], str | None] | None = None
        self._cache: dict[str, str | None] = {}
        self._lookups = 0
        self._misses = 0

    def __or__(self, other: TokenFilter) -> Analyzer:
        return Analyzer(self.tokenizer, [*self.filters, other], cache_size=self.cache_size)

    def term_for(self, raw: str) -> str | None:
        """Run one raw token through the filters, uncached."""
        return self._run_filters(raw, self.filters)

    def lexicon_key(self, raw: str) -> str | None:
        """A raw token after the cheap filters that precede the costly ones (a stemmer).

        An index stores, per segment and field, the term each such key became, so a
        word already indexed is analyzed again without the costly filters. None when a
        cheap filter drops the token (a stop word), or when the chain has nothing costly.
        """
        if self.costly_from is None:
            return None
        return self._run_filters(raw, self.filters[: self.costly_from])

    def costly_term(self, key: str) -> str | None:
        """What the costly filters make of a lexicon key."""
        return self._run_filters(key, self.filters[self.costly_from :])

    @staticmethod
    def _run_filters(term: str, filters: list[TokenFilter]) -> str | None:
        for token_filter in filters:
            mapped = token_filter.map_term(term)
            if mapped is None:
                return DROPPED
            term = mapped
        return term

    def terms(self, text: str) -> list[str | None]:
        """Fast path: the term of each raw token in order, ``None`` where dropped.

        The list index is the token's position.
        """
        return self.map_words(self.tokenizer.words(text))

    def map_words(self, words: list[str]) -> list[str | None]:
        """Map raw tokens to terms through the cache (one dict lookup per token)."""
        if not self.filters:  # nothing to map: the raw tokens are the terms
            return list(words)
        cache_get = self._cache.get
        missing = object()
        mapped: list[Any] = [cache_get(word, missing) for word in words]
        self._lookups += len(words)
        if missing in mapped:
            cache = self._cache
            for index, value in enumerate(mapped):
                if value is missing:
                    word = words[index]  # may have been cached by an earlier miss here
                    mapped[index] = cache[word] if word in cache else self._remember(word)
        return mapped

    def term(self, raw: str) -> str | None:
        """The term of one raw token, through the cache."""
        cache = self._cache
        return cache[raw] if raw in cache else self._remember(raw)

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
                term = self.known_terms(key) if self.known_terms is not None else None
                if term is None:
                    term = self.costly_term(key)
        self._cache[raw] = term
        return term

    def tokens(self, text: str) -> Iterator[Token]:
        """General path: tokens with positions and source offsets, stop words dropped."""
        for token in self.tokenizer.tokens(text):
            term = self.term(token.text)
            if term is not None:
                yield Token(term, token.pos, token.start, token.end)

    def cache_stats(self) -> dict[str, float]:
        """Lookups, misses, hit rate and current size of the fast-path cache."""
        hit_rate = 1.0 - self._misses / self._lookups if self._lookups else 0.0
        return {
            "lookups": self._lookups,
            "misses": self._misses,
            "hit_rate": hit_rate,
            "size": len(self._cache),
        }

    def __repr__(self) -> str:
        parts = [type(self.tokenizer).__name__] + [type(f).__name__ for f in self.filters]
        return " | ".join(parts)


# --- presets ------------------------------------------------------------------------


def _standard() -> Analyzer:
    return UnicodeWordTokenizer() | LowercaseFilter()


def _english() -> Analyzer:
    return UnicodeWordTokenizer() | LowercaseFilter() | StopFilter() | SnowballStemFilter("english")


def _keyword() -> Analyzer:
    return Analyzer(KeywordTokenizer())


_PRESETS: dict[str, Callable[[], Analyzer]] = {
    "standard": _standard,
    "simple": _standard,
    "english": _english,
    "keyword": _keyword,
}


def register_analyzer(name: str, factory: Callable[..., Analyzer]) -> None:
    """Make ``factory`` available under ``name`` for schemas and stored indexes."""
    _PRESETS[name] = factory


def analyzer_names() -> list[str]:
    """The names :func:`get_analyzer` accepts."""
    return sorted(_PRESETS)


def get_analyzer(name: str, **params: Any) -> Analyzer:
    """Build the analyzer registered under ``name``.

    >>> get_analyzer("english").terms("Talking directly")
    ['talk', 'direct']
    """
    factory = _PRESETS.get(name)
    if factory is None:
        raise AnalyzerError(
            f"unknown analyzer {name!r}; known analyzers: {', '.join(analyzer_names())}"
        )
    analyzer = factory(**params)
    analyzer.spec = {"name": name, "params": params}
    return analyzer


def analyzer_from_spec(spec: dict[str, Any]) -> Analyzer:
    """Rebuild an analyzer from the JSON spec an index stores."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise AnalyzerError(f"malformed analyzer spec {spec!r}: expected {{'name': ...}}")
    params = spec.get("params") or {}
    if not isinstance(params, dict):
        raise AnalyzerError(f"malformed analyzer params {params!r}: expected an object")
    return get_analyzer(spec["name"], **params)
