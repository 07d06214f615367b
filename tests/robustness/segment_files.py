"""Segment files taken apart and put back together with valid checksums
(the framing of ``core/FORMAT.md``), so a test can hand the reader a crafted file that
passes every CRC: only the reader's own bounds checks stand in the way.

Also LZ4 blocks made by hand (Python has no LZ4 codec here): literals only, or a run
of one byte (a compression bomb).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from searchlib import codec

MAGIC = b"SRCHLIB\x00"
END_MAGIC = b"SLIB"
CHUNK = 64 * 1024
_FOOTER = struct.Struct("<QIIIII4s")


def read_sections(data: bytes) -> tuple[bytes, dict[str, bytes]]:
    """A sound segment file's kind and its sections, in file order."""
    data_end, directory_len, _, _, _, _, _ = _FOOTER.unpack_from(data, len(data) - _FOOTER.size)
    directory = data[data_end : data_end + directory_len]
    (count,) = struct.unpack_from("<I", directory, 0)
    at = 4
    sections: list[tuple[int, str, bytes]] = []
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", directory, at)
        name = directory[at + 2 : at + 2 + name_len].decode("utf-8")
        offset, length = struct.unpack_from("<QQ", directory, at + 2 + name_len)
        at += 2 + name_len + 16
        sections.append((offset, name, data[offset : offset + length]))
    return data[12:16], {name: body for _, name, body in sorted(sections)}


def encode(
    kind: bytes, sections: dict[str, bytes], *, directory: bytes | None = None, version: int = codec.FORMAT_VERSION
) -> bytes:
    """A segment file of ``sections`` with valid checksums (``directory``: raw directory
    bytes to use instead of the true one)."""
    head = bytearray(MAGIC + struct.pack("<I", version) + kind)
    entries = []
    for name, body in sections.items():
        entries.append((name, len(head), len(body)))
        head += body
    if directory is None:
        directory = struct.pack("<I", len(entries)) + b"".join(
            struct.pack("<H", len(name.encode())) + name.encode() + struct.pack("<QQ", offset, length)
            for name, offset, length in entries
        )
    crcs = [zlib.crc32(head[at : at + CHUNK]) for at in range(0, len(head), CHUNK)]
    table = b"".join(struct.pack("<I", crc) for crc in crcs)
    meta_crc = zlib.crc32(directory + table)
    footer = struct.pack("<QIIII", len(head), len(directory), len(crcs), CHUNK, meta_crc)
    footer += struct.pack("<I", zlib.crc32(footer)) + END_MAGIC
    return bytes(head) + directory + table + footer


def rewrite_sections(index_path: Path, file_name: str, change: Callable[[dict[str, bytes]], None]) -> Path:
    """Rewrite segment file ``file_name`` of the index after ``change`` edits its
    sections, with valid checksums, and record its new size in the newest manifest."""
    from tests.robustness.hostile import rewrite_manifest, write_file

    path = index_path / file_name
    kind, sections = read_sections(path.read_bytes())
    change(sections)
    size = write_file(path, encode(kind, sections))

    def record(body: dict) -> None:  # type: ignore[type-arg]
        for entry in body["segments"]:
            if file_name in entry["files"]:
                entry["files"][file_name] = size

    rewrite_manifest(index_path, record)
    return path


def lz4_literals(data: bytes) -> bytes:
    """An LZ4 block holding ``data`` as literals (a valid, uncompressed block)."""
    length = len(data)
    if length < 15:
        return bytes([length << 4]) + data
    rest = length - 15
    return bytes([0xF0]) + b"\xff" * (rest // 255) + bytes([rest % 255]) + data


def lz4_run(size: int) -> bytes:
    """An LZ4 block that inflates to ``size`` bytes of ``a`` (at least 12) from about
    ``size / 255`` bytes: one literal, one long match at offset 1, five literals."""
    match = size - 6 - 4  # the match's length beyond its minimum of 4
    extra = match - 15
    block = bytes([0x1F]) + b"a" + struct.pack("<H", 1) + b"\xff" * (extra // 255) + bytes([extra % 255])
    return block + bytes([0x50]) + b"aaaaa"


def store_sections(lines: list[bytes], block: bytes | None = None, size: int | None = None) -> Callable[[dict[str, bytes]], None]:
    """A change that makes a store file hold one block of whole ``lines`` (the ID field's
    value not left out of them), or the given compressed ``block``, recorded as inflating
    to ``size`` bytes."""
    raw = b"\n".join(lines)
    compressed = lz4_literals(raw) if block is None else block

    def change(sections: dict[str, bytes]) -> None:
        sections["\x00store.blocks"] = compressed
        sections.pop("\x00store.id_field", None)
        sections["\x00store.index"] = struct.pack("<QII", 0, 0, len(raw) if size is None else size) + struct.pack(
            "<QII", len(compressed), len(lines), 0
        )

    return change
