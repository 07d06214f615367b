"""Hostile indexes at full size: python tests/stress/hostile_index.py [--quick] [--only NAME]

Each case builds a small real index, rewrites it as an attacker would (valid checksums,
so only the reader's own limits stand in the way), then opens it, searches it and
checks it, each in a fresh process with a timeout and an 8 GiB address-space cap. For
every case and action it prints the outcome (a searchlib error class, ``ok``,
``damage reported``, or ``hung``/``crashed``/another exception, which fail the run),
the peak RSS over the process's baseline, and the time. ``--quick`` uses smaller bombs
and sparse files (for a check that the script works). Exit status 1 if any case read
outside the index, hung, crashed, raised a non-searchlib exception, or grew its peak
RSS by ``MEMORY_BOUND_MIB`` or more.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any


sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import TEXT, codec  # noqa: E402
from tests.robustness.hostile import (  # noqa: E402
    DOCUMENTS,
    make_index,
    nested_json,
    newest_manifest,
    plant_bomb,
    probe,
    rewrite_manifest,
    segment,
    segment_file,
    write_file,
)
from tests.robustness.segment_files import encode, read_sections, rewrite_sections, store_sections  # noqa: E402

MEMORY_BOUND_MIB = 200
TIMEOUT = 120
SECRET = "confidential payroll"

Case = Callable[[Path, Path, bool], "str | None"]  # (index, scratch, quick) -> query or None
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__] = function
    return function


def _victim(scratch: Path) -> Path:
    path = scratch / "victim"
    if not path.exists():
        make_index(path, documents=[{"path": "v.txt", "body": f"talks {SECRET}"}])
    return path


# --- paths outside the index ---------------------------------------------------------


def _point_segment_at(index: Path, prefix: str, victim: Path) -> None:
    theirs = segment(victim)

    def change(body: dict[str, Any]) -> None:
        entry = body["segments"][0]
        entry["name"] = prefix + theirs["name"]
        entry["files"] = {prefix + n: s for n, s in theirs["files"].items()}

    rewrite_manifest(index, change)


@case
def relative_segment_path(index: Path, scratch: Path, quick: bool) -> None:
    _point_segment_at(index, "../victim/", _victim(scratch))


@case
def absolute_segment_path(index: Path, scratch: Path, quick: bool) -> None:
    _point_segment_at(index, f"{_victim(scratch)}/", _victim(scratch))


@case
def absolute_file_names(index: Path, scratch: Path, quick: bool) -> None:
    victim = _victim(scratch)
    theirs = segment(victim)
    rewrite_manifest(index, lambda b: b["segments"][0].__setitem__(
        "files", {str(victim / n): s for n, s in theirs["files"].items()}))


@case
def deletes_is_etc_passwd(index: Path, scratch: Path, quick: bool) -> None:
    rewrite_manifest(index, lambda b: b["segments"][0].__setitem__("deletes", "/etc/passwd"))


@case
def deletes_with_dotdot(index: Path, scratch: Path, quick: bool) -> None:
    name = segment(index)["name"]
    rewrite_manifest(index, lambda b: b["segments"][0].__setitem__("deletes", f"{name}.1.del/../../x"))


@case
def symlink_to_victim_store(index: Path, scratch: Path, quick: bool) -> None:
    victim = _victim(scratch)
    name = f"{segment(index)['name']}.store"
    (index / name).unlink()
    (index / name).symlink_to(victim / f"{segment(victim)['name']}.store")


@case
def symlinked_manifest(index: Path, scratch: Path, quick: bool) -> None:
    (index / "manifest-99.json").symlink_to(newest_manifest(_victim(scratch)))


@case
def symlink_to_etc_passwd(index: Path, scratch: Path, quick: bool) -> None:
    name = f"{segment(index)['name']}.norms"
    (index / name).unlink()
    (index / name).symlink_to("/etc/passwd")


# --- special files -------------------------------------------------------------------


@case
def fifo_segment_file(index: Path, scratch: Path, quick: bool) -> None:
    name = f"{segment(index)['name']}.terms"
    (index / name).unlink()
    os.mkfifo(index / name)
    rewrite_manifest(index, lambda b: b["segments"][0]["files"].__setitem__(name, 0))


@case
def manifest_linked_to_fifo(index: Path, scratch: Path, quick: bool) -> None:
    os.mkfifo(scratch / "fifo")
    (index / "manifest-99.json").symlink_to(scratch / "fifo")


@case
def segment_file_is_a_directory(index: Path, scratch: Path, quick: bool) -> None:
    name = f"{segment(index)['name']}.norms"
    (index / name).unlink()
    (index / name).mkdir()


@case
def segment_file_is_dev_zero_link(index: Path, scratch: Path, quick: bool) -> None:
    name = f"{segment(index)['name']}.post"
    (index / name).unlink()
    (index / name).symlink_to("/dev/zero")
    rewrite_manifest(index, lambda b: b["segments"][0]["files"].__setitem__(name, 0))


# --- memory --------------------------------------------------------------------------


@case
def lz4_bomb_recorded_at_its_size(index: Path, scratch: Path, quick: bool) -> None:
    plant_bomb(index, 128 if quick else 2048)  # 2 GiB from about 8 MB, recorded as such


@case
def lz4_bomb_recorded_small(index: Path, scratch: Path, quick: bool) -> None:
    plant_bomb(index, 128 if quick else 2048, record_size=1000)


@case
def lz4_bomb_recorded_huge(index: Path, scratch: Path, quick: bool) -> None:
    plant_bomb(index, 128 if quick else 2048, record_size=(1 << 32) - 1)


@case
def sparse_huge_manifest(index: Path, scratch: Path, quick: bool) -> None:
    with open(index / "manifest-99.json", "wb") as handle:
        handle.truncate((1 if quick else 20) << 30)


@case
def huge_doc_count(index: Path, scratch: Path, quick: bool) -> None:
    rewrite_manifest(index, lambda b: b["segments"][0].__setitem__("doc_count", 4_000_000_000))


def _directory(index: Path, extension: str, directory: bytes) -> None:
    """Replace a segment file's directory (valid checksums) with ``directory``."""
    name = segment_file(index, extension)
    kind, sections = read_sections((index / name).read_bytes())
    size = write_file(index / name, encode(kind, sections, directory=directory))
    rewrite_manifest(index, lambda b: b["segments"][0]["files"].__setitem__(name, size))


def _entry(name: bytes, offset: int, length: int) -> bytes:
    return struct.pack("<H", len(name)) + name + struct.pack("<QQ", offset, length)


@case
def section_count_4e9(index: Path, scratch: Path, quick: bool) -> None:
    _directory(index, "store", struct.pack("<I", 4_000_000_000) + _entry(b"\x00ids", 16, 4))


@case
def huge_section_length(index: Path, scratch: Path, quick: bool) -> None:
    _directory(index, "post", struct.pack("<I", 1) + _entry(b"body\x00postings", 16, 1 << 62))


@case
def section_offset_wrapping_around(index: Path, scratch: Path, quick: bool) -> None:
    _directory(index, "post", struct.pack("<I", 1) + _entry(b"body\x00postings", (1 << 64) - 1024, 2048))


@case
def footer_with_huge_directory_offset(index: Path, scratch: Path, quick: bool) -> None:
    name = f"{segment(index)['name']}.terms"
    data = bytearray((index / name).read_bytes())
    data[-32:-24] = (1 << 63).to_bytes(8, "little")  # the footer's data end
    (index / name).write_bytes(bytes(data))


@case
def term_count_4e9(index: Path, scratch: Path, quick: bool) -> None:
    name = segment_file(index, "terms")
    rewrite_sections(index, name, lambda sections: sections.__setitem__(
        "body\x00meta", (4_000_000_000).to_bytes(8, "little") + sections["body\x00meta"][8:]))


@case
def wrong_block_counts(index: Path, scratch: Path, quick: bool) -> None:
    rewrite_sections(index, segment_file(index, "store"), lambda sections: sections.__setitem__(
        "\x00store.index", sections["\x00store.index"][:-12] + struct.pack("<II", 1_000_000, 0)))


@case
def block_offsets_past_the_data(index: Path, scratch: Path, quick: bool) -> None:
    rewrite_sections(index, segment_file(index, "store"), lambda sections: sections.__setitem__(
        "\x00store.index", sections["\x00store.index"][:-16] + struct.pack("<QII", 1 << 40, 3, 0)))


@case
def deleted_count_past_doc_count(index: Path, scratch: Path, quick: bool) -> None:
    rewrite_manifest(index, lambda b: b["segments"][0].__setitem__("deleted_count", 10**12))


# --- deep JSON -----------------------------------------------------------------------


@case
def deep_manifest(index: Path, scratch: Path, quick: bool) -> None:
    text = '{"format": "searchlib-index", "format_version": 2, "x": ' + nested_json(100_000).decode() + "}\n"
    (index / "manifest-99.json").write_text(text)


@case
def deep_stored_document(index: Path, scratch: Path, quick: bool) -> str:
    lines = [nested_json(100_000), b'{"path":"b.txt"}', b'{"path":"c.txt"}']
    rewrite_sections(index, segment_file(index, "store"), store_sections(lines))
    return "direct"  # the first document's words, so its stored fields are read


# --- analyzer parameters -------------------------------------------------------------


def _analyzer(index: Path, **spec: Any) -> None:
    rewrite_manifest(index, lambda b: b["schema"]["body"].update(spec))


@case
def ngram_max_size_1e9(index: Path, scratch: Path, quick: bool) -> None:
    _analyzer(index, analyzer="ngram", analyzer_params={"min_size": 1, "max_size": 1_000_000_000})


@case
def unknown_analyzer_parameter(index: Path, scratch: Path, quick: bool) -> None:
    _analyzer(index, analyzer="english", analyzer_params={"__class__": "os.system"})


@case
def huge_synonym_table(index: Path, scratch: Path, quick: bool) -> None:
    _analyzer(index, analyzer="standard", analyzer_params={"synonyms": {"talks": ["x"] * 1_000_000}})


@case
def regex_with_huge_repeat(index: Path, scratch: Path, quick: bool) -> None:
    _analyzer(index, analyzer="regex", analyzer_params={"pattern": "a{4294967294}"})


@case
def catastrophic_tokenizer_regex(index: Path, scratch: Path, quick: bool) -> str:
    _analyzer(index, analyzer="regex", analyzer_params={"pattern": "(a|a)+$"})
    return "a" * 60 + "!"


@case
def catastrophic_query_regex(index: Path, scratch: Path, quick: bool) -> str:
    return "body:/(a|a)+/"


@case
def pickle_like_analyzer_name(index: Path, scratch: Path, quick: bool) -> None:
    _analyzer(index, analyzer="os.system", analyzer_params={"command": "touch /tmp/pwned"})


ACCEPTED = {"ok", "damage reported"}


def run_case(name: str, quick: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        documents = [*DOCUMENTS, {"path": "d.txt", "body": "a" * 60 + "b"}]
        index = make_index(scratch / "idx", body=TEXT(), documents=documents)
        query = CASES[name](index, scratch, quick) or "talks"
        rows = []
        for action in ("open", "search", "check"):
            result = probe(action, index, query, timeout=TIMEOUT)
            growth = None if result["peak_rss_mib"] is None else result["peak_rss_mib"] - result["baseline_rss_mib"]
            leaked = SECRET in result["message"] or "root:" in result["message"]
            failed = (
                leaked
                or growth is None
                or growth >= MEMORY_BOUND_MIB
                or not (result["outcome"] in ACCEPTED or result.get("searchlib_error"))
            )
            rows.append({"case": name, "action": action, **result, "growth_mib": growth, "failed": failed,
                         "leaked": leaked})
        return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    args = parser.parse_args()
    rows = []
    print(f"{'case':36} {'action':7} {'outcome':24} {'peak RSS':>9} {'growth':>7} {'time':>7}  message")
    for name in args.only or CASES:
        for row in run_case(name, args.quick):
            rows.append(row)
            growth = "-" if row["growth_mib"] is None else f"{row['growth_mib']:.0f}M"
            peak = "-" if row["peak_rss_mib"] is None else f"{row['peak_rss_mib']:.0f}M"
            mark = "FAIL " if row["failed"] else ""
            print(f"{name:36} {row['action']:7} {mark + row['outcome']:24} {peak:>9} {growth:>7} "
                  f"{row['seconds']:6.2f}s  {row['message'][:90]}", flush=True)
    failures = [row for row in rows if row["failed"]]
    growths = [row["growth_mib"] for row in rows if row["growth_mib"] is not None]
    print(f"\n{len(rows)} probes of {len(rows) // 3} cases: {len(failures)} failed; "
          f"largest RSS growth {max(growths):.0f} MiB over baseline (bound {MEMORY_BOUND_MIB} MiB); "
          f"slowest {max(row['seconds'] for row in rows):.2f} s; stored-block cap "
          f"{codec.MAX_STORED_BLOCK_BYTES >> 20} MiB, manifest cap {codec.MAX_MANIFEST_BYTES >> 20} MiB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
