"""Merging segments: many small segments (and their deleted documents) become one
(which ones, :mod:`searchlib.segment.policy` decides).

The compiled core does the work (``core/src/merge.rs``): term by term over the union of
the segments' sorted dictionaries, postings and positions renumbered with deleted
documents dropped, stored blocks, ids, lengths and columns copied for the live
documents. It streams, holding one term's postings at a time plus the new field's
dictionary and lengths, so a merge's memory does not grow with the segments' sizes, and
it releases the GIL while it works.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from searchlib import _core
from searchlib.failpoints import failpoint
from searchlib.schema import Schema
from searchlib.segment.meta import SegmentMeta
from searchlib.segment.reader import SegmentReader
from searchlib.segment.writer import discard_temporary, publish_segment, segment_paths
from searchlib.storage import TEMP_SUFFIX, Directory


def merge_segments(
    directory: Directory,
    name: str,
    schema: Schema,
    readers: Sequence[SegmentReader],
    deleted: Sequence[npt.NDArray[np.bool_]],
) -> SegmentMeta:
    """Write one segment holding the live documents of ``readers``, in their order.

    ``deleted[i]`` marks the documents of ``readers[i]`` to leave out (its deletions so
    far, including any not yet committed). Every field the segments hold is merged (a
    schema only grows, so they are all the schema's).
    """
    inputs = [
        (reader.core, None if not mask.any() else (~mask).astype(np.uint8).tobytes())
        for reader, mask in zip(readers, deleted)
    ]
    failpoint("write.temp_open")
    try:
        doc_count, sizes = _core.merge_segments(inputs, segment_paths(directory, name, TEMP_SUFFIX))
        return publish_segment(directory, name, doc_count, sizes)
    except BaseException:
        discard_temporary(directory, name)
        raise
