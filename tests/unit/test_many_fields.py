"""Any number of fields works within the process's file-descriptor limit.

A flush or a merge spills every field's postings; the spills share a few files, so the
descriptors (and memory mappings) a writer holds do not grow with the fields. A real
subprocess with its limit lowered to 256 descriptors indexes documents with 2,000
distinct fields, in several segments, merges them, indexes more in worker processes,
searches and checks the index.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO_ROOT

FIELDS = 2_000
DESCRIPTORS = 256

SCRIPT = textwrap.dedent(
    """
    import json, random, resource, sys
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, ({descriptors}, hard))

    from searchlib import ID, TEXT, Index, Schema, Searcher
    from searchlib.check import check_index

    fields = [f"f{{number}}" for number in range({fields})]
    rng = random.Random(5)

    def document(number):
        chosen = rng.sample(fields, 120)
        values = {{name: f"w{{rng.randrange(40)}} n{{number}} {{name}}x" for name in chosen}}
        return {{"id": f"d{{number}}", **values}}

    index = Index.create(sys.argv[1], Schema(id=ID()))
    with index.writer() as writer:
        for name in fields:
            writer.add_field(name, TEXT("standard"))
    documents = []
    for batch in range(4):  # four segments, each with nearly every field
        with index.writer(merge_factor=100) as writer:
            for number in range(batch * 40, batch * 40 + 40):
                documents.append(document(number))
                writer.add_document(documents[-1])
    segments = len(Index.open(sys.argv[1]).segments)
    with index.writer() as writer:
        writer.optimize()  # one merge of the four
    merged = len(Index.open(sys.argv[1]).segments)
    with index.writer(merge_factor=100) as writer:
        extra = [document(number) for number in range(160, 260)]
        writer.add_documents(extra, workers=2, batch_size=50)
    documents += extra
    # Every field's own word finds exactly the documents that have the field.
    found = {{}}
    with Searcher(index.reopen()) as searcher:
        for name in fields[::97]:
            hits = searcher.search(f"{{name}}:{{name}}x", limit=1000)
            found[name] = sorted(hit.id for hit in hits)
    expected = {{name: sorted(d["id"] for d in documents if name in d) for name in found}}
    report = check_index(sys.argv[1])
    print(json.dumps({{
        "segments": segments, "merged": merged, "ok": report.ok, "problems": report.problems[:3],
        "found": found == expected, "hits": sum(len(ids) for ids in found.values()),
    }}))
    """
)


def test_thousands_of_fields_index_merge_and_search_under_a_low_descriptor_limit(tmp_path: Path) -> None:
    script = SCRIPT.format(fields=FIELDS, descriptors=DESCRIPTORS)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "idx")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["segments"] == 4 and result["merged"] == 1
    assert result["ok"], result["problems"]
    assert result["found"] and result["hits"] > 50
