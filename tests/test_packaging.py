"""The package as pip installs it: an SPDX license expression with its LICENSE file in the
installed metadata, the type marker beside the sources, and a build backend bounded so
that a future major release of it cannot break ``pip install .``."""

from __future__ import annotations

import importlib.metadata
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import REPO_ROOT


def test_the_installed_metadata_carries_an_spdx_license_and_its_file() -> None:
    metadata = importlib.metadata.metadata("searchlib")
    assert metadata["License-Expression"] == "MIT" and metadata.get("License") is None
    assert metadata.get_all("License-File") == ["LICENSE"]
    files = importlib.metadata.files("searchlib") or []
    assert any(str(f).endswith("licenses/LICENSE") for f in files)
    text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the searchlib authors" in text


def test_the_build_backend_is_bounded_and_the_package_typed() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    (requirement,) = (Requirement(r) for r in project["build-system"]["requires"])
    assert requirement.name == "maturin"
    assert requirement.specifier.contains(Version("1.16.0"))  # the release it is tested with
    assert not requirement.specifier.contains(Version("2.0.0")) and not requirement.specifier.contains(Version("1.9.0"))
    assert (REPO_ROOT / "searchlib" / "py.typed").is_file()
