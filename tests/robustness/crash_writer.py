"""A writer for the crash tests: commits numbered batches until it is killed.

Usage: python crash_writer.py INDEX_DIR FIRST_BATCH SEED

Once imported it prints ``ready``; before each commit it prints ``committing K``, after it returns ``committed K`` (flushed
at once), so the parent knows which batches a kill may have caught. Batch K holds the
documents ``K-0`` .. ``K-19``; a small RAM buffer and merge factor make flushes and
merges happen within the run, so kills land in them too.
"""

from __future__ import annotations

import random
import sys

from searchlib import Index
from searchlib.analysis import get_analyzer

BATCH = 20


def main() -> None:
    path, first, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    words = "direct talks ceasefire aid gaza envoy truce border market shares rose fell".split()
    index = Index.open(path)
    get_analyzer("standard").terms("warming up")  # everything imported before the clock starts
    print("ready", flush=True)
    batch = first
    while True:
        with index.writer(lock_timeout=5.0, ram_buffer_mb=0.02, merge_factor=3) as writer:
            for i in range(BATCH):
                body = " ".join(rng.choice(words) for _ in range(rng.randint(20, 200)))
                writer.add_document(id=f"{batch}-{i}", body=body)
            if batch % 4 == 3:  # now and then, replace a document of an earlier batch
                writer.update_document(id=f"{batch - 1}-0", body="replaced " + body)
            print(f"committing {batch}", flush=True)
        print(f"committed {batch}", flush=True)
        batch += 1


if __name__ == "__main__":
    main()
