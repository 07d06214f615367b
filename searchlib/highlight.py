"""Highlighting: the best fragments of a stored text, with the query's matches marked.

Roles, as in Whoosh's highlighter:

- **targets** (:func:`query_targets`) walk a query tree for what to mark in each field:
  terms of :class:`~searchlib.query.Term` and :class:`~searchlib.query.CombinedTerm`
  nodes (which is also what prefix, wildcard, fuzzy and regex nodes become once a
  searcher has expanded them) are marked wherever they occur; a
  :class:`~searchlib.query.Phrase` is marked only where the phrase itself occurs, within
  its slop; excluded clauses (``NOT``, ``must_not``) mark nothing;
- **analysis** re-runs the field's analyzer over the stored text *with offsets*, so a
  token matches when its analyzed term is a query term ("talking" matches the query
  word "talks": both stem to ``talk``; "café" matches "cafe" where the analyzer folds
  accents), and its mark covers the exact source span; stop words never become tokens,
  so they are never marked. At most ``max_chars`` characters of a field are analyzed
  (:data:`DEFAULT_MAX_CHARS`); a fragment says so with ``is_truncated``;
- **fragment choice** (:func:`best_fragments`) slides a window of about ``width``
  characters over the marks and keeps the one with the most distinct query terms, then
  the densest (marks per character of their span plus ``width``, so "direct talks"
  side by side beats the same words scattered); up to ``count`` windows are chosen that way among the marks not yet
  shown, and windows that overlap are merged. Edges fall on word boundaries, preferably
  where a sentence starts or ends; a text with no match gives its opening, flagged
  ``is_opening``;
- **formatting** turns fragments into plain text with markers (:func:`format_plain`),
  ANSI colour for terminals (:func:`format_ansi`) or HTML with ``<mark>`` where
  everything else is escaped (:func:`format_html`), with an ellipsis wherever text was
  left out; in these formats runs of white space become one space and control
  characters become U+FFFD. :meth:`Fragment.spans` and :func:`format_spans` give the
  structured form (offsets into the field, and a matched flag) for applications that
  render their own.

>>> from searchlib.analysis import get_analyzer
>>> fragment = best_fragment("Envoys held direct talks.", get_analyzer("english"), {"direct", "talk"})
>>> format_plain(fragment)
'Envoys held [direct] [talks].'
>>> from searchlib.query import Phrase
>>> text = "Direct flights resumed; talks stalled. Direct talks begin."
>>> format_plain(best_fragment(text, get_analyzer("english"), set(), [Phrase("body", ("direct", "talk"))]))
'Direct flights resumed; talks stalled. [Direct] [talks] begin.'
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import regex

from searchlib.analysis import Analyzer
from searchlib.query.positions import TermPositions, match_phrase
from searchlib.query import And, Bool, Boost, CombinedTerm, Filter, Not, Or, Phrase, Query, Term

DEFAULT_WIDTH = 160
#: Highlighting reads at most this many characters of a field.
DEFAULT_MAX_CHARS = 1_000_000
ELLIPSIS = "…"
ANSI_MATCH = "\x1b[1;33m"
ANSI_RESET = "\x1b[0m"
#: How far a fragment edge may move to reach a word boundary before it cuts a word
#: (a very long "word", or text in a script written without spaces).
MAX_WORD_SCAN = 40

#: Between two sentences: a line break, or the white space after ``.``, ``!`` or ``?``
#: (and any closing quote or bracket) when what follows is not a lower-case letter or a
#: digit ("Oct. 7" goes on), or when the mark stands alone as in tokenized text
#: ("slipstream . an"). The ``gap`` group starts where a sentence ends and ends where the
#: next one starts.
_SENTENCE_BREAK = regex.compile(
    r"""[.!?]["'”’)\]]*(?P<gap>\s+)(?=[^\p{Ll}\p{N}\s])|(?<=\s)[.!?](?P<gap>\s+)|(?P<gap>\n\s*)"""
)
_WHITESPACE = regex.compile(r"\s+")
_SPACE = regex.compile(r"\s")
_SPACE_BEFORE = regex.compile(r"\s", regex.REVERSE)
_NON_SPACE = regex.compile(r"\S")
_NON_SPACE_BEFORE = regex.compile(r"\S", regex.REVERSE)
_CONTROL = regex.compile(r"\p{Cc}")
#: What the formats change: runs of white space, white space other than a space, and
#: control characters (a fragment with none of them is shown as it is).
_NEEDS_CLEANING = regex.compile(r"\s\s|[^\S ]|\p{Cc}")
#: What words are made of, for edges in text without white space ("talks-talks").
_WORD_CHAR = regex.compile(r"[\w\p{M}'’]")
_NON_WORD_CHAR = regex.compile(r"[^\w\p{M}'’]")
_NON_WORD_CHAR_BEFORE = regex.compile(r"[^\w\p{M}'’]", regex.REVERSE)

#: A mark before fragment choice: ``(start, end, term)``.
Mark = tuple[int, int, str]


@dataclass(frozen=True)
class Span:
    """A piece of a fragment: ``text[start:end]`` of the field, matched or not."""

    start: int
    end: int
    is_match: bool


@dataclass(frozen=True)
class Fragment:
    """A window ``[start, end)`` of a field's text and the marks inside it.

    ``text`` is the whole field, so offsets index the stored value. ``is_opening``: the
    field had no match and this is its opening. ``is_truncated``: the field was longer
    than the highlighter's ``max_chars``, and only that many characters were searched for
    matches. ``terms``: the distinct query terms marked here. ``field``: the field's
    name, when a searcher made the fragment.
    """

    text: str
    start: int
    end: int
    matches: tuple[tuple[int, int], ...]
    is_opening: bool = False
    is_truncated: bool = False
    terms: frozenset[str] = frozenset()
    field: str | None = None

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


# --- targets: what a query marks ----------------------------------------------------------


@dataclass
class Targets:
    """Per field, the terms to mark anywhere and the phrases to mark where they occur."""

    terms: dict[str, set[str]] = field(default_factory=dict)
    phrases: dict[str, list[Phrase]] = field(default_factory=dict)

    @property
    def fields(self) -> set[str]:
        """The fields the query searches for something to mark."""
        return {name for name, terms in self.terms.items() if terms} | {
            name for name, phrases in self.phrases.items() if phrases
        }

    def for_field(self, name: str) -> tuple[set[str], list[Phrase]]:
        return self.terms.get(name, set()), self.phrases.get(name, [])

    def translated(self, analyzer: Analyzer, from_fields: Collection[str]) -> tuple[set[str], list[Phrase]]:
        """The targets of ``from_fields``, each term analyzed again by ``analyzer``: what
        to mark in a field the query did not search, which has an analyzer of its own.

        A phrase is kept when each of its terms stays one term; one that does not is
        dropped rather than marked word by word.
        """
        terms: set[str] = set()
        phrases: list[Phrase] = []
        for name in from_fields:
            for term in self.terms.get(name, ()):
                terms.update(analyzer.term_list(term))
            for phrase in self.phrases.get(name, ()):
                mapped = [analyzer.term_list(term) for term in phrase.phrase_terms]
                if all(len(found) == 1 for found in mapped):
                    phrases.append(Phrase(phrase.field, tuple(found[0] for found in mapped),
                                          phrase.slop, phrase.positions))
        return terms, phrases


def query_targets(query: Query) -> Targets:
    """What ``query`` marks, field by field (see the module docstring).

    Pattern nodes must have been expanded (:meth:`Searcher.search` does it, so a hit's
    ``query`` holds concrete terms only). A node this walk does not know contributes
    its :meth:`~searchlib.query.Query.terms`, marked anywhere.
    """
    targets = Targets()
    _collect(query, targets)
    return targets


def _collect(node: Query, targets: Targets) -> None:
    if isinstance(node, Term):
        targets.terms.setdefault(node.field, set()).add(node.text)
    elif isinstance(node, CombinedTerm):
        for name in node.fields:
            targets.terms.setdefault(name, set()).add(node.text)
    elif isinstance(node, Phrase):
        if len(node.phrase_terms) == 1:
            targets.terms.setdefault(node.field, set()).add(node.phrase_terms[0])
        else:
            targets.phrases.setdefault(node.field, []).append(node)
    elif isinstance(node, Not):
        return  # an exclusion: the hit does not match it
    elif isinstance(node, Bool):
        for clause in (*node.must, *node.should, *node.filter):
            _collect(clause, targets)
    elif isinstance(node, (And, Or)):
        for clause in node.clauses:
            _collect(clause, targets)
    elif isinstance(node, Filter):
        _collect(node.query, targets)
        _collect(node.filter, targets)
    elif isinstance(node, Boost):
        _collect(node.query, targets)
    else:
        for name, term in node.terms():
            targets.terms.setdefault(name, set()).add(term)


# --- analysis: where the targets are -------------------------------------------------------


def find_marks(text: str, analyzer: Analyzer, terms: Collection[str], phrases: Sequence[Phrase] = ()) -> list[Mark]:
    """Every ``(start, end, term)`` of ``text`` to mark, in text order.

    A token is marked when its term is one of ``terms``, or when it is part of an
    occurrence of one of ``phrases`` (same rule and matcher as
    :class:`~searchlib.query.Phrase`: see :func:`phrase_occurrences`).
    """
    wanted: set[str] | frozenset[str]
    if phrases:
        wanted = set(terms).union(*(phrase.phrase_terms for phrase in phrases))
    else:
        wanted = terms if isinstance(terms, (set, frozenset)) else set(terms)
    if not wanted or not text:
        return []
    if not analyzer.is_fast:
        found, offsets = _general_occurrences(text, analyzer, wanted)
        marked = _marked_positions(terms, phrases, found)
        return sorted((*offsets[(pos, term)], term) for pos, term in marked)
    # The fast path: one term per position, so marks are keyed by position.
    pieces = analyzer.tokenizer.pieces(text)
    by_position = analyzer.terms(text) if pieces is None else analyzer.map_words(pieces[1::2])
    positions = [pos for pos, term in enumerate(by_position) if term in wanted]
    if not positions:
        return []
    if phrases:
        occurrences: dict[str, list[int]] = {}
        for pos in positions:
            occurrences.setdefault(by_position[pos], []).append(pos)  # type: ignore[arg-type]
        term_at = dict(_marked_positions(terms, phrases, occurrences))
        positions = sorted(term_at)
    else:  # every occurrence of a wanted term is marked
        term_at = by_position  # type: ignore[assignment]
    if pieces is None:
        spans = _spans_of_tokens(text, analyzer, positions)
    else:
        spans = _spans_in_pieces(pieces, positions)
    return [(start, end, term_at[pos]) for pos, (start, end) in zip(positions, spans)]


def _marked_positions(
    terms: Collection[str], phrases: Sequence[Phrase], occurrences: dict[str, list[int]]
) -> set[tuple[int, str]]:
    """``(position, term)`` of every token to mark: each occurrence of a plain term, and
    each token of a phrase occurrence."""
    marked = {(pos, term) for term in terms for pos in occurrences.get(term, ())}
    for phrase in phrases:
        chosen = _phrase_layouts(phrase, occurrences)
        for term in dict.fromkeys(phrase.phrase_terms):  # a term's positions once each, in C
            columns = [i for i, other in enumerate(phrase.phrase_terms) if other == term]
            marked.update(zip(np.unique(chosen[:, columns]).tolist(), itertools.repeat(term)))
    return marked


def _spans_in_pieces(pieces: list[str], positions: list[int]) -> list[tuple[int, int]]:
    """The offsets of the words at ``positions`` (ascending), summing the lengths of the
    pieces before each in C."""
    spans: list[tuple[int, int]] = []
    offset, done = 0, 0
    for position in positions:
        at = 2 * position + 1
        offset += sum(map(len, pieces[done:at]))
        done = at
        spans.append((offset, offset + len(pieces[at])))
    return spans


def _spans_of_tokens(text: str, analyzer: Analyzer, positions: list[int]) -> list[tuple[int, int]]:
    """The offsets of the raw tokens at ``positions`` (ascending), for tokenizers without
    :meth:`~searchlib.analysis.Tokenizer.pieces`."""
    stream = analyzer.tokenizer.tokens(text)
    spans: list[tuple[int, int]] = []
    previous = -1
    for position in positions:
        token = next(itertools.islice(stream, position - previous - 1, None))
        spans.append((token.start, token.end))
        previous = position
    return spans


def _general_occurrences(
    text: str, analyzer: Analyzer, wanted: set[str] | frozenset[str]
) -> tuple[dict[str, list[int]], dict[tuple[int, str], tuple[int, int]]]:
    """Positions and offsets of the wanted terms from full tokens (chains that add
    tokens, such as synonyms, where several terms may share a position)."""
    occurrences: dict[str, list[int]] = {}
    offsets: dict[tuple[int, str], tuple[int, int]] = {}
    for token in analyzer.tokens(text):
        if token.text in wanted:
            occurrences.setdefault(token.text, []).append(token.pos)
            offsets[(token.pos, token.text)] = (token.start, token.end)
    for found in occurrences.values():
        found.sort()
    return occurrences, offsets


def phrase_occurrences(phrase: Phrase, occurrences: dict[str, list[int]]) -> Iterator[list[int]]:
    """Each occurrence of ``phrase`` as the position of each of its terms, given the
    ascending positions of every term: one per first-term position where an occurrence
    starts, as :meth:`Phrase.frequencies <searchlib.query.Phrase.frequencies>` counts
    them, by the same matcher (:func:`searchlib.query.positions.match_phrase`), so the work is
    bounded the same way. Of the windows that match, the one starting earliest is shown,
    and in it each term's earliest positions."""
    yield from _phrase_layouts(phrase, occurrences).tolist()


def _phrase_layouts(phrase: Phrase, occurrences: dict[str, list[int]]) -> npt.NDArray[np.int64]:
    """:func:`phrase_occurrences` as an array: a row per occurrence, a column per term."""
    distinct = list(dict.fromkeys(phrase.phrase_terms))
    found = [occurrences.get(term) for term in distinct]
    if not all(found):
        return np.zeros((0, len(phrase.phrase_terms)), dtype=np.int64)
    located = [TermPositions.of(np.zeros(len(positions), dtype=np.int64), positions) for positions in found]  # type: ignore[arg-type]
    slots = [distinct.index(term) for term in phrase.phrase_terms]
    matched = match_phrase(located, slots, phrase.positions, phrase.slop, with_positions=True)
    assert matched.chosen is not None
    return matched.chosen


# --- fragment choice ----------------------------------------------------------------------


def best_fragments(
    text: str,
    analyzer: Analyzer,
    terms: Collection[str],
    phrases: Sequence[Phrase] = (),
    *,
    count: int = 1,
    width: int = DEFAULT_WIDTH,
    max_chars: int = DEFAULT_MAX_CHARS,
    field: str | None = None,
) -> list[Fragment]:
    """Up to ``count`` fragments of about ``width`` characters showing the most of the
    query, in text order and never overlapping (windows that would overlap are merged).

    Each window is chosen by the number of distinct query terms it marks, then by the
    density of its marks, among the marks the windows already chosen do not show. Only
    the first ``max_chars`` characters are searched; a text with no mark there gives
    one fragment: its opening, flagged ``is_opening``. ``field`` names the field on the
    fragments.
    """
    if count < 1 or width < 1 or max_chars < 0:
        raise ValueError(f"count and width must be at least 1 and max_chars not negative, "
                         f"got count={count}, width={width}, max_chars={max_chars}")
    is_truncated = len(text) > max_chars
    searched = _cut(text, max_chars) if is_truncated else text
    marks = find_marks(searched, analyzer, terms, phrases)
    if not marks:
        return [Fragment(text, 0, _opening_end(text, width), (), True, is_truncated, field=field)]
    if len(text) <= width:  # the whole field fits (a title): one window, nothing to choose
        return [Fragment(text, 0, len(text), _merge_overlaps([(s, e) for s, e, _ in marks]),
                         False, is_truncated, frozenset([term for _, _, term in marks]), field)]
    windows: list[tuple[int, int]] = []
    shown = [False] * len(marks)
    for _ in range(count):
        chosen = _best_window(marks, shown, width)
        if chosen is None:
            break
        first, last = chosen
        start, end = _place_window(text, marks[first][0], max(m[1] for m in marks[first : last + 1]), width)
        windows.append((start, end))
        if len(windows) < count:
            for index, (mark_start, mark_end, _) in enumerate(marks):
                if mark_start < end and mark_end > start:
                    shown[index] = True
    fragments: list[Fragment] = []
    for start, end in _merge_windows(text, windows) if len(windows) > 1 else windows:
        inside = [m for m in marks if start <= m[0] and m[1] <= end]
        fragments.append(Fragment(
            text, start, end, _merge_overlaps([(s, e) for s, e, _ in inside]),
            False, is_truncated, frozenset([term for _, _, term in inside]), field,
        ))
    return fragments


def best_fragment(
    text: str,
    analyzer: Analyzer,
    terms: Collection[str],
    phrases: Sequence[Phrase] = (),
    *,
    width: int = DEFAULT_WIDTH,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Fragment:
    """The one window of ``text`` that shows the most of the query (see :func:`best_fragments`)."""
    return best_fragments(text, analyzer, terms, phrases, count=1, width=width, max_chars=max_chars)[0]


def _best_window(marks: list[Mark], shown: list[bool], width: int) -> tuple[int, int] | None:
    """The marks ``first..last`` (none of them shown yet, none shown between them) whose
    window has the most distinct terms, then the highest density: marks per character of
    their span plus ``width``, so two marks 90 characters apart beat one alone, while a
    tight pair ("talking directly") beats three marks spread over a whole fragment."""
    best_distinct, best_density, best_range = -1, -1.0, None
    counts: dict[str, int] = {}  # marks per term in the window (a dict: Counter is slower here)
    first = 0
    for last, (_, last_end, term) in enumerate(marks):
        if shown[last]:
            counts.clear()
            first = last + 1
            continue
        counts[term] = counts.get(term, 0) + 1
        while first < last and last_end - marks[first][0] > width:
            dropped = marks[first][2]
            if counts[dropped] == 1:
                del counts[dropped]
            else:
                counts[dropped] -= 1
            first += 1
        distinct = len(counts)
        if distinct >= best_distinct:
            density = (last - first + 1) / (last_end - marks[first][0] + width)
            if distinct > best_distinct or density > best_density:
                best_distinct, best_density, best_range = distinct, density, (first, last)
    return best_range


def _merge_windows(text: str, windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows in text order, those that overlap or touch (nothing but white space
    between them) merged into one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _merge_overlaps(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Spans sorted by start, as one span for those that overlap: CJK bigrams (東京, 京都 -> 東京都), n-grams, and
    synonyms stacked on one word, so no text is shown twice."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:  # in order of start
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _cut(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, less a word cut in two at the end."""
    return text[: _word_end(text, max_chars)]


def _opening_end(text: str, width: int) -> int:
    """Where the opening fragment ends: a sentence end near ``width``, else a word end."""
    if len(text) <= width:
        return len(text)
    return _window_end(text, 0, width)


def _place_window(text: str, match_start: int, match_end: int, width: int) -> tuple[int, int]:
    """Put a ``width``-character window around the matches, on word or sentence edges."""
    slack = max(0, width - (match_end - match_start))
    ideal_start = max(0, match_start - slack // 3)
    # Near the end of the text, the room after the matches goes before them instead.
    ideal_start = max(0, min(ideal_start, len(text) - width))
    start = ideal_start
    if start > 0:
        # A sentence start up to a third of the slack earlier or anywhere later (before
        # the matches), the nearest to the ideal start; else the next word.
        breaks = [
            found.end("gap") for found in _SENTENCE_BREAK.finditer(text, max(0, ideal_start - slack // 3), match_start + 1)
            if found.end("gap") <= match_start
        ]
        start = min(breaks, key=lambda at: abs(at - ideal_start)) if breaks else _word_start(text, ideal_start)
    if start >= match_start:  # never cut a match off, nor the word it is in
        start = _outside_word_before(text, match_start)
    if start + width >= len(text):
        return start, len(text)
    end = _window_end(text, max(match_end, start + width // 2), start + width)
    return start, end if end > match_end else _outside_word_after(text, match_end)


def _is_inside_word(text: str, index: int) -> bool:
    return 0 < index < len(text) and bool(_WORD_CHAR.match(text, index - 1) and _WORD_CHAR.match(text, index))


def _outside_word_before(text: str, index: int) -> int:
    """``index``, or the start of the word it is inside (a CJK bigram's run)."""
    if not _is_inside_word(text, index):
        return index
    other = _NON_WORD_CHAR_BEFORE.search(text, max(0, index - MAX_WORD_SCAN), index)
    return other.end() if other is not None else (0 if index <= MAX_WORD_SCAN else index)


def _outside_word_after(text: str, index: int) -> int:
    """``index``, or the end of the word it is inside."""
    if not _is_inside_word(text, index):
        return index
    other = _NON_WORD_CHAR.search(text, index, index + MAX_WORD_SCAN)
    return other.start() if other is not None else (len(text) if len(text) - index <= MAX_WORD_SCAN else index)


def _window_end(text: str, earliest: int, ideal: int) -> int:
    """An end at ``ideal`` or before it: the last sentence end after ``earliest``, else
    the end of the word at ``ideal``."""
    last_break = None
    for last_break in _SENTENCE_BREAK.finditer(text, earliest, ideal):
        pass
    if last_break is not None and last_break.start("gap") > earliest:
        return int(last_break.start("gap"))
    return _word_end(text, ideal)


def _word_start(text: str, index: int) -> int:
    """Move ``index`` forward to the start of the next word (never past a word's middle),
    unless that is more than :data:`MAX_WORD_SCAN` characters away."""
    if index <= 0 or index >= len(text) or text[index - 1].isspace():
        return index
    space = _SPACE.search(text, index, index + MAX_WORD_SCAN)
    if space is not None:
        word = _NON_SPACE.search(text, space.start(), space.start() + MAX_WORD_SCAN)
        return int(word.start() if word is not None else space.end())
    if not _is_inside_word(text, index):
        return index  # beside punctuation: already between words
    other = _NON_WORD_CHAR.search(text, index, index + MAX_WORD_SCAN)
    return other.end() if other is not None else index


def _word_end(text: str, index: int) -> int:
    """Move ``index`` back to the end of the previous word (never cutting a word), unless
    that is more than :data:`MAX_WORD_SCAN` characters away."""
    if index >= len(text) or index <= 0 or text[index].isspace():
        return max(0, min(index, len(text)))
    space = _SPACE_BEFORE.search(text, max(0, index - MAX_WORD_SCAN), index)
    if space is not None:
        word = _NON_SPACE_BEFORE.search(text, max(0, space.start() - MAX_WORD_SCAN), space.start())
        return int(word.end() if word is not None else space.start())
    if not _is_inside_word(text, index):
        return index
    other = _NON_WORD_CHAR_BEFORE.search(text, max(0, index - MAX_WORD_SCAN), index)
    return other.end() if other is not None else index


# --- formatting ---------------------------------------------------------------------------


Fragments = Fragment | Sequence[Fragment]


def _as_list(fragments: Fragments) -> list[Fragment]:
    return [fragments] if isinstance(fragments, Fragment) else list(fragments)


def _render(fragments: Fragments, plain: Callable[[str], str], marked: Callable[[str], str]) -> str:
    """Fragments in order, an ellipsis wherever text was left out."""
    chosen = _as_list(fragments)
    parts: list[str] = []
    for index, fragment in enumerate(chosen):
        if index == 0 and fragment.is_cut_before:
            parts.append(ELLIPSIS)
        elif index > 0:
            parts.append(f" {ELLIPSIS} ")
        text = fragment.text
        clean = _clean if _NEEDS_CLEANING.search(text, fragment.start, fragment.end) else _unchanged
        pieces = []
        cursor = fragment.start
        for start, end in fragment.matches:
            if start > cursor:
                pieces.append(plain(clean(text[cursor:start])))
            pieces.append(marked(clean(text[start:end])))
            cursor = end
        if cursor < fragment.end:
            pieces.append(plain(clean(text[cursor : fragment.end])))
        parts.append("".join(pieces).strip())
    if chosen and chosen[-1].is_cut_after:
        parts.append(ELLIPSIS)
    return "".join(parts).strip()


def _clean(piece: str) -> str:
    return printable(_WHITESPACE.sub(" ", piece))


def _unchanged(piece: str) -> str:
    return piece


def printable(text: str) -> str:
    """``text`` with control characters replaced by U+FFFD: no escape sequence survives."""
    return str(_CONTROL.sub("\ufffd", text))


def format_plain(fragments: Fragments, before: str = "[", after: str = "]") -> str:
    """Plain text with each match between ``before`` and ``after``."""
    return _render(fragments, lambda s: s, lambda s: f"{before}{s}{after}")


def format_ansi(fragments: Fragments) -> str:
    """Text for a terminal: matches in bold yellow."""
    return _render(fragments, lambda s: s, lambda s: f"{ANSI_MATCH}{s}{ANSI_RESET}")


def format_html(fragments: Fragments) -> str:
    """HTML: matches in ``<mark>``, every piece of text escaped (safe to put in a page,
    in an element or in a quoted attribute)."""
    return _render(
        fragments,
        lambda s: html.escape(s, quote=True),
        lambda s: f"<mark>{html.escape(s, quote=True)}</mark>",
    )


def format_spans(fragments: Fragments) -> list[dict[str, Any]]:
    """The structured form: per span, its ``text`` (exactly as stored), its ``start``
    and ``end`` in the field and whether it is ``matched``. A gap between two spans'
    offsets is text left out."""
    return [
        {"text": fragment.text[span.start : span.end], "start": span.start, "end": span.end,
         "matched": span.is_match}
        for fragment in _as_list(fragments) for span in fragment.spans()
    ]
