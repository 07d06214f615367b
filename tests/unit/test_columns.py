"""NUMERIC, DATETIME and BOOLEAN fields: checked values, typed columns, kept through merges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from searchlib import BOOLEAN, DATETIME, ID, NUMERIC, TEXT, Index, Schema, Searcher
from searchlib.check import check_index
from searchlib.errors import SchemaError

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
