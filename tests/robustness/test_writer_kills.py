"""A writer killed with SIGKILL at named moments (failpoints) leaves no process behind,
no lock held, and an index that opens with exactly its last commit.

Each case runs a real writer process that adds documents with worker processes and
commits with merges, killed at one point: while its workers build segments, in a merge,
and in the steps of a commit. Right after it is dead a new writer must get the lock
with timeout 0, and no process of its process group may be left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from searchlib import Index
from searchlib.check import check_index
from searchlib.parallel import SCRATCH_PREFIX
from searchlib.storage import Directory
from tests.robustness.crash_writer import SCHEMA
from tests.robustness.test_crash import finish, group_members, live_ids, lock_is_free, start_writer

OLD = [f"old-{i}" for i in range(30)]
NEW = [f"new-{i}" for i in range(200)]

#: The writer: one session adding NEW with two workers, deleting old-0, committing with
#: merge factor 2 (so the commit merges). ``USE_PDEATHSIG`` may be switched off.
WRITER = textwrap.dedent(
    """
    import sys
    import searchlib.parallel
    from searchlib import Index
    path, pdeathsig = sys.argv[1], sys.argv[2] == "1"
    searchlib.parallel.USE_PDEATHSIG = pdeathsig
    documents = [
        {"id": f"new-{i}", "batch": "new", "body": f"talks ceasefire envoy number{i} " * 20}
        for i in range(200)
    ]
    with Index.open(path).writer(merge_factor=2) as writer:
        writer.add_documents(documents, workers=2, batch_size=10)
        writer.delete_by_term("id", "old-0")
    print("committed 0", flush=True)
    """
)


def make_index(path: Path) -> None:
    """An index of OLD in three committed segments (so a merge has work)."""
    index = Index.create(path, SCHEMA)
    for start in range(0, len(OLD), 10):
        with index.writer() as writer:
            for doc_id in OLD[start:start + 10]:
                writer.add_document(id=doc_id, batch="old", body="direct talks " * 10)


def kill_at(path: Path, point: str, *, pdeathsig: bool = True) -> tuple[bool, list[int]]:
    """Run the writer until the failpoint ``point`` kills it; return whether the lock
    was free at once and which of its processes survived."""
    writer = start_writer(["-c", WRITER, str(path), "1" if pdeathsig else "0"], env={"SEARCHLIB_FAILPOINTS": point})
    kill = finish(writer, path)
    assert kill.committed == -1, "the failpoint was never reached"
    return kill.lock_free, kill.survivors


@pytest.mark.parametrize(
    "point",
    [
        "parallel.wait",  # workers are building segments (four batches in flight)
        "parallel.wait=5",  # later, with segments already moved into the index
        "segment.written",  # in the commit's first merge, its files written, not renamed
        "commit.after_merge",  # a merged segment written, not published
        "commit.before_manifest",
        "commit.after_manifest",  # published, older files not yet removed
    ],
)
def test_a_killed_parallel_writer_leaves_no_process_no_lock_and_its_last_commit(tmp_path: Path, point: str) -> None:
    path = tmp_path / "index"
    make_index(path)
    lock_free, survivors = kill_at(path, point)
    left = os.listdir(path)
    if point.startswith("parallel."):  # the workers' scratch space was in use
        assert [name for name in left if name.startswith(SCRATCH_PREFIX)]
    if point == "segment.written":  # killed inside the merge (this writer buffers nothing itself)
        assert [name for name in left if name.endswith(".tmp")]
    assert lock_free, "a new writer had to wait for the lock"
    assert survivors == [], f"processes of the killed writer survive: {survivors}"
    assert check_index(path).ok
    published = point == "commit.after_manifest"
    assert live_ids(path) == sorted(OLD[1:] + NEW if published else OLD)
    with Index.open(path).writer(lock_timeout=0) as writer:  # cleans up what the dead one left
        writer.add_document(id="after", batch="after", body="talks")
    names = os.listdir(path)
    assert not [name for name in names if name.endswith(".tmp")], names
    index = Index.open(path)
    named = {name for meta in index.segments for name in [*meta.files, meta.deletes] if name}
    previous = Index(Directory(path), *_manifest(path, index.generation - 1))
    named |= {name for meta in previous.segments for name in [*meta.files, meta.deletes] if name}
    assert {name for name in names if name.startswith("seg-")} == named  # nothing unreferenced
    assert live_ids(path) == sorted(OLD[1:] + NEW + ["after"] if published else OLD + ["after"])


def _manifest(path: Path, generation: int) -> tuple[dict[str, object], str]:
    name = path / f"manifest-{generation}.json"
    return json.loads(name.read_text()), str(name)


def test_workers_without_pdeathsig_die_with_the_writer_too(tmp_path: Path) -> None:
    """The fallback for systems without PR_SET_PDEATHSIG: workers watch their parent."""
    path = tmp_path / "index"
    make_index(path)
    lock_free, survivors = kill_at(path, "parallel.wait", pdeathsig=False)
    assert lock_free
    assert survivors == []
    assert live_ids(path) == sorted(OLD)


FORKER = textwrap.dedent(
    """
    import os, signal, sys
    from searchlib.storage import Directory
    lock = Directory(sys.argv[1]).lock()
    read, write = os.pipe()
    started_read, started_write = os.pipe()
    if os.fork() == 0:  # a child that lives on, as a stray helper process would
        null = os.open(os.devnull, os.O_RDWR)
        for stream in (0, 1, 2):  # so the test's pipes see the end of the writer's output
            os.dup2(null, stream)
        os.write(started_write, b"!")  # fork has returned here: its at-fork handlers ran
        os.read(read, 1)  # blocks until the test kills it (this process keeps `write` open)
        os._exit(0)
    os.read(started_read, 1)  # the writer dies once its child runs, not at the fork instant
    print("forked", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_forked_child_never_holds_the_lock(tmp_path: Path) -> None:
    """flock belongs to the open file description, which fork shares: the child must
    close its copy, or it keeps the index locked after the writer dies."""
    path = tmp_path / "index"
    path.mkdir()
    writer = start_writer(["-c", FORKER, str(path)])
    writer.process.wait(timeout=60)
    try:
        assert lock_is_free(path)
        assert writer.read_rest().strip() == "forked", writer.error_text()
    finally:
        group = group_members(writer.process.pid)
        for pid in group:
            os.kill(pid, signal.SIGKILL)
    assert group, "the child should still be running (it has no reason to die)"


def test_a_forked_copy_of_a_writer_refuses_to_write(tmp_path: Path) -> None:
    path = tmp_path / "index"
    make_index(path)
    writer = Index.open(path).writer()
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            try:
                writer.add_document(id="child", batch="child", body="talks")
            except Exception as exc:  # noqa: BLE001
                os._exit(0 if "closed" in str(exc) else 2)
            os._exit(1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        writer.add_document(id="parent", batch="parent", body="talks")
    finally:
        writer.close()
    assert "parent" in live_ids(path) and "child" not in live_ids(path)


def test_the_lock_names_its_holder_only_when_the_file_holds_a_pid(tmp_path: Path) -> None:
    path = tmp_path / "index"
    make_index(path)
    with Index.open(path).writer():
        (path / "write.lock").write_text("evil\nmessage")
        process = subprocess.run(
            [sys.executable, "-c", f"from searchlib import Index; Index.open({str(path)!r}).writer()"],
            capture_output=True, text=True, timeout=60,
        )
    assert "locked by another process" in process.stderr and "evil" not in process.stderr
