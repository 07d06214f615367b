"""A damaged index gives a clear error naming the file, never a traceback or wrong hits."""

from __future__ import annotations

import json
import os
import random
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from searchlib import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Index, Schema, Searcher, codec
from searchlib.check import check_index
from searchlib.errors import CorruptIndexError, SearchlibError
from tests.robustness.hostile import newest_manifest
from tests.robustness.segment_files import read_sections, rewrite_sections


def segment_files(index: Index) -> list[Path]:
    return sorted(p for p in index.path.iterdir() if p.name.startswith("seg-"))


def test_every_truncated_segment_file_is_named(news_index: Index) -> None:
    for path in segment_files(news_index):
        original = path.read_bytes()
        for keep in (0, len(original) // 2, len(original) - 1):
            path.write_bytes(original[:keep])
            with pytest.raises(CorruptIndexError, match=path.name):
                Searcher(news_index).search("talks")
        path.write_bytes(original)
    assert Searcher(news_index).search("talks").total == 2


def test_missing_segment_file_is_named(news_index: Index) -> None:
    victim = segment_files(news_index)[0]
    victim.unlink()
    with pytest.raises(CorruptIndexError, match=f"{victim.name}: file is missing"):
        Searcher(news_index)


def test_damaged_manifest_is_named(news_index: Index) -> None:
    manifest = news_index.path / f"manifest-{news_index.generation}.json"
    manifest.write_text(manifest.read_text().replace('"doc_count": 2', '"doc_count": 3'))
    with pytest.raises(CorruptIndexError, match=f"{manifest.name}: manifest fails its checksum"):
        Index.open(news_index.path)


def test_cli_reports_damage_without_a_traceback(news_index: Index, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    victim = segment_files(news_index)[0]
    victim.write_bytes(victim.read_bytes()[:10])
    result = run_cli(["query", "talks", "--index", str(news_index.path)], cwd=tmp_path)
    assert result.returncode == 2
    assert victim.name in result.stderr and "corrupt" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "old,new",
    [
        ('"deletes": null', '"deletes": 5'),
        ('"generation": 3', '"generation": "x"'),
        ('"doc_count": 2', '"doc_count": 1000000000000'),
    ],
)
def test_malformed_manifest_fields_are_named(news_index: Index, old: str, new: str) -> None:
    """Even with a valid checksum, wrong types or sizes in a manifest are reported as damage."""
    import json as json_module

    from searchlib import codec

    path = news_index.path / f"manifest-{news_index.generation}.json"
    text = path.read_text()
    assert old in text
    body = json_module.loads(text.replace(old, new, 1))
    body.pop("crc32")
    body.pop("format")
    body.pop("format_version")
    path.write_bytes(codec.encode_manifest(body))
    with pytest.raises(CorruptIndexError, match=path.name):
        Searcher(news_index)


# --- single-byte flips and truncations over every file kind ----------------------------
#
# A small index with every field kind, several segments and deletions answers a fixed
# set of queries; then one file at a time is damaged (a byte flipped, or the file cut
# short), the index is opened and the queries run again, and each case is classified:
#
# - "error": a searchlib error whose message names the damaged file;
# - "unread": the same results, and the damaged byte is provably not used by a search:
#   the file is not part of the newest generation (an older manifest or deletes file),
#   the newest manifest still decodes to the same content (JSON whitespace), or
#   ``check`` reports the file while the byte lies outside every array the search
#   checked (padding, the footer's body checksum, an array no query read);
# - "SILENT": different results (or the same ones without such a proof), no error;
# - "UNCAUGHT": any exception other than searchlib's own;
# - "UNNAMED": a searchlib error that does not name the damaged file.
# tests/stress/damage_stress.py runs thousands of cases; the test below a few hundred.

FAILURES = ("SILENT", "UNCAUGHT", "UNNAMED")

_WORDS = (
    "direct talks ceasefire envoy envoys talking monday rain weather markets shares fell rose "
    "flights resumed stalled contact stopped convoy aid border river bridge harbour dispute "
    "treaty vote council budget energy grid storm flood harvest wheat prices inflation "
    "naïve café über straße"
).split()


def build_damage_index(path: Path, documents: int = 60, seed: int = 7) -> Index:
    """Four commits (four segments), deletions and an update in the later ones, every
    field kind; a stemmed TEXT analyzer, so the terms files hold lexicons."""
    rng = random.Random(seed)
    schema = Schema(
        id=ID(), title=TEXT("english"), body=TEXT("english"), tag=KEYWORD(), year=NUMERIC("int"),
        price=NUMERIC("float"), when=DATETIME(), ok=BOOLEAN(), note=STORED(),
    )
    index = Index.create(path, schema)
    per_commit = documents // 4
    for commit in range(4):
        with index.writer() as writer:
            for n in range(commit * per_commit, (commit + 1) * per_commit):
                document: dict[str, Any] = {
                    "id": f"d{n:03d}",
                    "title": " ".join(rng.choices(_WORDS, k=rng.randint(1, 4))),
                    "body": " ".join(rng.choices(_WORDS, k=rng.randint(5, 40))),
                    "tag": rng.choice(["world", "business", "weather", "sport"]),
                    "note": {"n": n, "text": rng.choice(_WORDS)},
                }
                if n % 5:  # some documents lack the typed fields
                    document["year"] = rng.randint(1990, 2030)
                    document["price"] = round(rng.uniform(0, 200), 2)
                    document["when"] = datetime(2020 + n % 6, 1 + n % 12, 1 + n % 28, tzinfo=timezone.utc)
                    document["ok"] = bool(n % 3)
                writer.add_document(document)
            if commit >= 2:
                writer.delete_by_term("id", f"d{commit * 3:03d}")
                writer.delete_by_term("tag", "sport") if commit == 3 else None
                writer.update_document(id="d001", title="Ceasefire talks", body="Envoys held direct talks.", tag="world")
    return index.reopen()


def _hits(results: Any, snippets: bool = True) -> list[Any]:
    return [(hit.id, hit.score, hit.fields, hit.snippet() if snippets else None) for hit in results]


#: The queries compared before and after damage: rankings and scores, stored fields,
#: snippets, phrases (positions), expansions (lexicons), sorts on every column kind and
#: on a keyword, ranges, filters, suggestions.
QUERIES: list[Callable[[Searcher], Any]] = [
    lambda s: _hits(s.search("direct talks", limit=20)),
    lambda s: _hits(s.search('"direct talks"', limit=20)),
    lambda s: _hits(s.search("title:ceasefire OR tag:world", limit=20)),
    lambda s: _hits(s.search("talk* OR envoi~", limit=20)),
    lambda s: _hits(s.search("naïve OR straße OR café", limit=20)),
    lambda s: _hits(s.search("year:[2000 TO 2010]", sort="-year", limit=20), snippets=False),
    lambda s: _hits(s.search("when:[2022-01-01 TO *]", sort="when", limit=20), snippets=False),
    lambda s: _hits(s.search("price:[10 TO 150]", sort="-price", filter="ok:true", limit=20), snippets=False),
    lambda s: _hits(s.search("rain OR storm OR flood", sort="tag", limit=20), snippets=False),
    lambda s: _hits(s.search("tag:business", sort="id", limit=20), snippets=False),
    lambda s: (s.did_you_mean("direkt talkz"), [h.id for h in s.more_like_this("d002")]),
]


def run_queries(index_path: Path) -> tuple[list[Any], list[Any]]:
    """Every query's results, and the readers the searcher used (for their records of
    which arrays were read)."""
    with Searcher(Index.open(index_path)) as searcher:
        return [query(searcher) for query in QUERIES], list(searcher.readers)


@dataclass(frozen=True)
class Damage:
    """One file damaged one way: a byte XORed with ``value``, or the file cut to ``value`` bytes."""

    file: str
    how: str  # "flip" or "truncate"
    offset: int
    value: int


def file_kind(name: str) -> str:
    return "manifest" if name.startswith("manifest-") else name.rsplit(".", 1)[-1]


def damage_cases(index_path: Path, flips: int, truncations_per_file: int, seed: int) -> list[Damage]:
    """``flips`` flips shared evenly between file kinds (the bytes of a kind's files drawn
    spread over each file: stratified, plus the header and footer bytes), and per file
    the truncations to 0, 1, one byte short, into the header, the footer and the table,
    and random lengths."""
    rng = random.Random(seed)
    sizes = {p.name: p.stat().st_size for p in index_path.iterdir() if p.name != "write.lock"}
    by_kind: dict[str, list[str]] = {}
    for name in sorted(sizes):
        by_kind.setdefault(file_kind(name), []).append(name)
    cases: list[Damage] = []
    per_kind = flips // len(by_kind)
    for names in by_kind.values():
        for i in range(per_kind):
            name = names[i % len(names)]
            size = sizes[name]
            share = (i // len(names)) / max(1, per_kind // len(names))
            if i < 4 * len(names):  # the first and last bytes: magic, version, footer
                offset = (i // len(names)) * 7 % min(size, 16) if i % 2 else size - 1 - (i // len(names)) * 5 % min(size, 28)
            else:
                offset = min(size - 1, int(share * size) + rng.randrange(max(1, size // max(1, per_kind // len(names)))))
            cases.append(Damage(name, "flip", offset, rng.randrange(1, 256)))
    for name, size in sorted(sizes.items()):
        lengths = {0, 1, size - 1, 8, 15, 17, size - 4, size - 27, size - 29}
        while len(lengths) < truncations_per_file + 9:
            lengths.add(rng.randrange(size))
        cases += [Damage(name, "truncate", length, length) for length in sorted(lengths) if 0 <= length < size]
    return cases


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path``: maps of the old file keep the old bytes."""
    temp = path.with_name(path.name + ".damage")
    temp.write_bytes(data)
    os.replace(temp, path)


def _checked_ranges(readers: list[Any], file_name: str, original: bytes) -> Iterator[tuple[int, int]]:
    """The byte ranges of the arrays of ``file_name`` that the search checked (and so
    read), located through the undamaged file's table."""
    table_offset, table_length = struct.unpack_from("<QQ", original, len(original) - 28)
    entries = json.loads(original[table_offset : table_offset + table_length])["arrays"]
    for reader in readers:
        for array_file in reader.files:  # segment files are paths (checked whole by the core)
            if getattr(array_file, "name", None) == file_name:
                for name in getattr(array_file, "_checked", ()):
                    entry = entries[name]
                    size = int(np.prod(entry["shape"])) * np.dtype(entry["dtype"]).itemsize
                    yield entry["offset"], entry["offset"] + size


def _unread_proof(index_path: Path, damage: Damage, readers: list[Any], original: bytes) -> str | None:
    """Why the damaged byte provably changes nothing, or None."""
    newest = max(codec.manifest_generation(p.name) or 0 for p in index_path.iterdir())
    manifest = codec.decode_manifest((index_path / codec.manifest_name(newest)).read_bytes(), "newest")
    in_use = {codec.manifest_name(newest)}
    for segment in manifest["segments"]:
        in_use.update(segment["files"])
    if damage.file not in in_use:
        return "not in the newest generation"
    path = index_path / damage.file
    if damage.file.startswith("manifest-"):
        try:
            same = codec.decode_manifest(path.read_bytes(), damage.file) == codec.decode_manifest(original, damage.file)
        except SearchlibError:
            same = False
        return "same manifest content" if same else None
    if any(start <= damage.offset < end for start, end in _checked_ranges(readers, damage.file, original)):
        return None  # a byte the search checked cannot be damaged unnoticed
    report = check_index(index_path)
    if any(Path(problem.path).name == damage.file for problem in report.problems):
        return "unread by the queries; check reports the file"
    return None


def classify(index_path: Path, damage: Damage, baseline: list[Any]) -> tuple[str, str]:
    """Damage one file of the index at ``index_path``, run the queries, restore the file;
    return the outcome and a detail (the error, or the proof)."""
    path = index_path / damage.file
    original = path.read_bytes()
    if damage.how == "flip":
        damaged = bytearray(original)
        damaged[damage.offset] ^= damage.value
        _replace(path, bytes(damaged))
    else:
        _replace(path, original[: damage.value])
    try:
        try:
            results, readers = run_queries(index_path)
        except SearchlibError as exc:
            return ("error" if damage.file in str(exc) else "UNNAMED"), str(exc)
        except Exception as exc:  # noqa: BLE001 - what the classification is for
            return "UNCAUGHT", f"{type(exc).__name__}: {exc}"
        if results != baseline:
            return "SILENT", "results differ"
        proof = _unread_proof(index_path, damage, readers, original)
        return ("unread", proof) if proof else ("SILENT", "same results, but no proof the byte is unread")
    finally:
        _replace(path, original)


def damage_table(outcomes: list[tuple[Damage, str, str]]) -> str:
    """Counts of outcomes per file kind and damage, as a text table."""
    columns = ["error", "unread", *FAILURES]
    counts: dict[tuple[str, str], Counter[str]] = {}
    for damage, outcome, _ in outcomes:
        counts.setdefault((file_kind(damage.file), damage.how), Counter())[outcome] += 1
    lines = [f"{'kind':10} {'damage':9} {'cases':>6} " + " ".join(f"{c:>8}" for c in columns)]
    for (kind, how), counter in sorted(counts.items()):
        lines.append(f"{kind:10} {how:9} {sum(counter.values()):6} " + " ".join(f"{counter[c]:8}" for c in columns))
    total: Counter[str] = sum((c for c in counts.values()), Counter())
    lines.append(f"{'all':10} {'':9} {sum(total.values()):6} " + " ".join(f"{total[c]:8}" for c in columns))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def damage_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    path = tmp_path_factory.mktemp("damage") / "idx"
    build_damage_index(path)
    return path, run_queries(path)[0]


def test_the_damage_index_has_every_file_kind(damage_index: tuple[Path, list[Any]]) -> None:
    path, baseline = damage_index
    kinds = Counter(file_kind(p.name) for p in path.iterdir())
    assert {"terms", "post", "pos", "norms", "store", "del", "manifest"} <= set(kinds) and kinds["terms"] >= 2
    assert all(baseline[:10]) and baseline[10][0] and check_index(path).ok


def test_flipped_bytes_and_truncations_are_reported_or_unread(damage_index: tuple[Path, list[Any]]) -> None:
    """No single-byte flip or truncation of any file changes results silently or raises
    anything but a searchlib error naming the file (the stress script runs thousands)."""
    path, baseline = damage_index
    cases = damage_cases(path, flips=240, truncations_per_file=2, seed=1)
    outcomes = [(case, *classify(path, case, baseline)) for case in cases]
    failures = [(case, outcome, detail) for case, outcome, detail in outcomes if outcome in FAILURES]
    assert not failures, damage_table(outcomes) + "\n" + "\n".join(map(str, failures[:10]))
    assert sum(outcome == "error" for _, outcome, _ in outcomes) > len(outcomes) // 2
    assert check_index(path).ok  # every file was restored


# --- inconsistent sections with valid checksums -------------------------------------
#
# A file rewritten with wrong values and fresh checksums (a writer bug, or a crafted file)
# passes every CRC; the core's own bounds checks must still turn what it cannot use into
# a CorruptIndexError naming the file, never another exception or a crash.


def _read_everything(searcher: Searcher) -> None:
    """Queries that read every kind of section: terms (expanded), postings, positions,
    norms, stored fields, ids, snippets and suggestions."""
    for text in ("talks direct", '"direct talks"', "body:/.*/", "ta*", "talk~"):
        for hit in searcher.search(text, limit=10, strict=False):
            hit.id, hit.fields, hit.snippet()
    searcher.did_you_mean("direkt talkz")


def test_the_queries_read_a_sound_index(news_index: Index) -> None:
    with Searcher(news_index) as searcher:
        _read_everything(searcher)
        assert searcher.search('"direct talks"').total == 1


def _first(index: Index, extension: str) -> str:
    return sorted(p.name for p in index.path.glob(f"seg-*.{extension}"))[0]  # documents a and b


def _truncate(section: str, keep: int = -1) -> Callable[[dict[str, bytes]], None]:
    return lambda sections: sections.__setitem__(section, sections[section][:keep])


def _set_byte(section: str, at: int, value: int) -> Callable[[dict[str, bytes]], None]:
    def change(sections: dict[str, bytes]) -> None:
        data = bytearray(sections[section])
        data[at] = value
        sections[section] = bytes(data)

    return change


@pytest.mark.parametrize(
    "extension,change,problem",
    [
        ("terms", _truncate("body\x00dict"), "body"),
        ("terms", _truncate("body\x00dict_index"), "term index of"),
        # A small dictionary's index is of one block, all offsets 0: packed at width 0, it
        # fits any term count, which the lexicon's bit per term or the blocks' terms refuse.
        ("terms", _set_byte("body\x00meta", 0, 200), 'of "body"'),
        ("terms", _truncate("\x00segment", 2), "segment header"),
        ("terms", lambda sections: sections.pop("body\x00dict"), "missing"),
        ("post", _truncate("body\x00postings"), "body"),
        ("post", lambda sections: sections.pop("body\x00postings"), "missing"),
        ("pos", _truncate("body\x00positions"), "body"),
        ("norms", _truncate("body\x00norms"), 'lengths of "body"'),
        ("norms", _set_byte("body\x00norms", 0, 40), 'lengths of "body"'),
        ("store", _truncate("\x00ids"), "id"),
        ("store", _truncate("\x00store.index", -16), "stored blocks"),
        ("store", _set_byte("\x00store.index", 12, 0xFF), "stored block"),
    ],
)
def test_inconsistent_sections_with_valid_checksums_are_named(
    news_index: Index, extension: str, change: Callable[[dict[str, bytes]], None], problem: str
) -> None:
    victim = _first(news_index, extension)
    rewrite_sections(news_index.path, victim, change)
    with pytest.raises(CorruptIndexError, match=victim) as caught:
        with Searcher(Index.open(news_index.path)) as searcher:
            _read_everything(searcher)
        raise CorruptIndexError(victim, str(check_index(news_index.path).problems))
    assert problem in str(caught.value), caught.value


def test_crafted_bytes_in_any_section_give_results_or_a_named_error(news_index: Index) -> None:
    """Random bytes changed inside every section of every file, checksums made valid
    again: each search either works (the bytes still decode: a crafted file may say
    anything) or raises CorruptIndexError naming the file; nothing else escapes."""
    rng = random.Random(3)
    pristine = {p.name: p.read_bytes() for p in news_index.path.iterdir() if p.name.startswith("seg-")}
    manifest = newest_manifest(news_index.path)
    manifest_bytes = manifest.read_bytes()
    cases = 0
    for name in sorted(n for n in pristine if not n.endswith(".del")):
        _, sections = read_sections(pristine[name])
        for section, body in sections.items():
            for _ in range(3 if body else 0):
                at, value = rng.randrange(len(body)), rng.randrange(256)
                rewrite_sections(news_index.path, name, _set_byte(section, at, value))
                try:
                    with Searcher(Index.open(news_index.path)) as searcher:
                        _read_everything(searcher)
                    check_index(news_index.path)
                except CorruptIndexError as exc:  # the reader cannot tell which file lies: one of the segment's
                    assert name.split(".")[0] in str(exc), (section, at, exc)
                cases += 1
                (news_index.path / name).write_bytes(pristine[name])
                manifest.write_bytes(manifest_bytes)
    assert cases > 100
