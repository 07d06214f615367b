"""The array-file and manifest encodings: round trips and damage detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from searchlib import codec
from searchlib.errors import CorruptIndexError, IncompatibleFormatError
from searchlib.storage import Directory


def write(directory: Directory, arrays: dict[str, np.ndarray]) -> str:
    directory.write_file("x.post", codec.encode_array_file(codec.KIND_POSTINGS, arrays, {"note": "hi"}))
    return "x.post"


def test_arrays_round_trip_with_dtypes_and_alignment(tmp_path: Path) -> None:
    directory = Directory(tmp_path)
    arrays = {
        "bytes": np.frombuffer(b"abc", dtype=np.uint8),
        "docs": np.array([1, 5, 9], dtype="<u4"),
        "offsets": np.array([0, 3], dtype="<u8"),
        "empty": np.zeros(0, dtype="<u4"),
    }
    name = write(directory, arrays)
    loaded = codec.ArrayFile(directory, name, codec.KIND_POSTINGS)
    loaded.verify()
    assert loaded.meta == {"note": "hi"}
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == value.dtype
    assert all(loaded[k].ctypes.data % 8 == 0 for k in ("docs", "offsets"))


def test_wrong_kind_is_reported(tmp_path: Path) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(3, dtype="<u4")})
    with pytest.raises(CorruptIndexError, match="x.post.*expected b'TERM'"):
        codec.ArrayFile(directory, name, codec.KIND_TERMS)


@pytest.mark.parametrize("keep", [0, 5, 20, 60])
def test_truncation_is_reported_with_the_file_name(tmp_path: Path, keep: int) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(10, dtype="<u4")})
    path = tmp_path / name
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(CorruptIndexError, match="x.post"):
        codec.ArrayFile(directory, name, codec.KIND_POSTINGS)


def test_every_flipped_byte_is_detected_on_open_or_verify(tmp_path: Path) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(10, dtype="<u4"), "b": np.arange(3, dtype="<u8")})
    path = tmp_path / name
    original = path.read_bytes()
    for position in range(len(original)):
        damaged = bytearray(original)
        damaged[position] ^= 0x40
        path.write_bytes(bytes(damaged))
        with pytest.raises((CorruptIndexError, IncompatibleFormatError)):
            codec.ArrayFile(directory, name, codec.KIND_POSTINGS).verify()


def test_newer_format_version_is_refused_clearly(tmp_path: Path) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(3, dtype="<u4")})
    path = tmp_path / name
    data = bytearray(path.read_bytes())
    data[8:12] = (codec.FORMAT_VERSION + 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(IncompatibleFormatError, match=f"format version {codec.FORMAT_VERSION + 1}") as caught:
        codec.ArrayFile(directory, name, codec.KIND_POSTINGS)
    assert caught.value.is_newer and "from a newer searchlib" in str(caught.value)
    assert "upgrade searchlib to read it" in str(caught.value) and "rebuild" not in str(caught.value)


def test_manifest_round_trip_and_checksum() -> None:
    body = {"generation": 3, "schema": {}, "segments": [], "next_segment": 0}
    data = codec.encode_manifest(body)
    decoded = codec.decode_manifest(data, "manifest-3.json")
    assert decoded["generation"] == 3
    tampered = data.replace(b'"generation": 3', b'"generation": 4')
    with pytest.raises(CorruptIndexError, match="manifest-3.json.*checksum"):
        codec.decode_manifest(tampered, "manifest-3.json")


def test_manifest_names_parse_back() -> None:
    assert codec.manifest_generation(codec.manifest_name(12)) == 12
    assert codec.manifest_generation("manifest-x.json") is None
    assert codec.manifest_generation("seg-00000001.post") is None
