"""The query tokenizer: characters to tokens, each with its span in the query.

Internal to :mod:`searchlib.parser`. Positions listed as ``literal`` are read as if
escaped: a lenient parse repairs a problem a strict one found by reading the character
it points at as a plain one.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Literal, NamedTuple

from searchlib.errors import QueryError

#: Characters that end a word (unless escaped).
WORD_ENDS = frozenset('()[]{}"^~:')
#: A run of characters that need no escape handling and do not end a word.
_PLAIN_RUN = re.compile(r'[^\s\\()\[\]{}"^~:]*')
#: Characters :func:`escape` protects: every one the syntax gives a meaning to.
SPECIALS = frozenset('\\+-!()[]{}"^~*?:/&|')

TokenKind = Literal[
    "word", "field", "phrase", "regex", "range", "lparen", "rparen",
    "and", "or", "not", "plus", "minus", "tilde", "caret", "end",
]
OPERATOR_WORDS: dict[str, TokenKind] = {"AND": "and", "OR": "or", "NOT": "not"}
#: Characters that are a token by themselves.
SINGLE: dict[str, TokenKind] = {"(": "lparen", ")": "rparen", "+": "plus", "-": "minus", "!": "not"}
#: A run of whitespace, skipped in one step.
_SPACE_RUN = re.compile(r"\s+")


def escape(text: str) -> str:
    r"""``text`` with every special character and operator word escaped, so that
    :meth:`~searchlib.parser.QueryParser.parse` reads it as plain words.

    >>> print(escape('what -dash is "it"? NOT sure'))
    what \-dash is \"it\"\? \NOT sure
    """
    escaped = "".join("\\" + char if char in SPECIALS else char for char in text)
    return re.sub(r"(?<!\S)(AND|OR|NOT)(?!\S)", r"\\\1", escaped)


class SyntaxProblem(QueryError):
    """A syntax error, with the character a lenient parse reads as a plain one instead."""

    def __init__(self, message: str, position: int, literal: int | None = None) -> None:
        super().__init__(message, position=position)
        self.literal = position if literal is None else literal


# The lexer's records are NamedTuples rather than dataclasses: immutable and compared by
# value alike, and defining them costs a tenth as much at import, which every process
# that parses a query pays.


class Bound(NamedTuple):
    """One bound of a range as typed: its text (None for an open ``*``) and where it is."""

    text: str | None
    start: int


class RangeSpec(NamedTuple):
    """A range as typed: its bounds, and whether each is included (``[ ]``) or not (``{ }``)."""

    low: Bound
    high: Bound
    include_low: bool
    include_high: bool


class QueryToken(NamedTuple):
    """One token: its kind, its span in the query, and its text with escapes resolved.

    ``text`` is a word, a field name, a phrase's content, a regex as typed, or the
    number after ``~``/``^``. ``wild`` holds the offsets in ``text`` of the unescaped
    ``*`` and ``?`` of a word.
    """

    kind: TokenKind
    start: int
    end: int
    text: str = ""
    wild: tuple[int, ...] = ()
    bounds: RangeSpec | None = None


class Lexer:
    """Splits a query into tokens. Positions in ``literal`` are read as escaped
    characters: that is how a lenient parse repairs the problems a strict one found."""

    def __init__(self, text: str, literal: frozenset[int] = frozenset()) -> None:
        self.text = text
        self.literal = literal
        self._literal_sorted = sorted(literal)

    def tokens(self) -> list[QueryToken]:
        found: list[QueryToken] = []
        at = 0
        text, literal = self.text, self.literal
        while at < len(text):
            if text[at].isspace():
                if not literal:
                    at = _SPACE_RUN.match(text, at).end()  # type: ignore[union-attr]
                    continue
                if at not in literal:
                    at += 1
                    continue
            token = self._token(at)
            found.append(token)
            at = token.end
        found.append(QueryToken("end", len(self.text), len(self.text)))
        return found

    def _is_special(self, at: int, chars: str) -> bool:
        return at < len(self.text) and self.text[at] in chars and at not in self.literal

    def _token(self, at: int) -> QueryToken:
        """The token starting at ``at`` (not whitespace)."""
        text, char = self.text, self.text[at]
        if at in self.literal:
            return self._word(at)
        if char in SINGLE:
            return QueryToken(SINGLE[char], at, at + 1)
        if text.startswith(("&&", "||"), at) and at + 1 not in self.literal:
            return QueryToken("and" if char == "&" else "or", at, at + 2)
        if char in "^~":
            end = at + 1
            while end < len(text) and not text[end].isspace() and (text[end] not in WORD_ENDS or end in self.literal):
                end += 1
            return QueryToken("caret" if char == "^" else "tilde", at, end, text[at + 1 : end])
        if char == '"':
            content, end = self._quoted(at)
            return QueryToken("phrase", at, end, content)
        if char == "/":
            return self._regex(at)
        if char in "[{":
            return self._range(at)
        if char in "]}":
            raise SyntaxProblem(f"unmatched {char!r}: a range reads [low TO high]", at)
        if char == ":":
            raise SyntaxProblem("':' must follow a field name, as in title:word", at)
        return self._word(at)

    def _word(self, start: int) -> QueryToken:
        """A word, or a field name when a colon follows it, or an operator word."""
        text = self.text
        # Fast path, the usual case: a run of plain characters read in one regex step
        # (not when a position in it, or the one ending it, is literal, as in a lenient
        # parse's retries: found by bisection, so that each retry costs what the first
        # reading did, not a character-by-character one).
        end = _PLAIN_RUN.match(text, start).end()  # type: ignore[union-attr]
        literal = self._literal_sorted
        if (
            end > start
            and (end == len(text) or text[end] != "\\")
            and (not literal or bisect_right(literal, end) == bisect_left(literal, start))
        ):
            word = text[start:end]
            wild_at = tuple(i for i, char in enumerate(word) if char in "*?") if ("*" in word or "?" in word) else ()
            return self._word_token(start, end, word, wild_at, is_plain=True)
        chars: list[str] = []
        wild: list[int] = []
        is_plain = True  # no escape: only a plain word can be an operator
        at = start
        while at < len(text):
            char = text[at]
            if at in self.literal:
                is_plain = False
            elif char == "\\":
                if at + 1 == len(text):
                    raise SyntaxProblem("a backslash at the end escapes nothing; write \\\\ for a backslash", at)
                chars.append(text[at + 1])
                is_plain = False
                at += 2
                continue
            elif char.isspace() or char in WORD_ENDS:
                break
            elif char in "*?":
                wild.append(len(chars))
            chars.append(char)
            at += 1
        return self._word_token(start, at, "".join(chars), tuple(wild), is_plain=is_plain)

    def _word_token(self, start: int, end: int, word: str, wild: tuple[int, ...], *, is_plain: bool) -> QueryToken:
        if self._is_special(end, ":"):
            return QueryToken("field", start, end + 1, word, wild)
        if is_plain and word in OPERATOR_WORDS:
            return QueryToken(OPERATOR_WORDS[word], start, end)
        return QueryToken("word", start, end, word, wild)

    def _quoted(self, start: int, opening: int | None = None) -> tuple[str, int]:
        """The content of the quoted text opening at ``start`` (escapes resolved) and its
        end; ``opening`` is where the construct holding it starts, if it is a range."""
        chars: list[str] = []
        at = start + 1
        while at < len(self.text):
            char = self.text[at]
            if char == "\\" and at + 1 < len(self.text):
                chars.append(self.text[at + 1])
                at += 2
                continue
            if char == '"' and at not in self.literal:
                return "".join(chars), at + 1
            chars.append(char)
            at += 1
        raise SyntaxProblem("unbalanced quote: this quote is never closed", start, opening)

    def _regex(self, start: int) -> QueryToken:
        """A ``/regex/``, kept as typed (``\\/`` is a slash to the regex engine too)."""
        at = start + 1
        while at < len(self.text):
            if self.text[at] == "\\":
                at += 2
                continue
            if self.text[at] == "/" and at not in self.literal:
                return QueryToken("regex", start, at + 1, self.text[start + 1 : at])
            at += 1
        raise SyntaxProblem("unbalanced '/': this regular expression is never closed", start)

    def _range(self, start: int) -> QueryToken:
        """``[low TO high]`` (``{ }`` exclude a bound; the two ends may differ)."""
        at = self._skip_space(start + 1)
        low, at = self._bound(at, start)
        gap = self._skip_space(at)
        is_to = self.text.startswith("TO", gap) and (gap + 2 == len(self.text) or self.text[gap + 2].isspace())
        if gap == len(self.text):
            raise SyntaxProblem("unbalanced range: it is never closed", start)
        if gap == at or not is_to:
            raise SyntaxProblem("a range reads [low TO high]: expected TO here", gap, start)
        high, at = self._bound(self._skip_space(gap + 2), start)
        at = self._skip_space(at)
        if at == len(self.text):
            raise SyntaxProblem("unbalanced range: it is never closed", start)
        if not self._is_special(at, "]}"):
            raise SyntaxProblem("a range reads [low TO high]: expected ] or } here", at, start)
        spec = RangeSpec(low, high, self.text[start] == "[", self.text[at] == "]")
        return QueryToken("range", start, at + 1, bounds=spec)

    def _skip_space(self, at: int) -> int:
        while at < len(self.text) and self.text[at].isspace():
            at += 1
        return at

    def _bound(self, at: int, opening: int) -> tuple[Bound, int]:
        """One range bound at ``at``: quoted, or a run of characters up to a space or
        a closing bracket; an unquoted ``*`` is an open end."""
        if at >= len(self.text):
            raise SyntaxProblem("unbalanced range: it is never closed", opening)
        if self._is_special(at, '"'):
            content, end = self._quoted(at, opening)
            return Bound(content, at), end
        chars: list[str] = []
        end, is_plain = at, True
        while end < len(self.text) and not self.text[end].isspace() and self.text[end] not in "]}":
            if self.text[end] == "\\" and end + 1 < len(self.text):
                chars.append(self.text[end + 1])
                end, is_plain = end + 2, False
                continue
            chars.append(self.text[end])
            end += 1
        if not chars:
            raise SyntaxProblem("a range bound is missing here", at, opening)
        value = "".join(chars)
        return Bound(None if is_plain and value == "*" else value, at), end
