"""searchlib is a typed package: ``mypy --strict`` accepts the package itself, and a
user's script (the README's examples, ``readme_usage.py``) type-checks against the
installed package, which needs its ``py.typed`` marker (without it every searchlib name
is ``Any`` and strict mode refuses the script)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for both runs, so the second reads searchlib's analysis from it."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(args: list[str], cwd: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache_dir), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_package_is_clean_under_mypy_strict(cache_dir: Path) -> None:
    result = mypy(["-p", "searchlib"], REPO_ROOT, cache_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_users_script_of_the_readme_examples_type_checks(tmp_path: Path, cache_dir: Path) -> None:
    # Run from elsewhere, so that searchlib is found as installed, not as sources beside the script.
    shutil.copy(HERE / "readme_usage.py", tmp_path / "readme_usage.py")
    result = mypy(["readme_usage.py"], tmp_path, cache_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (REPO_ROOT / "searchlib" / "py.typed").is_file()


def test_the_users_script_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "tests.typecheck.readme_usage"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1" and '<em class="hl">direct</em> <em class="hl">talks</em>' in lines[1]
