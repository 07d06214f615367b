"""Tokenizers: where tokens start and end.

:class:`UnicodeWordTokenizer` rules, for text in any script:

- A word is a run of Unicode letters, combining marks, digits and connector punctuation
  (``\\w``), so ``foo_bar`` is one token (identifiers stay whole).
- An apostrophe (``'`` or ``’``) between two word characters joins them: ``don't``,
  ``Israel's`` and ``rock'n'roll`` are one token each (a possessive filter can strip the
  ``'s``); a leading or trailing apostrophe is punctuation.
- Periods and commas separate, also between digits: ``3.14`` gives ``3`` and ``14`` at
  consecutive positions, so the phrase "3.14" still finds it exactly, while a search for
  ``14`` finds it too. (Keeping such numbers whole lowered nDCG@10 on both SciFact and
  Cranfield.) ``U.S.A.`` gives ``U``, ``S``, ``A``.
- Hyphens, slashes and all other punctuation separate tokens: ``ceasefire-talks`` gives
  ``ceasefire`` and ``talks``.
- Han, Hiragana, Katakana and Hangul runs become overlapping bigrams (``東京都`` gives
  ``東京``, ``京都``), and a lone such character a unigram, so Chinese, Japanese and
  Korean text is searchable without a dictionary. Scripts written without spaces that
  are not CJK (Thai, Lao) stay whole runs.
- Lone surrogates and control characters are never part of a token.

Offsets count Python string indices (code points), so ``text[start:end]`` is the span.
"""

from __future__ import annotations

from searchlib.analysis.tokens import Token, Tokenizer
from searchlib.errors import AnalyzerError

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    import re
    from collections.abc import Iterator
    from typing import Any

    import regex

    from searchlib.analysis._patterns import _Patterns


_PATTERNS: _Patterns | None = None


def _patterns() -> _Patterns:
    """The tokenizers' compiled patterns, loaded with their module on first use (see
    :mod:`searchlib.analysis._patterns`) and kept here, so a call after that is one
    global read."""
    global _PATTERNS
    if _PATTERNS is None:
        from searchlib.analysis._patterns import PATTERNS

        _PATTERNS = PATTERNS
    return _PATTERNS


def _word_pattern(text: str) -> re.Pattern[str]:
    patterns = _patterns()
    if text.isascii():
        return patterns.ascii_word
    if patterns.bmp_mark.search(text) or patterns.astral.search(text):
        return patterns.marked_word
    return patterns.word


def _cjk_bigrams(run: str) -> list[str]:
    """Overlapping bigrams of a CJK run; a one-character run is its own unigram."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _may_hold_cjk(text: str) -> bool:
    return not text.isascii() and _patterns().maybe_cjk.search(text) is not None


def _split_cjk(word: str, start: int) -> Iterator[tuple[str, int]]:
    """A word's pieces with their offsets: CJK runs as bigrams, the rest as words
    (apostrophes left at a piece's edge by the split are dropped, as at a word's)."""
    for piece in _patterns().cjk_run_or_other.finditer(word):
        if piece.group(1):
            for offset, gram in enumerate(_cjk_bigrams(piece.group(1))):
                yield gram, start + piece.start() + offset
        else:
            text = piece.group()
            stripped = text.strip("'’")
            if stripped:
                yield stripped, start + piece.start() + text.index(stripped)


class UnicodeWordTokenizer(Tokenizer):
    """Words of every script, with CJK bigrams (see the module docstring for the rules)."""

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "unicode_words"} if type(self) is UnicodeWordTokenizer else None

    def words(self, text: str) -> list[str]:
        words: list[str] = _word_pattern(text).findall(text)
        if not _may_hold_cjk(text):  # the common case: one regex pass, done
            return words
        expanded: list[str] = []
        cjk_char = _patterns().cjk_char
        for word in words:
            if cjk_char.search(word):
                expanded.extend(piece for piece, _ in _split_cjk(word, 0))
            else:
                expanded.append(word)
        return expanded

    def tokens(self, text: str) -> Iterator[Token]:
        # Compiled (with the regex module) only for text that may hold CJK.
        cjk_char = _patterns().cjk_char if _may_hold_cjk(text) else None
        pos = 0
        for match in _word_pattern(text).finditer(text):
            word, start = match.group(), match.start()
            if cjk_char is not None and cjk_char.search(word):
                for piece, piece_start in _split_cjk(word, start):
                    yield Token(piece, pos, piece_start, piece_start + len(piece))
                    pos += 1
            else:
                yield Token(word, pos, start, match.end())
                pos += 1

    def pieces(self, text: str) -> list[str] | None:
        if _may_hold_cjk(text):  # bigrams overlap: no gap-word-gap cut
            return None
        pieces: list[str] = _patterns().splitters[_word_pattern(text)].split(text)
        return pieces


class WhitespaceTokenizer(Tokenizer):
    """Runs of non-whitespace characters: punctuation stays attached (``talks,``)."""

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "whitespace"} if type(self) is WhitespaceTokenizer else None

    def words(self, text: str) -> list[str]:
        words: list[str] = _patterns().non_space.findall(text)
        return words

    def tokens(self, text: str) -> Iterator[Token]:
        for pos, match in enumerate(_patterns().non_space.finditer(text)):
            yield Token(match.group(), pos, match.start(), match.end())

    def pieces(self, text: str) -> list[str] | None:
        pieces: list[str] = _patterns().non_space_splitter.split(text)
        return pieces


#: The longest user pattern (a tokenizer's or a query's ``/regex/``).
MAX_PATTERN_CHARS = 10_000
#: Counted repetitions (``{n}``, ``{n,m}``) in one pattern may multiply to at most this:
#: the ``regex`` module unrolls them when compiling, so ``a{4294967294}`` alone would take
#: minutes and gigabytes to compile. (Counted loosely: every brace pair counts, nested
#: or not.)
MAX_PATTERN_REPEATS = 100_000
_COUNTED_REPEAT = r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}"

#: A tokenizer's regex gets this long per text, plus REGEX_SECONDS_PER_CHAR per character
#: of it, before it is stopped: ample for any pattern that does not backtrack
#: catastrophically (tokenizing runs at megabytes a second), and a bound on those that
#: do, whose time doubles with each character (``(a|a)+$``).
REGEX_SECONDS = 0.05
REGEX_SECONDS_PER_CHAR = 1e-6


def compile_pattern(pattern: Any) -> regex.Pattern[str]:
    """Compile a user pattern (``regex`` module syntax) that may come from an untrusted
    index or query, refusing one too long or with counted repetitions too large to
    compile in bounded time and memory; ValueError says why (as a predicate: "does not
    compile: ...")."""
    if not isinstance(pattern, str):
        raise ValueError(f"is not a string but {type(pattern).__name__}")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"has {len(pattern):,} characters, more than {MAX_PATTERN_CHARS:,}")
    repeats = 1
    import re  # only for user patterns (re keeps the compiled pattern)

    for match in re.finditer(_COUNTED_REPEAT, pattern):
        repeats *= max([1, *(int(n) for n in match.groups() if n)])
        if repeats > MAX_PATTERN_REPEATS:
            raise ValueError(f"has counted repetitions ({{n}}) multiplying to more than {MAX_PATTERN_REPEATS:,}")
    import regex  # user patterns only: the built-in chains run in the compiled core

    try:
        return regex.compile(pattern)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"does not compile: {exc}") from None


#: The ``simple`` preset's pattern, which the compiled core runs too.
LETTERS = r"\p{L}+"


class RegexTokenizer(Tokenizer):
    """Every match of a user regex (``regex`` module syntax) is a token; empty ones are skipped.

    A pattern may come from an index of unknown origin, so it is compiled with
    :func:`compile_pattern`'s limits and each text's matching is stopped after
    ``REGEX_SECONDS + REGEX_SECONDS_PER_CHAR * len(text)`` with an AnalyzerError: a
    pattern that backtracks catastrophically fails instead of running for hours.
    """

    def __init__(self, pattern: str) -> None:
        try:
            self._pattern = compile_pattern(pattern)
        except ValueError as exc:
            raise AnalyzerError(f"tokenizer regex {pattern!r} {exc}") from None
        self.pattern = pattern

    def core_spec(self) -> dict[str, Any] | None:
        """The core runs ``\\p{L}+`` (the ``simple`` preset) alone, by this module's letter
        class; other patterns keep the ``regex`` module's semantics, in Python."""
        if type(self) is RegexTokenizer and self.pattern == LETTERS:
            return {"type": "regex", "pattern": self.pattern}
        return None

    def _timeout(self, text: str) -> float:
        return REGEX_SECONDS + REGEX_SECONDS_PER_CHAR * len(text)

    def _too_slow(self, text: str) -> AnalyzerError:
        return AnalyzerError(
            f"tokenizer regex {self.pattern!r} ran past {self._timeout(text):.2f} s on a text of "
            f"{len(text):,} characters (it backtracks catastrophically); use a simpler pattern"
        )

    def words(self, text: str) -> list[str]:
        if self._pattern.groups:  # findall would return the groups, not the matches
            return [token.text for token in self.tokens(text)]
        try:
            return [word for word in self._pattern.findall(text, timeout=self._timeout(text)) if word]
        except TimeoutError:
            raise self._too_slow(text) from None

    def tokens(self, text: str) -> Iterator[Token]:
        pos = 0
        try:
            for match in self._pattern.finditer(text, timeout=self._timeout(text)):
                if match.end() > match.start():
                    yield Token(match.group(), pos, match.start(), match.end())
                    pos += 1
        except TimeoutError:
            raise self._too_slow(text) from None

    def __repr__(self) -> str:
        return f"RegexTokenizer({self.pattern!r})"


class KeywordTokenizer(Tokenizer):
    """The whole value as one token (for identifiers, tags and dates)."""

    def core_spec(self) -> dict[str, Any] | None:
        return {"type": "keyword"} if type(self) is KeywordTokenizer else None

    def words(self, text: str) -> list[str]:
        return [text] if text else []

    def tokens(self, text: str) -> Iterator[Token]:
        if text:
            yield Token(text, 0, 0, len(text))

    def pieces(self, text: str) -> list[str] | None:
        return ["", text, ""] if text else [""]


#: The longest n-gram: a bound on the grams a word makes (an index from an untrusted
#: source could otherwise ask for a billion), far past any useful size.
MAX_NGRAM_SIZE = 64


def _check_sizes(min_size: int, max_size: int) -> None:
    if not (
        type(min_size) is int and type(max_size) is int and 1 <= min_size <= max_size <= MAX_NGRAM_SIZE
    ):
        raise AnalyzerError(
            f"n-gram sizes need 1 <= min_size <= max_size <= {MAX_NGRAM_SIZE}, got {min_size!r} and {max_size!r}"
        )


class NGramTokenizer(Tokenizer):
    """Every character n-gram of each word, ``min_size`` to ``max_size`` long.

    Grams never cross a word boundary. They come in order of start, then length, each
    at its own position; a word shorter than ``min_size`` gives no gram.
    """

    def __init__(self, min_size: int = 2, max_size: int = 3) -> None:
        _check_sizes(min_size, max_size)
        self.min_size, self.max_size = min_size, max_size

    def core_spec(self) -> dict[str, Any] | None:
        kind = {NGramTokenizer: "ngram", EdgeNGramTokenizer: "edge_ngram"}.get(type(self))
        return None if kind is None else {"type": kind, "min_size": self.min_size, "max_size": self.max_size}

    def _grams(self, length: int) -> Iterator[tuple[int, int]]:
        for start in range(length):
            for size in range(self.min_size, min(self.max_size, length - start) + 1):
                yield start, start + size

    def tokens(self, text: str) -> Iterator[Token]:
        pos = 0
        for match in _patterns().any_word.finditer(text):
            word, offset = match.group(), match.start()
            for start, end in self._grams(len(word)):
                yield Token(word[start:end], pos, offset + start, offset + end)
                pos += 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.min_size}, {self.max_size})"


class EdgeNGramTokenizer(NGramTokenizer):
    """The prefixes of each word, ``min_size`` to ``max_size`` long (for search as you type)."""

    def __init__(self, min_size: int = 1, max_size: int = 20) -> None:
        super().__init__(min_size, max_size)

    def _grams(self, length: int) -> Iterator[tuple[int, int]]:
        for size in range(self.min_size, min(self.max_size, length) + 1):
            yield 0, size
