"""Indexing on several cores: worker processes each turn a batch of documents into a segment.

Python runs one thread at a time, so the analysis and inversion of a batch go to a
worker process (forked, so registered analyzers come along). Each worker writes a
complete segment under a name the writer chose, and the writer publishes the segments
in the order the batches were given at its next commit, where the merge policy folds
them into the index like any flushed segment. Documents therefore keep their order.

Each worker has its own analyzer cache, so the words every batch shares are stemmed
once per worker: the speed-up is somewhat less than the number of cores.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any

from searchlib.errors import SchemaError
from searchlib.schema import FieldAnalyzers, Schema
from searchlib.segment import SegmentMeta, SegmentWriter
from searchlib.storage import Directory

if TYPE_CHECKING:
    from concurrent.futures import Future

#: Documents a worker turns into one segment.
DEFAULT_BATCH_SIZE = 5_000


def _build_segment(path: str, schema_json: dict[str, Any], name: str, documents: list[Mapping[str, Any]]) -> dict[str, Any]:
    """In a worker: write ``documents`` as segment ``name``.

    Returns the segment's metadata as JSON (None if it holds nothing) and, if a document
    was refused, its place in the batch and the reason: the documents before it are
    still written, as ``add_document`` would have kept them.
    """
    schema = Schema.from_json(schema_json)
    writer = SegmentWriter(schema, FieldAnalyzers(schema))
    failed_at, error = None, None
    for number, document in enumerate(documents):
        try:
            writer.add(document)
        except SchemaError as exc:
            failed_at, error = number, str(exc)
            break
    meta = writer.write(Directory(path), name).to_json() if writer.doc_count else None
    return {"meta": meta, "failed_at": failed_at, "error": error}


def build_segments(
    directory: Directory,
    schema: Schema,
    documents: Iterable[Mapping[str, Any]],
    new_name: Callable[[], str],
    *,
    workers: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[SegmentMeta]:
    """Segments for ``documents`` in batches of ``batch_size``, built by ``workers``
    processes, yielded in the order of the documents.

    At most two batches per worker are in flight, so memory does not grow with the
    number of documents.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be at least 1, got {workers} and {batch_size}")
    remaining = iter(documents)
    batches = iter(lambda: list(islice(remaining, batch_size)), [])
    schema_json = schema.to_json()
    path = str(directory.path)
    # Imported here: every searcher imports this module, few index on several cores.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        in_flight: deque[tuple[int, Future[dict[str, Any]]]] = deque()
        submitted = 0
        for batch in batches:
            in_flight.append((submitted, pool.submit(_build_segment, path, schema_json, new_name(), batch)))
            submitted += len(batch)
            if len(in_flight) >= 2 * workers:
                yield from _finish_oldest(directory, in_flight)
        while in_flight:
            yield from _finish_oldest(directory, in_flight)


def _finish_oldest(directory: Directory, in_flight: deque[tuple[int, Future[dict[str, Any]]]]) -> Iterator[SegmentMeta]:
    """Wait for the oldest batch and yield its segment. If it refused a document, the
    documents before it are kept (yielded), later batches are discarded, and the error
    names the document by its place among all of them."""
    start, future = in_flight.popleft()
    result = future.result()
    if result["meta"]:
        yield SegmentMeta.from_json(result["meta"], str(directory.path))
    if result["error"] is not None:
        _discard(directory, in_flight)
        raise SchemaError(f"document {start + result['failed_at']}: {result['error']}")


def _discard(directory: Directory, in_flight: deque[tuple[int, Future[dict[str, Any]]]]) -> None:
    """Cancel the batches after a refused document, deleting what their workers wrote."""
    while in_flight:
        _, future = in_flight.popleft()
        if future.cancel():
            continue
        meta = future.result().get("meta")
        for file_name in (meta or {}).get("files", {}):
            directory.delete(file_name)
