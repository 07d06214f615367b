"""The pieces every analyzer is made of: tokens, tokenizers and token filters.

A :class:`Tokenizer` starts a chain and filters follow it, joined with ``|``. Starting a
chain with anything but a tokenizer is an error at the moment the chain is built, not
when the first document arrives.
"""

from __future__ import annotations

from searchlib._records import FrozenRecord
from searchlib.errors import AnalyzerError

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

    from searchlib.analysis.analyzer import Analyzer

#: What a filter returns for a token it drops (a stop word).
DROPPED = None


class Token(FrozenRecord):
    """One token: its text after filtering, its position and its source span.

    ``text[start:end]`` of the analyzed string is exactly the span the token came from,
    before any folding or stemming.
    """

    __slots__ = ("text", "pos", "start", "end")
    text: str
    pos: int
    start: int
    end: int

    def __init__(self, text: str, pos: int, start: int, end: int) -> None:
        # Field by field rather than through FrozenRecord.__init__, twice as fast: an
        # analyzer makes one token a word.
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "pos", pos)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


class Tokenizer:
    """Splits text into raw tokens, each with a position and a source span."""

    def tokens(self, text: str) -> Iterator[Token]:
        """Yield raw tokens with positions and character offsets."""
        raise NotImplementedError

    def words(self, text: str) -> list[str]:
        """The raw token texts only, position ``i`` at index ``i``: the indexing fast path.

        Tokenizers that are one regex pass override this with ``findall``.
        """
        return [token.text for token in self.tokens(text)]

    def pieces(self, text: str) -> list[str] | None:
        """``text`` cut into alternating gaps and words, ``[gap, word, gap, ..., word, gap]``,
        so that ``"".join(pieces) == text`` and ``pieces[1::2] == words(text)``: words and
        their offsets from one C-level pass (the highlighting fast path). ``None`` when
        tokens may overlap or skip text (n-grams, CJK bigrams): use :meth:`tokens` then.
        """
        return None

    def core_spec(self) -> dict[str, Any] | None:
        """This tokenizer as the compiled core's chain spec describes it, or None when the
        core does not have it (a custom tokenizer: Python runs the chain)."""
        return None

    def __or__(self, other: TokenFilter) -> Analyzer:
        from searchlib.analysis.analyzer import Analyzer

        return Analyzer(self, [other])

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class TokenFilter:
    """Maps one token's text to its output text, or to ``DROPPED``.

    The output depends on the text alone, which is what lets an analyzer cache a whole
    chain of such filters per raw token (the fast path).
    """

    #: Slow, or slow to import (a stemmer): an index records what this filter and the
    #: ones after it made of each word, so queries over indexed words skip it.
    costly = False
    #: Only normalizes the form of a word (case, accents), keeping it the same word: the
    #: filters applied to prefix, wildcard and regex patterns, which must not be stemmed.
    normalizes = False

    def map_term(self, term: str) -> str | None:
        """The filtered form of ``term``, or ``None`` to drop it."""
        raise NotImplementedError

    def core_spec(self) -> dict[str, Any] | None:
        """This filter as the compiled core's chain spec describes it, or None when the core
        does not have it (a custom or NLTK filter: Python runs the chain)."""
        return None

    def __or__(self, other: object) -> Analyzer:
        raise AnalyzerError(
            f"an analyzer must start with a tokenizer, not {type(self).__name__}: "
            f"write e.g. UnicodeWordTokenizer() | {type(self).__name__}() | ..."
        )

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class StreamFilter:
    """A filter that may turn one token into several (synonyms).

    Such filters see the whole token stream, so a chain holding one cannot use the
    per-token cache; it runs through :meth:`Analyzer.tokens` (the general path) only.
    """

    def apply(self, tokens: Iterable[Token]) -> Iterator[Token]:
        """Transform the token stream."""
        raise NotImplementedError

    def core_spec(self) -> dict[str, Any] | None:
        """As :meth:`TokenFilter.core_spec`."""
        return None

    def __or__(self, other: object) -> Analyzer:
        raise AnalyzerError(f"an analyzer must start with a tokenizer, not {type(self).__name__}")

    def __repr__(self) -> str:
        return type(self).__name__ + "()"
