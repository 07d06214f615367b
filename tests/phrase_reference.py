"""A reference for phrase matching: the rule written out over numpy arrays of positions.

Search and highlighting match phrases in the compiled core (``core/src/query/phrase.rs``,
``core/src/highlight/phrase.rs``); the tests hold them to this independent version, which
computes the same frequencies and occurrence layouts a different way, in time that grows
with the positions alone.

A phrase is a list of *slots*: each slot is a query word (a term) and its offset in the
query (0 for the first word, then increasing; a dropped stop word leaves a gap). In one
document, an *assignment* gives every slot a position of its term, and each slot's
*value* is its position minus its offset. The rule is Lucene's:

- an assignment matches with slop ``s`` when its values lie within ``s`` of each other
  (Lucene's match length ``max(pos - offset) - min(pos - offset)``: "b a" needs slop 2
  to match "a b");
- every slot takes its own document position: a word repeated in the phrase needs as
  many occurrences of it (``"alfa alfa"~1`` does not match one ``alfa``);
- the phrase's frequency in a document is the number of positions p of its first word
  at which an occurrence starts: some matching assignment gives the first slot p, and
  the first word's other slots (if it repeats) later positions.

How it is computed, for many documents at once (each document's positions live in its
own block of int64 keys, so one sorted array holds them all and no Python loop runs per
position or per document):

- slop 0: the values of every slot are intersected (a sorted intersection of shifted
  positions); a first-word position counts when it is in all of them.
- slop s, no repeated word: the window starts ``L`` that work for one slot form a union
  of intervals ``[v - s, v]`` over its values, merged; the starts that work for all
  slots are where all the unions overlap (one sort of their end points). A first-word
  position p counts when such a start lies in ``[p - s, p]``.
- slop s, a repeated word: a working window can always be moved right until it starts
  at one of the assignment's values, so only the slots' values are tried as starts. At
  each, the slots of a repeated word take their positions greedily in offset order (the
  smallest free position that fits: optimal for intervals of equal length), and the
  first word's later slots take theirs from the right, which says up to where the first
  word's own position may go.

The work is a few passes over the candidate documents' positions (times the number of
slots of repeated words, in the last case), whatever the slop: a slop larger than a
document's span simply means "anywhere in the field, in any order".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Int64s = npt.NDArray[np.int64]

#: Largest key a document block may reach (int64 with room for arithmetic on it).
_KEY_LIMIT = 1 << 62


@dataclass(frozen=True)
class TermPositions:
    """One term's occurrences in the candidate documents: each occurrence's document
    (its rank among the candidates, 0-based) and position, ascending by both, each pair
    once (:meth:`of` makes them so)."""

    ranks: Int64s
    positions: Int64s

    @classmethod
    def of(cls, ranks: npt.ArrayLike, positions: npt.ArrayLike) -> TermPositions:
        """From parallel arrays in any order, each (rank, position) kept once: a
        position holds a term once, however many tokens put it there."""
        ranks = np.asarray(ranks, dtype=np.int64)
        positions = np.asarray(positions, dtype=np.int64)
        if len(ranks) > 1:
            ordered = (ranks[1:] > ranks[:-1]) | ((ranks[1:] == ranks[:-1]) & (positions[1:] > positions[:-1]))
            if not bool(np.all(ordered)):
                pairs = np.unique(np.stack([ranks, positions], axis=1), axis=0)
                ranks, positions = pairs[:, 0].copy(), pairs[:, 1].copy()
        return cls(ranks, positions)


@dataclass
class PhraseMatch:
    """Which first-word occurrences start a phrase occurrence, and optionally where.

    ``counted`` indexes the first word's :class:`TermPositions`; ``chosen[i]`` gives, for
    the i-th counted occurrence, the position each slot took (the window starting
    earliest, and in it the earliest positions), when asked for. ``work`` counts the
    positions and window starts visited: what the time grows with."""

    counted: Int64s
    chosen: Int64s | None = None
    work: int = 0
    first: TermPositions = field(default_factory=lambda: TermPositions(_none(), _none()))

    def frequencies(self, doc_count: int) -> Int64s:
        """The phrase's frequency in each of ``doc_count`` candidate documents."""
        return np.bincount(self.first.ranks[self.counted], minlength=doc_count).astype(np.int64)


def _none() -> Int64s:
    return np.zeros(0, dtype=np.int64)


def _nothing(first: TermPositions, slots: int, with_positions: bool, work: int) -> PhraseMatch:
    """No occurrence (with an empty table of positions if asked for)."""
    return PhraseMatch(_none(), np.zeros((0, slots), dtype=np.int64) if with_positions else None, work, first)


def match_phrase(
    occurrences: Sequence[TermPositions],
    slot_terms: Sequence[int],
    offsets: Sequence[int],
    slop: int,
    *,
    with_positions: bool = False,
) -> PhraseMatch:
    """Match a phrase whose slot i is term ``occurrences[slot_terms[i]]`` at query offset
    ``offsets[i]`` (``offsets[0] == 0``, non-decreasing), with ``slop`` (see the module's
    docstring for the rule)."""
    if not slot_terms or len(slot_terms) != len(offsets) or offsets[0] != 0:
        raise ValueError("a phrase needs slots with offsets starting at 0")
    if any(b < a for a, b in zip(offsets, offsets[1:])):
        raise ValueError(f"a phrase's offsets must not decrease, got {tuple(offsets)}")
    first = occurrences[slot_terms[0]]
    used = [occurrences[t] for t in sorted(set(slot_terms))]
    if any(not len(found.positions) for found in used):
        return _nothing(first, len(slot_terms), with_positions, 0)
    highest = max(int(found.positions.max()) for found in used)
    lowest = min(int(found.positions.min()) for found in used)
    if lowest < 0:
        raise ValueError("positions cannot be negative")
    top_offset = int(offsets[-1])
    # Values spread at most over the positions plus the offsets: more slop changes nothing.
    slop = min(int(slop), highest + top_offset + 1)
    bias = top_offset + slop + 2  # every window start and end of a block stays inside it
    width = highest + 2 * bias + 2
    if width >= _KEY_LIMIT:
        raise ValueError("a phrase's offsets and positions are too far apart to match")
    doc_count = 1 + max(int(found.ranks.max()) for found in used)
    per_chunk = max(1, _KEY_LIMIT // width)
    if doc_count <= per_chunk:
        return _match_keyed(occurrences, slot_terms, offsets, slop, bias, width, with_positions)
    # Too many documents for one int64 key space: match them a slice of ranks at a time.
    parts = []
    for low in range(0, doc_count, per_chunk):
        high = low + per_chunk
        sliced = []
        for found in occurrences:
            a, b = np.searchsorted(found.ranks, [low, high])
            sliced.append(TermPositions(found.ranks[a:b] - low, found.positions[a:b]))
        part = _match_keyed(sliced, slot_terms, offsets, slop, bias, width, with_positions)
        part.counted = part.counted + int(np.searchsorted(first.ranks, low))
        parts.append(part)
    return PhraseMatch(
        np.concatenate([p.counted for p in parts]),
        np.concatenate([p.chosen for p in parts]) if with_positions else None,  # type: ignore[misc]
        sum(p.work for p in parts),
        first,
    )


def _match_keyed(
    occurrences: Sequence[TermPositions],
    slot_terms: Sequence[int],
    offsets: Sequence[int],
    slop: int,
    bias: int,
    width: int,
    with_positions: bool,
) -> PhraseMatch:
    """:func:`match_phrase` once every position is a key ``rank * width + bias + pos``."""
    first_found = occurrences[slot_terms[0]]
    keys: dict[int, Int64s] = {}
    work = 0
    for term in set(slot_terms):
        found = occurrences[term]
        keys[term] = found.ranks * width + bias + found.positions
        work += len(found.ranks)
    firsts = keys[slot_terms[0]]
    slots = list(zip(slot_terms, (int(o) for o in offsets)))
    groups: dict[int, list[int]] = {}  # each term's offsets, ascending
    for term, offset in slots:
        groups.setdefault(term, []).append(offset)
    repeated = {term for term, group in groups.items() if len(group) > 1}

    if slop == 0:
        if len(set(slots)) < len(slots):  # one word twice at one offset: no two positions
            return _nothing(first_found, len(slots), with_positions, work)
        starts = keys[slot_terms[0]]
        for term, offset in slots[1:]:
            starts = np.intersect1d(starts, keys[term] - offset, assume_unique=True)
            work += len(starts) + len(keys[term])
            if not len(starts):
                break
        counted = np.flatnonzero(_inside(starts, starts, firsts))
        work += len(firsts)
        chosen = None
        if with_positions:
            at = firsts[counted]
            chosen = (at - at // width * width - bias)[:, None] + np.asarray([o for _, o in slots], dtype=np.int64)
        return PhraseMatch(counted, chosen, work, first_found)

    single = [(term, offset) for term, offset in slots if term not in repeated]
    window_starts: Int64s | None = None
    window_ends: Int64s | None = None
    if single:
        window_starts, window_ends = _common_starts([keys[t] - o for t, o in single], slop)
        work += sum(len(keys[t]) for t, _ in single) * 2

    if not repeated:
        assert window_starts is not None and window_ends is not None
        at = np.searchsorted(window_ends, firsts - slop, side="left")
        inside = at < len(window_ends)
        clipped = np.minimum(at, max(len(window_ends) - 1, 0))
        ok = inside & (window_starts[clipped] <= firsts) if len(window_ends) else np.zeros(len(firsts), dtype=bool)
        counted = np.flatnonzero(ok)
        work += len(firsts)
        chosen = None
        if with_positions:
            begin = np.maximum(firsts[counted] - slop, window_starts[clipped[counted]]) if len(counted) else _none()
            chosen = _lay_out(keys, slots, repeated, firsts[counted], begin, slop, width, bias)
        return PhraseMatch(counted, chosen, work, first_found)

    # A repeated word: try each slot value as a window start.
    candidates = _sorted_unique(np.concatenate([keys[t] - o for t, o in set(slots)]))
    work += len(candidates) * 2
    if window_starts is not None and window_ends is not None:
        candidates = candidates[_inside(window_starts, window_ends, candidates)]
        work += len(candidates)
    lead = slot_terms[0]
    for term in repeated - {lead}:
        group = groups[term]
        fits, _ = _greedy_left(keys[term], candidates, group, None, slop)
        candidates = candidates[fits]
        work += len(candidates) * len(group)
    if lead in repeated:
        later = groups[lead][1:]
        fits, earliest_next = _greedy_right(keys[lead], candidates, later, slop)
        candidates, reach = candidates[fits], earliest_next[fits] - 1
        work += len(candidates) * len(later)
        reach = np.minimum(reach, candidates + slop)
    else:
        reach = candidates + slop
    keep = reach >= candidates
    candidates, reach = candidates[keep], reach[keep]
    if not len(candidates):
        return _nothing(first_found, len(slots), with_positions, work)
    furthest = np.maximum.accumulate(reach)
    at = np.searchsorted(candidates, firsts, side="right") - 1
    ok = (at >= 0) & (furthest[np.maximum(at, 0)] >= firsts)
    counted = np.flatnonzero(ok)
    work += len(firsts)
    chosen = None
    if with_positions:
        begin = candidates[np.searchsorted(furthest, firsts[counted], side="left")]
        chosen = _lay_out(keys, slots, repeated, firsts[counted], begin, slop, width, bias)
    return PhraseMatch(counted, chosen, work, first_found)


def _common_starts(values: list[Int64s], slop: int) -> tuple[Int64s, Int64s]:
    """The window starts L (as disjoint intervals ``[starts[i], ends[i]]``, ascending)
    where each of ``values`` (sorted keys) has a value within ``[L, L + slop]``."""
    starts_list, ends_list = [], []
    for found in values:
        cut = np.flatnonzero(np.diff(found) > slop + 1) + 1
        starts_list.append(found[np.concatenate(([0], cut))] - slop)
        ends_list.append(found[np.concatenate((cut - 1, [len(found) - 1]))])
    if len(values) == 1:
        return starts_list[0], ends_list[0]
    # Each slot's intervals are disjoint: a start works where all of them overlap.
    points = np.concatenate([*starts_list, *(end + 1 for end in ends_list)])
    steps = np.concatenate([np.ones(sum(map(len, starts_list)), dtype=np.int64),
                            -np.ones(sum(map(len, ends_list)), dtype=np.int64)])
    order = np.argsort(points, kind="stable")
    points, depth = points[order], np.cumsum(steps[order])
    last = np.flatnonzero(np.append(points[1:] != points[:-1], True))
    points, depth = points[last], depth[last]
    full = np.flatnonzero(depth[:-1] == len(values))
    return points[full], points[full + 1] - 1


def _sorted_unique(keys: Int64s) -> Int64s:
    """``keys`` sorted, each once (a sort and a comparison: no hashing)."""
    keys = np.sort(keys)
    if len(keys) < 2:
        return keys
    return keys[np.append(True, keys[1:] != keys[:-1])]


def _inside(starts: Int64s, ends: Int64s, keys: Int64s) -> npt.NDArray[np.bool_]:
    """Which ``keys`` fall in one of the disjoint ascending intervals."""
    if not len(starts):
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(ends, keys, side="left")
    clipped = np.minimum(at, len(ends) - 1)
    return (at < len(ends)) & (starts[clipped] <= keys)


def _greedy_left(
    positions: Int64s, begins: Int64s, group: list[int], after: Int64s | None, slop: int, record: bool = False,
) -> tuple[npt.NDArray[np.bool_], Int64s]:
    """For windows starting at ``begins``, give the slots of one word (offsets ``group``,
    ascending) the smallest free positions that fit, all after ``after`` if given:
    whether they all fit, and (if ``record``) each slot's position (columns)."""
    fits = np.ones(len(begins), dtype=bool)
    taken = np.empty((len(begins) if record else 0, len(group)), dtype=np.int64)
    previous = begins - 1 if after is None else after
    last = len(positions) - 1
    for column, offset in enumerate(group):
        low = np.maximum(begins + offset, previous + 1)
        at = np.searchsorted(positions, low, side="left")
        found = positions[np.minimum(at, last)]
        fits &= (at <= last) & (found <= begins + offset + slop)
        if record:
            taken[:, column] = found
        previous = found
    return fits, taken


def _greedy_right(
    positions: Int64s, begins: Int64s, group: list[int], slop: int,
) -> tuple[npt.NDArray[np.bool_], Int64s]:
    """For windows starting at ``begins``, give the slots of one word (offsets ``group``,
    ascending) the largest free positions that fit, from the last slot back: whether
    they all fit, and the first slot's position (the latest it can be)."""
    fits = np.ones(len(begins), dtype=bool)
    following = begins + group[-1] + slop + 1
    for offset in reversed(group):
        high = np.minimum(begins + offset + slop, following - 1)
        at = np.searchsorted(positions, high, side="right") - 1
        found = positions[np.maximum(at, 0)]
        fits &= (at >= 0) & (found >= begins + offset)
        following = found
    return fits, following


def _lay_out(
    keys: dict[int, Int64s],
    slots: list[tuple[int, int]],
    repeated: set[int],
    firsts: Int64s,
    begins: Int64s,
    slop: int,
    width: int,
    bias: int,
) -> Int64s:
    """The position each slot takes in the windows starting at ``begins`` with the first
    slot at ``firsts``: a word's earliest fitting positions, in offset order."""
    chosen = np.empty((len(firsts), len(slots)), dtype=np.int64)
    lead = slots[0][0]
    by_term: dict[int, list[int]] = {}
    for column, (term, _) in enumerate(slots):
        by_term.setdefault(term, []).append(column)
    for term, columns in by_term.items():
        if term == lead:
            chosen[:, 0] = firsts
            columns = columns[1:]
            after: Int64s | None = firsts
        else:
            after = None
        if not columns:
            continue
        if term not in repeated:
            after = None
        _, taken = _greedy_left(keys[term], begins, [slots[i][1] for i in columns], after, slop, record=True)
        chosen[:, columns] = taken
    return chosen - (chosen // width) * width - bias
