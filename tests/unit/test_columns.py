"""NUMERIC, DATETIME and BOOLEAN fields: checked values, typed columns, kept through merges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from searchlib import BOOLEAN, DATETIME, ID, NUMERIC, TEXT, Index, Schema, Searcher
from searchlib.check import check_index
from searchlib.errors import SchemaError
from searchlib.query import Range

SCHEMA = Schema(id=ID(), body=TEXT(), views=NUMERIC("int"), rating=NUMERIC("float"), published=DATETIME(), draft=BOOLEAN())


def columns(path: Path, name: str) -> list[tuple[object, bool]]:
    _, readers = Index.open_snapshot(path)
    out: list[tuple[object, bool]] = []
    for reader in readers:
        column = reader.column(name)
        assert column is not None
        values, present = column
        out += [(v, p) for v, p, live in zip(values.tolist(), present.tolist(), reader.live.tolist()) if live]
    return out


def test_values_go_into_typed_columns_and_stored_fields(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", SCHEMA)
    with index.writer() as writer:
        writer.add_document(id="a", body="talks", views=3, rating=4.5, draft=False,
                            published=dt.datetime(2025, 5, 11, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))))
        writer.add_document(id="b", body="talks", views=-7, rating=1, published="2025-05-11", draft=True)
        writer.add_document(id="c", body="talks")  # no values
    assert columns(tmp_path / "i", "views") == [(3, True), (-7, True), (0, False)]
    assert columns(tmp_path / "i", "rating") == [(4.5, True), (1.0, True), (0.0, False)]
    assert columns(tmp_path / "i", "draft") == [(0, True), (1, True), (0, False)]
    micros = [value for value, present in columns(tmp_path / "i", "published") if present]
    assert micros == [1746966600000000, 1746921600000000]  # 12:30 UTC, and midnight UTC
    with Searcher(index) as searcher:
        hit = {h.id: h for h in searcher.search("talks")}
        assert hit["a"]["published"] == "2025-05-11T14:30:00+02:00" and hit["a"]["views"] == 3
        assert hit["b"]["published"] == "2025-05-11T00:00:00+00:00" and hit["b"]["draft"] is True
    _, readers = Index.open_snapshot(tmp_path / "i")
    assert readers[0].column("views")[0].dtype == np.int64  # type: ignore[index]
    assert readers[0].column("rating")[0].dtype == np.float64  # type: ignore[index]


@pytest.mark.parametrize("field,value,message", [
    ("views", 1.5, "NUMERIC \\(int\\) and takes an int"),
    ("views", True, "takes a number"),
    ("views", 2**70, "outside the 64-bit"),
    ("rating", float("nan"), "finite number"),
    ("rating", 10**400, "finite number"),
    ("rating", "4", "takes a number"),
    ("published", "last tuesday", "not an ISO 8601 date"),
    ("published", 12, "takes a datetime"),
    ("draft", "yes", "takes True or False"),
])
def test_bad_values_are_refused_naming_the_field(tmp_path: Path, field: str, value: object, message: str) -> None:
    index = Index.create(tmp_path / "i", SCHEMA)
    with index.writer() as writer:
        with pytest.raises(SchemaError, match=f"field '{field}'.*{message}"):
            writer.add_document(id="x", body="talks", **{field: value})
        writer.add_document(id="y", body="talks")
    assert index.reopen().doc_count == 1  # the refused document left nothing behind


def test_columns_survive_merges_with_deletions(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "i", SCHEMA)
    for batch in range(3):
        with index.writer() as writer:
            for i in range(4):
                fields = {"views": batch * 10 + i} if i != 2 else {}
                writer.add_document(id=f"{batch}-{i}", body="talks", **fields)
    with index.writer() as writer:
        writer.delete_by_term("id", "1-0")
        writer.optimize()
    assert len(index.reopen().segments) == 1
    assert columns(tmp_path / "i", "views") == [
        (0, True), (1, True), (0, False), (3, True),
        (11, True), (0, False), (13, True),
        (20, True), (21, True), (0, False), (23, True),
    ]
    assert check_index(tmp_path / "i").ok


def test_schema_round_trip_keeps_the_numeric_type() -> None:
    assert Schema.from_json(SCHEMA.to_json()) == SCHEMA
    assert SCHEMA.to_json()["views"] == {"kind": "numeric", "stored": True, "analyzer": "keyword", "boost": 1.0,
                                         "numeric_type": "int"}
    with pytest.raises(SchemaError, match="NUMERIC takes 'int' or 'float'"):
        NUMERIC("decimal")


# --- int64 values compare and sort exactly, also past 2**53 where float64 rounds ---------------

#: Snowflake-style ids and nanosecond timestamps: neighbours that float64 cannot tell apart.
BIG = {
    "a": 2**53, "b": 2**53 + 1, "c": None, "d": 2**63 - 2, "e": -(2**63),
    "f": 2**53 + 2, "g": 2**63 - 1, "h": 1700000000000000001, "i": 1700000000000000101,
    "j": 2, "k": 3, "l": 2**53 + 1,
}
#: Documents that score higher on "launch" than the others (more occurrences).
LOUD = {"a", "i", "l"}
WITH_VALUE = {doc_id for doc_id, value in BIG.items() if value is not None}


@pytest.fixture
def big_ints(tmp_path: Path) -> Index:
    """Two segments (a commit each) of documents with int64 values near 2**53 and 2**63."""
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT(), n=NUMERIC("int")))
    for batch in ("abcde", "fghijkl"):
        with index.writer() as writer:
            for doc_id in batch:
                value = BIG[doc_id]
                writer.add_document({"id": doc_id, "body": "launch launch launch" if doc_id in LOUD else "launch",
                                     **({} if value is None else {"n": value})})
    return index


def found(searcher: Searcher, queries: Iterable[str | Range]) -> dict[str | Range, set[str]]:
    """The ids each query finds (all of them, not a page)."""
    return {query: {hit.id for hit in searcher.search(query, limit=100)} for query in queries}


def test_int_exact_values_and_ranges_near_2_53_are_exact(big_ints: Index) -> None:
    expected = {
        f"n:{2**53}": {"a"},
        f"n:{2**53 + 1}": {"b", "l"},
        f"n:[{2**53 + 1} TO {2**53 + 2}]": {"b", "l", "f"},
        f"n:{{{2**53} TO {2**53 + 2}}}": {"b", "l"},
        f"n:[{2**53} TO {2**53 + 2}}}": {"a", "b", "l"},
        "n:[1700000000000000050 TO *]": {"i", "d", "g"},
        "n:[* TO 1700000000000000101}": {"a", "b", "e", "f", "h", "j", "k", "l"},
    }
    with Searcher(big_ints) as searcher:
        assert len(searcher.readers) == 2
        assert found(searcher, expected) == expected


def test_int_ranges_reach_both_ends_of_int64(big_ints: Index) -> None:
    expected = {
        f"n:{{* TO {2**63 - 1}}}": WITH_VALUE - {"g"},
        f"n:[* TO {2**63 - 2}]": WITH_VALUE - {"g"},
        f"n:[{2**63 - 1} TO *]": {"g"},
        f"n:{{{2**63 - 2} TO *]": {"g"},
        f"n:[* TO {-(2**63)}]": {"e"},
        f"n:{{{-(2**63)} TO 3}}": {"j"},
        "n:[* TO *]": WITH_VALUE,
    }
    with Searcher(big_ints) as searcher:
        assert found(searcher, expected) == expected


def test_float_bounds_on_an_int_field_compare_exactly(big_ints: Index) -> None:
    expected = {
        "n:{1.7e18 TO *]": {"h", "i", "d", "g"},  # 1.7e18 is exact; h lies 1 above it
        "n:[1.5 TO 3]": {"j", "k"},
        "n:[1.5 TO 3}": {"j"},
        "n:{2.0 TO 3.5]": {"k"},
        "n:[1e19 TO *]": set(),  # past int64: nothing, and no overflow
        "n:[-1e19 TO 2.5]": {"e", "j"},
    }
    with Searcher(big_ints) as searcher:
        assert found(searcher, expected) == expected


def test_hand_built_ranges_on_an_int_field_are_exact_at_any_size(big_ints: Index) -> None:
    expected = {
        Range("n", 2**53 + 1, 2**53 + 1): {"b", "l"},
        Range("n", 2**63 - 2, 2**63 - 1, include_high=False): {"d"},
        Range("n", 2**70, None): set(),
        Range("n", None, 2**70): WITH_VALUE,
        Range("n", -(2**70), -(2**63)): {"e"},
        Range("n", 2**63 - 1, 2**64, include_low=False): set(),
        Range("n", 2.5, 2**53, include_high=False): {"k"},
    }
    with Searcher(big_ints) as searcher:
        assert found(searcher, list(expected)) == expected


def test_sort_by_int_field_is_exact_both_ways_with_missing_values_last(big_ints: Index) -> None:
    with Searcher(big_ints) as searcher:
        ascending = [hit.id for hit in searcher.search("launch", sort="n", limit=100)]
        descending = [hit.id for hit in searcher.search("launch", sort="-n", limit=100)]
        ties = {hit.id: hit.score for hit in searcher.search("launch", limit=100) if hit.id in ("b", "l")}
    assert ties["l"] > ties["b"]  # equal values: the better score first, either way
    assert ascending == ["e", "j", "k", "a", "l", "b", "f", "h", "i", "d", "g", "c"]
    assert descending == ["g", "d", "i", "h", "f", "l", "b", "a", "k", "j", "e", "c"]


def test_datetimes_near_year_9999_sort_and_filter_to_the_microsecond(tmp_path: Path) -> None:
    # Microseconds since 1970 pass 2**53 in the year 2255; by 9999 float64 steps 32 of them.
    index = Index.create(tmp_path / "i", Schema(id=ID(), body=TEXT(), ts=DATETIME()))
    for batch in (("x", "y"), ("z",)):
        with index.writer() as writer:
            for doc_id in batch:
                micros = {"x": 999997, "y": 999999, "z": 999998}[doc_id]
                writer.add_document(id=doc_id, body="launch launch" if doc_id == "y" else "launch",
                                    ts=dt.datetime(9999, 12, 31, 23, 59, 59, micros))
    with Searcher(index) as searcher:
        assert [hit.id for hit in searcher.search("launch", sort="ts")] == ["x", "z", "y"]
        assert [hit.id for hit in searcher.search("launch", sort="-ts")] == ["y", "z", "x"]
        between = "ts:{9999-12-31T23:59:59.999997 TO 9999-12-31T23:59:59.999999}"
        assert found(searcher, [between]) == {between: {"z"}}


def _range_ids(path: Path, field: str, low: float, high: float) -> list[str]:
    with Searcher(Index.open(path)) as searcher:
        return sorted(hit.id for hit in searcher.search(Range(field, low, high), limit=10))


def test_a_field_named_like_another_fields_presence_keeps_its_own_column(tmp_path: Path) -> None:
    """Fields ``n`` and ``n.present`` once shared the array ``column.n.present`` (the
    presence flags of one, the values of the other): ranges on ``n`` found documents
    without an ``n``, and ``check`` passed."""
    path = tmp_path / "i"
    index = Index.create(path, Schema(id=ID(), n=NUMERIC("int"), **{"n.present": NUMERIC("int")}))
    with index.writer(merge_factor=100) as writer:
        writer.add_document(id="a", n=5, **{"n.present": 500})
        writer.add_document(id="b", **{"n.present": 1})  # no n
        writer.flush()
        writer.add_document(id="c", n=50, **{"n.present": 0})
    for _ in range(2):  # two segments, then one after a merge
        assert _range_ids(path, "n", 0, 100) == ["a", "c"]
        assert _range_ids(path, "n.present", 0, 10) == ["b", "c"]
        assert _range_ids(path, "n.present", 400, 600) == ["a"]
        assert check_index(path).ok
        with Index.open(path).writer() as writer:
            writer.optimize()
    assert len(Index.open(path).segments) == 1


