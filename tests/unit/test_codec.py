"""The array-file and manifest encodings: round trips and damage detection."""

from __future__ import annotations

import json
import random
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from searchlib import codec
from searchlib.errors import CorruptIndexError, IncompatibleFormatError
from searchlib.storage import Directory

#: Kinds for test files: the array-file codec checks a file's kind, whatever it is
#: (searchlib writes DELS files with it).
KIND_POSTINGS, KIND_TERMS = b"POST", b"TERM"


def write(directory: Directory, arrays: dict[str, np.ndarray]) -> str:
    directory.write_file("x.post", codec.encode_array_file(KIND_POSTINGS, arrays, {"note": "hi"}))
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
    loaded = codec.ArrayFile(directory, name, KIND_POSTINGS)
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
        codec.ArrayFile(directory, name, KIND_TERMS)


@pytest.mark.parametrize("keep", [0, 5, 20, 60])
def test_truncation_is_reported_with_the_file_name(tmp_path: Path, keep: int) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(10, dtype="<u4")})
    path = tmp_path / name
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(CorruptIndexError, match="x.post"):
        codec.ArrayFile(directory, name, KIND_POSTINGS)


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
            codec.ArrayFile(directory, name, KIND_POSTINGS).verify()


def test_newer_format_version_is_refused_clearly(tmp_path: Path) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(3, dtype="<u4")})
    path = tmp_path / name
    data = bytearray(path.read_bytes())
    data[8:12] = (codec.FORMAT_VERSION + 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(IncompatibleFormatError, match=f"format version {codec.FORMAT_VERSION + 1}") as caught:
        codec.ArrayFile(directory, name, KIND_POSTINGS)
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


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of the kinds a manifest may hold, with the awkward cases often: floats
    whose repr is exponential or long, ints past 64 bits, non-ASCII and control
    characters, characters past U+FFFF, keys out of order."""
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 7, 2**31, 2**63 - 1, 2**64 + 3, -(2**70), rng.randrange(-10**6, 10**6)])
    if kind == 2:
        return rng.choice([0.0, -0.0, 1.0, 0.1, 1e-05, 1e16, 1.5e-300, 123456789.125, 1 / 3,
                           rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randrange(-30, 30)])
    if kind in (3, 4):
        alphabet = "az AZ09\"\\\n\t\x00\x1f\x7f é ß ☃ \u2028 😀 \U0001d11e"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [_random_json(rng, 99) if rng.random() < 0.3 else rng.choice("zyxabc") + str(i) for i in range(rng.randrange(5))]
    return {str(key): _random_json(rng, depth + 1) for key in keys}


def test_the_core_reads_what_pythons_json_writes_and_its_checksum_agrees() -> None:
    """Manifests are written with Python's json and read by the core: the parsed value
    (types, key order, floats to the bit) and the canonical checksum must agree with
    Python's own for anything a writer may put in one."""
    from searchlib import _core

    rng = random.Random(19)
    for _ in range(500):
        body = {"generation": rng.randrange(100), "x": _random_json(rng)}
        data = codec.encode_manifest(body)
        decoded = codec.decode_manifest(data, "manifest-1.json")  # the checksum matched
        expected = json.loads(data)
        expected.pop("crc32")
        assert decoded == expected
        assert json.dumps(decoded) == json.dumps(expected)  # key order, -0.0 and 1 vs 1.0 too
        assert _core.parse_json(data, codec.MAX_JSON_DEPTH, "crc32")[1] == codec._manifest_checksum(expected)


@pytest.mark.parametrize(("text", "problem"), [
    (b'{"generation": 1,', "manifest is not valid JSON"),
    (b"[" * 33 + b"]" * 33, "manifest nests JSON more than 32 deep"),
    (b'{"a": "\xff"}', "manifest is not valid JSON"),
])
def test_json_the_core_refuses_is_damage_named_with_its_file(text: bytes, problem: str) -> None:
    with pytest.raises(CorruptIndexError, match="manifest-1.json") as caught:
        codec.parse_json(text, "manifest-1.json", "manifest")
    assert caught.value.problem.startswith(problem)


def test_the_header_and_footer_sizes_are_their_formats() -> None:
    assert codec.HEADER_SIZE == struct.calcsize(codec.HEADER_FORMAT)
    assert codec.FOOTER_SIZE == struct.calcsize(codec.FOOTER_FORMAT)


def test_manifest_names_parse_back() -> None:
    assert codec.manifest_generation(codec.manifest_name(12)) == 12
    assert codec.manifest_generation("manifest-x.json") is None
    assert codec.manifest_generation("seg-00000001.post") is None


def _without_array_checksums(data: bytes) -> bytes:
    """The same file as written before arrays carried their own CRC-32: the table's
    entries lack ``crc32`` (the table checksum and footer rewritten to match)."""
    table_offset, table_length, _, body_crc, end = struct.unpack_from("<QQII4s", data, len(data) - 28)
    table = json.loads(data[table_offset : table_offset + table_length])
    for entry in table["arrays"].values():
        del entry["crc32"]
    table_bytes = json.dumps(table, separators=(",", ":")).encode()
    footer = struct.pack("<QQII4s", table_offset, len(table_bytes), codec.crc32(table_bytes), body_crc, end)
    return data[:table_offset] + table_bytes + footer


def _array_offset(directory: Directory, name: str, array: str) -> int:
    loaded = codec.ArrayFile(directory, name, KIND_POSTINGS)
    return loaded[array].__array_interface__["data"][0] - np.frombuffer(loaded._buffer, np.uint8).__array_interface__["data"][0]


def test_each_array_records_its_checksum(tmp_path: Path) -> None:
    directory = Directory(tmp_path)
    docs = np.array([1, 5, 9], dtype="<u4")
    name = write(directory, {"docs": docs, "empty": np.zeros(0, dtype="<u8")})
    data = (tmp_path / name).read_bytes()
    assert f'"crc32":{codec.crc32(docs.tobytes())}'.encode() in data
    assert b'"crc32":0' in data  # the CRC-32 of no bytes


def test_a_damaged_array_is_reported_on_first_access_and_every_access(tmp_path: Path) -> None:
    """Opening stays cheap (the data is not read), but the damaged array is never served:
    each access raises, naming the file and the array, while sound arrays are served."""
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(10, dtype="<u4"), "b": np.arange(300, dtype="<u8")})
    offset = _array_offset(directory, name, "b") + 17
    path = tmp_path / name
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    loaded = codec.ArrayFile(directory, name, KIND_POSTINGS)  # no error yet
    np.testing.assert_array_equal(loaded["a"], np.arange(10))
    for _ in range(2):
        with pytest.raises(CorruptIndexError, match=r"x\.post: array 'b' fails its checksum"):
            loaded["b"]
        with pytest.raises(CorruptIndexError, match="'b' fails"):
            loaded.get("b")
    with pytest.raises(CorruptIndexError, match="'b' fails"):
        loaded.verify()


def test_threads_sharing_a_file_never_get_a_damaged_array(tmp_path: Path) -> None:
    """Every thread's first access checks or waits for a check that passed: none is
    handed the damaged array, and all get the sound one."""
    directory = Directory(tmp_path)
    name = write(directory, {"good": np.arange(1 << 16, dtype="<u8"), "bad": np.arange(1 << 16, dtype="<u8")})
    offset = _array_offset(directory, name, "bad") + 1000
    path = tmp_path / name
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x80
    path.write_bytes(bytes(data))
    for _ in range(5):
        loaded = codec.ArrayFile(directory, name, KIND_POSTINGS)

        def access(array: str, loaded: codec.ArrayFile = loaded) -> str:
            try:
                return "ok" if int(loaded[array][-1]) == (1 << 16) - 1 else "wrong"
            except CorruptIndexError:
                return "error"

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(access, ["good", "bad"] * 16))
        assert outcomes == ["ok", "error"] * 16


def test_padding_and_the_body_checksum_are_read_only_by_verify(tmp_path: Path) -> None:
    """Bytes no array holds are never used by a reader; verify (searchlib check) still
    reports damage there."""
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.frombuffer(b"abc", dtype=np.uint8), "b": np.arange(4, dtype="<u4")})
    path = tmp_path / name
    original = path.read_bytes()
    for offset in (16 + 3, len(original) - 8):  # padding after "a"; the footer's body CRC
        data = bytearray(original)
        data[offset] ^= 0x20
        path.write_bytes(bytes(data))
        loaded = codec.ArrayFile(directory, name, KIND_POSTINGS)
        assert loaded["a"].tobytes() == b"abc" and loaded["b"].tolist() == [0, 1, 2, 3]
        with pytest.raises(CorruptIndexError, match="data fails its checksum"):
            codec.ArrayFile(directory, name, KIND_POSTINGS).verify()


def test_a_file_without_array_checksums_is_checked_whole_on_first_access(tmp_path: Path) -> None:
    """Files written before arrays had their own CRC-32 stay readable; their body
    checksum is checked on the first access to any array."""
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(10, dtype="<u4"), "b": np.arange(3, dtype="<u8")})
    path = tmp_path / name
    legacy = _without_array_checksums(path.read_bytes())
    assert b"crc32" not in legacy
    path.write_bytes(legacy)
    loaded = codec.ArrayFile(directory, name, KIND_POSTINGS)
    assert loaded["b"].tolist() == [0, 1, 2] and loaded["a"].tolist() == list(range(10))
    loaded.verify()
    damaged = bytearray(legacy)
    damaged[_array_offset(directory, name, "b")] ^= 0x04
    path.write_bytes(bytes(damaged))
    loaded = codec.ArrayFile(directory, name, KIND_POSTINGS)
    with pytest.raises(CorruptIndexError, match=r"x\.post: data fails its checksum"):
        loaded["a"]  # "a" is sound, but the only checksum covers the whole body


@pytest.mark.parametrize("value", ["1", -1, 1 << 32, True, None])
def test_a_malformed_array_checksum_is_reported_on_open(tmp_path: Path, value: object) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(3, dtype="<u4")})
    path = tmp_path / name
    data = path.read_bytes()
    crc = codec.crc32(np.arange(3, dtype="<u4").tobytes())
    path.write_bytes(_retable(data, f'"crc32":{crc}', f'"crc32":{json.dumps(value)}'))
    with pytest.raises(CorruptIndexError, match=r"x\.post: malformed table of contents"):
        codec.ArrayFile(directory, name, KIND_POSTINGS)


@pytest.mark.parametrize("old,new", [('"arrays":{', '"arrays":[{'), ('"meta":{"note":"hi"},', '')])
def test_a_table_of_the_wrong_shape_is_reported_on_open(tmp_path: Path, old: str, new: str) -> None:
    directory = Directory(tmp_path)
    name = write(directory, {"a": np.arange(3, dtype="<u4")})
    path = tmp_path / name
    data = path.read_bytes()
    if "[" in new:  # close the list too: still valid JSON, an array where an object belongs
        data = _retable(data, "}}}", "}}]}")
    path.write_bytes(_retable(data, old, new))
    with pytest.raises(CorruptIndexError, match=r"x\.post: malformed table of contents"):
        codec.ArrayFile(directory, name, KIND_POSTINGS)


def _retable(data: bytes, old: str, new: str) -> bytes:
    """``data`` with ``old`` replaced by ``new`` in its table, the table checksum fixed."""
    table_offset, table_length, _, body_crc, end = struct.unpack_from("<QQII4s", data, len(data) - 28)
    table_bytes = data[table_offset : table_offset + table_length].replace(old.encode(), new.encode())
    footer = struct.pack("<QQII4s", table_offset, len(table_bytes), codec.crc32(table_bytes), body_crc, end)
    return data[:table_offset] + table_bytes + footer
