"""Query trees, and their execution segment by segment with numpy.

A query is an immutable tree of nodes; :class:`~searchlib.parser.QueryParser` builds the
same nodes from text, and they compose in Python (``&``, ``|``, ``~``)::

    >>> Term("body", "direct") & ~Term("body", "war")
    And(clauses=(Term(field='body', text='direct', boost=1.0), Not(clause=Term(field='body', text='war', boost=1.0))))

Given a segment and a :class:`ScoringContext`, each node returns the matching live doc
ids of that segment with their scores (:class:`Matches`), computed over whole postings
arrays: no Python loop runs per posting. A search asks for all its segments at once
(:meth:`Query.matches_in`), so that a node can do its per-query work (an idf, a clause's
factors) once rather than once per segment. Scoring nodes (:class:`Term`,
:class:`CombinedTerm`, :class:`Phrase`) score with BM25 (see :mod:`searchlib.scoring`);
compound nodes sum their clauses' scores; :class:`Range` and :class:`MatchAll` give a
constant score (their boost); :class:`Not` and the ``filter`` clauses of :class:`Bool`
restrict without scoring.

Pattern nodes (:class:`Prefix`, :class:`Wildcard`, :class:`Fuzzy`, :class:`Regex`) are
rewritten before execution into an :class:`Or` of the terms they match in the index
(:meth:`Query.rewrite`), each scored as a :class:`Term`; how many terms they may expand to
is bounded (see :class:`Expansion`).

The nodes live in one module per concern, each moving onto the compiled core on its own:

- :mod:`~searchlib.query.tree`: :class:`Query`, :class:`Matches`,
  :class:`ScoringContext`, the :class:`TermSource` and :class:`TermSelector` protocols and
  the helpers every node uses (:func:`leaf_count`, :func:`pattern_fields`,
  :func:`sum_by_doc`);
- :mod:`~searchlib.query.terms`: :class:`Term` and :class:`CombinedTerm`, scored in
  whole-array steps with the tf parts that :mod:`~searchlib.query.impacts` computes and
  keeps between queries;
- :mod:`~searchlib.query.phrases`: :class:`Phrase`, matched in the compiled core;
- :mod:`~searchlib.query.ranges`: the constant-score nodes :class:`Range`,
  :class:`MatchAll` and :class:`MatchNone`;
- :mod:`~searchlib.query.patterns`: :class:`Prefix`, :class:`Wildcard`, :class:`Regex`
  and :class:`Fuzzy`, expanded by the compiled core's automata, and their bounds
  (:class:`Expansion`, :class:`ExpansionBudget`);
- :mod:`~searchlib.query.boolean`: :class:`Bool` and the nodes that run as one
  (:class:`And`, :class:`Or`, :class:`Not`, :class:`Filter`), and :class:`Boost`.

Every public name is importable from ``searchlib.query`` itself.
"""

from __future__ import annotations

from searchlib.query.boolean import And, Bool, Boost, Filter, Not, Or
from searchlib.query.patterns import (
    DEFAULT_MAX_EXPANSIONS, PATTERN_MATCH_SECONDS, Expansion, ExpansionBudget, Fuzzy, OnTooMany,
    PatternQuery, PatternTimeout, Prefix, ReaderTerms, Regex, SegmentPicker, Wildcard, glob_regex, ranked_terms, wildcard_regex,
)
from searchlib.query.phrases import Phrase
from searchlib.query.ranges import MatchAll, MatchNone, Range, RangeValue
from searchlib.query.terms import CombinedTerm, Term
from searchlib.query.tree import (
    DocIds, Matches, Query, ScoringContext, TermSelector, TermSource, leaf_count, pattern_fields, sum_by_doc,
)

__all__ = [
    "And", "Bool", "Boost", "CombinedTerm", "Expansion", "Filter", "Fuzzy", "MatchAll", "MatchNone",
    "Matches", "Not", "Or", "Phrase", "Prefix", "Query", "Range", "Regex", "ScoringContext", "Term",
    "Wildcard",
]
