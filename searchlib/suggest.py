"""Spelling suggestions ("did you mean") from an index's own vocabulary.

A query word that no live document holds is compared with the words of the index's
text fields: those within two edits (a transposition counts as one, as in fuzzy
queries) are candidates, found by the compiled core's Levenshtein automata over each
segment's words, ranked by how many live documents hold them, then by fewer edits. Suggestions are real words, not stems: a stemmed field's lexicon
(the words as typed, lowercased, before the stemmer) supplies them, so "univresity"
suggests "university" rather than its stem "univers".
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from searchlib import _core
from searchlib.analysis import Analyzer
from searchlib.errors import QueryError
from searchlib.segment.termdict import keeps_compiled_lexicon, lexicon_key_analyzer

if TYPE_CHECKING:
    from searchlib.searcher import Searcher
    from searchlib.segment import SegmentReader

#: Most edits between a query word and a suggestion.
MAX_SUGGESTION_EDITS = 2
#: Words shorter than this get no suggestion: one edit makes them another word.
MIN_WORD_LENGTH = 3
#: Words longer than this get no suggestion (no word of a language is; a pasted token
#: would only cost a large automaton).
MAX_WORD_LENGTH = 64
#: How long one word's suggestions may look (the automaton walks over every segment),
#: and how long "did you mean" may look for all the words of a query together: past
#: it, the remaining words stay as typed. Counted in the searching thread's CPU time,
#: so other threads and a loaded machine do not cut it short.
SUGGEST_SECONDS = 0.05
#: Unknown words of a query that "did you mean" looks at however much of
#: SUGGEST_SECONDS is left (each walk then reading its first
#: ``QueryLimits.untimed_visits`` words only): a query's few typos are corrected alike
#: on any machine. Further words are looked at only while the time lasts.
UNTIMED_WORDS = 3
#: Words whose counts a vocabulary remembers between look-ups.
WORD_MEMO_SIZE = 4096


def allowed_edits(word: str) -> int:
    """Edits a suggestion may differ by: none for very short words, one for words of up
    to four characters (two edits would turn "cat" into most three-letter words), else two."""
    if len(word) < MIN_WORD_LENGTH:
        return 0
    return 1 if len(word) <= 4 else MAX_SUGGESTION_EDITS


class Suggestion(NamedTuple):
    """A word of the index close to a query word (a named tuple: a value, compared and
    hashed as one, and cheaper to define than a dataclass on the query's start-up path)."""

    word: str
    distance: int
    doc_freq: int


class Vocabulary:
    """The words of one text field across a searcher's segments, with the number of
    live documents that hold them (through their term, for a stemmed field).

    Nothing is read up front: a word's count is looked up in the segments' lexicons or
    dictionaries when it is asked for, and the words near a misspelling are found by the
    compiled core's Levenshtein automaton walking each segment's lexicon (or dictionary)
    in order, skipping every run of words whose prefix is already too far. The counts
    come from the dictionaries, which include deleted documents; where a segment has
    deletions, a word's count is corrected when it is asked for, so that a word only
    deleted documents hold is neither suggested nor taken as known.
    """

    def __init__(self, searcher: Searcher, field_name: str) -> None:
        self._searcher = searcher
        self._field_name = field_name
        self._has_deletions = any(not reader.all_live for reader in searcher.readers)
        #: Per word asked for, documents holding its term by the dictionaries (bounded).
        self._doc_freqs: dict[str, int] = {}
        self._live_doc_freqs: dict[str, int] = {}

    def __contains__(self, word: object) -> bool:
        """Whether a live document holds ``word``."""
        return isinstance(word, str) and self.live_doc_freq(word) > 0

    def doc_freq(self, word: str) -> int:
        """Documents holding ``word`` (through its term) by the dictionaries, deleted
        ones included, summed over the segments."""
        count = self._doc_freqs.get(word)
        if count is None:
            count = sum(self._segment_doc_freq(reader, word) for reader in self._searcher.readers)
            if len(self._doc_freqs) >= WORD_MEMO_SIZE:
                self._doc_freqs.clear()
            self._doc_freqs[word] = count
        return count

    def _segment_doc_freq(self, reader: SegmentReader, word: str) -> int:
        if reader.lexicon_size(self._field_name):
            index = int(reader.core.lexicon_find_many(self._field_name, [word])[0])
        else:
            dictionary = reader.dictionary(self._field_name)
            index = -1 if dictionary is None else dictionary.find(word)
        return reader.doc_freq_at(self._field_name, index) if index >= 0 else 0

    def live_doc_freq(self, word: str) -> int:
        """Live documents holding ``word`` (for a stemmed field: holding its term)."""
        indexed = self.doc_freq(word)
        if not indexed or not self._has_deletions:
            return indexed
        count = self._live_doc_freqs.get(word)
        if count is None:
            if len(self._live_doc_freqs) >= WORD_MEMO_SIZE:
                self._live_doc_freqs.clear()
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
        self,
        word: str,
        limit: int = 5,
        max_edits: int | None = None,
        max_candidates: int | None = None,
        seconds: float = SUGGEST_SECONDS,
    ) -> list[Suggestion]:
        """Words within ``max_edits`` (default: by length, see :func:`allowed_edits`) of
        ``word`` that live documents hold, most frequent first (then closest).

        ``max_candidates`` bounds the words within reach that are ranked (default: the
        searcher's ``limits.suggest_candidates``): the most frequent by the
        dictionaries, since checking a candidate's live count can cost a look-up. The
        walks over the segments stop after ``seconds`` together, with what they found,
        each reading at least its first ``limits.untimed_visits`` words.
        """
        if max_edits is None:
            max_edits = allowed_edits(word)
        if max_edits == 0 or len(word) > MAX_WORD_LENGTH:
            return []
        if max_candidates is None:
            max_candidates = self._searcher.limits.suggest_candidates
        prepare_automata(max_edits)
        deadline = time.thread_time() + seconds
        indexed: dict[str, int] = {}
        distance: dict[str, int] = {}
        untimed = self._searcher.limits.untimed_visits
        for reader in self._searcher.readers:
            # Past the deadline a segment's walk still reads its first `untimed` words.
            left = max(deadline - time.thread_time(), 0.0)
            words, distances, doc_freqs, _ = _core.near_words(
                reader.core, self._field_name, word, max_edits, seconds=left, untimed_visits=untimed
            )
            for candidate, edits, count in zip(words, distances, doc_freqs):
                indexed[candidate] = indexed.get(candidate, 0) + count
                distance[candidate] = edits
        indexed.pop(word, None)
        within = sorted(indexed, key=lambda found: (-indexed[found], distance[found], found))[:max_candidates]
        found = [Suggestion(candidate, distance[candidate], self._candidate_count(candidate, indexed)) for candidate in within]
        found = [suggestion for suggestion in found if suggestion.doc_freq > 0]
        found.sort(key=lambda s: (-s.doc_freq, s.distance, s.word))
        return found[:limit]

    def _candidate_count(self, candidate: str, indexed: dict[str, int]) -> int:
        """A candidate's live count: its indexed one when nothing is deleted."""
        if not self._has_deletions:
            return indexed[candidate]
        return self.live_doc_freq(candidate)


def prepare_automata(max_edits: int) -> float:
    """Makes the core's Levenshtein builder for ``max_edits`` if this process has not
    yet, and returns the CPU seconds that took. The builder costs tens of milliseconds
    once per process; the time bounds are on looking for words, so a caller calls this
    before starting its clock (or moves its deadline by what it returns), else a
    process's first correction would answer differently from the next, and a slow
    machine would lose it altogether."""
    if max_edits <= 0:
        return 0.0
    start = time.thread_time()
    _core.prepare_fuzzy(min(max_edits, MAX_SUGGESTION_EDITS))
    return time.thread_time() - start


def lookup_key(analyzer: Analyzer, raw: str) -> str | None:
    """How a typed word appears in a field's vocabulary: its lexicon key (lowercased,
    before the stemmer) for a stemmed field, else its term; None for a stop word."""
    if analyzer.costly_from is not None:
        return analyzer.lexicon_key(raw)
    if keeps_compiled_lexicon(analyzer):
        return lexicon_key_analyzer(analyzer).term_for(raw)
    return analyzer.term_for(raw)


def suggest_words(
    searcher: Searcher, word: str, fields: Sequence[str], limit: int = 5, seconds: float = SUGGEST_SECONDS
) -> list[Suggestion]:
    """Suggestions for one typed word over ``fields``, merged and ranked, found within
    ``seconds`` for all the fields together."""
    prepare_automata(allowed_edits(word))
    deadline = time.thread_time() + seconds
    merged: dict[str, Suggestion] = {}
    for name in fields:
        key = lookup_key(searcher.analyzers[name], word)
        left = max(deadline - time.thread_time(), 0.0)  # walks read their untimed words even at 0
        if key is None:
            continue
        for suggestion in searcher.vocabulary(name).suggest(key, limit, seconds=left):
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
    most ``suggest_candidates`` candidates; and in time: after :data:`SUGGEST_SECONDS`
    the words not yet looked at stay as typed, except the first :data:`UNTIMED_WORDS`
    unknown ones (the first gets a whole :data:`SUGGEST_SECONDS` whatever came before
    it; past the time, a word's walks read only their first ``limits.untimed_visits``
    words each).
    """
    if not fields:
        return None
    limits = searcher.limits
    text = text[: limits.max_length]
    tokenizer = searcher.analyzers[fields[0]].tokenizer
    #: Where the text holds syntax, read when a first unknown word needs it (a query of
    #: known words, the most common, never loads the query language's lexer).
    syntax: list[tuple[int, int]] | None = None
    syntax_ends: list[int] = []
    pieces: list[str] = []
    cursor = 0
    changed = False
    unknown = 0
    # What is set up once (the tokenizer's pattern, each field's vocabulary) is done
    # before the clock starts: the bound is on the search for corrections, and a first
    # call that spent it on loading would answer differently from the next.
    tokens = list(tokenizer.tokens(text))
    vocabularies = [searcher.vocabulary(name) for name in fields]
    analyzers = [searcher.analyzers[name] for name in fields]
    if tokens:  # a word's key may need the field's key analyzer made: done here, once
        for analyzer in analyzers:
            lookup_key(analyzer, tokens[0].text)
    deadline = time.thread_time() + SUGGEST_SECONDS
    for token in tokens:
        if unknown >= limits.suggest_words or (unknown >= UNTIMED_WORDS and time.thread_time() >= deadline):
            break
        keys = [lookup_key(analyzer, token.text) for analyzer in analyzers]
        if all(key is None for key in keys):
            continue  # a stop word
        if any(key is not None and key in vocabulary for key, vocabulary in zip(keys, vocabularies)):
            continue
        if syntax is None:  # set-up too, off the clock
            started = time.thread_time()
            syntax = _syntax_spans(text)
            syntax_ends = [end for _, end in syntax]
            deadline += time.thread_time() - started
        # The spans are ascending and apart: the first ending after the token's start
        # is the only one it can overlap.
        at = bisect_right(syntax_ends, token.start)
        if at < len(syntax) and syntax[at][0] < token.end:
            continue
        # The first UNTIMED_WORDS unknown words are always looked at (the first with a
        # whole budget), each walk reading at least its first untimed words: what else
        # ran on the clock (a busy machine's stalls, a first call's page faults) must
        # not take away the few corrections a short query needs. Later words get what
        # is left, and none once it is spent.
        left = deadline - time.thread_time() if unknown else max(deadline - time.thread_time(), SUGGEST_SECONDS)
        if left <= 0 and unknown >= UNTIMED_WORDS:
            break
        left = max(left, 0.0)
        unknown += 1
        spent = prepare_automata(allowed_edits(token.text))  # once per process: not on the clock
        deadline += spent
        best = suggest_words(searcher, token.text, fields, limit=1, seconds=left)
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
