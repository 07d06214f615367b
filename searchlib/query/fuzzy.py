"""Edit distance for fuzzy queries and suggestions.

The distance is the optimal string alignment distance (Damerau-Levenshtein where a
transposition of two neighbouring characters counts as one edit, as in Lucene's fuzzy
queries): "talsk" is one edit from "talks". It is computed by RapidFuzz's C++ code over a
whole list of candidate terms at once, since a fuzzy query compares the query word with
every term of a field, and imported only when a fuzzy query or a suggestion runs.

>>> within_edits(["talk", "walk", "talks", "chalk", "tale"], "tlak", 1)
[0]
"""

from __future__ import annotations

from collections.abc import Sequence


def distances(candidates: Sequence[str], word: str, max_edits: int) -> list[tuple[str, int]]:
    """The candidates within ``max_edits`` edits of ``word``, with their distances."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=max_edits, limit=None)
    return [(choice, int(distance)) for choice, distance, _ in found]


def within_edits(candidates: Sequence[str], word: str, max_edits: int) -> list[int]:
    """The positions in ``candidates`` of those within ``max_edits`` edits of ``word``,
    ascending."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=max_edits, limit=None)
    return sorted(int(index) for _, _, index in found)
