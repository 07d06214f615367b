"""Failpoints: named places in creating and committing where a test can make the process
kill itself with SIGKILL, as a crash or ``kill -9`` would at that instant.

The crash tests name points in the ``SEARCHLIB_FAILPOINTS`` environment variable, as a
comma-separated list of ``NAME`` (die at the first pass) or ``NAME=N`` (die at the N-th
pass). The variable is read once, at import; when it is unset a :func:`failpoint` call
costs one dict membership test, so the calls stay in the shipped code paths.

Every name used in the code is listed in :data:`POINTS` with the state a kill there
leaves (the tests kill at each of them and check that nothing is lost or stuck).
"""

from __future__ import annotations

import os

#: Every failpoint and what the index directory holds when a process dies there.
POINTS: dict[str, str] = {
    "create.after_mkdir": "the index directory exists, empty",
    "create.after_lock": "the directory holds write.lock only",
    "create.after_manifest": "the first manifest is written, the lock still held",
    "write.temp_open": "a file's temporary copy is created, empty",
    "write.before_rename": "a file's temporary copy is written and fsynced, not renamed",
    "write.before_sync": "a file is renamed into place, the directory not yet fsynced",
    "segment.written": "a new (flushed or merged) segment's files are written under temporary names (.tmp), not renamed",
    "parallel.wait": "worker processes are building segments of add_documents(workers=N)",
    "commit.before_merge": "a commit's new segments are written, the merges not begun",
    "commit.after_merge": "a merged segment is written, not yet published",
    "commit.before_manifest": "a commit's segments and deletions are written, not its manifest",
    "commit.after_manifest": "the new manifest is published, older files not yet removed",
}

ENVIRONMENT_VARIABLE = "SEARCHLIB_FAILPOINTS"


def _parse(value: str) -> dict[str, int]:
    """``"a,b=3"`` -> ``{"a": 1, "b": 3}``: how many passes each point allows, plus one."""
    active: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, count = item.partition("=")
        if name not in POINTS:
            raise ValueError(f"{ENVIRONMENT_VARIABLE} names an unknown failpoint {name!r}; known: {', '.join(POINTS)}")
        active[name] = int(count) if count else 1
    return active


_ACTIVE: dict[str, int] = _parse(os.environ.get(ENVIRONMENT_VARIABLE, ""))


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL here if ``name`` is active and its count is reached."""
    if name in _ACTIVE:
        _ACTIVE[name] -= 1
        if _ACTIVE[name] <= 0:
            import signal  # only a dying test process needs it

            os.kill(os.getpid(), signal.SIGKILL)


def disarm() -> None:
    """Make every failpoint inactive in this process: a writer's worker processes call
    it, so a point named for the writer kills the writer and not a helper of it."""
    _ACTIVE.clear()
