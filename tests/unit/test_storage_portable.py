"""The storage layer where POSIX's open flags are missing (Windows): a symbolic link is
refused by name before the open, files still read, and a directory is not flushed.

Windows itself is not at hand here, so these run the code paths it takes on this
machine by taking away what Windows lacks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from searchlib import storage
from searchlib.errors import CorruptIndexError
from searchlib.storage import Directory


@pytest.fixture
def without_nofollow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module as it is on a system without O_NOFOLLOW and O_NONBLOCK."""
    monkeypatch.setattr(storage, "_NO_FOLLOW", 0)
    monkeypatch.setattr(storage, "_READ_FLAGS", 0)


@pytest.mark.usefixtures("without_nofollow")
def test_a_regular_file_reads(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(b"segment bytes")
    assert Directory(tmp_path).read_bytes("data.bin") == b"segment bytes"


@pytest.mark.usefixtures("without_nofollow")
def test_a_symbolic_link_is_refused_by_name(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.bin"
    outside.write_bytes(b"not the index's")
    (tmp_path / "data.bin").symlink_to(outside)
    with pytest.raises(CorruptIndexError, match="data.bin"):
        Directory(tmp_path).read_bytes("data.bin")


@pytest.mark.usefixtures("without_nofollow")
def test_a_missing_file_is_still_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Directory(tmp_path).read_bytes("absent.bin")


def test_no_directory_flush_on_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(storage.os, "name", "nt")
    monkeypatch.setattr(storage.os, "open", lambda *args, **kwargs: opened.append(args) or -1)
    storage._fsync_directory(tmp_path)
    assert opened == []  # Windows cannot open a directory to flush it
