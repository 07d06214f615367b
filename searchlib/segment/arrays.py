"""Small numpy helpers the segment structures share: slice offsets from sizes, fast
integer views of offsets, and the ordering check every reader makes before slicing."""

from __future__ import annotations

from array import array

import numpy as np
import numpy.typing as npt

from searchlib import codec


def slice_starts(sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """Offsets of consecutive slices of ``sizes`` elements (one more than slices)."""
    offsets = np.zeros(len(sizes) + 1, dtype=codec.OFFSET_DTYPE)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def int_view(offsets: np.ndarray) -> memoryview:
    """``offsets`` as a memoryview of unsigned ints: indexing it yields Python ints
    several times faster than numpy scalars, which matters where a query reads a few
    offsets per term or per hit. Native 32- and 64-bit arrays are viewed in place."""
    for dtype, code in ((np.dtype(np.uint32), "I"), (np.dtype(np.uint64), "Q")):
        if offsets.dtype == dtype and array(code).itemsize == dtype.itemsize:
            return np.ascontiguousarray(offsets).data.cast("B").cast(code)
    return np.ascontiguousarray(offsets, dtype=np.uint64).data.cast("B").cast("Q")


def ascending(values: np.ndarray) -> bool:
    """Whether ``values`` never decrease (one vectorized pass; no copy for small arrays)."""
    return len(values) < 2 or bool(np.all(values[1:] >= values[:-1]))
