"""Indexing on several cores: worker processes each turn a batch of documents into a segment.

Python runs one thread at a time, so the analysis and inversion of a batch go to a
worker process (forked, so registered analyzers come along). Each worker writes a
complete segment under a name the writer chose, and the writer publishes the segments
in the order the batches were given at its next commit, where the merge policy folds
them into the index like any flushed segment. Documents therefore keep their order.

Each worker has its own analyzer cache, so the words every batch shares are stemmed
once per worker: the speed-up is somewhat less than the number of cores.

Workers never outlive the writer. They do not hold its lock (storage closes the lock's
descriptor in every forked child), they die with it (``PR_SET_PDEATHSIG`` on Linux,
else a thread that watches the parent's PID), and they write only into a scratch
directory ``parallel-*.tmp`` of the index: the writer moves each finished segment into
the index itself. A worker left running after its writer died can therefore never
touch a file a later writer uses: the next writer deletes the scratch directory with
the other leftovers.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any

from searchlib import failpoints
from searchlib.errors import SchemaError
from searchlib.schema import FieldAnalyzers, Schema
from searchlib.segment import SegmentMeta, SegmentWriter
from searchlib.storage import Directory

if TYPE_CHECKING:
    from concurrent.futures import Future

#: Documents a worker turns into one segment.
DEFAULT_BATCH_SIZE = 5_000

#: Where the scratch directories of worker processes are made, and how they are named.
SCRATCH_PREFIX, SCRATCH_SUFFIX = "parallel-", ".tmp"

#: How often a worker without PR_SET_PDEATHSIG looks whether its writer still lives (s).
PARENT_POLL_SECONDS = 0.2

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

#: Whether workers ask Linux to kill them with their parent (else they watch its PID).
USE_PDEATHSIG = sys.platform.startswith("linux")


def _die_with_parent(parent: int) -> None:
    """Worker initializer: arrange for this process to be killed when ``parent`` (the
    writer) dies, however it dies, and make the writer's failpoints inactive here."""
    failpoints.disarm()
    armed = False
    if USE_PDEATHSIG:
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the writer died before the signal was armed
        os.kill(os.getpid(), signal.SIGKILL)
    if not armed:
        import threading

        threading.Thread(target=_watch_parent, args=(parent,), name="searchlib-watch-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Kill this worker once its parent is gone (the process is then re-parented)."""
    import time

    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


def _build_segment(path: str, schema_json: dict[str, Any], name: str, documents: list[Mapping[str, Any]]) -> dict[str, Any]:
    """In a worker: write ``documents`` as segment ``name`` into the scratch directory ``path``.

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
    processes, yielded in the order of the documents, each moved into ``directory``.

    At most two batches per worker are in flight, so memory does not grow with the
    number of documents. The worker processes are forked by the calling thread and
    killed if it dies (``PR_SET_PDEATHSIG`` follows the forking thread).
    """
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be at least 1, got {workers} and {batch_size}")
    remaining = iter(documents)
    batches = iter(lambda: list(islice(remaining, batch_size)), [])
    schema_json = schema.to_json()
    # Imported here: every searcher imports this module, few index on several cores.
    import multiprocessing
    import shutil
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    scratch = Directory(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, suffix=SCRATCH_SUFFIX, dir=directory.path))
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            in_flight: deque[tuple[int, Future[dict[str, Any]]]] = deque()
            submitted = 0
            for batch in batches:
                future = pool.submit(_build_segment, str(scratch.path), schema_json, new_name(), batch)
                in_flight.append((submitted, future))
                submitted += len(batch)
                if len(in_flight) >= 2 * workers:
                    yield from _finish_oldest(directory, scratch, in_flight)
            while in_flight:
                yield from _finish_oldest(directory, scratch, in_flight)
    finally:
        shutil.rmtree(scratch.path, ignore_errors=True)


def _finish_oldest(
    directory: Directory, scratch: Directory, in_flight: deque[tuple[int, Future[dict[str, Any]]]]
) -> Iterator[SegmentMeta]:
    """Wait for the oldest batch, move its segment into the index and yield it. If it
    refused a document, the documents before it are kept (yielded), later batches are
    discarded, and the error names the document by its place among all of them."""
    start, future = in_flight.popleft()
    failpoints.failpoint("parallel.wait")
    result = future.result()
    if result["meta"]:
        for file_name in result["meta"]["files"]:
            os.replace(scratch.file_path(file_name), directory.file_path(file_name))
        directory.sync()
        yield SegmentMeta.from_json(result["meta"], str(directory.path))
    if result["error"] is not None:
        _discard(in_flight)
        raise SchemaError(f"document {start + result['failed_at']}: {result['error']}")


def _discard(in_flight: deque[tuple[int, Future[dict[str, Any]]]]) -> None:
    """Cancel the batches after a refused document; what their workers wrote stays in
    the scratch directory, which is removed with it."""
    while in_flight:
        _, future = in_flight.popleft()
        if not future.cancel():
            future.result()
