"""Hostile indexes, built by hand on disk, and a probe that opens one in a subprocess.

The test suite (``test_hostile_index.py``) and the stress script
(``tests/stress/hostile_index.py``) share these: each case starts from a small real
index and rewrites its manifest or one of its files the way an attacker would, keeping
checksums valid so that only the reader's own limits stand in the way.

``python -m tests.robustness.hostile ACTION INDEX [QUERY]`` opens ``INDEX`` and runs
``ACTION`` (``open``, ``search``, ``check``), printing one JSON line: the outcome
(``ok`` or the exception's class), its message, the peak RSS in MiB and the seconds
taken. A probe runs in its own process so that a hang is a timeout and memory is
measured on its own.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any


REPO_ROOT = Path(__file__).resolve().parents[2]
#: The address space a probe process may take (a MemoryError past it).
PROBE_ADDRESS_SPACE = 8 << 30

DOCUMENTS = [
    {"path": "a.txt", "body": "direct talks between the parties"},
    {"path": "b.txt", "body": "ceasefire talks resume"},
    {"path": "c.txt", "body": "secret victim text"},
]


def make_index(path: Path, *, body: Any = None, documents: list[dict[str, str]] | None = None) -> Path:
    """A small real index of one segment at ``path`` (``body`` is the body field's definition)."""
    from searchlib import ID, TEXT, Index, Schema

    index = Index.create(path, Schema(path=ID(), body=body or TEXT()))
    with index.writer() as writer:
        for document in documents or DOCUMENTS:
            writer.add_document(**document)
    return path


def newest_manifest(path: Path) -> Path:
    from searchlib import codec

    names = [n for n in os.listdir(path) if codec.manifest_generation(n) is not None]
    return path / max(names, key=lambda n: codec.manifest_generation(n) or 0)


def read_manifest_body(path: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(newest_manifest(path).read_text())
    for key in ("crc32", "format", "format_version"):
        body.pop(key)
    return body


def rewrite_manifest(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """Apply ``change`` to the newest manifest's body and write it back with a valid checksum."""
    from searchlib import codec

    manifest = newest_manifest(path)
    body = read_manifest_body(path)
    change(body)
    manifest.write_bytes(codec.encode_manifest(body))
    return manifest


def segment(path: Path) -> dict[str, Any]:
    """The first segment entry of the newest manifest."""
    entry: dict[str, Any] = read_manifest_body(path)["segments"][0]
    return entry


def write_file(target: Path, data: bytes) -> int:
    target.unlink(missing_ok=True)
    target.write_bytes(data)
    return len(data)


def segment_file(path: Path, extension: str) -> str:
    """The name of the first segment's file with ``extension``."""
    return f"{segment(path)['name']}.{extension}"


def plant_bomb(path: Path, mebibytes: int, *, record_size: int | None = None) -> Path:
    """Make the store's only block an LZ4 bomb of ``mebibytes`` MiB (about 4 KiB per
    MiB), recorded as inflating to ``record_size`` bytes (default: its true size)."""
    from tests.robustness.segment_files import lz4_run, rewrite_sections

    size = mebibytes << 20
    bomb = lz4_run(size)
    doc_count = segment(path)["doc_count"]
    recorded = size if record_size is None else record_size

    def change(sections: dict[str, bytes]) -> None:
        sections["\x00store.blocks"] = bomb
        sections["\x00store.index"] = struct.pack("<QII", 0, 0, min(recorded, (1 << 32) - 1)) + struct.pack(
            "<QII", len(bomb), doc_count, 0
        )

    return rewrite_sections(path, segment_file(path, "store"), change)


def nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def probe(action: str, path: Path, query: str = "talks", *, timeout: float = 120) -> dict[str, Any]:
    """Run ``action`` on the index at ``path`` in a fresh Python process; a process that
    does not finish in ``timeout`` seconds is killed and reported as ``hung``."""
    command = [sys.executable, "-m", "tests.robustness.hostile", action, str(path), query]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"outcome": "hung", "message": f"no answer in {timeout} s", "peak_rss_mib": None,
                "seconds": time.monotonic() - started}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"outcome": "crashed", "message": done.stderr[-2000:], "peak_rss_mib": None,
                "seconds": time.monotonic() - started}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _run(action: str, path: str, query: str) -> dict[str, Any]:
    """Inside the probe process: do ``action`` and describe what happened."""
    # A regression must fail here, not take the machine's memory: cap the address space.
    resource.setrlimit(resource.RLIMIT_AS, (PROBE_ADDRESS_SPACE, PROBE_ADDRESS_SPACE))
    from searchlib import Index, Searcher
    from searchlib.check import check_index

    baseline = _peak_rss_mib()
    started = time.monotonic()
    try:
        if action == "open":
            Index.open_snapshot(path)
            outcome, message = "ok", ""
        elif action == "search":
            results = Searcher(Index.open(path)).search(query)
            outcome, message = "ok", json.dumps([hit.fields for hit in results])
        elif action == "check":
            report = check_index(path)
            outcome = "ok" if report.ok else "damage reported"
            message = "; ".join(f"{p.path}: {p.problem}" for p in report.problems)
        else:
            raise SystemExit(f"unknown action {action!r}")
    except Exception as exc:  # noqa: BLE001 - the probe reports whatever happened
        outcome, message = type(exc).__name__, str(exc)
    from searchlib.errors import SearchlibError

    return {
        "outcome": outcome,
        "searchlib_error": outcome not in ("ok", "damage reported")
        and any(cls.__name__ == outcome for cls in _subclasses(SearchlibError)),
        "message": message[:2000],
        "baseline_rss_mib": round(baseline, 1),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "seconds": round(time.monotonic() - started, 3),
    }


def _peak_rss_mib() -> float:
    """This process's peak resident set in MiB: ``VmHWM``, which starts afresh at exec
    (``ru_maxrss`` of a child starts at its parent's size at the fork, which would hide
    a child's growth below it)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _subclasses(cls: type) -> list[type]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


if __name__ == "__main__":
    print(json.dumps(_run(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "talks")))
