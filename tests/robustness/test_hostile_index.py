"""An index from an untrusted source: never reads outside its directory, never runs
code, never allocates unbounded memory, never hangs.

Each hostile index is a small real index rewritten on disk with valid checksums (see
``hostile.py``), so only the reader's own limits stand in the way. Cases that could
hang or exhaust memory run in a subprocess (``hostile.probe``) with a timeout, and
report the process's peak RSS: a regression fails the test instead of the suite.
Memory bound asserted: the probe's peak RSS (VmHWM) grows by less than ``MEMORY_BOUND_MIB``
over its own baseline: the stored-block cap is 64 MiB, and inflating up to it takes about
twice that while zlib's output is joined (132 MiB observed), where the bombs inflate to
1 GiB without the cap.
"""

from __future__ import annotations

import json
import os
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from searchlib import TEXT, Index, Searcher, codec
from searchlib.check import check_index
from searchlib.errors import CorruptIndexError, QueryError
from tests.robustness.hostile import (
    DOCUMENTS,
    make_index,
    nested_json,
    newest_manifest,
    plant_bomb,
    probe,
    replace_with_raw,
    rewrite_component,
    rewrite_manifest,
    segment,
)

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
def test_a_compression_bomb_in_an_old_store_file_is_stopped_at_the_cap(index_path: Path, action: str) -> None:
    store = plant_bomb(index_path, 1024)  # 1 GiB of zeros in about 1 MB; no block_sizes
    assert store.stat().st_size < 2 << 20
    result = probe(action, index_path, timeout=PROBE_TIMEOUT)
    expected = "CorruptIndexError" if action == "search" else "damage reported"
    assert result["outcome"] == expected, result
    assert store.name in result["message"] and "inflates past" in result["message"]
    assert_bounded(result)


def test_a_block_that_inflates_past_its_recorded_size_is_damage(index_path: Path) -> None:
    store = plant_bomb(index_path, 1024, record_size=100)
    result = probe("search", index_path, timeout=PROBE_TIMEOUT)
    assert result["outcome"] == "CorruptIndexError", result
    assert store.name in result["message"] and "inflates past 100 bytes" in result["message"]
    assert_bounded(result)


def test_a_recorded_block_size_past_the_cap_is_damage(index_path: Path) -> None:
    plant_bomb(index_path, 4, record_size=(1 << 32) - 1)
    with pytest.raises(CorruptIndexError, match="bad recorded size"):
        search_everything(index_path)


def test_new_store_files_record_their_block_sizes(index_path: Path) -> None:
    index = Index.open(index_path)
    store = index.readers()[0].component("store")
    blocks, offsets = store["blocks"], store["block_offsets"]
    inflated = [len(zlib.decompress(blocks[offsets[i] : offsets[i + 1]].tobytes())) for i in range(len(offsets) - 1)]
    assert store["block_sizes"].tolist() == inflated
    assert sorted(hit["body"] for hit in search_everything(index_path)) == sorted(
        d["body"] for d in DOCUMENTS if "talks" in d["body"]
    )


def test_a_store_file_without_block_sizes_still_reads(index_path: Path) -> None:
    rewrite_component(index_path, "store", lambda arrays, meta: arrays.pop("block_sizes"))
    assert len(search_everything(index_path)) == 2
    assert check_index(index_path).ok


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


@pytest.mark.parametrize(
    "dtype", ["|V0", "|S0", "<U0", "|O", ">u4", "<f2", [["a", "<u4"]], "u4,u4", 7, None]
)
def test_arrays_of_other_dtypes_are_refused(index_path: Path, dtype: Any) -> None:
    """A zero-size dtype would let 4e9 elements fit in no bytes; object and structured
    dtypes are not the format's."""
    table = {"meta": {}, "arrays": {"id_offsets": {"dtype": dtype, "shape": [4_000_000_001], "offset": 16}}}
    store = replace_with_raw(index_path, "store", json.dumps(table).encode())
    with pytest.raises(CorruptIndexError, match=store.name) as caught:
        search_everything(index_path)
    assert "dtype" in caught.value.problem


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "<u8", "shape": [1 << 62], "offset": 16},
        {"dtype": "<u8", "shape": [1 << 31, 1 << 31], "offset": 16},
        {"dtype": "<u8", "shape": [1], "offset": -16},
        {"dtype": "<u8", "shape": [-1], "offset": 16},
        {"dtype": "<u8", "shape": [1.5], "offset": 16},
        {"dtype": "<u8", "shape": [1], "offset": 1e30},
        {"dtype": "<u8", "shape": [1, 1, 1], "offset": 16},
    ],
)
def test_arrays_outside_the_file_are_refused(index_path: Path, entry: dict[str, Any]) -> None:
    table = {"meta": {}, "arrays": {"id_offsets": entry}}
    store = replace_with_raw(index_path, "store", json.dumps(table).encode(), body=bytes(16))
    with pytest.raises(CorruptIndexError, match=store.name):
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


def test_a_deeply_nested_table_is_damage(index_path: Path) -> None:
    terms = replace_with_raw(index_path, "terms", nested_json(100_000))
    with pytest.raises(CorruptIndexError, match=terms.name) as caught:
        search_everything(index_path)
    assert "nests JSON" in caught.value.problem


def test_a_deeply_nested_stored_document_is_damage(index_path: Path) -> None:
    lines = [nested_json(100_000), b'{"path":"b.txt"}', b'{"path":"c.txt"}']
    block = b"\n".join(lines)

    def change(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        compressed = np.frombuffer(zlib.compress(block), dtype=np.uint8)
        arrays["blocks"] = compressed
        arrays["block_offsets"] = np.array([0, len(compressed)], dtype="<u8")
        arrays["block_first_doc"] = np.array([0, 3], dtype="<u4")
        arrays["block_sizes"] = np.array([len(block)], dtype="<u4")

    store = rewrite_component(index_path, "store", change)
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


def test_a_catastrophic_query_regex_fails_fast(tmp_path: Path) -> None:
    documents = [{"path": "a.txt", "body": "a" * 60 + "b"}, *DOCUMENTS[1:]]
    path = make_index(tmp_path / "idx", documents=documents)
    result = probe("search", path, "body:/(a|a)+/", timeout=PROBE_TIMEOUT)
    assert result["outcome"] == "PatternTimeout" and result["searchlib_error"], result  # a QueryError
    assert "backtracks" in result["message"]


def test_a_catastrophic_query_regex_is_left_out_of_a_lenient_search_with_a_warning(tmp_path: Path) -> None:
    documents = [{"path": "a.txt", "body": "a" * 60 + "b"}, *DOCUMENTS[1:]]
    path = make_index(tmp_path / "idx", documents=documents)
    with Searcher(Index.open(path)) as searcher:
        results = searcher.search("body:/(a|a)+/ talks", strict=False)
    assert any("/(a|a)+/" in warning and "backtracks" in warning for warning in results.warnings), results.warnings
    assert results.total == searcher_total(path, "talks")


def searcher_total(path: Path, text: str) -> int:
    with Searcher(Index.open(path)) as searcher:
        return searcher.search(text).total


def test_a_huge_counted_repeat_in_a_query_regex_is_refused(index_path: Path) -> None:
    with pytest.raises(QueryError, match="counted repetitions"):
        Searcher(Index.open(index_path)).search("body:/a{4294967294}/")



def test_block_sizes_that_do_not_match_the_blocks_are_damage(index_path: Path) -> None:
    store = rewrite_component(
        index_path, "store", lambda arrays, meta: arrays.__setitem__("block_sizes", np.array([5, 5], dtype="<u4"))
    )
    with pytest.raises(CorruptIndexError, match=store.name) as caught:
        search_everything(index_path)
    assert "bad recorded size" in caught.value.problem


def test_writers_keep_every_block_within_the_readers_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the cap lowered to 4 KiB: a larger stored document is refused when added,
    and blocks close early rather than pass the cap, so every block reads back."""
    from searchlib.errors import SchemaError

    monkeypatch.setattr(codec, "MAX_STORED_BLOCK_BYTES", 4096)
    with pytest.raises(SchemaError, match="stored fields"):
        make_index(tmp_path / "big", documents=[{"path": "big.txt", "body": "talks " * 1000}])
    documents = [{"path": f"{i}.txt", "body": f"talks {i} " + "x" * 1500} for i in range(10)]
    path = make_index(tmp_path / "idx", documents=documents)
    store = Index.open(path).readers()[0].component("store")
    assert len(store["block_sizes"]) > 1 and int(store["block_sizes"].max()) <= 4096
    assert sorted(hit["path"] for hit in Searcher(Index.open(path)).search("talks", limit=20)) == sorted(
        d["path"] for d in documents
    )


def test_a_querys_regex_patterns_share_one_time_budget(index_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each regex scan gets what the query's budget has left, not a budget of its own:
    eight patterns over two fields could otherwise take sixteen times as long."""
    from searchlib import query as query_module

    deadlines: list[float | None] = []
    one_pass = query_module.DecodedTerms.regex_fullmatches

    def recording(self: Any, *args: Any) -> list[int] | None:  # the scan a searcher's regexes take
        deadlines.append(query_module._SCAN_DEADLINE.get())
        return one_pass(self, *args)

    monkeypatch.setattr(query_module.DecodedTerms, "regex_fullmatches", recording)
    with Searcher(Index.open(index_path)) as searcher:
        searcher.search("/t.*/ /d.*/ /a.*s/", strict=False)
        assert len(deadlines) >= 3 and deadlines[0] is not None and len(set(deadlines)) == 1
        deadlines.clear()
        searcher.search("/t.*/ /d.*/", strict=False)  # a new search, a new budget
        assert len(set(deadlines)) == 1 and deadlines[0] is not None


def test_a_spent_pattern_budget_leaves_the_rest_out_leniently_and_fails_strictly(
    index_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from searchlib import query as query_module

    monkeypatch.setattr(query_module, "PATTERN_MATCH_SECONDS", 0.0)
    with Searcher(Index.open(index_path)) as searcher:
        results = searcher.search("/t.*/ /d.*/ talks", strict=False)
        assert results.total == searcher.search("talks").total
        assert sum("did not match the index's terms" in w for w in results.warnings) == 2, results.warnings
        with pytest.raises(QueryError, match="backtracks too much, or the query holds too many"):
            searcher.search("/t.*/ talks")
