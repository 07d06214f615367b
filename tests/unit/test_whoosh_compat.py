"""searchlib.compat.whoosh: code written for Whoosh runs on searchlib after its imports
change. Whoosh's quick-start is run as its documentation gives it, with ``whoosh.``
replaced by ``searchlib.compat.whoosh.`` in the imports and nothing else."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from searchlib.compat.whoosh import Unsupported
from searchlib.compat.whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from searchlib.compat.whoosh.analysis import StemmingAnalyzer
from searchlib.compat.whoosh.index import create_in, exists_in, open_dir
from searchlib.compat.whoosh.qparser import MultifieldParser, OrGroup, QueryParser
from searchlib.compat.whoosh import query as q

#: Whoosh 2.7's quick-start (docs/source/quickstart.rst), as written there.
QUICKSTART = '''
import os.path
from whoosh.index import create_in
from whoosh.fields import *
schema = Schema(title=TEXT(stored=True), path=ID(stored=True), content=TEXT)
if not os.path.exists("indexdir"):
    os.mkdir("indexdir")
ix = create_in("indexdir", schema)
writer = ix.writer()
writer.add_document(title=u"First document", path=u"/a",
                    content=u"This is the first document we've added!")
writer.add_document(title=u"Second document", path=u"/b",
                    content=u"The second one is even more interesting!")
writer.commit()
from whoosh.qparser import QueryParser
with ix.searcher() as searcher:
    query = QueryParser("content", ix.schema).parse("first")
    results = searcher.search(query)
    found = results[0]
    first = dict(found), len(results), found.highlights("title")
'''


def test_the_quickstart_runs_with_only_its_imports_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(QUICKSTART.replace("from whoosh.", "from searchlib.compat.whoosh."), namespace)  # noqa: S102
    hit, count, highlighted = namespace["first"]  # type: ignore[misc]
    assert hit == {"title": "First document", "path": "/a"}
    assert count == 1
    assert highlighted == ""  # "first" is a word of content, which is not stored
    assert exists_in("indexdir") and open_dir("indexdir").doc_count() == 2


@pytest.fixture
def ix(tmp_path: Path):  # type: ignore[no-untyped-def]
    schema = Schema(
        key=ID(stored=True, unique=True), title=TEXT(stored=True, field_boost=2.0),
        body=TEXT(analyzer=StemmingAnalyzer(), stored=True), tags=KEYWORD(stored=True, commas=True, lowercase=True),
        year=NUMERIC(int, stored=True), when=DATETIME(stored=True),
    )
    index = create_in(str(tmp_path), schema)
    with index.writer() as writer:
        for number, (title, body, tags) in enumerate([
            ("Ceasefire talks", "Envoys held direct talks on Monday", "Politics, World"),
            ("Markets", "Shares fell as talking points shifted", "Finance"),
            ("River", "The river bank flooded after the talks", "World"),
            ("Weather", "Rain expected on Monday", "Local"),
        ]):
            writer.add_document(key=f"d{number}", title=title, body=body, tags=tags, year=2020 + number,
                                when=datetime.datetime(2024, 1, 1 + number))
    return index


def keys(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit["key"] for hit in results]


def test_queries_built_in_python(ix) -> None:  # type: ignore[no-untyped-def]
    with ix.searcher() as s:
        assert sorted(keys(s.search(q.Term("body", "talk")))) == ["d0", "d1", "d2"]
        assert keys(s.search(q.And([q.Term("body", "talk"), q.Term("body", "monday")]))) == ["d0"]
        assert sorted(keys(s.search(q.Or([q.Term("body", "rain"), q.Term("body", "river")])))) == ["d2", "d3"]
        assert sorted(keys(s.search(q.And([q.Term("body", "talk"), q.Not(q.Term("body", "river"))])))) == ["d0", "d1"]
        assert sorted(keys(s.search(q.Not(q.Term("body", "talk"))))) == ["d3"]
        assert keys(s.search(q.Phrase("body", ["direct", "talk"]))) == ["d0"]
        assert sorted(keys(s.search(q.Prefix("title", "ma")))) == ["d1"]
        assert sorted(keys(s.search(q.Wildcard("title", "r?ver")))) == ["d2"]
        assert keys(s.search(q.FuzzyTerm("title", "weathr"))) == ["d3"]
        assert keys(s.search(q.NumericRange("year", 2021, 2022), sortedby="year")) == ["d1", "d2"]
        assert keys(s.search(q.NumericRange("year", 2021, 2022, endexcl=True))) == ["d1"]
        jan = datetime.datetime(2024, 1, 1)
        assert keys(s.search(q.DateRange("when", jan, jan + datetime.timedelta(days=1)), sortedby="when")) == ["d0", "d1"]
        assert len(s.search(q.Every())) == 4
        assert keys(s.search(q.Term("tags", "world"), sortedby="year", reverse=True)) == ["d2", "d0"]


def test_parser_search_options_and_results(ix) -> None:  # type: ignore[no-untyped-def]
    parser = QueryParser("body", ix.schema)
    with ix.searcher() as s:
        assert keys(s.search(parser.parse("talks monday"))) == ["d0"]  # AND by default, as in Whoosh
        either = QueryParser("body", ix.schema, group=OrGroup).parse("talks monday")
        results = s.search(either, limit=2)
        assert len(results) == 4 and results.scored_length() == 2 and len(results[0:2]) == 2
        assert keys(s.search(either, filter=q.Term("tags", "world"), limit=None, sortedby="key")) == ["d0", "d2"]
        assert keys(s.search(either, mask=q.Term("tags", "world"), sortedby="key")) == ["d1", "d3"]
        multi = MultifieldParser(["title", "body"], ix.schema).parse("markets")
        hit = s.search(multi)[0]
        assert hit["key"] == "d1" and hit.get("nothing") is None and "title" in hit
        assert hit.highlights("title") == '<b class="match term0">Markets</b>'
        withterms = s.search(parser.parse("talks"), terms=True)
        assert withterms[0].matched_terms() == [("body", b"talk")]
        page = s.search_page(either, 2, pagelen=3)
        assert (page.pagenum, page.pagecount, page.total, len(list(page)), page.is_last_page()) == (2, 2, 4, 1, True)
        assert s.document(key="d3")["title"] == "Weather"


def test_writer_updates_deletes_and_cancels(ix) -> None:  # type: ignore[no-untyped-def]
    with ix.writer() as w:
        w.update_document(key="d0", title="Ceasefire holds", body="No more talks", tags="World", year=2020)
        assert w.delete_by_term("key", "d3") == 1
    assert ix.doc_count() == 3
    with ix.searcher() as s:
        assert s.document(key="d0")["title"] == "Ceasefire holds"
        docnum = s.search(q.Term("key", "d1"))[0].docnum
    w = ix.writer()
    w.delete_document(docnum)
    w.commit()
    assert ix.doc_count() == 2
    w = ix.writer()
    w.add_document(key="d9", title="Never")
    w.cancel()
    assert ix.doc_count() == 2


def test_what_is_not_supported_says_so(ix) -> None:  # type: ignore[no-untyped-def]
    with ix.searcher() as s:
        with pytest.raises(Unsupported, match="groupedby"):
            s.search(q.Every(), groupedby="tags")
        with pytest.raises(Unsupported, match="sorting by several fields"):
            s.search(q.Every(), sortedby=["year", "key"])
    with pytest.raises(Unsupported, match="weighting"):
        ix.searcher(weighting=object())
    with pytest.raises(Unsupported, match="plugins"):
        QueryParser("body", ix.schema, plugins=[])


def test_reader_counts_terms_and_a_used_writer_refuses(ix) -> None:  # type: ignore[no-untyped-def]
    from searchlib.compat.whoosh.writing import IndexingError

    with ix.reader() as reader:
        assert (reader.doc_count(), reader.has_deletions()) == (4, False)
        assert reader.doc_frequency("body", "talk") == 3 and reader.frequency("body", "talk") == 3
        assert ("title", b"markets") in reader and b"river" in reader.lexicon("title")
        assert sorted(fields["key"] for fields in reader.all_stored_fields()) == ["d0", "d1", "d2", "d3"]
    with ix.searcher() as s:
        assert s.doc_frequency("body", "monday") == 2  # the reader's methods, through the searcher
    parsed = QueryParser("body", ix.schema).parse("talks AND monday")
    assert isinstance(parsed, q.And) and [type(c) for c in parsed] == [q.Term, q.Term] and parsed[0].text == "talk"
    w = ix.writer()
    w.commit()
    with pytest.raises(IndexingError):
        w.add_document(key="late")
