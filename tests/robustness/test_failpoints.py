"""The failpoint hook: every point named in the code is registered (and so tested by
the kill tests, which iterate over the registry), and a bad setting is refused."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import searchlib
from searchlib.failpoints import ENVIRONMENT_VARIABLE, POINTS

SOURCE = Path(searchlib.__file__).parent


def test_every_failpoint_in_the_code_is_registered_and_every_registered_one_is_in_the_code() -> None:
    used = set()
    for module in SOURCE.rglob("*.py"):
        used.update(re.findall(r"failpoint\(\"([a-z_.]+)\"\)", module.read_text(encoding="utf-8")))
    assert used == set(POINTS)


def _run(setting: str, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, ENVIRONMENT_VARIABLE: setting}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_a_point_kills_at_the_pass_its_count_names() -> None:
    code = (
        "from searchlib.failpoints import failpoint\n"
        "for n in range(5):\n"
        "    print(n, flush=True)\n"
        "    failpoint('commit.before_merge')\n"
    )
    result = _run("commit.before_merge=3", code)
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.split() == ["0", "1", "2"]
    assert _run("", code).returncode == 0


def test_an_unknown_point_is_refused_by_name() -> None:
    result = _run("commit.befor_merge", "import searchlib.failpoints")
    assert result.returncode == 1 and "unknown failpoint 'commit.befor_merge'" in result.stderr
