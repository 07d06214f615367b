"""An index from an untrusted source: never reads outside its directory, never runs
code, never allocates unbounded memory, never hangs.

Each hostile index is a small real index rewritten on disk with valid checksums (see
``hostile.py``), so only the reader's own limits stand in the way. Cases that could
hang or exhaust memory run in a subprocess (``hostile.probe``) with a timeout, and
report the process's peak RSS: a regression fails the test instead of the suite.
Memory bound asserted: the probe's peak RSS (VmHWM) grows by less than ``MEMORY_BOUND_MIB``
over its own baseline: a stored block inflates to exactly its recorded size, at most the
64 MiB cap, where the bombs would inflate to 1 GiB.
"""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from searchlib import TEXT, Index, Searcher, codec
from searchlib.check import check_index
from searchlib.errors import CorruptIndexError, QueryError
from searchlib.limits import QueryLimits
from tests.robustness.hostile import (
    DOCUMENTS,
    make_index,
    nested_json,
    newest_manifest,
    plant_bomb,
    probe,
    rewrite_manifest,
    segment,
    segment_file,
    write_file,
)
from tests.robustness.segment_files import encode, lz4_literals, read_sections, rewrite_sections, store_sections

#: Growth of a probe's peak RSS over its baseline that counts as bounded (MiB).
MEMORY_BOUND_MIB = 200
#: Seconds a probe may take before it counts as hung (generous: the machine is shared;
#: the probes that pass take well under a second of their own).
PROBE_TIMEOUT = 90


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    return make_index(tmp_path / "idx")


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """Another index beside the hostile one, whose text must never show through it."""
    return make_index(tmp_path / "victim", documents=[{"path": "v.txt", "body": "talks confidential payroll"}])


def search_everything(path: Path) -> list[dict[str, Any]]:
    results = Searcher(Index.open(path)).search("talks")
    return [hit.fields for hit in results]


def assert_bounded(result: dict[str, Any]) -> None:
    assert result["peak_rss_mib"] is not None, result
    assert result["peak_rss_mib"] - result["baseline_rss_mib"] < MEMORY_BOUND_MIB, result


# --- names outside the index ---------------------------------------------------------


@pytest.mark.parametrize("prefix", ["../victim/", "{victim}/", "./", "sub/../"])
def test_a_segment_named_outside_the_index_is_refused(index_path: Path, victim: Path, prefix: str) -> None:
    prefix = prefix.format(victim=victim)
    theirs = segment(victim)

    def point_at_victim(body: dict[str, Any]) -> None:
        entry = body["segments"][0]
        entry["name"] = prefix + theirs["name"]
        entry["files"] = {prefix + name: size for name, size in theirs["files"].items()}
        entry["doc_count"] = theirs["doc_count"]

    manifest = rewrite_manifest(index_path, point_at_victim)
    with pytest.raises(CorruptIndexError, match=manifest.name) as caught:
        search_everything(index_path)
    assert "segment name" in caught.value.problem


@pytest.mark.parametrize("key", ["deletes", "files"])
def test_a_file_named_outside_the_index_reveals_nothing_of_it(index_path: Path, tmp_path: Path, key: str) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"x" * 123457)

    def name_outside(body: dict[str, Any]) -> None:
        entry = body["segments"][0]
        if key == "deletes":
            entry["deletes"] = str(outside)
        else:
            entry["files"][str(outside)] = 1
            entry["files"].pop(f"{entry['name']}.norms")

    manifest = rewrite_manifest(index_path, name_outside)
    with pytest.raises(CorruptIndexError, match=manifest.name) as caught:
        search_everything(index_path)
    assert "123457" not in str(caught.value) and "123,457" not in str(caught.value)


def test_a_symlink_inside_the_index_is_refused(index_path: Path, victim: Path) -> None:
    name = f"{segment(index_path)['name']}.store"
    theirs = victim / f"{segment(victim)['name']}.store"
    (index_path / name).unlink()
    (index_path / name).symlink_to(theirs)
    with pytest.raises(CorruptIndexError, match=name) as caught:
        search_everything(index_path)
    assert "not a regular file" in caught.value.problem
    assert str(theirs.stat().st_size) not in str(caught.value)


def test_a_symlinked_manifest_is_refused(index_path: Path, victim: Path) -> None:
    (index_path / "manifest-99.json").symlink_to(newest_manifest(victim))
    with pytest.raises(CorruptIndexError, match="manifest-99.json") as caught:
        search_everything(index_path)
    assert "not a regular file" in caught.value.problem


# --- special files: no hang ----------------------------------------------------------


def test_a_fifo_segment_file_fails_at_once(index_path: Path) -> None:
    name = f"{segment(index_path)['name']}.terms"
    (index_path / name).unlink()
    os.mkfifo(index_path / name)
    rewrite_manifest(index_path, lambda body: body["segments"][0]["files"].__setitem__(name, 0))
    result = probe("search", index_path, timeout=PROBE_TIMEOUT)
    assert result["outcome"] == "CorruptIndexError", result
    assert name in result["message"] and "not a regular file" in result["message"]


# --- memory: compression bombs, huge sizes and counts --------------------------------


@pytest.mark.parametrize("action", ["search", "check"])
def test_a_compression_bomb_recorded_at_its_size_is_refused_uninflated(index_path: Path, action: str) -> None:
    store = plant_bomb(index_path, 1024)  # 1 GiB of one byte in about 4 MB, recorded as 1 GiB
    assert store.stat().st_size < 8 << 20
    result = probe(action, index_path, timeout=PROBE_TIMEOUT)
    expected = ("CorruptIndexError", "damage reported")
    assert result["outcome"] in expected, result
    assert store.name in result["message"] and "stored blocks" in result["message"]
    assert_bounded(result)


def test_a_block_that_inflates_past_its_recorded_size_is_damage(index_path: Path) -> None:
    store = plant_bomb(index_path, 1024, record_size=100)
    result = probe("search", index_path, timeout=PROBE_TIMEOUT)
    assert result["outcome"] == "CorruptIndexError", result
    assert store.name in result["message"] and "does not inflate" in result["message"]
    assert_bounded(result)


def test_a_recorded_block_size_past_the_cap_is_damage(index_path: Path) -> None:
    plant_bomb(index_path, 4, record_size=(1 << 32) - 1)
    with pytest.raises(CorruptIndexError, match="stored blocks are not laid out"):
        search_everything(index_path)


def test_a_sparse_huge_manifest_is_refused_unread(index_path: Path) -> None:
    with open(index_path / "manifest-99.json", "wb") as handle:
        handle.truncate(20 << 30)  # 20 GiB, sparse
    result = probe("open", index_path, timeout=PROBE_TIMEOUT)
    assert result["outcome"] == "CorruptIndexError", result
    assert "manifest-99.json" in result["message"] and "limit" in result["message"]
    assert_bounded(result)


def test_a_huge_document_count_is_refused_before_allocating(index_path: Path) -> None:
    manifest = rewrite_manifest(index_path, lambda body: body["segments"][0].__setitem__("doc_count", 4_000_000_000))
    tracemalloc.start()
    try:
        with pytest.raises(CorruptIndexError, match=manifest.name):
            search_everything(index_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def _entry(name: bytes, offset: int, length: int) -> bytes:
    return struct.pack("<H", len(name)) + name + struct.pack("<QQ", offset, length)


@pytest.mark.parametrize(
    "directory",
    [
        struct.pack("<I", 1) + _entry(b"\x00ids", 1 << 62, 8),  # past the data
        struct.pack("<I", 1) + _entry(b"\x00ids", 16, 1 << 63),  # longer than the file
        struct.pack("<I", 1) + _entry(b"\x00ids", 2, 4),  # inside the header
        struct.pack("<I", 1) + _entry(b"\x00ids", (1 << 64) - 8, 16),  # wraps around
        struct.pack("<I", 4_000_000_000) + _entry(b"\x00ids", 16, 4),  # more entries than bytes
        struct.pack("<I", 2) + _entry(b"\x00ids", 16, 4) + _entry(b"\x00ids", 16, 4),  # one name twice
        struct.pack("<I", 1) + _entry(b"\xff\xfe", 16, 4),  # not UTF-8
        struct.pack("<I", 1) + _entry(b"\x00ids", 16, 4) + b"junk",  # trailing bytes
    ],
)
def test_sections_outside_the_data_are_refused(index_path: Path, directory: bytes) -> None:
    """A directory whose entries (with valid checksums) point anywhere but inside the
    file's data is damage, reported before any section is read."""
    name = segment_file(index_path, "store")
    store = index_path / name
    kind, sections = read_sections(store.read_bytes())
    size = write_file(store, encode(kind, sections, directory=directory))
    rewrite_manifest(index_path, lambda body: body["segments"][0]["files"].__setitem__(name, size))
    with pytest.raises(CorruptIndexError, match=name):
        search_everything(index_path)


# --- deep JSON -----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, codec.MAX_JSON_DEPTH + 1])
def test_a_deeply_nested_manifest_is_damage(index_path: Path, depth: int) -> None:
    body = json.loads(newest_manifest(index_path).read_text())
    body["generation"] = 99
    body["x"] = "PLACEHOLDER"
    text = json.dumps(body).replace('"PLACEHOLDER"', nested_json(depth).decode()) + "\n"
    (index_path / "manifest-99.json").write_text(text)
    with pytest.raises(CorruptIndexError, match="manifest-99.json") as caught:
        Index.open(index_path)
    assert "nests JSON" in caught.value.problem


def test_a_deeply_nested_deletes_table_is_damage(index_path: Path) -> None:
    """The deletes file is an array file: a table of contents nested past the limit is
    damage (with valid checksums)."""
    with Index.open(index_path).writer() as writer:
        writer.delete_by_term("path", "c.txt")
    name = segment(index_path)["deletes"]
    table = nested_json(100_000)
    head = struct.pack(codec.HEADER_FORMAT, codec.MAGIC, codec.FORMAT_VERSION, codec.KIND_DELETES)
    footer = struct.pack(codec.FOOTER_FORMAT, len(head), len(table), codec.crc32(table), codec.crc32(head), codec.END_MAGIC)
    write_file(index_path / name, head + table + footer)
    with pytest.raises(CorruptIndexError, match=name) as caught:
        search_everything(index_path)
    assert "nests JSON" in caught.value.problem


def test_a_deeply_nested_stored_document_is_damage(index_path: Path) -> None:
    lines = [nested_json(100_000), b'{"path":"b.txt"}', b'{"path":"c.txt"}']
    store = rewrite_sections(index_path, segment_file(index_path, "store"), store_sections(lines))
    reader = Index.open(index_path).readers()[0]
    with pytest.raises(CorruptIndexError, match=store.name):
        reader.stored_fields(0)
    report = check_index(index_path)
    assert [p.path for p in report.problems] == [str(store)]


# --- analyzer parameters and patterns from the index --------------------------------


@pytest.mark.parametrize(
    "spec,problem",
    [
        ({"analyzer": "ngram", "analyzer_params": {"min_size": 1, "max_size": 1_000_000_000}}, "max_size"),
        ({"analyzer": "edge_ngram", "analyzer_params": {"max_size": 65}}, "max_size"),
        ({"analyzer": "ngram", "analyzer_params": {"min_size": True}}, "min_size"),
        ({"analyzer": "ngram", "analyzer_params": {"size": 3}}, "size"),
        ({"analyzer": "regex", "analyzer_params": {"pattern": "a{4294967294}"}}, "counted repetitions"),
        ({"analyzer": "regex", "analyzer_params": {"pattern": "(?:a{1000}){1000}"}}, "counted repetitions"),
        ({"analyzer": "regex", "analyzer_params": {"pattern": "x" * 20_000}}, "characters"),
        ({"analyzer": "regex", "analyzer_params": {"pattern": "(unclosed"}}, "does not compile"),
        ({"analyzer": "standard", "analyzer_params": {"synonyms": {"car": ["auto"] * 100_000}}}, "synonyms"),
        ({"analyzer": "standard", "analyzer_params": {"synonyms": {"car": ["a" * 100_000]}}}, "synonyms"),
        ({"analyzer": "english", "analyzer_params": {"stemmer": "porter", "extra": 1}}, "extra"),
        ({"query_analyzer": "ngram", "query_analyzer_params": {"max_size": 10**9}}, "max_size"),
    ],
)
def test_extreme_analyzer_parameters_are_refused_on_open(index_path: Path, spec: dict[str, Any], problem: str) -> None:
    manifest = rewrite_manifest(index_path, lambda body: body["schema"]["body"].update(spec))
    with pytest.raises(CorruptIndexError, match=manifest.name) as caught:
        Index.open(index_path)
    assert "'body'" in caught.value.problem and problem in caught.value.problem


def test_a_catastrophic_tokenizer_regex_from_the_index_fails_fast(tmp_path: Path) -> None:
    path = make_index(tmp_path / "idx", body=TEXT(analyzer="regex", analyzer_params={"pattern": "(a|a)+$"}))
    result = probe("search", path, "a" * 60 + "!", timeout=PROBE_TIMEOUT)  # 2**60 steps unbounded
    assert result["outcome"] == "AnalyzerError", result
    assert "(a|a)+$" in result["message"] and "backtracks" in result["message"]


def test_a_catastrophic_query_regex_runs_as_an_automaton_in_linear_time(tmp_path: Path) -> None:
    # (a|a)+ takes 2**60 steps to reject "a" * 60 + "b" by backtracking; as a DFA it
    # reads each term's bytes once, so it finds the term of a's and rejects the other.
    documents = [{"path": "a.txt", "body": "a" * 60 + "b"}, {"path": "b.txt", "body": "a" * 60}, *DOCUMENTS[1:]]
    path = make_index(tmp_path / "idx", documents=documents)
    result = probe("search", path, "body:/(a|a)+/", timeout=PROBE_TIMEOUT)
    assert result["outcome"] == "ok", result
    with Searcher(Index.open(path)) as searcher:
        results = searcher.search("body:/(a|a)+/ talks", strict=False)
        assert not results.warnings
        assert "b.txt" in [hit["path"] for hit in results]
        assert "a.txt" not in [hit["path"] for hit in searcher.search("body:/(a|a)+/")]


def searcher_total(path: Path, text: str) -> int:
    with Searcher(Index.open(path)) as searcher:
        return searcher.search(text).total


def test_a_huge_counted_repeat_in_a_query_regex_is_refused(index_path: Path) -> None:
    with pytest.raises(QueryError, match="counted repetitions"):
        Searcher(Index.open(index_path)).search("body:/a{4294967294}/")



@pytest.mark.parametrize("size", [5, 1000])
def test_block_sizes_that_do_not_match_the_blocks_are_damage(index_path: Path, size: int) -> None:
    lines = [b'{"path":"a.txt"}', b'{"path":"b.txt"}', b'{"path":"c.txt"}']
    store = rewrite_sections(
        index_path, segment_file(index_path, "store"), store_sections(lines, lz4_literals(b"\n".join(lines)), size)
    )
    with pytest.raises(CorruptIndexError, match=store.name) as caught:
        search_everything(index_path)
    assert "inflate" in caught.value.problem


def test_a_stored_block_with_too_few_lines_is_damage(index_path: Path) -> None:
    store = rewrite_sections(
        index_path, segment_file(index_path, "store"), store_sections([b'{"path":"a.txt"}', b"{}", b"{}"])
    )
    reader = Index.open(index_path).readers()[0]
    assert reader.stored_fields(1) == {}
    two_lines = store_sections([b"{}", b"{}"])

    def for_three_documents(sections: dict[str, bytes]) -> None:
        two_lines(sections)
        sections["\x00store.index"] = sections["\x00store.index"][:16] + struct.pack(
            "<QII", len(sections["\x00store.blocks"]), 3, 0
        )

    rewrite_sections(index_path, store.name, for_three_documents)
    with pytest.raises(CorruptIndexError, match=rf"{store.name}.*2 lines for 3 documents"):
        Index.open(index_path).readers()[0].stored_fields(1)


def test_writers_refuse_a_document_past_the_readers_block_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the cap lowered to 4 KiB, a larger stored document is refused when added
    (the core closes blocks early rather than pass its own cap: core/src/store.rs)."""
    from searchlib.errors import SchemaError

    monkeypatch.setattr(codec, "MAX_STORED_BLOCK_BYTES", 4096)
    with pytest.raises(SchemaError, match="stored fields"):
        make_index(tmp_path / "big", documents=[{"path": "big.txt", "body": "talks " * 1000}])
    documents = [{"path": f"{i}.txt", "body": f"talks {i} " + "x" * 1500} for i in range(10)]
    path = make_index(tmp_path / "idx", documents=documents)
    assert sorted(hit["path"] for hit in Searcher(Index.open(path)).search("talks", limit=20)) == sorted(
        d["path"] for d in documents
    )


def test_a_querys_regex_patterns_share_one_time_budget(index_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pattern's walk gets what the query's budget has left, not a budget of its
    own: eight patterns over two fields could otherwise take sixteen times as long."""
    from searchlib.query import patterns as patterns_module

    clocks: list[Any] = []
    walk = patterns_module.SegmentPicker.__call__

    def recording(self: Any, *args: Any) -> Any:  # the walk a searcher's patterns take
        clocks.append(self.clock)
        return walk(self, *args)

    monkeypatch.setattr(patterns_module.SegmentPicker, "__call__", recording)
    with Searcher(Index.open(index_path)) as searcher:
        searcher.search("/t.*/ /d.*/ /a.*s/", strict=False)
        assert len(clocks) >= 3 and len(set(map(id, clocks))) == 1
        first = clocks[0]
        assert 0 < first.left < patterns_module.PATTERN_MATCH_SECONDS  # each walk spent some
        clocks.clear()
        searcher.search("/t.*/ /d.*/", strict=False)  # a new search, a new budget
        assert len(set(map(id, clocks))) == 1 and clocks[0] is not first


def test_a_spent_pattern_budget_leaves_the_rest_out_leniently_and_fails_strictly(
    index_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from searchlib.query import patterns as patterns_module

    whole = Searcher(Index.open(index_path)).search("/t.*/ /d.*/ talks")
    monkeypatch.setattr(patterns_module, "PATTERN_MATCH_SECONDS", 0.0)
    # A walk reads its first QueryLimits.untimed_visits entries whatever time is left:
    # this index's dictionaries are smaller, so nothing is cut, however slow the machine.
    with Searcher(Index.open(index_path)) as searcher:
        results = searcher.search("/t.*/ /d.*/ talks")
        assert results.warnings == [] and [hit.id for hit in results] == [hit.id for hit in whole]
    # Without them, the clock alone decides, and it has no time left.
    with Searcher(Index.open(index_path), limits=QueryLimits(untimed_visits=0)) as searcher:
        results = searcher.search("/t.*/ /d.*/ talks", strict=False)
        assert results.total == searcher.search("talks").total
        assert sum("did not match the index's terms" in w for w in results.warnings) == 2, results.warnings
        with pytest.raises(QueryError, match="reads too many terms, or the query holds too many patterns"):
            searcher.search("/t.*/ talks")
