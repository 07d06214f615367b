"""The merge policy: which segments to merge after a commit, decided on the manifest's
counts alone.

Every commit adds a segment, so without merging a busy index would accumulate
thousands and every query would visit each. :func:`choose_merges` is a logarithmic
policy: segments are grouped into size levels (each ``merge_factor`` times the one below),
and whenever a level holds ``merge_factor`` segments they are merged into one of the next
level, so an index of N documents keeps about ``merge_factor * log(N)`` segments. A
segment whose documents are mostly deleted is rewritten on its own to reclaim them.
:func:`searchlib.segment.merge.merge_segments` does the merging.
"""

from __future__ import annotations

from searchlib.segment.meta import SegmentMeta

TYPE_CHECKING = False  # typing's flag, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Segments per size level before they are merged into one.
DEFAULT_MERGE_FACTOR = 10
#: A segment with more than this share of deleted documents is rewritten alone.
RECLAIM_DELETED_SHARE = 0.5
#: Segments this small (in live documents) all count as the lowest level.
MIN_MERGE_DOCS = 1000
#: How far below a run's largest level a segment may be and still join its run.
LEVEL_SPAN = 0.75


def segment_level(meta: SegmentMeta, merge_factor: int) -> float:
    """A segment's size level: ``log(live documents, merge_factor)``."""
    import math  # for writers: a search imports this module for DEFAULT_MERGE_FACTOR alone

    return math.log(max(meta.live_count, 1), merge_factor)


def choose_merges(segments: Sequence[SegmentMeta], merge_factor: int = DEFAULT_MERGE_FACTOR) -> list[list[str]]:
    """Names of the segments to merge, one list per new segment (possibly none).

    Lucene's LogMergePolicy, by document counts: from the oldest segment on, take the
    largest remaining level, the run of neighbours down to the last segment within
    ``LEVEL_SPAN`` of it (smaller ones in between included), and merge that run in
    chunks of ``merge_factor``. Segments under ``MIN_MERGE_DOCS`` all count as one
    level. Only neighbours are merged, so documents keep the order they were added in,
    and with it the order of tied hits.
    """
    if merge_factor < 2:
        raise ValueError(f"merge_factor must be at least 2, got {merge_factor}")
    merges: list[list[str]] = []
    stretch: list[SegmentMeta] = []  # neighbours between segments rewritten alone
    for meta in segments:
        if meta.doc_count and meta.deleted_count / meta.doc_count > RECLAIM_DELETED_SHARE:
            merges += _merges_by_level(stretch, merge_factor)
            merges.append([meta.name])  # rewritten alone, in its place
            stretch = []
        else:
            stretch.append(meta)
    return merges + _merges_by_level(stretch, merge_factor)


def _merges_by_level(segments: Sequence[SegmentMeta], merge_factor: int) -> list[list[str]]:
    """The runs of neighbouring ``segments`` to merge, level by level (see choose_merges)."""
    import math

    merges: list[list[str]] = []
    levels = [segment_level(meta, merge_factor) for meta in segments]
    smallest_level = math.log(MIN_MERGE_DOCS, merge_factor)
    start = 0
    while start < len(segments):
        top = max(levels[start:])
        floor = -1.0 if top <= smallest_level else top - LEVEL_SPAN
        upto = max(i for i in range(start, len(segments)) if levels[i] >= floor)
        while start + merge_factor <= upto + 1:
            merges.append([meta.name for meta in segments[start : start + merge_factor]])
            start += merge_factor
        start = upto + 1
    return merges
