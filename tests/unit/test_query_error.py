"""Where a query error's caret goes: under the character at fault, as a terminal shows it."""

from __future__ import annotations

import pytest

from searchlib.errors import QueryError, display_width


@pytest.mark.parametrize(
    "query, position, indent",
    [
        ("talks AND", 6, 6),
        ("日本語 AND", 4, 7),  # three wide characters, then a space
        ("cafe\u0301 AND", 6, 5),  # an e with a combining accent takes one column
        ("ｔａｌｋｓ OR", 6, 11),  # fullwidth letters are wide too
    ],
)
def test_the_caret_sits_under_the_problem_on_screen(query: str, position: int, indent: int) -> None:
    caret_line = QueryError("AND needs a clause after it", query=query, position=position).caret().splitlines()[1]
    assert caret_line == " " * indent + "^ AND needs a clause after it"


def test_display_width_counts_columns() -> None:
    assert display_width("") == 0
    assert display_width("talks") == 5
    assert display_width("東京") == 4
    assert display_width("e\u0301\u200b") == 1  # a combining accent and a zero-width space take none
