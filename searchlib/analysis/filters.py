"""Token filters: case, diacritics, stop words, possessives, length, stems and synonyms.

Every filter here but :class:`SynonymFilter` maps one token's text to one output (or
drops it), so an analyzer can cache a whole chain of them per raw word.
"""

from __future__ import annotations

import os
from _thread import allocate_lock  # threading's Lock, without loading threading

from searchlib.analysis.tokens import DROPPED, StreamFilter, Token, TokenFilter
from searchlib.errors import AnalyzerError

TYPE_CHECKING = False  # typing's flag, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from typing import Any

#: The languages NLTK's Snowball stemmer has (``SnowballStemmer.languages`` without its
#: "porter" alias). Listed here so naming one needs no NLTK import; a test keeps the two
#: lists equal.
SNOWBALL_LANGUAGES: tuple[str, ...] = (
    "arabic", "danish", "dutch", "english", "finnish", "french", "german", "hungarian",
    "italian", "norwegian", "portuguese", "romanian", "russian", "spanish", "swedish",
)


#: The languages of the compiled Snowball stemmers (rust-stemmers): NLTK's but for
#: Greek, Tamil and Turkish, which only the compiled ones have. Listed here so naming one
#: needs no import of the core; a test keeps the two lists equal.
COMPILED_SNOWBALL_LANGUAGES: tuple[str, ...] = (
    *SNOWBALL_LANGUAGES, "greek", "tamil", "turkish",
)


def _check_language(language: str, what: str, languages: tuple[str, ...] = SNOWBALL_LANGUAGES) -> str:
    if language not in languages:
        raise AnalyzerError(
            f"no {what} for language {language!r}; languages: {', '.join(sorted(languages))}"
        )
    return language


def _exactly(item: object, cls: type) -> bool:
    """Whether ``item`` is a ``cls`` and not a subclass (which may change what it does, so
    the core cannot stand in for it)."""
    return type(item) is cls


class LowercaseFilter(TokenFilter):
    """Unicode case folding, then NFC: ``Straße`` and ``STRASSE`` both become ``strasse``,
    and a decomposed ``é`` (e + combining accent) becomes the composed one."""

    normalizes = True

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "lowercase"} if _exactly(self, LowercaseFilter) else None

    def map_term(self, term: str) -> str | None:
        folded = term.casefold()
        if folded.isascii():
            return folded
        import unicodedata  # for text beyond ASCII only (a C module: a search may not need it)

        return unicodedata.normalize("NFC", folded)


#: Latin letters that do not decompose into an ASCII letter plus marks.
_FOLD_SPECIAL = str.maketrans({
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
    "ı": "i", "ħ": "h", "Ħ": "H", "ŀ": "l", "Ŀ": "L", "ŧ": "t", "Ŧ": "T",
})


#: Characters folded so far (emptied when it holds _FOLDED_SIZE): a dict rather than
#: functools' cache, which a search would load with its module.
_FOLDED: dict[str, str] = {}
_FOLDED_SIZE = 4096


def _fold_char(char: str) -> str:
    folded = _FOLDED.get(char)
    if folded is None:
        if len(_FOLDED) >= _FOLDED_SIZE:
            _FOLDED.clear()
        folded = _FOLDED[char] = _fold_new_char(char)
    return folded


def _fold_new_char(char: str) -> str:
    special = char.translate(_FOLD_SPECIAL)
    if special != char:
        return special
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Only fold into ASCII: kana with voicing marks or Hangul syllables also decompose,
    # and stripping their marks would change the word.
    return base if base and base.isascii() else char


class ASCIIFoldingFilter(TokenFilter):
    """Folds accented and other Latin letters to ASCII: ``café`` matches ``cafe``,
    ``Øresund`` matches ``Oresund``. Letters of other scripts are left as they are."""

    normalizes = True

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "ascii_folding"} if _exactly(self, ASCIIFoldingFilter) else None

    def map_term(self, term: str) -> str | None:
        if term.isascii():
            return term
        return "".join(_fold_char(char) for char in term)


#: Each language's stop list, read once.
_STOP_LISTS: dict[str, frozenset[str]] = {}


def english_stop_words() -> frozenset[str]:
    """The English stop list shipped in ``searchlib/data/stopwords_en.txt``."""
    words = _STOP_LISTS.get("english")
    if words is None:
        # Read beside this package rather than through importlib.resources, whose import
        # alone costs ~15 ms of every `searchlib query` (and with os.path, not pathlib,
        # which a search does not load otherwise).
        package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
        with open(os.path.join(package, "data", "stopwords_en.txt"), encoding="utf-8") as file:
            text = file.read()
        words = _STOP_LISTS["english"] = frozenset(
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        )
    return words


def stop_words(language: str) -> frozenset[str]:
    """The stop list of a Snowball language (English shipped; others from ``stop-words``)."""
    words = _STOP_LISTS.get(language)
    if words is not None:
        return words
    _check_language(language, "stop list", COMPILED_SNOWBALL_LANGUAGES)
    if language == "english":
        return english_stop_words()
    import unicodedata

    from stop_words import get_stop_words

    words = _STOP_LISTS[language] = frozenset(
        unicodedata.normalize("NFC", word.casefold()) for word in get_stop_words(language)
    )
    return words


class StopFilter(TokenFilter):
    """Drops stop words: ``words`` if given, else the list of ``language``.

    Compare after lowercasing: the lists are lowercase.
    """

    def __init__(self, words: Iterable[str] | None = None, *, language: str = "english") -> None:
        self.words = frozenset(words) if words is not None else stop_words(language)

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "stop", "words": sorted(self.words)} if _exactly(self, StopFilter) else None

    def map_term(self, term: str) -> str | None:
        return DROPPED if term in self.words else term


class PossessiveFilter(TokenFilter):
    """Strips an English possessive: ``Israel's`` and ``Israel’s`` give ``Israel``, and
    ``students'`` gives ``students``. Other apostrophes are written straight (``don’t``
    gives ``don't``), so one stop list and one stem serve both spellings."""

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "possessive"} if _exactly(self, PossessiveFilter) else None

    def map_term(self, term: str) -> str | None:
        if "’" in term:
            term = term.replace("’", "'")
        if term[-2:] in ("'s", "'S"):
            term = term[:-2]
        elif term[-1:] == "'":
            term = term[:-1]
        return term or DROPPED


#: Elided articles and pronouns, as Lucene's French and Italian analyzers strip them.
ELISIONS: dict[str, frozenset[str]] = {
    "french": frozenset("l m t qu n s j d c jusqu quoiqu lorsqu puisqu".split()),
    "italian": frozenset(
        "c l all dall dell nell sull coll pell gl agl dagl degl negl sugl un m t s v d".split()
    ),
}


class ElisionFilter(TokenFilter):
    """Strips an elided article: French ``l'homme`` gives ``homme``, Italian ``dell'anno``
    gives ``anno``. Compare after lowercasing; curly apostrophes count too."""

    def __init__(self, articles: Iterable[str] | None = None, *, language: str = "french") -> None:
        if articles is None:
            if language not in ELISIONS:
                raise AnalyzerError(
                    f"no elision list for language {language!r}; languages: {', '.join(ELISIONS)}"
                )
            articles = ELISIONS[language]
        self.articles = frozenset(articles)

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "elision", "articles": sorted(self.articles)} if _exactly(self, ElisionFilter) else None

    def map_term(self, term: str) -> str | None:
        for apostrophe in ("'", "’"):
            article, found, rest = term.partition(apostrophe)
            if found and rest and article in self.articles:
                return rest
        return term


class LengthFilter(TokenFilter):
    """Drops tokens shorter than ``min_length`` or longer than ``max_length`` characters."""

    def __init__(self, min_length: int = 1, max_length: int = 255) -> None:
        if not 0 <= min_length <= max_length:
            raise AnalyzerError(f"length bounds need 0 <= min <= max, got {min_length} and {max_length}")
        self.min_length, self.max_length = min_length, max_length

    def core_spec(self) -> dict[str, Any] | None:
        if not _exactly(self, LengthFilter):
            return None
        return {"type": "length", "min": self.min_length, "max": self.max_length}

    def map_term(self, term: str) -> str | None:
        return term if self.min_length <= len(term) <= self.max_length else DROPPED


#: Words a stemmer remembers (least recently used dropped first).
DEFAULT_STEM_MEMO = 50_000


class StemFilter(TokenFilter):
    """Base of the NLTK stemmers: the stemmer is built on first use and memoized.

    NLTK takes a quarter of a second to import, so it is imported only when a word misses
    every cache: the analyzer's, this filter's memo, and the per-segment lexicon an index
    stores (see ``Analyzer.known_terms``).

    The memo is small because the analyzer's cache already maps every word it has seen
    to its stem, case variants included (see ``Analyzer._known_term``): the memo matters
    after that cache is emptied, when the most recently stemmed words, the frequent
    ones, come back first. 200,000 entries cost 29 MB and saved 1% of the stemmer
    calls indexing 100k documents.
    """

    costly = True

    def __init__(self, memo_size: int = DEFAULT_STEM_MEMO) -> None:
        self._memo_size = memo_size
        self._stem: Callable[[str], str] | None = None

    def _make_stemmer(self) -> Callable[[str], str]:
        raise NotImplementedError

    def map_term(self, term: str) -> str | None:
        stem = self._stem
        if stem is None:  # two threads may both build one: either serves
            from functools import lru_cache  # Python's stemmers only (the compiled one runs in the core)

            stem = self._stem = lru_cache(maxsize=self._memo_size)(_one_at_a_time(self._make_stemmer()))
        return stem(term) or term


def _one_at_a_time(stem: Callable[[str], str]) -> Callable[[str], str]:
    """``stem`` behind a lock of its own, so that threads sharing an analyzer may call it.

    Not every NLTK stemmer may run in two threads at once: Arabic's keeps the word being
    stemmed in its own attributes, Lancaster's reads its rules on first use. The lock
    costs a fraction of a microsecond against tens for a stem, and only on a miss of
    the memo around it; Python runs one thread at a time anyway.
    """
    lock = allocate_lock()

    def stem_alone(word: str) -> str:
        with lock:
            return stem(word)

    return stem_alone


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

    def __init__(self, language: str = "english", memo_size: int = DEFAULT_STEM_MEMO) -> None:
        super().__init__(memo_size)
        self.language = _check_language(language, "Snowball stemmer")

    def _make_stemmer(self) -> Callable[[str], str]:
        from nltk.stem.snowball import SnowballStemmer

        stem: Callable[[str], str] = SnowballStemmer(self.language).stem
        return stem

    def __repr__(self) -> str:
        return f"SnowballStemFilter({self.language!r})"


class LancasterStemFilter(StemFilter):
    """NLTK's Lancaster (Paice/Husk) stemmer: more aggressive than Porter."""

    def _make_stemmer(self) -> Callable[[str], str]:
        from nltk.stem.lancaster import LancasterStemmer

        stem: Callable[[str], str] = LancasterStemmer().stem
        return stem


class CompiledSnowballStemFilter(TokenFilter):
    """The compiled Snowball stemmer of ``language`` (rust-stemmers, in the core): the
    default of ``english`` and the language presets.

    The same algorithms as NLTK's Snowball, in a version that differs on a few words in a
    hundred thousand (see the README). Fast (about a microsecond a word), but ``costly``
    all the same: that is what makes an index keep each stemmed field's raw words (its
    lexicon), which "did you mean" suggests from.
    """

    costly = True

    def __init__(self, language: str = "english") -> None:
        self.language = _check_language(language, "compiled Snowball stemmer", COMPILED_SNOWBALL_LANGUAGES)
        self._memo: dict[str, str] = {}

    def map_term(self, term: str) -> str | None:
        stem = self._memo.get(term)
        if stem is None:
            from searchlib import _core

            if len(self._memo) >= DEFAULT_STEM_MEMO:
                self._memo.clear()
            stem = self._memo[term] = _core.stem_words(self.language, [term])[0] or term
        return stem

    def core_spec(self) -> dict[str, Any] | None:
        if not _exactly(self, CompiledSnowballStemFilter):
            return None
        return {"type": "stem", "algorithm": COMPILED_STEMMER, "language": self.language}

    def __repr__(self) -> str:
        return f"CompiledSnowballStemFilter({self.language!r})"


#: The name analyzer specs give the compiled Snowball stemmers, and the implementation
#: and version they record (the core's ``STEMMER_NAME`` and ``STEMMER_VERSION``; a test
#: keeps them equal, and these spare `searchlib query` an import of the core).
COMPILED_STEMMER = "snowball"
COMPILED_STEMMER_VERSION = "rust-stemmers 1.2.0"


class SynonymFilter(StreamFilter):
    """Adds each token's synonyms from a user mapping at the token's own position.

    ``{"car": ["automobile", "auto"]}`` makes "car" also match "automobile" and "auto"
    (and, at query time, a phrase through any of them). Keys are matched against the
    token as the chain has it at this point (after lowercasing, if that came first).
    The mapping is one-directional; list both ways for symmetric synonyms.
    """

    def __init__(self, mapping: Mapping[str, Sequence[str]]) -> None:
        from collections.abc import Mapping

        if not isinstance(mapping, Mapping) or not all(
            isinstance(key, str) and not isinstance(values, str) and all(isinstance(v, str) and v for v in values)
            for key, values in mapping.items()
        ):
            raise AnalyzerError("synonyms must map each word to a list of non-empty words")
        self.mapping = {key: list(values) for key, values in mapping.items()}

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "synonyms", "mapping": self.mapping} if _exactly(self, SynonymFilter) else None

    def apply(self, tokens: Iterable[Token]) -> Iterator[Token]:
        mapping = self.mapping
        for token in tokens:
            yield token
            for synonym in mapping.get(token.text, ()):
                if synonym != token.text:
                    yield Token(synonym, token.pos, token.start, token.end)
