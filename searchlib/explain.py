"""Explanations: why a document got its score, as a tree of named factors.

Each scoring node of a query tree can explain one document: the value it contributed and
the factors behind it (tf, df, N, field length, average length, idf, k1, b, boost), so a
user can see why a hit ranks where it does. The root's value equals the hit's score.

>>> leaf = Explanation(2.0, "idf")
>>> print(Explanation(2.0, "sum of:", (leaf,)).format())
2.0000 sum of:
  2.0000 idf
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Explanation:
    """A value, what it is, and the values it was computed from."""

    value: float
    description: str
    details: tuple[Explanation, ...] = ()

    def format(self, indent: int = 0) -> str:
        """An indented text tree, one factor per line."""
        lines = [f"{'  ' * indent}{self.value:.4f} {self.description}"]
        lines.extend(detail.format(indent + 1) for detail in self.details)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "description": self.description,
            "details": [detail.to_json() for detail in self.details],
        }

    def __str__(self) -> str:
        return self.format()


def factor(value: float, description: str) -> Explanation:
    """A leaf of an explanation: one named number."""
    return Explanation(float(value), description)
