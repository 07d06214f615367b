"""searchlib eval: relevance on real test collections, and clear errors for bad ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from searchlib.evaluation import DatasetError, load_dataset
from tests.conftest import SHARED

CRANFIELD = SHARED / "datasets" / "cranfield"
#: Measured nDCG@10 on Cranfield with the defaults (BM25F over title and text, k1=1.2,
#: b=0.75, Porter2 stems) is 0.3751; a ranking regression that costs more than half a
#: point fails the build. The floor is also issue 3's target: the best peer's 0.369.
CRANFIELD_NDCG_FLOOR = 0.370


def test_cranfield_ndcg_stays_above_the_floor(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_file = tmp_path / "cranfield.run"
    result = run_cli(["eval", str(CRANFIELD), "--json", "--run", str(run_file)], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents"] == 1400 and report["queries"] == 225
    assert report["metrics"]["nDCG@10"] >= CRANFIELD_NDCG_FLOOR
    assert 0 < report["metrics"]["R@100"] <= 1 and 0 < report["metrics"]["RR@10"] <= 1
    lines = run_file.read_text().splitlines()
    first = lines[0].split()
    assert first[1] == "Q0" and first[3] == "1" and first[5] == "searchlib"
    assert len({line.split()[0] for line in lines}) == 225


def make_dataset(root: Path, corpus: str, queries: str, qrels: str) -> Path:
    root.mkdir()
    (root / "corpus.jsonl").write_text(corpus)
    (root / "queries.jsonl").write_text(queries)
    (root / "qrels.tsv").write_text(qrels)
    return root


GOOD_CORPUS = '{"_id": "d1", "title": "Wings", "text": "flutter"}\n{"_id": "d2", "title": "Heat", "text": "slabs"}\n'
GOOD_QUERIES = '{"_id": "q1", "text": "flutter"}\n'
HEADER = "query-id\tcorpus-id\tscore\n"


def test_a_small_dataset_loads(tmp_path: Path) -> None:
    dataset = load_dataset(make_dataset(tmp_path / "ok", GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\td1\t1\n"))
    assert [d["id"] for d in dataset.corpus] == ["d1", "d2"] and dataset.qrels == {"q1": {"d1": 1}}


@pytest.mark.parametrize(
    "corpus,queries,qrels,message",
    [
        (GOOD_CORPUS + "{oops\n", GOOD_QUERIES, HEADER, r"corpus.jsonl:3: not valid JSON"),
        (GOOD_CORPUS, '{"text": "no id"}\n', HEADER, r"queries.jsonl:1: no \"_id\""),
        (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1\td9\t1\n", r"qrels.tsv:2: document 'd9' is not in corpus.jsonl"),
        (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q7\td1\t1\n", r"qrels.tsv:2: query 'q7' is not in queries.jsonl"),
        (GOOD_CORPUS, GOOD_QUERIES, HEADER + "q1 d1 1\n", r"qrels.tsv:2: expected 3 tab-separated columns"),
        (GOOD_CORPUS + GOOD_CORPUS, GOOD_QUERIES, HEADER, r"corpus.jsonl:3: document id 'd1' appears twice"),
    ],
)
def test_bad_datasets_name_the_file_and_line(tmp_path: Path, corpus: str, queries: str, qrels: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(make_dataset(tmp_path / "bad", corpus, queries, qrels))


def test_cli_names_a_missing_file_with_exit_2(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    dataset = tmp_path / "partial"
    dataset.mkdir()
    shutil.copy(CRANFIELD / "corpus.jsonl", dataset)
    result = run_cli(["eval", str(dataset)], cwd=tmp_path)
    assert result.returncode == 2
    assert "queries.jsonl: missing" in result.stderr and "Traceback" not in result.stderr
