"""A writer for the crash tests: commits numbered batches until it is killed.

Usage: python crash_writer.py INDEX_DIR FIRST_BATCH SEED

Once imported it prints ``ready``; before each commit it prints ``committing K``, after
it returns ``committed K`` (flushed at once), so the parent knows which batches a kill
may have caught. What batch K does is :func:`plan` (K), a function of K alone, so the
parent can tell which documents each commit leaves (:func:`expected_ids`): it adds the
documents ``K-0`` .. ``K-19`` (one by one, or with ``add_documents(workers=2)``), and
may update a document of an earlier batch, delete some by ID or a whole earlier batch by
query, and optimize. A small RAM buffer and merge factor make flushes and merges happen
within the run, so kills land in them too. The index's schema is :data:`SCHEMA`.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from functools import lru_cache

from searchlib import ID, KEYWORD, TEXT, Index, Schema
from searchlib.analysis import get_analyzer

BATCH = 20
SCHEMA = Schema(id=ID(), batch=KEYWORD(), body=TEXT("standard"))
WORDS = "direct talks ceasefire aid gaza envoy truce border market shares rose fell".split()


@dataclass(frozen=True)
class Batch:
    """What one batch does before its commit."""

    number: int
    parallel: bool = False  # add its documents with add_documents(workers=2)
    update: str | None = None  # the ID of an earlier document to replace (or add back)
    delete_ids: tuple[str, ...] = ()  # IDs deleted by delete_by_term
    delete_batch: int | None = None  # an earlier batch deleted by delete_by_query
    optimize: bool = False
    ids: tuple[str, ...] = field(default=())

    def documents(self, rng: random.Random) -> list[dict[str, str]]:
        return [
            {"id": doc_id, "batch": str(self.number),
             "body": " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 200)))}
            for doc_id in self.ids
        ]


def plan(number: int) -> Batch:
    """Batch ``number``'s operations, the same in every process."""
    rng = random.Random(number * 7919 + 17)
    earlier = (lambda: rng.randrange(number)) if number else None
    return Batch(
        number=number,
        parallel=rng.random() < 0.3,
        update=f"{earlier()}-{rng.randrange(BATCH)}" if earlier and rng.random() < 0.3 else None,
        delete_ids=tuple(f"{earlier()}-{rng.randrange(BATCH)}" for _ in range(3)) if earlier and rng.random() < 0.25 else (),
        delete_batch=earlier() if earlier and rng.random() < 0.1 else None,
        optimize=rng.random() < 0.05,
        ids=tuple(f"{number}-{i}" for i in range(BATCH)),
    )


@lru_cache(maxsize=None)
def expected_ids(last_batch: int) -> frozenset[str]:
    """The live documents once batches 0 .. ``last_batch`` are committed."""
    if last_batch < 0:
        return frozenset()
    live = set(expected_ids(last_batch - 1))
    batch = plan(last_batch)
    live.update(batch.ids)
    if batch.update is not None:
        live.add(batch.update)  # an update of a deleted document adds it back
    live.difference_update(batch.delete_ids)
    if batch.delete_batch is not None:
        live = {doc_id for doc_id in live if not doc_id.startswith(f"{batch.delete_batch}-")}
    return frozenset(live)


def run_batch(index: Index, batch: Batch, rng: random.Random) -> None:
    """Do ``batch``'s work in one writer session and commit it."""
    with index.writer(lock_timeout=5.0, ram_buffer_mb=0.02, merge_factor=3) as writer:
        documents = batch.documents(rng)
        if batch.parallel:
            writer.add_documents(documents, workers=2, batch_size=5)
        else:
            for document in documents:
                writer.add_document(document)
        if batch.update is not None:
            writer.update_document(id=batch.update, batch=batch.update.split("-")[0], body="replaced " + documents[0]["body"])
        for doc_id in batch.delete_ids:
            writer.delete_by_term("id", doc_id)
        if batch.delete_batch is not None:
            writer.delete_by_query(f"batch:{batch.delete_batch}")
        if batch.optimize:
            writer.optimize()
        print(f"committing {batch.number}", flush=True)
    print(f"committed {batch.number}", flush=True)


def main() -> None:
    path, first, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    index = Index.open(path)
    get_analyzer("standard").terms("warming up")  # everything imported before the clock starts
    print("ready", flush=True)
    batch = first
    while True:
        run_batch(index, plan(batch), rng)
        batch += 1


if __name__ == "__main__":
    main()
