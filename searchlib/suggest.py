"""Spelling suggestions ("did you mean") from an index's own vocabulary.

A query word that no live document holds is compared with the words of the index's
text fields: those within two edits (a transposition counts as one, see
:mod:`searchlib.query.fuzzy`) are candidates, ranked by how many live documents hold them,
then by fewer edits. Suggestions are real words, not stems: a stemmed field's lexicon
(the words as typed, lowercased, before the stemmer) supplies them, so "univresity"
suggests "university" rather than its stem "univers".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from searchlib.analysis import Analyzer
from searchlib.errors import QueryError
from searchlib.segment.writer import keeps_compiled_lexicon, lexicon_key_analyzer

if TYPE_CHECKING:
    from searchlib.searcher import Searcher

#: Most edits between a query word and a suggestion.
MAX_SUGGESTION_EDITS = 2
#: Words shorter than this get no suggestion: one edit makes them another word.
MIN_WORD_LENGTH = 3


def allowed_edits(word: str) -> int:
    """Edits a suggestion may differ by: none for very short words, one for words of up
    to four characters (two edits would turn "cat" into most three-letter words), else two."""
    if len(word) < MIN_WORD_LENGTH:
        return 0
    return 1 if len(word) <= 4 else MAX_SUGGESTION_EDITS


@dataclass(frozen=True)
class Suggestion:
    """A word of the index close to a query word."""

    word: str
    distance: int
    doc_freq: int


class Vocabulary:
    """The words of one text field across a searcher's segments, with the number of
    live documents that hold them (through their term, for a stemmed field).

    The counts come from the term dictionaries, which include deleted documents. Where
    a segment has deletions, a word's count is corrected when it is asked for (a
    candidate suggestion, or a query word checked for being known), so that a word only
    deleted documents hold is neither suggested nor taken as known, without counting
    live postings for the whole vocabulary up front.
    """

    def __init__(self, searcher: Searcher, field_name: str) -> None:
        counts: dict[str, int] = {}
        for reader in searcher.readers:
            dictionary = reader.dictionary(field_name)
            if dictionary is None:
                continue
            doc_freq = reader.doc_freqs(field_name)
            lexicon = reader.lexicon(field_name)
            if lexicon is not None:  # the words, not their stems
                words = lexicon.terms()
                frequencies = doc_freq[lexicon.term_indexes.astype(np.int64)].tolist()
            else:
                words = dictionary.terms()
                frequencies = doc_freq.tolist()
            for word, count in zip(words, frequencies):
                counts[word] = counts.get(word, 0) + int(count)
        self.words: list[str] = list(counts)
        #: Per word, documents holding it by the dictionaries (deleted ones included).
        self.doc_freqs = counts
        self._searcher = searcher
        self._field_name = field_name
        self._has_deletions = any(not reader.all_live for reader in searcher.readers)
        self._live_doc_freqs: dict[str, int] = {}

    def __contains__(self, word: object) -> bool:
        """Whether a live document holds ``word``."""
        return isinstance(word, str) and self.live_doc_freq(word) > 0

    def live_doc_freq(self, word: str) -> int:
        """Live documents holding ``word`` (for a stemmed field: holding its term)."""
        indexed = self.doc_freqs.get(word, 0)
        if not indexed or not self._has_deletions:
            return indexed
        count = self._live_doc_freqs.get(word)
        if count is None:
            count = self._live_doc_freqs[word] = self._searcher.doc_freq(self._field_name, self._term_of(word))
        return count

    def _term_of(self, word: str) -> str:
        """The term ``word`` became: the lexicon says, in a segment that holds it. A
        field without lexicons (an analyzer with nothing costly) has its words as terms;
        a segment without one has no document with the field."""
        for reader in self._searcher.readers:
            term = reader.lexicon_term(self._field_name, word)
            if term is not None:
                return term
        return word

    def suggest(
        self, word: str, limit: int = 5, max_edits: int | None = None, max_candidates: int | None = None
    ) -> list[Suggestion]:
        """Words within ``max_edits`` (default: by length, see :func:`allowed_edits`) of
        ``word`` that live documents hold, most frequent first (then closest).

        ``max_candidates`` bounds the words within reach that are ranked (default: the
        searcher's ``limits.suggest_candidates``): the most frequent by the
        dictionaries, since checking a candidate's live count can cost a look-up.
        """
        from searchlib.query.fuzzy import distances

        if max_edits is None:
            max_edits = allowed_edits(word)
        if max_edits == 0:
            return []
        if max_candidates is None:
            max_candidates = self._searcher.limits.suggest_candidates
        within = [(candidate, distance) for candidate, distance in distances(self.words, word, max_edits) if candidate != word]
        if len(within) > max_candidates:
            doc_freqs = self.doc_freqs
            within.sort(key=lambda found: (-doc_freqs[found[0]], found[1], found[0]))
            del within[max_candidates:]
        found = [Suggestion(candidate, distance, self.live_doc_freq(candidate)) for candidate, distance in within]
        found = [suggestion for suggestion in found if suggestion.doc_freq > 0]
        found.sort(key=lambda s: (-s.doc_freq, s.distance, s.word))
        return found[:limit]


def lookup_key(analyzer: Analyzer, raw: str) -> str | None:
    """How a typed word appears in a field's vocabulary: its lexicon key (lowercased,
    before the stemmer) for a stemmed field, else its term; None for a stop word."""
    if analyzer.costly_from is not None:
        return analyzer.lexicon_key(raw)
    if keeps_compiled_lexicon(analyzer):
        return lexicon_key_analyzer(analyzer).term_for(raw)
    return analyzer.term_for(raw)


def suggest_words(
    searcher: Searcher, word: str, fields: Sequence[str], limit: int = 5
) -> list[Suggestion]:
    """Suggestions for one typed word over ``fields``, merged and ranked."""
    merged: dict[str, Suggestion] = {}
    for name in fields:
        key = lookup_key(searcher.analyzers[name], word)
        if key is None:
            continue
        for suggestion in searcher.vocabulary(name).suggest(key, limit):
            known = merged.get(suggestion.word)
            if known is None or known.doc_freq < suggestion.doc_freq:
                merged[suggestion.word] = suggestion
    ranked = sorted(merged.values(), key=lambda s: (-s.doc_freq, s.distance, s.word))
    return ranked[:limit]


def did_you_mean(searcher: Searcher, text: str, fields: Sequence[str]) -> str | None:
    """``text`` with each word that no field holds replaced by its best suggestion, or
    None when every word is known or nothing close exists. Query syntax (quotes,
    operators, ``field:``, ranges, regular expressions, wildcard patterns) is kept as
    typed.

    The work is bounded by the searcher's ``limits``: the text read is at most
    ``max_length`` characters, corrections are sought for its first
    ``suggest_words`` unknown words only (the rest stay as typed), and each ranks at
    most ``suggest_candidates`` candidates.
    """
    if not fields:
        return None
    limits = searcher.limits
    text = text[: limits.max_length]
    tokenizer = searcher.analyzers[fields[0]].tokenizer
    syntax = _syntax_spans(text)
    syntax_ends = [end for _, end in syntax]
    pieces: list[str] = []
    cursor = 0
    changed = False
    unknown = 0
    for token in tokenizer.tokens(text):
        if unknown >= limits.suggest_words:
            break
        # The spans are ascending and apart: the first ending after the token's start
        # is the only one it can overlap.
        at = bisect_right(syntax_ends, token.start)
        if at < len(syntax) and syntax[at][0] < token.end:
            continue
        keys = [lookup_key(searcher.analyzers[name], token.text) for name in fields]
        if all(key is None for key in keys):
            continue  # a stop word
        if any(key is not None and key in searcher.vocabulary(name) for key, name in zip(keys, fields)):
            continue
        unknown += 1
        best = suggest_words(searcher, token.text, fields, limit=1)
        if best:
            pieces.append(text[cursor : token.start])
            pieces.append(best[0].word)
            cursor = token.end
            changed = True
    if not changed:
        return None
    pieces.append(text[cursor:])
    return "".join(pieces)


def _syntax_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds syntax rather than words to correct: regular expressions,
    ranges, field names and wildcard patterns, as the query parser reads them (none
    when it cannot: lenient parsing then reads the text as words)."""
    from searchlib.parser.lexer import Lexer

    try:
        tokens = Lexer(text, frozenset()).tokens()
    except QueryError:
        return []
    return [
        (token.start, token.end)
        for token in tokens
        if token.kind in ("field", "range", "regex") or (token.kind == "word" and token.wild)
    ]
