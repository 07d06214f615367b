"""Plain searches: the text of a search box run from words to the top k in one call into
the compiled core, without a query tree.

Most searches are a few words with no syntax. Their tree is fixed by the text alone
(each word's terms over the default fields, joined by the default operator), so the core
builds the very plan the tree would compile to (``core/src/query/plain.rs``): it splits
the words as :func:`searchlib.parser.plain_words` does, analyzes them with the default
fields' analyzers, resolves the statistics this searcher gave it, counts (and remembers)
the document frequencies it has not seen, and runs the plan. Scores, ranks and totals
are the tree path's, bit for bit; the tree is built only if something asks for it
(snippets, an explanation).

Two pieces of syntax the core takes as well: words joined by one operator throughout
(``a AND b AND c``: the words joined by it, each word's own terms by the default
operator, as the grammar joins them), and a text that is a single quoted phrase (a
search box's ``"direct talks"``): a phrase per default field, as the parser builds it.
Whatever else the core does not take exactly falls back to the tree: other syntax, a
query past the parser's limits, a default field that is not a text field, an analyzer
the core does not run or one that gives several terms at a position.
"""

from __future__ import annotations

from searchlib.schema import field_groups

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from searchlib.searcher.searcher import Searcher

#: Deepest nesting of parentheses plain text may have (the parser's plain path's bound).
PLAIN_MAX_DEPTH = 8


def plain_search(searcher: Searcher, weights: Mapping[str, float], is_and: bool) -> Any:
    """The core's plain search over ``searcher``'s default fields (``weights``), or None
    when its queries must take the tree path.

    Fields are grouped as the parser groups them (:func:`~searchlib.schema.field_groups`):
    a group of one field is a ``Term`` (its weight the leaf's boost), of several a
    ``CombinedTerm`` (the weights per field): the plan differs, and so would the scores.
    """
    if not searcher.readers:
        return None
    query_core = searcher._query_analyzers.query_core  # the parser's analyzers
    specs = []
    for group in field_groups(searcher.schema, weights):
        if group.kind != "text":
            return None
        core = query_core(group.fields[0])
        if core is None:
            return None
        names = group.fields
        doc_count = float(searcher._documents_with_fields(names))
        if len(names) == 1:
            fields = [(names[0], 1.0, *_field_statistics(searcher, names[0]))]
            specs.append((core, fields, group.weights[0], doc_count))
        else:
            fields = [(name, weight, *_field_statistics(searcher, name)) for name, weight in group.members()]
            specs.append((core, fields, 1.0, doc_count))
    from searchlib import _core

    scoring = searcher.scoring
    limits = searcher.limits
    return _core.PlainSearch(
        [reader.query_segment for reader in searcher.readers], specs, scoring.similarity, float(scoring.k1),
        float(scoring.b), is_and, min(PLAIN_MAX_DEPTH, limits.max_depth), limits.max_clauses,
    )


def _field_statistics(searcher: Searcher, name: str) -> tuple[float, float]:
    """avgdl as the searcher's statistics give it (``CollectionStats.average_length``),
    and N of the field alone (a quoted phrase's idf is its field's)."""
    documents = searcher._documents_with_fields((name,))
    return (searcher._total_length(name) / documents if documents else 0.0), float(documents)
