"""Highlighting: the best fragment of a stored text, with the query's terms marked.

Roles, as in Whoosh's highlighter:

- **analysis** re-runs the field's analyzer over the stored text *with offsets*, so a
  token matches when its analyzed term is a query term ("talking" matches the query
  word "talks": both stem to ``talk``), and its mark covers the exact source span;
- **fragment choice** (:func:`best_fragment`) slides a window of about ``width``
  characters over the matches and keeps the one with the most distinct query terms,
  then the densest (most matches per character, so "direct talks" side by side beats
  the same words scattered); its edges fall on word boundaries, preferably where a sentence
  starts; a text with no match gives its opening, flagged ``is_opening``;
- **formatting** turns a :class:`Fragment` into plain text with markers
  (:func:`format_plain`), ANSI colour for terminals (:func:`format_ansi`) or HTML with
  ``<mark>`` where everything else is escaped (:func:`format_html`); in every format,
  runs of white space become one space and control characters become U+FFFD;
  :meth:`Fragment.spans`
  gives the structured form for applications that render their own.

>>> from searchlib.analysis import get_analyzer
>>> fragment = best_fragment("Envoys held direct talks.", get_analyzer("english"), {"direct", "talk"})
>>> format_plain(fragment)
'Envoys held [direct] [talks].'
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import regex

from searchlib.analysis import Analyzer

DEFAULT_WIDTH = 160
#: Highlighting reads at most this many characters of a field.
DEFAULT_MAX_CHARS = 1_000_000
ELLIPSIS = "…"
ANSI_MATCH = "\x1b[1;33m"
ANSI_RESET = "\x1b[0m"

_SENTENCE_END = regex.compile(r"[.!?]\s+|\n\s*")
_WHITESPACE = regex.compile(r"\s+")
_CONTROL = regex.compile(r"\p{Cc}")


@dataclass(frozen=True)
class Span:
    """A piece of a fragment: ``text[start:end]`` of the field, matched or not."""

    start: int
    end: int
    is_match: bool


@dataclass(frozen=True)
class Fragment:
    """A window ``[start, end)`` of a field's text and the matches inside it."""

    text: str
    start: int
    end: int
    matches: tuple[tuple[int, int], ...]
    is_opening: bool = False

    @property
    def is_cut_before(self) -> bool:
        return self.start > 0

    @property
    def is_cut_after(self) -> bool:
        return self.end < len(self.text)

    def spans(self) -> list[Span]:
        """The fragment as alternating unmatched and matched spans, in order."""
        spans: list[Span] = []
        cursor = self.start
        for match_start, match_end in self.matches:
            if match_start > cursor:
                spans.append(Span(cursor, match_start, False))
            spans.append(Span(match_start, match_end, True))
            cursor = match_end
        if cursor < self.end:
            spans.append(Span(cursor, self.end, False))
        return spans


def best_fragment(
    text: str,
    analyzer: Analyzer,
    terms: set[str],
    *,
    width: int = DEFAULT_WIDTH,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Fragment:
    """Choose the window of ``text`` that shows the most of the query ``terms``."""
    text = text[:max_chars]
    tokens = [t for t in analyzer.tokens(text) if t.text in terms]
    if not tokens:
        end = _word_end(text, min(len(text), width))
        return Fragment(text, 0, end, (), is_opening=True)

    best_key, best_range = (-1, -1.0), (0, 0)
    counts: Counter[str] = Counter()
    first = 0
    for last, token in enumerate(tokens):
        counts[token.text] += 1
        while first < last and token.end - tokens[first].start > width:
            counts[tokens[first].text] -= 1
            if not counts[tokens[first].text]:
                del counts[tokens[first].text]
            first += 1
        span = token.end - tokens[first].start
        density = (last - first + 1) / (span + width / 4)  # smoothed matches per character
        key = (len(counts), density)  # distinct terms first, then density
        if key > best_key:
            best_key, best_range = key, (first, last)
    first, last = best_range
    chosen = tokens[first : last + 1]
    start, end = _place_window(text, chosen[0].start, chosen[-1].end, width)
    return Fragment(text, start, end, _merge_overlaps([(t.start, t.end) for t in chosen]))


def _merge_overlaps(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """One span for matches that overlap: CJK bigrams (東京, 京都 -> 東京都), n-grams, and
    synonyms stacked on one word, so no text is shown twice."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _place_window(text: str, match_start: int, match_end: int, width: int) -> tuple[int, int]:
    """Put a ``width``-character window around the matches, on word or sentence edges."""
    slack = max(0, width - (match_end - match_start))
    ideal_start = max(0, match_start - slack // 3)
    start = ideal_start
    if start > 0:
        sentence_starts = [m.end() for m in _SENTENCE_END.finditer(text, ideal_start, match_start)]
        start = sentence_starts[0] if sentence_starts else _word_start(text, ideal_start)
    end = _word_end(text, min(len(text), max(match_end, start + width)))
    return min(start, match_start), max(end, match_end)  # never cut a match off


def _word_start(text: str, index: int) -> int:
    """Move ``index`` forward to the start of the next word (never past a word's middle)."""
    if index <= 0 or text[index - 1].isspace():
        return index
    while index < len(text) and not text[index].isspace():
        index += 1
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _word_end(text: str, index: int) -> int:
    """Move ``index`` back to the end of the previous word (never cutting a word)."""
    if index >= len(text) or text[index].isspace():
        return index
    while index > 0 and not text[index - 1].isspace():
        index -= 1
    while index > 0 and text[index - 1].isspace():
        index -= 1
    return index


def _render(fragment: Fragment, plain: Callable[[str], str], marked: Callable[[str], str]) -> str:
    parts = [ELLIPSIS] if fragment.is_cut_before else []
    for span in fragment.spans():
        piece = _WHITESPACE.sub(" ", fragment.text[span.start : span.end])
        piece = printable(piece)
        parts.append(marked(piece) if span.is_match else plain(piece))
    if fragment.is_cut_after:
        parts.append(ELLIPSIS)
    return "".join(parts).strip()


def printable(text: str) -> str:
    """``text`` with control characters replaced by U+FFFD: no escape sequence survives."""
    return str(_CONTROL.sub("\ufffd", text))


def format_plain(fragment: Fragment, before: str = "[", after: str = "]") -> str:
    """Plain text with each match between ``before`` and ``after``."""
    return _render(fragment, lambda s: s, lambda s: f"{before}{s}{after}")


def format_ansi(fragment: Fragment) -> str:
    """Text for a terminal: matches in bold yellow."""
    return _render(fragment, lambda s: s, lambda s: f"{ANSI_MATCH}{s}{ANSI_RESET}")


def format_html(fragment: Fragment) -> str:
    """HTML: matches in ``<mark>``, every piece of text escaped (safe to put in a page)."""
    return _render(
        fragment,
        lambda s: html.escape(s, quote=True),
        lambda s: f"<mark>{html.escape(s, quote=True)}</mark>",
    )
