"""Creating an index is atomic: a process killed at any moment of ``Index.create`` (or
of ``searchlib index`` creating its index) leaves either no index, which can then be
created, or an empty index that opens.

The named moments are the failpoints of creation (``searchlib.failpoints``); random
moments are covered by a process that creates index after index until it is killed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import ID, TEXT, Index, Schema
from searchlib.errors import IndexNotFoundError, LockError, SearchlibError
from searchlib.failpoints import ENVIRONMENT_VARIABLE, POINTS
from searchlib.storage import Directory
from tests.conftest import searchlib_command
from tests.robustness.test_crash import lock_is_free

#: The failpoints a creation passes: its own, and those of writing its first manifest.
CREATE_POINTS = [name for name in POINTS if name.startswith(("create.", "write."))]
SCHEMA = Schema(id=ID(), body=TEXT())
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PYTHONIOENCODING": "utf-8"}


def state_after_kill(path: Path) -> str:
    """``"empty index"`` if ``path`` opens as an empty index, ``"no index"`` if it holds
    none; anything else fails the test."""
    try:
        index = Index.open(path)
    except IndexNotFoundError:
        return "no index"
    assert index.doc_count == 0 and index.generation == 1
    return "empty index"


@pytest.mark.parametrize("point", CREATE_POINTS)
def test_the_cli_killed_while_creating_leaves_a_path_it_can_index_into(tmp_path: Path, point: str) -> None:
    document = tmp_path / "note.txt"
    document.write_text("Envoys held direct talks on the ceasefire.")
    path = tmp_path / "deep" / "index"  # its parent is made too
    command = [*searchlib_command(), "index", str(document), "--index", str(path)]
    killed = subprocess.run(command, env={**ENV, ENVIRONMENT_VARIABLE: point}, capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # the failpoint was reached
    state = state_after_kill(path)
    assert state == ("empty index" if point in ("create.after_manifest", "write.before_sync") else "no index")
    again = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert Index.open(path).doc_count == 1
    found = subprocess.run(
        [*searchlib_command(), "query", "ceasefire", "--index", str(path)], env=ENV, capture_output=True, text=True,
        timeout=120,
    )
    assert found.returncode == 0 and "note.txt" in found.stdout, found.stderr
    assert not [name for name in os.listdir(path) if name.endswith(".tmp")]


@pytest.mark.parametrize("point", CREATE_POINTS)
def test_index_create_killed_at_each_point_can_be_created_again_or_opened(tmp_path: Path, point: str) -> None:
    path = tmp_path / "index"
    script = f"from searchlib import ID, TEXT, Index, Schema; Index.create({str(path)!r}, Schema(id=ID(), body=TEXT()))"
    killed = subprocess.run(
        [sys.executable, "-c", script], env={**ENV, ENVIRONMENT_VARIABLE: point}, capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if state_after_kill(path) == "no index":
        Index.create(path, SCHEMA)
    with Index.open(path).writer(lock_timeout=0) as writer:
        writer.add_document(id="a", body="talks")
    assert Index.open(path).doc_count == 1


@pytest.mark.parametrize(
    "leftovers",
    [["write.lock"], ["manifest-1.json.tmp"], ["write.lock", "manifest-1.json.tmp", ".gitkeep"], ["seg-00000000.terms.tmp"]],
)
def test_a_directory_holding_only_leftovers_of_searchlib_counts_as_empty(tmp_path: Path, leftovers: list[str]) -> None:
    path = tmp_path / "index"
    path.mkdir()
    for name in leftovers:
        (path / name).write_bytes(b"1234\n")
    with pytest.raises(IndexNotFoundError, match="interrupted creation"):
        Index.open(path)
    Index.create(path, SCHEMA)
    assert Index.open(path).doc_count == 0
    assert not [name for name in os.listdir(path) if name.endswith(".tmp")]
    assert (".gitkeep" in os.listdir(path)) == (".gitkeep" in leftovers)


def test_a_directory_with_leftovers_and_a_foreign_file_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "index"
    path.mkdir()
    (path / "write.lock").write_text("")
    (path / "notes.txt").write_text("mine")
    with pytest.raises(IndexNotFoundError, match="not empty"):
        Index.create(path, SCHEMA)
    assert sorted(os.listdir(path)) == ["notes.txt", "write.lock"]


def test_a_creation_in_progress_elsewhere_is_not_raced(tmp_path: Path) -> None:
    """While another process holds the lock of a directory without a manifest (creating
    an index there), creating is refused rather than cleaning under its feet."""
    path = tmp_path / "index"
    path.mkdir()
    with Directory(path).lock():
        with pytest.raises(LockError):
            Index.create(path, SCHEMA)
    Index.create(path, SCHEMA)
    with pytest.raises(SearchlibError, match="already holds"):
        Index.create(path, SCHEMA)


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """The paths this process fsyncs, in order (os.fsync still runs)."""
    paths: list[Path] = []
    real = os.fsync

    def fsync(handle: int) -> None:
        paths.append(Path(os.readlink(f"/proc/self/fd/{handle}")))
        real(handle)

    monkeypatch.setattr(os, "fsync", fsync)
    yield paths


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads descriptors' paths from /proc")
def test_creating_fsyncs_the_parent_of_every_directory_it_makes(tmp_path: Path, fsynced: list[Path]) -> None:
    path = tmp_path / "a" / "b" / "index"
    Index.create(path, SCHEMA)
    for made in (tmp_path / "a", tmp_path / "a" / "b", path):
        assert made.parent in fsynced, made
        assert fsynced.index(made.parent) < fsynced.index(path / "manifest-1.json.tmp")
    fsynced.clear()
    existing = tmp_path / "existing"
    existing.mkdir()
    Index.create(existing, SCHEMA)  # made by someone else, perhaps never fsynced
    assert tmp_path in fsynced


CREATOR = textwrap.dedent(
    """
    import sys
    from searchlib import ID, TEXT, Index, Schema
    schema = Schema(id=ID(), body=TEXT())
    print("ready", flush=True)
    for number in range(10_000):
        Index.create(f"{sys.argv[1]}/idx-{number}", schema)
    """
)


def test_creations_killed_at_random_moments_leave_no_index_or_an_empty_one(tmp_path: Path) -> None:
    rng = random.Random(17)
    killed_mid_creation = 0
    for trial in range(8):
        base = tmp_path / f"trial-{trial}"
        base.mkdir()
        process = subprocess.Popen(
            [sys.executable, "-c", CREATOR, str(base)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, err
        for path in sorted(base.iterdir()):
            assert lock_is_free(path)
            if state_after_kill(path) == "no index":
                killed_mid_creation += 1
                Index.create(path, SCHEMA)
            assert Index.open(path).doc_count == 0
    assert killed_mid_creation >= 1  # some kills did land inside a creation
