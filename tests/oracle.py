"""A brute-force scorer for query trees: the reference searchlib's scores are tested against.

It reads the live documents as plain Python values and recomputes everything BM25 needs
(N, avgdl, df, tf, positions) from their analyzed tokens, with plain loops: no index,
no numpy, and none of searchlib's query execution or scoring code. Each query node is
scored as its docstring in :mod:`searchlib.query` and :mod:`searchlib.scoring` defines:

- Term: ``boost * idf(df, N) * sat(tf / (1 - b + b * dl / avgdl))``, N and avgdl over the
  live documents with at least one token in the field. A KEYWORD or ID value is one term
  (dl = 1), as a Lucene StringField scores.
- CombinedTerm (BM25F): ``x = sum_f w_f * tf_f / norm_f``, saturated once; df and N over
  documents with the term (or any token) in any of the fields.
- Phrase: the phrase's frequency as tf, the sum of its terms' idfs as idf; a first-term
  occurrence at p counts when each query word can take its own document position (the
  first at p, the first word's other slots after p), all ``position - offset`` values
  within slop of each other (Lucene's rule; tried by exhaustive search).
- Prefix, Wildcard, Regex: constant ``boost`` for every live document holding a term
  of the live documents' vocabulary the pattern picks (Lucene's constant-score rewrite).
- Fuzzy: the sum of the Term scores of every term it picks.
- Range, MatchAll: constant ``boost``. Not and filters restrict without scoring.
- And, Or (min_match), Bool (must, should, must_not, filter, min_should_match), Filter,
  Boost: as Lucene's boolean query, scores of matching scoring clauses add up.

Only the node's own attributes are read (its field, text, slop, ...); no method of a
query node runs here.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from searchlib.analysis import Analyzer
from searchlib.segment.termdict import keeps_compiled_lexicon, lexicon_key_analyzer
from searchlib.query import (
    And,
    Bool,
    Boost,
    CombinedTerm,
    Filter,
    Fuzzy,
    MatchAll,
    MatchNone,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    Range,
    Regex,
    Term,
    Wildcard,
)

Scores = dict[str, float]


@dataclass(frozen=True)
class Params:
    """BM25's parameters and variant (the names of :class:`searchlib.scoring.Similarity`)."""

    k1: float = 1.2
    b: float = 0.75
    similarity: str = "lucene"


def idf(similarity: str, df: int, n: int) -> float:
    """The variants' idfs, as "Which BM25 Do You Mean?" (Kamphuis et al., 2020) lists them."""
    if similarity == "lucene":
        return math.log(1 + (n - df + 0.5) / (df + 0.5))
    if similarity == "robertson":
        return math.log((n - df + 0.5) / (df + 0.5))
    if similarity == "atire":
        return math.log(n / df)
    if similarity == "bm25l":
        return math.log((n + 1) / (df + 0.5))
    if similarity == "bm25+":
        return math.log((n + 1) / df)
    raise ValueError(similarity)


def saturate(similarity: str, x: float, k1: float) -> float:
    """The variants' tf parts of a length-normalized term frequency x."""
    if similarity == "lucene":
        return x / (x + k1)
    if similarity in ("robertson", "atire"):
        return (k1 + 1) * x / (x + k1)
    if similarity == "bm25l":
        return (k1 + 1) * (x + 0.5) / (k1 + x + 0.5)
    if similarity == "bm25+":
        return (k1 + 1) * x / (x + k1) + 1.0
    raise ValueError(similarity)


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insert, delete, substitute, swap neighbours."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


class Oracle:
    """The live documents of an index, analyzed, and the scores of queries over them.

    ``documents`` maps each live document's id to its field values; ``text_fields`` are
    analyzed with ``analyzer``; ``exact_fields`` (KEYWORD, ID) hold their value as one term;
    any other field's value is a number (a NUMERIC column).
    """

    def __init__(
        self,
        documents: Mapping[str, Mapping[str, Any]],
        analyzer: Analyzer,
        text_fields: Iterable[str],
        exact_fields: Iterable[str] = (),
        written: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        """``written``: every document version ever indexed (default: ``documents``),
        whose words a stemmed field's lexicons keep while their terms live on."""
        self.documents = {doc_id: dict(fields) for doc_id, fields in documents.items()}
        self.text_fields = tuple(text_fields)
        self.exact_fields = tuple(exact_fields)
        # positions[field][doc id][term] = the term's positions in that field of the doc
        self.positions: dict[str, dict[str, dict[str, list[int]]]] = {}
        self.lengths: dict[str, dict[str, int]] = {}
        # words[field][word] = the terms the written word became, for a stemmed field
        # (whose patterns match the words as written); None for any other field
        self.words: dict[str, dict[str, set[str]] | None] = {}
        keys = lexicon_key_analyzer(analyzer) if keeps_compiled_lexicon(analyzer) else None
        for name in (*self.text_fields, *self.exact_fields):
            self.words[name] = {} if keys is not None and name in self.text_fields else None
            self.positions[name] = {}
            self.lengths[name] = {}
            for doc_id, fields in self.documents.items():
                value = fields.get(name)
                if name in self.exact_fields:  # one term, as Lucene's StringField: dl = 1
                    tokens = [] if value is None else [(value, 0)]
                else:
                    tokens = [(token.text, token.pos) for token in analyzer.tokens(value or "", cached=False)]
                found: dict[str, list[int]] = {}
                for term, pos in tokens:
                    found.setdefault(term, []).append(pos)
                self.positions[name][doc_id] = found
                self.lengths[name][doc_id] = len(tokens)
        for name, words in self.words.items():
            if words is None or keys is None:
                continue
            for fields in self.documents.values() if written is None else written:
                value = fields.get(name) or ""
                terms_at = {token.pos: token.text for token in analyzer.tokens(value, cached=False)}
                for token in keys.tokens(value, cached=False):
                    if token.pos in terms_at:
                        words.setdefault(token.text, set()).add(terms_at[token.pos])

    # --- statistics -------------------------------------------------------------------

    def tf(self, name: str, doc_id: str, term: str) -> int:
        return len(self.positions[name][doc_id].get(term, ()))

    def docs_with_any_field(self, fields: tuple[str, ...]) -> list[str]:
        return [d for d in self.documents if any(self.lengths[f][d] > 0 for f in fields)]

    @functools.cache  # noqa: B019 - an oracle lives as long as its test module
    def n(self, fields: tuple[str, ...]) -> int:
        return len(self.docs_with_any_field(fields))

    @functools.cache  # noqa: B019
    def avgdl(self, name: str) -> float:
        having = self.docs_with_any_field((name,))
        return sum(self.lengths[name][d] for d in having) / len(having)

    def df(self, fields: tuple[str, ...], term: str) -> int:
        return sum(1 for d in self.documents if any(self.tf(f, d, term) for f in fields))

    def vocabulary(self, name: str) -> set[str]:
        """Every term of a field in the live documents."""
        return {term for by_term in self.positions[name].values() for term in by_term}

    def norm(self, name: str, doc_id: str, b: float) -> float:
        return 1 - b + b * self.lengths[name][doc_id] / self.avgdl(name)

    # --- scoring leaves --------------------------------------------------------------------

    def combined(self, fields: tuple[str, ...], term: str, weights: tuple[float, ...], boost: float, p: Params) -> Scores:
        df = self.df(fields, term)
        if df == 0:
            return {}
        term_idf = idf(p.similarity, df, self.n(fields))
        scores: Scores = {}
        for doc_id in self.documents:
            x = 0.0
            for name, weight in zip(fields, weights):
                tf = self.tf(name, doc_id, term)
                if tf:
                    x += weight * tf / self.norm(name, doc_id, p.b)
            if x > 0:
                scores[doc_id] = boost * term_idf * saturate(p.similarity, x, p.k1)
        return scores

    def phrase_frequency(self, name: str, doc_id: str, terms: tuple[str, ...], offsets: tuple[int, ...], slop: int) -> int:
        return phrase_frequency(self.positions[name][doc_id], terms, offsets, slop)

    def phrase(self, q: Phrase, p: Params) -> Scores:
        offsets = tuple(pos - q.positions[0] for pos in q.positions)
        n = self.n((q.field,))
        total_idf = sum(idf(p.similarity, self.df((q.field,), term), n) for term in q.phrase_terms)
        scores: Scores = {}
        for doc_id in self.documents:
            freq = self.phrase_frequency(q.field, doc_id, q.phrase_terms, offsets, q.slop)
            if freq:
                x = freq / self.norm(q.field, doc_id, p.b)
                scores[doc_id] = q.boost * total_idf * saturate(p.similarity, x, p.k1)
        return scores

    def pattern_terms(self, q: Query) -> list[str]:
        """The terms of the live documents' vocabulary a pattern query picks: on a
        stemmed field, a prefix, wildcard or regex picks the terms of the written words
        it matches."""
        vocabulary = sorted(self.vocabulary(q.field))  # type: ignore[attr-defined]
        words = self.words.get(q.field)  # type: ignore[attr-defined]
        if isinstance(q, (Prefix, Wildcard, Regex)) and words is not None:
            picked = {term for word, terms in words.items() if self.pattern_matches(q, word) for term in terms}
            return sorted(picked & set(vocabulary))
        if isinstance(q, (Prefix, Wildcard, Regex)):
            return [t for t in vocabulary if self.pattern_matches(q, t)]
        if isinstance(q, Fuzzy):
            return [
                t for t in vocabulary
                if t[: q.prefix_length] == q.text[: q.prefix_length] and osa_distance(t, q.text) <= q.max_edits
            ]
        raise TypeError(q)

    @staticmethod
    def pattern_matches(q: Query, word: str) -> bool:
        if isinstance(q, Prefix):
            return word.startswith(q.prefix)
        if isinstance(q, Wildcard):
            return fnmatch.fnmatchcase(word, q.pattern)
        if isinstance(q, Regex):
            return re.fullmatch(q.pattern, word) is not None
        raise TypeError(q)

    def range(self, q: Range) -> Scores:
        """Terms compare by their UTF-8 bytes, column values as numbers."""
        low, high = _bytes(q.low), _bytes(q.high)

        def inside(value: Any) -> bool:
            if low is not None and not (value >= low if q.include_low else value > low):
                return False
            return high is None or (value <= high if q.include_high else value < high)

        found: set[str] = set()
        for doc_id, fields in self.documents.items():
            if q.field in self.positions:
                if any(inside(term.encode()) for term in self.positions[q.field][doc_id]):
                    found.add(doc_id)
            elif fields.get(q.field) is not None and inside(fields[q.field]):
                found.add(doc_id)
        return {doc_id: q.boost for doc_id in found}

    # --- the whole tree ---------------------------------------------------------------

    def scores(self, q: Query, p: Params = Params()) -> Scores:
        """The live documents ``q`` matches, by id, with their scores."""
        if isinstance(q, Term):
            return self.combined((q.field,), q.text, (1.0,), q.boost, p)
        if isinstance(q, CombinedTerm):
            weights = q.weights or (1.0,) * len(q.fields)
            return self.combined(tuple(q.fields), q.text, tuple(weights), q.boost, p)
        if isinstance(q, Phrase):
            return self.phrase(q, p)
        if isinstance(q, (Prefix, Wildcard, Regex)):
            matched: Scores = {}
            for term in self.pattern_terms(q):
                matched.update((doc_id, q.boost) for doc_id in self.combined((q.field,), term, (1.0,), q.boost, p))
            return matched
        if isinstance(q, Fuzzy):
            total: Scores = {}
            for term in self.pattern_terms(q):
                for doc_id, score in self.combined((q.field,), term, (1.0,), q.boost, p).items():
                    total[doc_id] = total.get(doc_id, 0.0) + score
            return total
        if isinstance(q, Range):
            return self.range(q)
        if isinstance(q, MatchAll):
            return {doc_id: q.boost for doc_id in self.documents}
        if isinstance(q, MatchNone):
            return {}
        if isinstance(q, Boost):
            return {doc_id: score * q.factor for doc_id, score in self.scores(q.query, p).items()}
        if isinstance(q, Not):
            excluded = self.scores(q.clause, p)
            return {doc_id: 0.0 for doc_id in self.documents if doc_id not in excluded}
        if isinstance(q, Filter):
            return self.boolean(p, must=[q.query], filter_=[q.filter])
        if isinstance(q, And):
            must = [c for c in q.clauses if not isinstance(c, Not)]
            must_not = [c.clause for c in q.clauses if isinstance(c, Not)]
            if not must and not must_not:
                return {}
            return self.boolean(p, must=must or [MatchAll(0.0)], must_not=must_not)
        if isinstance(q, Or):
            return self.boolean(p, should=q.clauses, min_should_match=q.min_match)
        if isinstance(q, Bool):
            return self.boolean(p, q.must, q.should, q.must_not, q.filter, q.min_should_match)
        raise TypeError(f"the oracle does not know {type(q).__name__}")

    def boolean(
        self,
        p: Params,
        must: Sequence[Query] = (),
        should: Sequence[Query] = (),
        must_not: Sequence[Query] = (),
        filter_: Sequence[Query] = (),
        min_should_match: int | None = None,
    ) -> Scores:
        """Lucene's boolean query over the clauses' own matches and scores."""
        needed = min_should_match if min_should_match is not None else (0 if must or filter_ else 1)
        if not must and not filter_ and not should:  # only exclusions: nothing to match
            return {}
        must_found = [self.scores(c, p) for c in must]
        filter_found = [self.scores(c, p) for c in filter_]
        should_found = [self.scores(c, p) for c in should]
        not_found = [self.scores(c, p) for c in must_not]
        result: Scores = {}
        for doc_id in self.documents:
            if not all(doc_id in found for found in [*must_found, *filter_found]):
                continue
            if any(doc_id in found for found in not_found):
                continue
            matched_should = [found[doc_id] for found in should_found if doc_id in found]
            if len(matched_should) < needed:
                continue
            result[doc_id] = sum(found[doc_id] for found in must_found) + sum(matched_should)
        return result


def phrase_frequency(
    where: Mapping[str, Iterable[int]], terms: Sequence[str], offsets: Sequence[int], slop: int
) -> int:
    """How many positions p of the first word start an occurrence of the phrase: some
    assignment gives every query word its own position of that word (the first word p,
    its other slots later positions), with all ``position - offset`` within ``slop`` of
    each other. An exhaustive search over assignments."""
    lists = [sorted(set(where.get(term, ()))) for term in terms]
    if any(not found for found in lists):
        return 0
    return sum(1 for p in lists[0] if phrase_layout(lists, terms, offsets, slop, p) is not None)


def phrase_layout(
    lists: Sequence[Sequence[int]], terms: Sequence[str], offsets: Sequence[int], slop: int, p: int
) -> list[int] | None:
    """An assignment (a position per query word) with the first word at ``p``, or None."""
    chosen = [p]

    def extend(i: int, low: int, high: int) -> bool:
        if i == len(terms):
            return True
        for q in lists[i]:
            if any(q == chosen[j] for j in range(i) if terms[j] == terms[i]):
                continue
            if terms[i] == terms[0] and q <= p:
                continue
            value = q - offsets[i]
            if max(high, value) - min(low, value) > slop:
                continue
            chosen.append(q)
            if extend(i + 1, min(low, value), max(high, value)):
                return True
            chosen.pop()
        return False

    return chosen if extend(1, p - offsets[0], p - offsets[0]) else None


def _bytes(value: Any) -> Any:
    return value.encode() if isinstance(value, str) else value


def tokens_of(analyzer: Analyzer, text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The terms of a query text and their positions (a dropped stop word leaves a gap)."""
    found = list(analyzer.tokens(text, cached=False))
    return tuple(t.text for t in found), tuple(t.pos for t in found)

