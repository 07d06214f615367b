"""Facets: counts of a field's values over every hit of a query, checked against counts
made from the hits' stored fields, over several segments with deletions."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from searchlib import DATETIME, ID, KEYWORD, NUMERIC, TEXT, BOOLEAN, Index, Schema, Searcher
from searchlib.errors import QueryError
from searchlib.searcher import Facet, FacetCount, FacetResult, RangeFacet

TAGS = ["sql", "python", "rust", "go", "zig", "ada", "c", "ünï"]
WORDS = ["alpha", "beta", "gamma", "delta"]


def _document(rng: random.Random, number: int) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": f"d{number}",
        "body": " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))),
    }
    shape = rng.random()
    if shape < 0.6:
        document["tags"] = rng.sample(TAGS, rng.randint(1, 3))
    elif shape < 0.8:
        document["tags"] = rng.choice(TAGS)
    if rng.random() < 0.85:
        document["year"] = rng.randint(1990, 2030)
    if rng.random() < 0.8:
        document["price"] = round(rng.uniform(0, 100), 2)
    if rng.random() < 0.8:
        document["published"] = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 1500))
    if rng.random() < 0.9:
        document["draft"] = rng.random() < 0.3
    return document


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """Four segments (commits), then deletions in two of them and an update."""
    rng = random.Random(20)
    schema = Schema(
        id=ID(), body=TEXT(), tags=KEYWORD(), year=NUMERIC("int"), price=NUMERIC("float"),
        published=DATETIME(), draft=BOOLEAN(),
    )
    index = Index.create(tmp_path_factory.mktemp("facets") / "index", schema)
    number = 0
    for _ in range(4):
        with index.writer() as writer:
            for _ in range(150):
                writer.add_document(_document(rng, number))
                number += 1
    with index.writer() as writer:
        for victim in rng.sample(range(number), 60):
            writer.delete_by_term("id", f"d{victim}")
        writer.delete_by_term("tags", "ada")
        writer.update_document(id="d3", body="alpha alpha", tags=["new", "sql"], year=2000)
    return index


def _every_hit(searcher: Searcher, query: str) -> list[dict[str, Any]]:
    results = searcher.search(query, limit=10_000)
    return [hit.fields for hit in results]


def _tag_values(fields: dict[str, Any]) -> list[str]:
    value = fields.get("tags")
    if value is None:
        return []
    return sorted(set(value)) if isinstance(value, list) else [value]


def _top(counter: Counter[Any], limit: int) -> list[tuple[Any, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]


@pytest.mark.parametrize("query", ["alpha", "beta gamma", "delta", "nothingmatches", "alpha -beta",
                                   "id:d10 OR id:d170 OR id:d171 OR id:d599"])
def test_keyword_facet_equals_counts_of_stored_values(index: Index, query: str) -> None:
    with Searcher(index) as searcher:
        assert len(searcher.readers) >= 2
        results = searcher.search(query, limit=3, facets=["tags", Facet("tags", limit=3, name="top3")])
        stored = _every_hit(searcher, query)
    assert results.total == len(stored)
    expected = Counter(value for fields in stored for value in _tag_values(fields))
    missing = sum(1 for fields in stored if not _tag_values(fields))
    tags = results.facets["tags"]
    assert isinstance(tags, FacetResult) and tags.field == "tags" and tags.name == "tags"
    assert [(c.value, c.count) for c in tags.counts] == _top(expected, 10)
    assert tags.missing == missing
    assert tags.other == sum(expected.values()) - sum(count for _, count in _top(expected, 10))
    top3 = results.facets["top3"]
    assert [(c.value, c.count) for c in top3.counts] == _top(expected, 3)
    assert top3.other == sum(expected.values()) - sum(count for _, count in _top(expected, 3))
    if query == "nothingmatches":
        assert results.total == 0 and tags.counts == [] and tags.missing == 0 and tags.other == 0


def test_deleted_documents_are_not_counted(index: Index) -> None:
    with Searcher(index) as searcher:
        results = searcher.search("alpha OR beta OR gamma OR delta", facets=["tags"])
        assert "ada" not in results.facets["tags"].as_dict()  # every "ada" document was deleted
        assert results.facets["tags"].as_dict().get("new") == 1  # the update's new value
        assert results.total == searcher.doc_count


def test_column_values_and_ranges_equal_counts_of_stored_values(index: Index) -> None:
    price_ranges = [("cheap", None, 10), ("mid", 10, 50.5), ("dear", 50.5, None), ("overlap", 5, 20)]
    date_ranges = RangeFacet.buckets("published", [dt.date(2020, 1, 1), "2021-01-01", dt.datetime(2022, 6, 1)])
    with Searcher(index) as searcher:
        results = searcher.search(
            "alpha OR gamma", limit=0,
            facets=["year", "draft", RangeFacet("price", price_ranges), date_ranges, Facet("price", 5, "prices"),
                    RangeFacet("year", [("nineties", 1990, 2000), ("fraction", 2000.5, 2010)], name="decades")],
        )
        stored = _every_hit(searcher, "alpha OR gamma")
    assert results.hits == [] and results.total == len(stored)

    years = Counter(fields["year"] for fields in stored if "year" in fields)
    assert [(c.value, c.count) for c in results.facets["year"].counts] == _top(years, 10)
    assert all(isinstance(c.value, int) for c in results.facets["year"].counts)
    assert results.facets["year"].missing == sum(1 for fields in stored if "year" not in fields)

    drafts = Counter(fields["draft"] for fields in stored if "draft" in fields)
    assert results.facets["draft"].as_dict() == dict(_top(drafts, 10))
    assert all(isinstance(value, bool) for value in results.facets["draft"].as_dict())

    prices = [fields["price"] for fields in stored if "price" in fields]
    assert [(c.value, c.count) for c in results.facets["prices"].counts] == _top(Counter(prices), 5)
    def in_range(value: float, start: float | None, end: float | None) -> bool:
        return (start is None or value >= start) and (end is None or value < end)
    assert results.facets["price"].counts == [
        FacetCount(name, sum(in_range(p, start, end) for p in prices), start, end) for name, start, end in price_ranges
    ]
    assert results.facets["price"].missing == len(stored) - len(prices)

    decades = results.facets["decades"].as_dict()
    assert decades["nineties"] == sum(1990 <= y < 2000 for y in (f.get("year") for f in stored) if y is not None)
    assert decades["fraction"] == sum(2001 <= y < 2010 for y in (f.get("year") for f in stored) if y is not None)

    dates = [dt.datetime.fromisoformat(fields["published"]) for fields in stored if "published" in fields]
    utc = dt.timezone.utc
    edges = [dt.datetime(2020, 1, 1, tzinfo=utc), dt.datetime(2021, 1, 1, tzinfo=utc), dt.datetime(2022, 6, 1, tzinfo=utc)]
    published = results.facets["published"]
    assert [c.value for c in published.counts] == ["2020-01-01..2021-01-01", "2021-01-01..2022-06-01T00:00:00"]
    assert [c.count for c in published.counts] == [
        sum(edges[0] <= d < edges[1] for d in dates), sum(edges[1] <= d < edges[2] for d in dates)
    ]
    assert published.to_dict()["counts"][0] == {
        "value": "2020-01-01..2021-01-01", "count": published.counts[0].count, "start": "2020-01-01", "end": "2021-01-01",
    }


def test_datetime_values_are_counted_as_iso_text(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index", Schema(body=TEXT(), when=DATETIME()))
    with index.writer() as writer:
        for day in (1, 1, 2):
            writer.add_document(body="x", when=dt.date(2024, 5, day))
    with Searcher(index) as searcher:
        result = searcher.search("x", facets=["when"]).facets["when"]
    assert result.as_dict() == {"2024-05-01T00:00:00+00:00": 2, "2024-05-02T00:00:00+00:00": 1}


def test_sorted_search_counts_facets_too(index: Index) -> None:
    with Searcher(index) as searcher:
        by_score = searcher.search("beta", facets=["tags", "year"])
        by_year = searcher.search("beta", sort="-year", limit=2, facets=["tags", "year"])
    assert by_score.facets == by_year.facets
    assert len(by_year.hits) == 2


def test_fields_that_cannot_be_counted_are_named(index: Index) -> None:
    with Searcher(index) as searcher:
        with pytest.raises(QueryError, match=r"cannot count facet 'body': it is a TEXT field"):
            searcher.search("alpha", facets=["body"])
        with pytest.raises(QueryError, match=r"cannot count facet 'id': it is an ID field"):
            searcher.search("alpha", facets=["tags", "id"])
        with pytest.raises(QueryError, match=r"cannot count facet 'colour': the index has no such field"):
            searcher.search("alpha", facets=["colour"])
        with pytest.raises(QueryError, match=r"cannot count ranges of 'tags': KEYWORD fields have no ranges"):
            searcher.search("alpha", facets=[RangeFacet("tags", [("a", "a", "m")])])
        with pytest.raises(QueryError, match=r"facet range 'bad' on 'published'.*not an ISO 8601"):
            searcher.search("alpha", facets=[RangeFacet("published", [("bad", "yesterday", None)])])
        with pytest.raises(QueryError, match=r"two facets are named 'tags'"):
            searcher.search("alpha", facets=["tags", Facet("tags", limit=2)])
        with pytest.raises(QueryError, match=r"limit must be a positive int"):
            searcher.search("alpha", facets=[Facet("tags", limit=0)])
    with pytest.raises(QueryError, match=r"at least two edges"):
        RangeFacet.buckets("year", [2000])


def test_no_facets_asked_gives_an_empty_mapping(index: Index) -> None:
    with Searcher(index) as searcher:
        assert searcher.search("alpha").facets == {}
        assert searcher.search("alpha", facets="tags").facets.keys() == {"tags"}


def test_a_field_no_segment_has_counts_every_hit_as_missing(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index", Schema(body=TEXT(), tags=KEYWORD(), year=NUMERIC("int")))
    with index.writer() as writer:
        writer.add_document(body="x")
        writer.add_document(body="x y")
    with Searcher(index) as searcher:
        facets = searcher.search("x", facets=["tags", "year", RangeFacet("year", [("all", None, None)], name="r")]).facets
    assert facets["tags"] == FacetResult("tags", "tags", [], missing=2, other=0)
    assert facets["year"].counts == [] and facets["year"].missing == 2
    assert facets["r"].as_dict() == {"all": 0}


def test_facets_count_the_filtered_hits(index: Index) -> None:
    with Searcher(index) as searcher:
        filtered = searcher.search("alpha", filter="year:[2000 TO 2010]", facets=["tags", "year"])
        combined = searcher.search("+alpha +year:[2000 TO 2010]", facets=["tags", "year"])
    assert filtered.total == combined.total > 0
    assert filtered.facets == combined.facets
    assert all(2000 <= count.value <= 2010 for count in filtered.facets["year"].counts)


def test_a_faceted_search_counts_its_total_exactly(index: Index) -> None:
    with Searcher(index) as searcher:
        exact = searcher.search("alpha OR beta", exact_total=True).total
        faceted = searcher.search("alpha OR beta", exact_total=False, facets=["tags"])
    assert faceted.total == exact and faceted.total_is_exact


def test_the_core_table_refuses_bad_input_with_errors(index: Index) -> None:
    from searchlib import _core

    with Searcher(index) as searcher:
        reader = searcher.readers[0]
        terms = reader.dictionary("tags").terms()
        numbers = bytes(4 * len(terms))  # every term numbered 0
        with pytest.raises(ValueError, match="term numbers"):
            _core.FacetValues(reader.core, "tags", numbers[4:], 1)
        with pytest.raises(ValueError, match="value number 0 is not below 0"):
            _core.FacetValues(reader.core, "tags", numbers, 0)
        table = _core.FacetValues(reader.core, "tags", numbers, 1)
        with pytest.raises(ValueError, match="uint32 bytes"):
            table.count(b"\x00\x00\x00")
        with pytest.raises(ValueError, match="past the segment"):
            table.count((reader.doc_count).to_bytes(4, "little"))
        counts, missing = table.count(b"")
        assert counts == bytes(8) and missing == 0
