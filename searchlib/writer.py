"""IndexWriter: adds, updates and deletes documents and commits them as a new generation.

One writer at a time holds an index's lock. Documents are analyzed and inverted by the
compiled core in memory buffers (one per thread), written as segments when a buffer is
full or on commit, and a commit writes the next manifest atomically, then merges small
segments as the merge policy says. Kept apart from :mod:`searchlib.index` so that opening
an index to search it never loads the writing side (inversion, merges, worker processes).
"""

from __future__ import annotations


from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from searchlib import codec
from searchlib.errors import SchemaError, SearchlibError
from searchlib.failpoints import failpoint
from searchlib.index import DEFAULT_RAM_BUFFER_MB, Index, _is_index_file, _remove_leftovers
from searchlib.locking import WriteLock
from searchlib.parallel import DEFAULT_BATCH_SIZE, build_segments
from searchlib.parser import QueryParser
from searchlib.query import Query, ReaderTerms, ScoringContext
from searchlib.schema import Field, FieldAnalyzers, analysis_chains
from searchlib.scoring import CollectionStats
from searchlib.segment import MAX_FIELD_TOKENS, SegmentMeta, SegmentReader, SegmentWriter, encode_deletes
from searchlib.segment.merge import merge_segments
from searchlib.segment.policy import DEFAULT_MERGE_FACTOR, choose_merges
from searchlib.segment.writer import BATCH_DOCS
from searchlib.storage import DEFAULT_WRITER_TIMEOUT, LOCK_NAME, Directory

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import numpy as np


class IndexWriter:
    """Adds, updates and deletes documents; :meth:`commit` makes them visible.

    Use it as a context manager: it commits when the block ends normally and discards
    the uncommitted changes when the block raises.

    Only one writer may hold an index at a time; a second one waits ``timeout`` seconds
    and then raises :class:`~searchlib.errors.LockError` naming the holder.

    With ``threads`` above 1, documents are dealt out in batches to that many buffers,
    each inverted by the compiled core in a thread of its own (the core releases the
    GIL), so one process indexes on that many cores; ``ram_buffer_mb`` bounds all the
    buffers together, and a flush writes one segment per buffer. Documents are then
    spread over those segments, so their order in the index (the order in which equal
    scores are listed) is no longer the order they were added in.
    """

    def __init__(
        self,
        directory: Directory,
        *,
        timeout: float = DEFAULT_WRITER_TIMEOUT,
        ram_buffer_mb: float = DEFAULT_RAM_BUFFER_MB,
        merge_factor: int = DEFAULT_MERGE_FACTOR,
        threads: int = 1,
    ) -> None:
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ValueError(f"threads must be a whole number of at least 1, got {threads!r}")
        if not ram_buffer_mb > 0:
            raise ValueError(f"ram_buffer_mb must be positive, got {ram_buffer_mb}")
        if merge_factor < 2:
            raise ValueError(f"merge_factor must be at least 2, got {merge_factor}")
        self.directory = directory
        self._lock: WriteLock | None = directory.lock(timeout)
        try:
            base = Index.open(directory.path)
            _remove_leftovers(directory, base)
        except BaseException:
            self._release()
            raise
        self.generation = base.generation
        self.schema = base.schema
        self.scoring = base.scoring
        self.ram_buffer_bytes = int(ram_buffer_mb * 1e6)
        self.merge_factor = merge_factor
        self._segments = list(base.segments)
        self._flushed: list[SegmentMeta] = []  # written by this writer, not yet committed
        self._optimize = False
        self._next_segment = base.next_segment
        self._analyzers = FieldAnalyzers(self.schema)
        self._pending_deletes: dict[str, np.ndarray] = {}
        self._readers: dict[str, SegmentReader] = {}
        self._threads = threads
        # One thread per buffer when there are several: batches of one buffer stay in order.
        self._executors: list[Executor] = []
        if threads > 1:
            from concurrent.futures import ThreadPoolExecutor  # not on `searchlib query`'s path

            self._executors = [ThreadPoolExecutor(1, f"searchlib-index-{i}") for i in range(threads)]
        self._new_buffers()

    def _new_buffers(self) -> None:
        """Empty buffers (one per thread) and their buffered deletions."""
        executors: list[Executor] | list[None] = self._executors or [None]
        self._buffers = [SegmentWriter(self.schema, self._analyzers, executor) for executor in executors]
        self._buffers_deleted: list[set[int]] = [set() for _ in self._buffers]
        self._current = 0
        self._buffer = self._buffers[0]

    def _next_buffer(self) -> None:
        """Deal the next batch of documents to the next buffer (with several threads)."""
        if len(self._buffers) > 1 and self._buffer.doc_count % BATCH_DOCS == 0:
            self._current = (self._current + 1) % len(self._buffers)
            self._buffer = self._buffers[self._current]

    # --- changes -----------------------------------------------------------------

    def add_field(self, name: str, field: Field) -> None:
        """Add a field to the schema; it is saved with the next commit."""
        self._check_open()
        self.schema.add_field(name, field)

    def add_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Add a document given as a mapping or as keyword arguments (field=value)."""
        self._check_open()
        self._buffer.add({**(document or {}), **fields})
        self._next_buffer()
        self._flush_if_full()

    def add_documents(
        self, documents: Iterable[Mapping[str, Any]], *, workers: int = 1, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> int:
        """Add many documents in order; return how many.

        With ``workers`` above 1, batches of ``batch_size`` documents are analyzed and
        written as segments by that many worker processes (see :mod:`searchlib.parallel`),
        published by the next commit. A bad document stops the call with an error naming
        it; the documents before it stay added.
        """
        self._check_open()
        count = 0
        if workers == 1:
            for document in documents:
                try:
                    self.add_document(document)
                except SchemaError as exc:
                    raise SchemaError(f"document {count}: {exc}") from None
                count += 1
            return count
        self.flush()  # what is buffered comes first, keeping the documents' order
        for meta in build_segments(
            self.directory, self.schema, documents, self._new_segment_name, workers=workers, batch_size=batch_size
        ):
            self._flushed.append(meta)
            count += meta.doc_count
        return count

    def update_document(self, document: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Replace the document with the same ID (or add it): one commit shows the change."""
        self._check_open()
        values = {**(document or {}), **fields}
        id_field, key = self._update_key(values)
        checked = self._buffer.check(values)  # a rejected new version keeps the old one
        self.delete_by_term(id_field, key)
        self._buffer.add_checked(checked)
        self._next_buffer()
        self._flush_if_full()

    def _update_key(self, values: Mapping[str, Any]) -> tuple[str, str]:
        """The ID field and the value a new version of a document replaces by."""
        id_field = self.schema.id_field
        if id_field is None:
            raise SchemaError("update_document needs an ID field in the schema; use add_document")
        key = values.get(id_field)
        if not isinstance(key, str):
            raise SchemaError(f"update_document needs a string value for the ID field {id_field!r}")
        return id_field, key

    def check_document(self, document: Mapping[str, Any], *, update: bool = False) -> None:
        """Raise :class:`~searchlib.errors.SchemaError` if :meth:`add_document` (or, with
        ``update``, :meth:`update_document`) would refuse ``document``; buffer nothing.

        It only reads the schema, so another thread may call it while this writer's own
        thread adds documents: a queued writer checks each document in the thread that
        hands it over, where a mistake can still be raised to its caller.
        """
        if update:
            self._update_key(document)
        self._buffer.check(document)

    def check_delete(self, field_name: str, value: str) -> None:
        """Raise :class:`~searchlib.errors.SchemaError` if :meth:`delete_by_term` would
        refuse these arguments; like :meth:`check_document`, safe from another thread."""
        definition = self.schema[field_name]
        if definition.kind not in ("id", "keyword"):
            raise SchemaError(
                f"delete_by_term takes an ID or KEYWORD field; {field_name!r} is {definition.kind}"
            )
        if not isinstance(value, str):
            raise SchemaError(f"delete_by_term takes a string value, got {type(value).__name__}")

    def delete_by_term(self, field_name: str, value: str) -> int:
        """Delete every document whose ID or KEYWORD field equals ``value``.

        Returns how many documents this deleted (committed and buffered ones).
        """
        self._check_open()
        self.check_delete(field_name, value)
        deleted = 0
        for buffer, buffer_deleted in zip(self._buffers, self._buffers_deleted):
            for doc_id in buffer.docs_with_exact_term(field_name, value):
                if doc_id not in buffer_deleted:
                    buffer_deleted.add(doc_id)
                    deleted += 1
        for meta in [*self._segments, *self._flushed]:
            reader = self._reader(meta)
            postings = reader.postings(field_name, value)
            if postings is None:
                continue
            mask = self._pending_deletes.get(meta.name)
            if mask is None:
                mask = self._pending_deletes[meta.name] = ~reader.live
            newly = postings.docs[~mask[postings.docs]]
            mask[newly] = True
            deleted += len(newly)
        return deleted

    def delete_by_query(self, query: Query | str) -> int:
        """Delete every document matching ``query`` (a query tree, or a query string
        parsed over the default fields); returns how many this deleted.

        Buffered documents are flushed first, so they are matched like committed ones.
        """
        self._check_open()
        tree = QueryParser(self.schema, analyzers=self._analyzers).parse(query) if isinstance(query, str) else query
        self.flush()
        segments = [*self._segments, *self._flushed]
        tree = tree.rewrite(ReaderTerms(self._reader(meta) for meta in segments))  # patterns into terms
        # Matching only, scores unused; a range needs the schema to read its field's column.
        context = ScoringContext(CollectionStats(doc_count=1), schema=self.schema)
        deleted = 0
        for meta in segments:
            reader = self._reader(meta)
            docs = tree.matches(reader, context).docs
            mask = self._pending_deletes.get(meta.name)
            if mask is None:
                mask = self._pending_deletes[meta.name] = ~reader.live
            newly = docs[~mask[docs]]
            mask[newly] = True
            deleted += len(newly)
        return deleted

    def _reader(self, meta: SegmentMeta) -> SegmentReader:
        reader = self._readers.get(meta.name)
        if reader is None:
            reader = self._readers[meta.name] = SegmentReader(self.directory, meta)
        return reader

    # --- commit ------------------------------------------------------------------

    def _flush_if_full(self) -> None:
        held = sum(buffer.estimated_bytes() for buffer in self._buffers)
        tokens = max(buffer.token_count for buffer in self._buffers)
        if held >= self.ram_buffer_bytes or tokens >= MAX_FIELD_TOKENS // 2:
            self.flush()

    def flush(self) -> None:
        """Write the buffered documents as a segment, without publishing it yet.

        Called by itself when the buffer passes ``ram_buffer_mb``, which is what bounds
        a writer's memory: the segment is published by the next :meth:`commit`, or
        deleted by :meth:`abort`.
        """
        import numpy as np
        self._check_open()
        named = [
            (buffer, deleted, self._new_segment_name())
            for buffer, deleted in zip(self._buffers, self._buffers_deleted)
            if buffer.doc_count
        ]
        if not named:
            return
        if len(named) == 1:
            metas = [named[0][0].write(self.directory, named[0][2])]
        else:  # the buffers' segments are written at once, each in its buffer's thread
            for buffer, _, _ in named:
                buffer.send()  # the last batches first, inverted side by side
            for buffer, _, _ in named:
                buffer.settle()
            futures = [
                self._executors[self._buffers.index(buffer)].submit(buffer.write, self.directory, name)
                for buffer, _, name in named
            ]
            metas = [future.result() for future in futures]
        for (_, deleted, _), meta in zip(named, metas):
            if deleted:
                mask = np.zeros(meta.doc_count, dtype=bool)
                mask[np.fromiter(deleted, dtype=np.int64)] = True
                self._pending_deletes[meta.name] = mask
            self._flushed.append(meta)
        self._new_buffers()

    def optimize(self) -> None:
        """Merge the whole index into one segment (deleted documents dropped) at the next commit."""
        self._check_open()
        self._optimize = True

    def _new_segment_name(self) -> str:
        name = f"seg-{self._next_segment:08x}"
        self._next_segment += 1
        return name

    def commit(self) -> None:
        """Write buffered documents as a new segment and publish a new generation.

        Segments are merged by the merge policy (or all into one after :meth:`optimize`)
        before the generation is published, so a reader sees the merged index at once.
        """
        self._check_open()
        self.flush()
        segments = [self._apply_deletes(meta) for meta in [*self._segments, *self._flushed]]
        failpoint("commit.before_merge")
        segments = self._merge([s for s in segments if s.live_count > 0])
        failpoint("commit.before_manifest")
        self.generation += 1
        body = {
            "generation": self.generation,
            "schema": self.schema.to_json(),
            "chains": analysis_chains(self.schema, self._analyzers),
            "scoring": self.scoring.to_json(),
            "segments": [s.to_json() for s in segments],
            "next_segment": self._next_segment,
        }
        self.directory.write_file(codec.manifest_name(self.generation), [codec.encode_manifest(body)])
        failpoint("commit.after_manifest")
        previous = self._segments  # the previous generation; flushed segments were never in one
        self._segments = segments
        self._flushed = []
        self._optimize = False
        self._pending_deletes.clear()
        self._readers.clear()
        self._new_buffers()
        self._remove_unreferenced_files(previous)

    def _merge(self, segments: list[SegmentMeta]) -> list[SegmentMeta]:
        """Replace each group the merge policy picks (or, optimizing, all) by one segment."""
        if self._optimize:
            needs = len(segments) > 1 or any(s.deleted_count for s in segments)
            groups = [[s.name for s in segments]] if needs else []
        else:
            groups = choose_merges(segments, self.merge_factor)
        for group in groups:
            members = [s for s in segments if s.name in group]
            readers = [SegmentReader(self.directory, meta) for meta in members]
            merged = merge_segments(
                self.directory, self._new_segment_name(), self.schema, readers, [~r.live for r in readers]
            )
            failpoint("commit.after_merge")
            at = segments.index(members[0])
            segments = [s for s in segments if s.name not in group]
            if merged.doc_count:
                segments.insert(at, merged)
        return segments

    def _apply_deletes(self, meta: SegmentMeta) -> SegmentMeta:
        mask = self._pending_deletes.get(meta.name)
        if mask is None or int(mask.sum()) == meta.deleted_count:
            return meta
        return self._with_deletes(meta, mask)

    def _with_deletes(self, meta: SegmentMeta, deleted: np.ndarray) -> SegmentMeta:
        file_name = f"{meta.name}.{self.generation + 1}.del"
        self.directory.write_file(file_name, encode_deletes(deleted))
        return SegmentMeta(
            name=meta.name,
            doc_count=meta.doc_count,
            files=meta.files,
            deleted_count=int(deleted.sum()),
            deletes=file_name,
        )

    def _remove_unreferenced_files(self, previous: list[SegmentMeta]) -> None:
        """Delete the files that neither the new generation nor the one before it names.

        The previous generation is kept whole, so a reader that has just read its
        manifest can still open its files; open readers keep working regardless, since
        their files stay mapped until they are closed.
        """
        keep = {
            codec.manifest_name(self.generation),
            codec.manifest_name(self.generation - 1),
            LOCK_NAME,
        }
        for meta in [*self._segments, *previous]:
            keep.update(meta.files)
            if meta.deletes:
                keep.add(meta.deletes)
        for name in self.directory.list_files():
            if name not in keep and _is_index_file(name):
                self.directory.delete(name)
        self.directory.sync()

    def abort(self) -> None:
        """Discard everything since the last commit and release the lock."""
        for meta in self._flushed:
            for file_name in meta.files:
                self.directory.delete(file_name)
        self._flushed = []
        self._new_buffers()
        self._pending_deletes.clear()
        self._release()

    def close(self) -> None:
        """Commit pending changes and release the lock."""
        if self._lock is not None:
            try:
                self.commit()
            finally:
                self._release()

    def _release(self) -> None:
        for executor in self._executors:
            executor.shutdown(wait=True)
        self._executors = []
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _check_open(self) -> None:
        if self._lock is None or not self._lock.held:  # closed, or a forked copy of a writer
            raise SearchlibError("this writer is closed; open a new one with index.writer()")

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
