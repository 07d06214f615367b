"""An embedded application at length: threads search through a SearcherManager while
other threads feed a QueuedWriter, whose commits refresh the manager.

    python tests/stress/embedding_stress.py [--seconds 60] [--searchers 4] [--feeders 4] [--switch 0.0001]

Each feeder owns a set of documents and rewrites each of them in rounds, stamped with
the round, then calls ``commit()``; an update is applied whole between commits, so a
search for a feeder's word must find each of its documents exactly once (none missing,
none twice), each never at a round older than one already seen (a manager never goes
back). The interpreter switches
threads every ``--switch`` seconds (5 ms normally) so that threads are interrupted
inside the manager's and the queue's bookkeeping. Prints searches, commits, errors.
Not part of the default test command (``tests/unit/test_manager.py`` and
``test_queued_writer.py`` are).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import ID, KEYWORD, NUMERIC, TEXT, Index, QueuedWriter, Schema, SearcherManager  # noqa: E402
from searchlib.query import Term  # noqa: E402

#: Documents each feeder owns.
GROUP = 5


def main() -> None:
    options = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    options.add_argument("--seconds", type=float, default=60.0)
    options.add_argument("--searchers", type=int, default=4)
    options.add_argument("--feeders", type=int, default=4)
    options.add_argument("--switch", type=float, default=0.0001, help="the interpreter's switch interval")
    args = options.parse_args()
    sys.setswitchinterval(args.switch)
    path = Path(tempfile.mkdtemp()) / "index"
    index = Index.create(path, Schema(id=ID(), body=TEXT(), feeder=KEYWORD(), round=NUMERIC("int")))
    manager = SearcherManager(index)
    writer = QueuedWriter(index, commit_every=200, commit_interval=0.2, on_commit=lambda _: manager.maybe_refresh())
    for number in range(args.feeders):  # round 0, whole before any search
        for item in range(GROUP):
            writer.add_document(id=f"f{number}-{item}", body=f"feeder{number} words", feeder=f"f{number}", round=0)
    writer.commit()
    stop = threading.Event()
    errors: list[str] = []
    searches = [0] * args.searchers
    rounds = [0] * args.feeders

    def feed(number: int) -> None:
        try:
            while not stop.is_set():
                rounds[number] += 1
                for item in range(GROUP):
                    writer.update_document(id=f"f{number}-{item}", body=f"feeder{number} words",
                                           feeder=f"f{number}", round=rounds[number])
                writer.commit()
        except BaseException:
            errors.append(traceback.format_exc())
            stop.set()

    def search(number: int) -> None:
        seen: dict[str, int] = {}
        try:
            while not stop.is_set():
                feeder = searches[number] % args.feeders
                with manager.searcher() as searcher:
                    results = searcher.search(Term("body", f"feeder{feeder}"), limit=GROUP + 1)
                    stamps = {hit["id"]: hit["round"] for hit in results}
                searches[number] += 1
                assert results.total == GROUP == len(stamps), f"feeder {feeder}: {results.total} hits, {stamps}"
                for key, stamp in stamps.items():
                    assert stamp >= seen.get(key, 0), f"{key}: round {stamp} after {seen.get(key)}"
                    seen[key] = stamp
        except BaseException:
            errors.append(traceback.format_exc())
            stop.set()

    threads = [threading.Thread(target=feed, args=(n,)) for n in range(args.feeders)]
    threads += [threading.Thread(target=search, args=(n,)) for n in range(args.searchers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(args.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    writer.close()
    manager.close()
    elapsed = time.monotonic() - started
    print(f"{sum(searches)} searches and {sum(rounds)} rounds of {GROUP} updates in {elapsed:.1f} s; "
          f"generation {writer.generation}; {len(errors)} errors")
    for error in errors[:3]:
        print(error)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
