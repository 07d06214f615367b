"""Query trees, and their execution segment by segment with numpy.

A query is an immutable tree of nodes; :class:`~searchlib.parser.QueryParser` builds the
same nodes from text, and they compose in Python (``&``, ``|``, ``~``)::

    >>> Term("body", "direct") & ~Term("body", "war")
    And(clauses=(Term(field='body', text='direct', boost=1.0), Not(clause=Term(field='body', text='war', boost=1.0))))

A search compiles the tree into a plan (:meth:`Query.plan`, :mod:`searchlib.query.plan`)
that the compiled core runs over every segment in one call, with block-max pruning for
the top k; a node's matches in some segments (:meth:`Query.matches_in`, for sorting by a
field, grouping or deleting) come from the core the same way. Scoring nodes (:class:`Term`,
:class:`CombinedTerm`, :class:`Phrase`) score with BM25 (see :mod:`searchlib.scoring`);
compound nodes sum their clauses' scores; :class:`Range` and :class:`MatchAll` give a
constant score (their boost); :class:`Not` and the ``filter`` clauses of :class:`Bool`
restrict without scoring.

Pattern nodes (:class:`Prefix`, :class:`Wildcard`, :class:`Fuzzy`, :class:`Regex`) are
rewritten before execution into an :class:`Or` of the terms they match in the index
(:meth:`Query.rewrite`), each scored as a :class:`Term`; how many terms they may expand to
is bounded (see :class:`Expansion`).

The nodes live in one module per concern, each moving onto the compiled core on its own:

- :mod:`~searchlib.query.tree`: :class:`Query`, :class:`CoreQuery` (a node the core
  runs), :class:`Matches`, :class:`ScoringContext`, the :class:`TermSource` and
  :class:`TermSelector` protocols and the helpers every node uses (:func:`leaf_count`,
  :func:`pattern_fields`);
- :mod:`~searchlib.query.plan`: the plan a tree compiles to, and the calls that run it;
- :mod:`~searchlib.query.terms`: :class:`Term` and :class:`CombinedTerm`, one BM25F leaf
  of the core's plan;
- :mod:`~searchlib.query.phrases`: :class:`Phrase`, matched in the compiled core;
- :mod:`~searchlib.query.ranges`: :class:`Range`, a constant-score node over a column
  or over terms;
- :mod:`~searchlib.query.match`: :class:`MatchAll` and :class:`MatchNone`, every document
  or none;
- :mod:`~searchlib.query.patterns`: :class:`Prefix`, :class:`Wildcard`, :class:`Regex`
  and :class:`Fuzzy`, expanded by the compiled core's automata, and their bounds
  (:class:`ExpansionBudget`);
- :mod:`~searchlib.query.expansion`: how far a pattern may expand (:class:`Expansion`),
  which searchers and parsers hold without loading the pattern nodes;
- :mod:`~searchlib.query.boolean`: :class:`Bool` and the nodes that run as one
  (:class:`And`, :class:`Or`, :class:`Not`, :class:`Filter`), and :class:`Boost`.

Every public name is importable from ``searchlib.query`` itself; its module loads on
first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from searchlib.query.boolean import And, Bool, Boost, Filter, Not, Or
    from searchlib.query.expansion import DEFAULT_MAX_EXPANSIONS, Expansion, OnTooMany
    from searchlib.query.match import MatchAll, MatchNone
    from searchlib.query.patterns import (
        PATTERN_MATCH_SECONDS, ExpansionBudget, Fuzzy, PatternQuery, PatternTimeout, Prefix, ReaderTerms, Regex,
        SegmentPicker, Wildcard, glob_regex, ranked_terms, wildcard_regex,
    )
    from searchlib.query.phrases import Phrase
    from searchlib.query.ranges import Range, RangeValue
    from searchlib.query.terms import CombinedTerm, Term
    from searchlib.query.tree import (
        CoreQuery, Matches, Query, ScoringContext, TermSelector, TermSource, leaf_count, pattern_fields,
    )

#: The module each name lives in. A name's module loads on its first use (PEP 562): a
#: plain query of words never needs the pattern, phrase or range nodes, and each
#: module costs the start-up of every short-lived process that searches.
_HOMES = {
    **dict.fromkeys(("And", "Bool", "Boost", "Filter", "Not", "Or"), "boolean"),
    **dict.fromkeys(("DEFAULT_MAX_EXPANSIONS", "Expansion", "OnTooMany"), "expansion"),
    **dict.fromkeys(("MatchAll", "MatchNone"), "match"),
    **dict.fromkeys((
        "PATTERN_MATCH_SECONDS", "ExpansionBudget", "Fuzzy", "PatternQuery", "PatternTimeout", "Prefix",
        "ReaderTerms", "Regex", "SegmentPicker", "Wildcard", "glob_regex", "ranked_terms", "wildcard_regex",
    ), "patterns"),
    "Phrase": "phrases",
    **dict.fromkeys(("Range", "RangeValue"), "ranges"),
    **dict.fromkeys(("CombinedTerm", "Term"), "terms"),
    **dict.fromkeys((
        "CoreQuery", "Matches", "Query", "ScoringContext", "TermSelector", "TermSource", "leaf_count",
        "pattern_fields",
    ), "tree"),
}


def __getattr__(name: str) -> Any:
    """Import a name's module on first use and keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'searchlib.query' has no attribute {name!r}")
    value = getattr(__import__(f"searchlib.query.{home}", fromlist=(name,)), name)  # reported by -X importtime
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))

__all__ = [
    "And", "Bool", "Boost", "CombinedTerm", "Expansion", "Filter", "Fuzzy", "MatchAll", "MatchNone",
    "Matches", "Not", "Or", "Phrase", "Prefix", "Query", "Range", "Regex", "ScoringContext", "Term",
    "Wildcard",
    # Public too, for the parser, the searcher and the writer (and type checkers, which
    # take only what __all__ names as exported).
    "DEFAULT_MAX_EXPANSIONS", "PATTERN_MATCH_SECONDS", "CoreQuery", "ExpansionBudget", "OnTooMany",
    "PatternQuery", "PatternTimeout", "RangeValue", "ReaderTerms", "SegmentPicker", "TermSelector", "TermSource",
    "glob_regex", "leaf_count", "pattern_fields", "ranked_terms", "wildcard_regex",
]
