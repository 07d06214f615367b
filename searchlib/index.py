"""Index: generations of segments, committed atomically (IndexWriter, in
:mod:`searchlib.writer`, makes them).

An index is a directory of immutable segments plus one manifest per commit
(``manifest-<generation>.json``). The manifest with the highest generation *is* the
index: a commit writes the new segment's files, fsyncs them, and then writes the next
manifest through a temporary file and a rename. A process killed at any instant leaves
either the old manifest or the new one, each naming only complete files.

>>> import tempfile
>>> from searchlib.schema import Schema, ID, TEXT
>>> path = tempfile.mkdtemp()
>>> index = Index.create(path, Schema(path=ID(), body=TEXT()))
>>> with index.writer() as writer:
...     writer.add_document(path="a.txt", body="direct talks")
>>> Index.open(path).doc_count
1
"""

from __future__ import annotations

import os
import time

from searchlib import codec
from searchlib.errors import AnalyzerError, CorruptIndexError, IndexNotFoundError, SchemaError, SearchlibError
from searchlib.schema import Schema, analysis_chains, recorded_chains, spec_key
from searchlib.similarities import BM25Settings
from searchlib.segment.meta import SegmentMeta
from searchlib.segment.reader import SegmentReader
from searchlib.storage import DEFAULT_WRITER_TIMEOUT, LOCK_NAME, TEMP_SUFFIX, Directory

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType
    from typing import Any

    from pathlib import Path

    from searchlib.writer import IndexWriter

#: How often opening retries when a concurrent commit removes the files it was reading.
OPEN_ATTEMPTS = 5

#: Files a fresh index directory may already hold (a placeholder kept in version control).
#: What a writer buffers before it writes a segment (see IndexWriter.flush).
DEFAULT_RAM_BUFFER_MB = 64.0

PLACEHOLDER_FILES = frozenset({".gitkeep", ".keep", "README", "README.md"})


class Index:
    """A handle on an index directory as of one generation (a snapshot)."""

    def __init__(self, directory: Directory, manifest: dict[str, Any], manifest_path: str) -> None:
        self.directory = directory
        try:
            self.generation: int = _whole_number(manifest["generation"])
            #: The core chains of the index's built-in analyzers, by spec key (see
            #: :func:`~searchlib.schema.analysis_chains`; none in an index written before).
            self.chains, recorded = recorded_chains(manifest.get("chains"))
            self.schema = Schema.from_json(manifest["schema"], recorded)
            self.scoring = BM25Settings.from_json(manifest.get("scoring"))
            segments = manifest["segments"]
            if not isinstance(segments, list):
                raise TypeError("segments is not a list")
            self.segments = [SegmentMeta.from_json(s, manifest_path) for s in segments]
            self.next_segment: int = _whole_number(manifest.get("next_segment", len(self.segments)))
        except (KeyError, TypeError, ValueError, SchemaError) as exc:
            raise CorruptIndexError(manifest_path, f"malformed manifest ({exc})") from None
        checked: set[str] = set(self.chains)  # many fields share a few specs; recorded ones were checked
        for name, definition in self.schema.fields.items():  # before any analyzer is built from them
            for spec in (definition.analyzer_spec, definition.query_analyzer_spec):
                key = spec_key(spec)
                if key in checked:
                    continue
                from searchlib.analysis import check_analyzer_spec  # a spec without a recorded chain

                try:
                    check_analyzer_spec(spec)
                except AnalyzerError as exc:
                    raise CorruptIndexError(manifest_path, f"field {name!r}: {exc}") from None
                checked.add(key)

    @property
    def path(self) -> Path:
        return self.directory.path

    @property
    def doc_count(self) -> int:
        """Live (not deleted) documents in this generation."""
        return sum(s.live_count for s in self.segments)

    @property
    def deleted_count(self) -> int:
        return sum(s.deleted_count for s in self.segments)

    @classmethod
    def create(cls, path: str | os.PathLike[str], schema: Schema, *, scoring: BM25Settings | None = None) -> Index:
        """Create an empty index in ``path`` (made if missing; must hold no other files).

        ``scoring`` sets the BM25 variant, k1 and b its searchers rank with by default.

        Creation is atomic: the index exists once its first manifest is renamed into
        place. A creation killed before that leaves only files of searchlib's own (the
        lock, temporary files), which count as an empty directory: creating again
        removes them under the lock and succeeds.
        """
        from searchlib.failpoints import failpoint  # the crash tests' hooks: creating loads them

        directory = Directory(path)
        _refuse_plain_file(directory)
        if directory.exists():
            _refuse_to_create_in(directory)
        directory.create()
        failpoint("create.after_mkdir")
        with directory.lock():
            failpoint("create.after_lock")
            _refuse_to_create_in(directory)  # another process may have created it meanwhile
            _remove_leftovers(directory, None)
            body = {
                "generation": 1, "schema": schema.to_json(), "chains": analysis_chains(schema), "segments": [],
                "next_segment": 0, "scoring": (scoring or BM25Settings()).to_json(),
            }
            directory.write_file(codec.manifest_name(1), [codec.encode_manifest(body)])
            failpoint("create.after_manifest")
        return cls.open(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Index:
        """Open the newest committed generation of the index in ``path``."""
        directory = Directory(path)
        for attempt in range(OPEN_ATTEMPTS):
            try:
                return cls._open_newest(directory)
            except (FileNotFoundError, IndexNotFoundError):
                # A commit renamed and deleted manifests while we listed or read them (a
                # directory listing is not atomic): look again, unless it is plainly absent.
                if attempt == OPEN_ATTEMPTS - 1 or not directory.exists():
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    @classmethod
    def _open_newest(cls, directory: Directory) -> Index:
        _refuse_plain_file(directory)
        if not directory.exists():
            path = directory.path
            raise IndexNotFoundError(
                f"no index at {path}: the directory does not exist; "
                f"create one with: searchlib index FILES... --index {path}"
            )
        generation = latest_generation(directory)
        if generation is None:
            path = directory.path
            what = (
                "holds no index yet (only files an interrupted creation left)"
                if _interrupted_creation(directory)
                else "is not a searchlib index (no manifest-<N>.json in it)"
            )
            raise IndexNotFoundError(f"{path} {what}; create one with: searchlib index FILES... --index {path}")
        name = codec.manifest_name(generation)
        manifest_path = directory.file_path(name)
        return cls(directory, codec.read_manifest(directory, name), manifest_path)

    @classmethod
    def exists(cls, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` holds a searchlib index."""
        directory = Directory(path)
        return directory.exists() and latest_generation(directory) is not None

    def reopen(self) -> Index:
        """The newest generation of the same index."""
        return Index.open(self.directory.path)

    def readers(self) -> list[SegmentReader]:
        """Open every segment of this generation."""
        return [SegmentReader(self.directory, meta) for meta in self.segments]

    @classmethod
    def open_snapshot(cls, path: str | os.PathLike[str]) -> tuple[Index, list[SegmentReader]]:
        """Open the newest generation and all its segments, as one consistent snapshot.

        A commit deletes the files of generations older than its predecessor; if that
        happens between reading a manifest and mapping its files (found missing by the
        size check, or by the core's open just after it), the newer generation is opened
        instead. Damage that is not explained by a newer commit is raised.
        """
        for attempt in range(OPEN_ATTEMPTS):
            index = cls.open(path)
            try:
                return index, index.readers()
            except CorruptIndexError:
                if attempt == OPEN_ATTEMPTS - 1 or latest_generation(index.directory) == index.generation:
                    raise
        raise AssertionError("unreachable")

    def writer(
        self,
        *,
        timeout: float = DEFAULT_WRITER_TIMEOUT,
        ram_buffer_mb: float = DEFAULT_RAM_BUFFER_MB,
        merge_factor: int | None = None,
        threads: int = 1,
        lock_timeout: float | None = None,
    ) -> IndexWriter:
        """Take the write lock and return a writer on the newest generation.

        ``timeout`` is how many seconds to wait while another writer holds the lock
        (saying so once through the ``searchlib.locking`` logger) before raising
        :class:`~searchlib.errors.LockError` naming the holder; 0 fails at once.
        ``lock_timeout`` is its earlier name, still accepted. ``ram_buffer_mb`` bounds
        the documents buffered in memory (a segment is written when it is passed);
        ``merge_factor`` is how many segments of a size level are merged into one (by
        default the merge policy's ``DEFAULT_MERGE_FACTOR``, 10);
        ``threads`` is how many cores analyze and invert documents (see
        :class:`IndexWriter`).
        """
        from searchlib.segment.policy import DEFAULT_MERGE_FACTOR  # the writing side loads only when asked for
        from searchlib.writer import IndexWriter

        return IndexWriter(
            self.directory, timeout=timeout if lock_timeout is None else lock_timeout, ram_buffer_mb=ram_buffer_mb,
            merge_factor=DEFAULT_MERGE_FACTOR if merge_factor is None else merge_factor, threads=threads,
        )


def _whole_number(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _refuse_plain_file(directory: Directory) -> None:
    if os.path.exists(directory.root) and not directory.exists():
        raise IndexNotFoundError(f"{directory.path} is a file, not an index directory")


def _refuse_to_create_in(directory: Directory) -> None:
    """Refuse to create an index in a directory holding one, or holding anything but
    placeholders and what an interrupted creation or writer of searchlib's left."""
    if latest_generation(directory) is not None:
        raise SearchlibError(f"{directory.path} already holds a searchlib index; open it instead")
    foreign = [name for name in os.listdir(directory.path) if not _is_leftover_or_placeholder(name)]
    if foreign:
        raise IndexNotFoundError(
            f"{directory.path} is not empty ({', '.join(sorted(foreign)[:3])}...) and is not a "
            "searchlib index; choose an empty or new directory"
        )


def _interrupted_creation(directory: Directory) -> bool:
    """Whether a directory without a manifest holds leftovers of searchlib's and
    nothing else (placeholders aside)."""
    names = os.listdir(directory.root)
    return all(_is_leftover_or_placeholder(name) for name in names) and any(
        name not in PLACEHOLDER_FILES for name in names
    )


def _is_leftover_or_placeholder(name: str) -> bool:
    """Whether a directory without a manifest may hold ``name`` and still count as empty."""
    return name in PLACEHOLDER_FILES or name == LOCK_NAME or name.endswith(TEMP_SUFFIX)


def latest_generation(directory: Directory) -> int | None:
    generations = [
        g for g in (codec.manifest_generation(n) for n in directory.list_files()) if g is not None
    ]
    return max(generations, default=None)


def _remove_leftovers(directory: Directory, base: Index | None) -> None:
    """Delete what a writer (or a creation) that died mid-session left: temporary files
    and directories (spills, worker scratch space), and segment files that neither the
    newest generation nor the one before it names (readers only ever open those two).
    Called under the lock; ``base`` is None for a directory that holds no index yet."""
    keep = {LOCK_NAME}
    for generation in (base.generation, base.generation - 1) if base is not None else ():
        name = codec.manifest_name(generation)
        keep.add(name)
        try:
            manifest = codec.read_manifest(directory, name)
        except (OSError, SearchlibError):
            continue
        for segment in manifest.get("segments", []):
            keep.update(segment.get("files", {}))
            if segment.get("deletes"):
                keep.add(segment["deletes"])
    with os.scandir(directory.path) as entries:
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if _is_scratch(name):
                    import shutil  # rarely needed; kept off the import path of searches

                    shutil.rmtree(entry.path, ignore_errors=True)  # a dead writer's workers' space
            elif name.endswith(TEMP_SUFFIX) or (name.startswith("seg-") and name not in keep):
                directory.delete(name)


def _is_index_file(name: str) -> bool:
    """Whether ``name`` is a file searchlib writes (so clean-up may remove it)."""
    return codec.manifest_generation(name) is not None or name.startswith("seg-")


def _is_scratch(name: str) -> bool:
    """Whether ``name`` is a worker's scratch directory (see :mod:`searchlib.parallel`)."""
    from searchlib.parallel import SCRATCH_PREFIX, SCRATCH_SUFFIX

    return name.startswith(SCRATCH_PREFIX) and name.endswith(SCRATCH_SUFFIX)
