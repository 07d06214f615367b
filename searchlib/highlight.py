"""Highlighting: the best fragments of a stored text, with the query's matches marked.

Roles, as in Whoosh's highlighter:

- **targets** (:func:`query_targets`) walk a query tree for what to mark in each field:
  terms of :class:`~searchlib.query.Term` and :class:`~searchlib.query.CombinedTerm`
  nodes (which is also what prefix, wildcard, fuzzy and regex nodes become once a
  searcher has expanded them) are marked wherever they occur; a
  :class:`~searchlib.query.Phrase` is marked only where the phrase itself occurs, within
  its slop; excluded clauses (``NOT``, ``must_not``) mark nothing;
- **analysis** re-runs the field's analyzer over the stored text *with offsets*, in the
  compiled core (``_core.HighlightTargets``, one call per hit and field), so a token
  matches when its analyzed term is a query term ("talking" matches the query word
  "talks": both stem to ``talk``; "café" matches "cafe" where the analyzer folds
  accents), and its mark covers the exact source span; stop words never become tokens,
  so they are never marked. A chain with a part written in Python (a custom filter, an
  NLTK stemmer) runs here and hands the core its wanted tokens. Phrases follow search's
  rule (Lucene's: each query word takes its own position, so a repeated word needs as
  many occurrences; :func:`phrase_occurrences`). At most ``max_chars`` characters of a
  field are analyzed (:data:`DEFAULT_MAX_CHARS`); a fragment says so with
  ``is_truncated``;
- **fragment choice** (:func:`best_fragments`, in the core) slides a window of about
  ``width`` characters over the marks and keeps the one with the most distinct query
  terms; then the one with the most *affinity* with the query as typed: each mark that
  follows another as the query's words follow each other counts 1, or 2 when both are
  the words as typed, and each distinct term shown as typed counts 1 (for the query
  ``direct talks``, "held direct talks" beats "talking directly"); then the densest
  (marks per character of their span plus ``width``, so words side by side beat the
  same words scattered). A searcher knows the query's text (:func:`remember_text`); a
  query built in code gives its terms' order only. Up to ``count`` windows are chosen
  that way among the marks not yet shown, and windows that overlap are merged. Edges
  fall on word boundaries, preferably where a sentence starts or ends; a text with no
  match gives its opening, flagged ``is_opening``;
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

import itertools
import re
import weakref
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from searchlib import _core
from searchlib._records import FrozenRecord

if TYPE_CHECKING:  # the query classes load with a query tree: a plain search has none
    from searchlib.analysis import Analyzer
    from searchlib.query import Phrase, Query

DEFAULT_WIDTH = 160
#: Highlighting reads at most this many characters of a field.
DEFAULT_MAX_CHARS = 1_000_000
ELLIPSIS = "…"
ANSI_MATCH = "\x1b[1;33m"
ANSI_RESET = "\x1b[0m"

#: Unicode's control characters (general category Cc): exactly these two ranges.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

#: A mark before fragment choice: ``(start, end, term)``.
Mark = tuple[int, int, str]


class Span(FrozenRecord):
    """A piece of a fragment: ``text[start:end]`` of the field, matched or not."""

    __slots__ = ("start", "end", "is_match")
    start: int
    end: int
    is_match: bool

    def __init__(self, start: int, end: int, is_match: bool) -> None:
        super().__init__(start=start, end=end, is_match=is_match)


class Fragment(FrozenRecord):
    """A window ``[start, end)`` of a field's text and the marks inside it.

    ``text`` is the whole field, so offsets index the stored value. ``is_opening``: the
    field had no match and this is its opening. ``is_truncated``: the field was longer
    than the highlighter's ``max_chars``, and only that many characters were searched for
    matches. ``terms``: the distinct query terms marked here. ``field``: the field's
    name, when a searcher made the fragment.
    """

    __slots__ = ("text", "start", "end", "matches", "is_opening", "is_truncated", "terms", "field", "affinity")
    text: str
    start: int
    end: int
    matches: tuple[tuple[int, int], ...]
    is_opening: bool
    is_truncated: bool
    terms: frozenset[str]
    field: str | None
    affinity: int

    def __init__(
        self, text: str, start: int, end: int, matches: tuple[tuple[int, int], ...], is_opening: bool = False,
        is_truncated: bool = False, terms: frozenset[str] = frozenset(), field: str | None = None, affinity: int = 0,
    ) -> None:
        # Field by field rather than through FrozenRecord.__init__, twice as fast:
        # snippets make one or two fragments a hit.
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "matches", matches)
        object.__setattr__(self, "is_opening", is_opening)
        object.__setattr__(self, "is_truncated", is_truncated)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "affinity", affinity)

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


class Targets:
    """Per field, the terms to mark anywhere and the phrases to mark where they occur, and
    the terms in the order the query names them (for the preference of fragments that
    show the query's words in order). Filled by :meth:`add` as a query is walked."""

    __slots__ = ("order", "phrases", "terms")

    def __init__(self) -> None:
        self.terms: dict[str, set[str]] = {}
        self.phrases: dict[str, list[Phrase]] = {}
        self.order: dict[str, list[str]] = {}

    def add(self, name: str, term: str) -> None:
        """Mark ``term`` anywhere in field ``name``."""
        terms = self.terms.get(name)
        if terms is None:
            terms = self.terms[name] = set()
        terms.add(term)
        self.order.setdefault(name, []).append(term)

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
        from searchlib.query import Phrase  # loaded already if the query holds one

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


def query_highlighter(query: Query) -> QueryHighlighter:
    """The highlighter of a query tree's hits."""
    return QueryHighlighter(query, query_targets(query), query_text(query))


def query_targets(query: Query) -> Targets:
    """What ``query`` marks, field by field (see the module docstring).

    Pattern nodes must have been expanded (:meth:`Searcher.search` does it, so a hit's
    ``query`` holds concrete terms only). A node this walk does not know contributes
    its :meth:`~searchlib.query.Query.terms`, marked anywhere.
    """
    targets = Targets()
    _collect(query, targets)
    return targets


#: Node classes by the rule that collects them (see :func:`_kind`), looked up by type: a
#: query of a few hundred nodes is walked once per search, and isinstance on the query
#: classes (abstract base classes) cost more than the rest of the walk.
_KINDS: dict[type, str] = {}


def _kind(node: Query) -> str:
    kind = _KINDS.get(type(node))
    if kind is None:
        from searchlib.query import And, Bool, Boost, CombinedTerm, Filter, Not, Or, Term  # a tree holds them

        kinds = ((Term, "term"), (CombinedTerm, "combined"), (Not, "not"), (Bool, "bool"),
                 (And, "clauses"), (Or, "clauses"), (Filter, "filter"), (Boost, "boost"))
        kind = next((name for cls, name in kinds if isinstance(node, cls)), None)
        if kind is None:  # only now the phrase module: a query of words never loads it
            from searchlib.query import Phrase

            kind = "phrase" if isinstance(node, Phrase) else "other"
        _KINDS[type(node)] = kind
    return kind


def _collect(node: Query, targets: Targets) -> None:
    kind = _kind(node)
    if kind == "term":
        targets.add(node.field, node.text)  # type: ignore[attr-defined]
    elif kind == "combined":
        for name in node.fields:  # type: ignore[attr-defined]
            targets.add(name, node.text)  # type: ignore[attr-defined]
    elif kind == "phrase":
        from searchlib.query import Phrase  # loaded already: the node is one

        assert isinstance(node, Phrase)
        if len(node.phrase_terms) == 1:
            targets.add(node.field, node.phrase_terms[0])
        else:
            targets.phrases.setdefault(node.field, []).append(node)
            targets.order.setdefault(node.field, []).extend(node.phrase_terms)
    elif kind == "not":
        return  # an exclusion: the hit does not match it
    elif kind == "bool":
        for clause in (*node.must, *node.should, *node.filter):  # type: ignore[attr-defined]
            _collect(clause, targets)
    elif kind == "clauses":
        for clause in node.clauses:  # type: ignore[attr-defined]
            _collect(clause, targets)
    elif kind == "filter":
        _collect(node.query, targets)  # type: ignore[attr-defined]
        _collect(node.filter, targets)  # type: ignore[attr-defined]
    elif kind == "boost":
        _collect(node.query, targets)  # type: ignore[attr-defined]
    else:
        for name, term in sorted(node.terms()):
            targets.add(name, term)


# --- the query as typed ---------------------------------------------------------------------

#: The text each parsed query came from, by the query object's identity (see
#: :func:`remember_text`); an entry goes when its query does.
_TEXTS: dict[int, tuple[weakref.ref[Query], str]] = {}


def remember_text(query: Query, text: str) -> None:
    """Remember that ``query`` was parsed from ``text``, so that its snippets can prefer
    the query's words as typed ("talks", not "talking"). A searcher calls this for every
    query string it parses; a query built in code has no text and is marked as well."""
    key = id(query)
    texts = _TEXTS  # bound now, not looked up when the query goes: at interpreter exit
    # the module's globals may already be cleared

    def forget(_: weakref.ref[Query]) -> None:
        texts.pop(key, None)

    _TEXTS[key] = (weakref.ref(query, forget), text)


def query_text(query: Query) -> str | None:
    """The text ``query`` was parsed from, if a searcher remembered it."""
    found = _TEXTS.get(id(query))
    return found[1] if found is not None and found[0]() is query else None


#: A query word for fragment choice: its term, its surface form as typed (None when not
#: known) and its position in the analyzed query.
QueryWord = tuple[str, "str | None", int]


def query_words(targets: Targets, name: str, analyzer: Analyzer, terms: Collection[str], text: str | None) -> list[QueryWord]:
    """The query's words that mark something in field ``name``, in query order: from the
    query's text analyzed by the field's analyzer when the text is known (with their
    surface forms and positions), else in the order the query tree names its terms."""
    if text is not None:
        core = analyzer.core()
        try:
            if core is not None:  # four lists, no Token objects
                found, positions, starts, ends = core.tokens(text)
                return [(term, text[start:end], position)
                        for term, position, start, end in zip(found, positions, starts, ends) if term in terms]
            return [(token.text, text[token.start : token.end], token.pos)
                    for token in analyzer.tokens(text) if token.text in terms]
        except Exception:  # noqa: BLE001 - a chain that fails on the query's syntax, or a lone surrogate: no preference
            return []
    return [(term, None, position) for position, term in enumerate(targets.order.get(name, ()))]


# --- marks and fragments, in the core ----------------------------------------------------------


class Compiled:
    """A query's targets in one field as the core holds them (``_core.HighlightTargets``):
    built once per query and field, used for every hit."""

    def __init__(self, terms: Collection[str], phrases: Sequence[Phrase] = (), words: Sequence[QueryWord] = ()) -> None:
        names = list(dict.fromkeys([*terms, *(term for phrase in phrases for term in phrase.phrase_terms)]))
        self.names = names
        self.index = {term: i for i, term in enumerate(names)}
        anywhere = set(terms)
        kept_words = [(self.index[term], position, typed) for term, typed, position in words if term in self.index]
        self.core = _core.HighlightTargets(
            names,
            [term in anywhere for term in names],
            [([self.index[t] for t in phrase.phrase_terms], list(phrase.positions), phrase.slop) for phrase in phrases],
            kept_words,
        )

    def source(self, text: str, analyzer: Analyzer, core: Any, max_chars: int) -> tuple[Any, Any]:
        """Where the core finds ``text``'s wanted tokens: ``(core, None)`` when the chain is
        built into it (``core``: the analyzer's :meth:`~Analyzer.core`), else ``(None,
        tokens)``, the wanted tokens of the first ``max_chars`` characters, found here."""
        if core is not None:
            return core, None
        return None, _wanted_tokens(text[:max_chars], analyzer, self.index)

    def _call(self, method: str, text: str, analyzer: Analyzer, max_chars: int, *args: Any) -> Any:
        """Run ``method`` of the core's targets over ``text`` (see :meth:`source`)."""
        core, tokens = self.source(text, analyzer, analyzer.core(), max_chars)
        try:
            return getattr(self.core, method)(text, *args, analyzer=core, tokens=tokens)
        except UnicodeEncodeError:  # a lone surrogate: one replacement character keeps the offsets
            return getattr(self.core, method)(_SURROGATE.sub("\ufffd", text), *args, analyzer=core, tokens=tokens)

    def marks(self, text: str, analyzer: Analyzer, max_chars: int = DEFAULT_MAX_CHARS) -> list[Mark]:
        """Every ``(start, end, term)`` of ``text`` to mark, in text order."""
        names = self.names
        return [(start, end, names[term]) for start, end, term in self._call("marks", text, analyzer, max_chars, max_chars)]

    def fragments(
        self, text: str, analyzer: Analyzer, *, count: int, width: int, max_chars: int, field: str | None
    ) -> list[Fragment]:
        """Up to ``count`` fragments of ``text`` (see :func:`best_fragments`)."""
        _check(count, width, max_chars)
        found = self._call("fragments", text, analyzer, max_chars, count, width, max_chars)
        return self.made(text, field, found)

    def made(self, text: str, field: str | None, found: tuple[bool, bool, list[Any]]) -> list[Fragment]:
        """The core's fragments of ``text`` as :class:`Fragment` objects."""
        is_opening, is_truncated, fragments = found
        names = self.names
        return [
            Fragment(text, start, end, tuple(matches), is_opening, is_truncated,
                     frozenset([names[i] for i in terms]), field, affinity)
            for start, end, matches, terms, affinity in fragments
        ]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(requests: list[tuple[Any, Any, Any, str]]) -> list[tuple[Any, Any, Any, str]]:
    """``requests`` with each lone surrogate of their texts made one replacement character
    (which keeps the offsets)."""
    return [(*request[:3], _SURROGATE.sub("\ufffd", request[3])) for request in requests]


def _check(count: int, width: int, max_chars: int) -> None:
    if count < 1 or width < 1 or max_chars < 0:
        raise ValueError(f"count and width must be at least 1 and max_chars not negative, "
                         f"got count={count}, width={width}, max_chars={max_chars}")


def _wanted_tokens(text: str, analyzer: Analyzer, index: dict[str, int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Term index, position and offsets of each token of ``text`` whose term is wanted,
    from a chain the core does not have (four lists: one call into the core per text)."""
    terms: list[int] = []
    positions: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    if not index or not text:
        return terms, positions, starts, ends
    if not analyzer.is_fast:  # chains that add tokens (synonyms): full tokens
        for token in analyzer.tokens(text):
            found = index.get(token.text)
            if found is not None:
                terms.append(found)
                positions.append(token.pos)
                starts.append(token.start)
                ends.append(token.end)
        return terms, positions, starts, ends
    # One term per position: map the words, then find the offsets of the wanted ones only.
    pieces = analyzer.tokenizer.pieces(text)
    by_position = analyzer.terms(text) if pieces is None else analyzer.map_words(pieces[1::2])
    positions = [pos for pos, term in enumerate(by_position) if term in index]
    if not positions:
        return terms, positions, starts, ends
    terms = [index[by_position[pos]] for pos in positions]  # type: ignore[index]
    spans = _spans_of_tokens(text, analyzer, positions) if pieces is None else _spans_in_pieces(pieces, positions)
    return terms, positions, [start for start, _ in spans], [end for _, end in spans]


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


def find_marks(text: str, analyzer: Analyzer, terms: Collection[str], phrases: Sequence[Phrase] = ()) -> list[Mark]:
    """Every ``(start, end, term)`` of ``text`` to mark, in text order.

    A token is marked when its term is one of ``terms``, or when it is part of an
    occurrence of one of ``phrases`` (by the phrase rule of search: see
    :func:`phrase_occurrences`).
    """
    if not text or not (terms or phrases):
        return []
    return Compiled(terms, phrases).marks(text, analyzer)


def phrase_occurrences(phrase: Phrase, occurrences: dict[str, list[int]]) -> Iterator[list[int]]:
    """Each occurrence of ``phrase`` as the position of each of its terms, given the
    ascending positions of every term: one per first-term position where an occurrence
    starts, as :meth:`Phrase.frequencies <searchlib.query.Phrase.frequencies>` counts
    them (Lucene's rule: each query word takes its own position, so a repeated word needs
    as many occurrences). Of the windows that match, the one starting earliest is shown,
    and in it each term's earliest positions. The core's matcher, which marks phrases."""
    distinct = list(dict.fromkeys(phrase.phrase_terms))
    slots = [distinct.index(term) for term in phrase.phrase_terms]
    positions = [list(occurrences.get(term, ())) for term in distinct]
    yield from _core.phrase_occurrences(slots, list(phrase.positions), phrase.slop, positions)


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
    words: Sequence[QueryWord] = (),
) -> list[Fragment]:
    """Up to ``count`` fragments of about ``width`` characters showing the most of the
    query, in text order and never overlapping (windows that would overlap are merged).

    Each window is chosen by the number of distinct query terms it marks, then by its
    affinity with the query's ``words`` (in query order, as typed: see the module
    docstring), then by the density of its marks, among the marks the windows already
    chosen do not show. Only the first ``max_chars`` characters are searched; a text with
    no mark there gives one fragment: its opening, flagged ``is_opening``. ``field``
    names the field on the fragments.
    """
    return Compiled(terms, phrases, words).fragments(
        text, analyzer, count=count, width=width, max_chars=max_chars, field=field
    )


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


class QueryHighlighter:
    """Snippets for the hits of one query: its targets, and per field what the core holds
    of them (with the query's words in order and as typed), built on first use.

    ``source`` is what the hits share (their query tree, or the plain search's deferred
    query), by which a searcher knows the highlighter is still the hits' own;
    ``targets`` what the query marks (:func:`query_targets` of a tree), ``text`` the
    query as typed (None when not known)."""

    def __init__(self, source: object, targets: Targets, text: str | None) -> None:
        self.source = source
        self.targets = targets
        self.text = text
        self._compiled: dict[tuple[str, int, bool], tuple[Analyzer, Compiled]] = {}
        #: Per (field names, analyzers, translated): each field's targets and analyzers.
        self._prepared: dict[tuple[tuple[str, ...], int, bool], tuple[Any, list[tuple[str, Compiled, Analyzer, Any]]]] = {}

    def hit_fragments(
        self, values: dict[str, Any], names: Sequence[str], analyzers: Any, *, searched: Collection[str] = (),
        count: int = 1, width: int = DEFAULT_WIDTH, max_chars: int = DEFAULT_MAX_CHARS,
    ) -> list[Fragment] | None:
        """Up to ``count`` fragments of the best of a hit's stored text fields ``names``
        (their texts in ``values``, their analyzers in ``analyzers``): the one showing the
        most distinct terms, then the most affinity with the query, then the most
        matches, then the longest text (None when none holds text). One call into the
        core for all of them. A field the query did not search is marked with the targets
        of the ``searched`` fields, each term analyzed again by the field's own analyzer."""
        _check(count, width, max_chars)
        requests, shown = self._requests(values, names, analyzers, searched, max_chars)
        try:
            best: tuple[int, Any] | None = _core.best_field(requests, count, width, max_chars)
        except UnicodeEncodeError:  # a lone surrogate: one replacement character keeps the offsets
            best = _core.best_field(_clean(requests), count, width, max_chars)
        if best is None:
            return None
        name, text, compiled = shown[best[0]]
        return compiled.made(text, name, best[1])

    def page_snippets(
        self, pages: Sequence[dict[str, Any]], names: Sequence[str], analyzers: Any, *,
        searched: Collection[str] = (), count: int = 1, width: int = DEFAULT_WIDTH,
        max_chars: int = DEFAULT_MAX_CHARS, style: str = "plain", before: str | None = None,
        after: str | None = None,
    ) -> list[str | None]:
        """The snippet of each hit whose stored values are in ``pages``: its best field's
        fragments (as :meth:`hit_fragments` chooses them) formatted in ``style`` (as
        :func:`format_plain`, :func:`format_ansi` or :func:`format_html` give them), or
        None for a hit with no text in ``names``. One call into the core for all the hits,
        and no :class:`Fragment` made: a page of snippets costs less than its hits' calls."""
        _check(count, width, max_chars)
        fields = self._fields(names, analyzers, searched)
        requests = [
            [(compiled.core, core, None, text) if core is not None
             else (compiled.core, *compiled.source(text, analyzer, core, max_chars), text)
             for name, compiled, analyzer, core in fields if isinstance(text := values.get(name), str)]
            for values in pages
        ]
        markers = (before if before is not None else "[", after if after is not None else "]")
        try:
            found: list[str | None] = _core.best_snippets(requests, count, width, max_chars, style, *markers)
        except UnicodeEncodeError:  # a lone surrogate: one replacement character keeps the offsets
            found = _core.best_snippets([_clean(hit) for hit in requests], count, width, max_chars, style, *markers)
        if style == "html":
            return [None if text is None else html_markers(text, before, after) for text in found]
        return found

    def _requests(
        self, values: dict[str, Any], names: Sequence[str], analyzers: Any, searched: Collection[str], max_chars: int
    ) -> tuple[list[tuple[Any, Any, Any, str]], list[tuple[str, str, Compiled]]]:
        """A hit's fields as the core's highlighting takes them, and per field its name,
        text and targets."""
        requests: list[tuple[Any, Any, Any, str]] = []
        shown: list[tuple[str, str, Compiled]] = []
        for name, compiled, analyzer, core in self._fields(names, analyzers, searched):
            text = values.get(name)
            if isinstance(text, str):
                requests.append((compiled.core, *compiled.source(text, analyzer, core, max_chars), text))
                shown.append((name, text, compiled))
        return requests, shown

    def _fields(
        self, names: Sequence[str], analyzers: Any, searched: Collection[str]
    ) -> list[tuple[str, Compiled, Analyzer, Any]]:
        """Per field of ``names``: its name, targets, analyzer and the analyzer's core
        (None for a chain with a part in Python), built once per query."""
        key = (tuple(names), id(analyzers), bool(searched))
        held = self._prepared.get(key)
        if held is None or held[0] is not analyzers:
            prepared = []
            for name in names:
                analyzer = analyzers[name]
                prepared.append((name, self.compiled(name, analyzer, searched), analyzer, analyzer.core()))
            held = self._prepared[key] = (analyzers, prepared)
        return held[1]

    def compiled(self, name: str, analyzer: Analyzer, searched: Collection[str] = ()) -> Compiled:
        """The core's targets for field ``name`` (see :meth:`hit_fragments`)."""
        key = (name, id(analyzer), bool(searched))
        held = self._compiled.get(key)
        if held is None or held[0] is not analyzer:
            terms, phrases = self.targets.for_field(name)
            if not (terms or phrases) and searched:
                terms, phrases = self.targets.translated(analyzer, searched)
            wanted = set(terms).union(*(phrase.phrase_terms for phrase in phrases))
            held = self._compiled[key] = (analyzer, Compiled(terms, phrases, query_words(
                self.targets, name, analyzer, wanted, self.text)))
        return held[1]


# --- formatting ---------------------------------------------------------------------------


Fragments = Fragment | Sequence[Fragment]


def _as_list(fragments: Fragments) -> list[Fragment]:
    return [fragments] if isinstance(fragments, Fragment) else list(fragments)


def _render(fragments: Fragments, style: str, before: str | None = None, after: str | None = None) -> str:
    """Fragments in order, an ellipsis wherever text was left out (formatted by the core:
    ``highlight::render``)."""
    shown = [(fragment.text, fragment.start, fragment.end, fragment.matches) for fragment in _as_list(fragments)]
    markers = (before if before is not None else "[", after if after is not None else "]")
    try:
        rendered: str = _core.render(shown, style, *markers)
    except UnicodeEncodeError:  # a lone surrogate: one replacement character keeps the offsets
        shown = [(_SURROGATE.sub("\ufffd", text), *rest) for text, *rest in shown]  # type: ignore[misc]
        rendered = _core.render(shown, style, *markers)
    return html_markers(rendered, before, after) if style == "html" else rendered


def html_markers(rendered: str, before: str | None, after: str | None) -> str:
    """HTML the core rendered with ``<mark>`` and ``</mark>``, with the caller's markers
    in their place (``<em class="hl">``; None keeps ``<mark>``). The markers go in as
    given, as HTML of the caller's; the text stays escaped. No ``<mark>`` can come from
    the text, whose every ``<`` is ``&lt;``, so each one found is a marker."""
    if before is not None:
        rendered = rendered.replace("<mark>", before)
    if after is not None:
        rendered = rendered.replace("</mark>", after)
    return rendered


def format_as(fragments: Fragments, style: str, before: str | None = None, after: str | None = None) -> str:
    """Fragments in ``style``: "plain" (:func:`format_plain`), "ansi" or "html"
    (:func:`format_html`); ``before`` and ``after`` mark a match in plain text and HTML."""
    return _render(fragments, style, before, after)


def printable(text: str) -> str:
    """``text`` with control characters replaced by U+FFFD: no escape sequence survives."""
    return str(_CONTROL.sub("\ufffd", text))


def format_plain(fragments: Fragments, before: str = "[", after: str = "]") -> str:
    """Plain text with each match between ``before`` and ``after``."""
    return _render(fragments, "plain", before, after)


def format_ansi(fragments: Fragments) -> str:
    """Text for a terminal: matches in bold yellow (``ANSI_MATCH`` ... ``ANSI_RESET``)."""
    return _render(fragments, "ansi")


def format_html(fragments: Fragments, before: str = "<mark>", after: str = "</mark>") -> str:
    """HTML: matches between ``before`` and ``after`` (``<mark>`` and ``</mark>``; they
    are put in as given, so they are HTML of the caller's), every piece of text escaped
    (``&<>"'``: safe to put in a page, in an element or in a quoted attribute)."""
    return _render(fragments, "html", before, after)


def format_spans(fragments: Fragments) -> list[dict[str, Any]]:
    """The structured form: per span, its ``text`` (exactly as stored), its ``start``
    and ``end`` in the field and whether it is ``matched``. A gap between two spans'
    offsets is text left out."""
    return [
        {"text": fragment.text[span.start : span.end], "start": span.start, "end": span.end,
         "matched": span.is_match}
        for fragment in _as_list(fragments) for span in fragment.spans()
    ]
