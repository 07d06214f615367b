"""Summing values per key with numpy: the step that adds a term's fields up per document
and a query's clauses up per document."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class KeyGroups:
    """Distinct keys (ascending) with the sum of their values, from :func:`sum_by_key`."""

    keys: npt.NDArray[np.int64]
    sums: npt.NDArray[np.float64]
    #: Where each group starts in ``order``, the stable sort of the input keys.
    starts: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]

    def counts(self) -> npt.NDArray[np.int64]:
        """How many input keys each group has."""
        return np.diff(np.append(self.starts, len(self.order)))


def sum_by_key(keys: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> KeyGroups:
    """Sum ``values`` per distinct key.

    A stable argsort is used because callers pass concatenations of ascending runs
    (one per field or clause), which it merges in about linear time.
    """
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys.take(order)
    is_first = np.empty(len(sorted_keys), dtype=bool)
    is_first[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=is_first[1:])
    starts = np.flatnonzero(is_first)
    sums = np.add.reduceat(values.take(order), starts) if len(starts) else np.zeros(0)
    return KeyGroups(sorted_keys.take(starts), sums, starts, order)
