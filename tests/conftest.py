"""Shared fixtures: real index directories on disk, and the real CLI entry point."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from searchlib import ID, TEXT, Index, Schema

# Property tests are deterministic (same examples every run) and untimed: the first
# example may pay for importing NLTK.
settings.register_profile("searchlib", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("searchlib")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


def searchlib_command() -> list[str]:
    """The installed ``searchlib`` console script next to this Python."""
    script = Path(sys.executable).parent / "searchlib"
    if script.exists():
        return [str(script)]
    found = shutil.which("searchlib")
    if found is None:
        pytest.fail("the searchlib console script is not installed; run: pip install .")
    return [found]


def run_on_terminal(args: list[str], cwd: Path, *, stream: str = "stderr") -> tuple[int, str]:
    """Run the real CLI with ``stream`` ("stdout" or "stderr") on a pseudo-terminal, the
    other piped: its exit status and what it showed on the terminal."""
    leader, follower = pty.openpty()
    try:
        targets = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: follower}
        process = subprocess.run(searchlib_command() + args, cwd=cwd, timeout=120, **targets)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real CLI in a subprocess: run_cli(args, cwd=...)."""

    def run(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        return subprocess.run(
            searchlib_command() + args,
            cwd=cwd,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            **kwargs,  # type: ignore[arg-type]
        )

    return run


@pytest.fixture
def news_schema() -> Schema:
    return Schema(path=ID(), title=TEXT(), body=TEXT())


@pytest.fixture
def news_index(tmp_path: Path, news_schema: Schema) -> Index:
    """A small index of three documents, committed in two segments."""
    index = Index.create(tmp_path / "idx", news_schema)
    with index.writer() as writer:
        writer.add_document(path="a", title="Ceasefire", body="Envoys held direct talks with Hamas.")
        writer.add_document(path="b", title="Weather", body="Rain is expected on Monday.")
    with index.writer() as writer:
        writer.add_document(path="c", title="Talks stall", body="Talking stopped; no direct contact.")
    return index.reopen()
