"""SearcherManager: searches on a generation finish while a newer one is swapped in, and
each searcher closes when its last user gives it back.

The documents prove which generation a result came from: every commit rewrites all of
them with the number of the generation it makes, so a search that sees exactly
:data:`DOCS` hits, each stamped with its searcher's generation, saw one whole commit
and nothing of any other.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

import pytest

from searchlib import ID, STORED, TEXT, Index, Schema, SearcherManager, SearchlibError
from searchlib.query import Term
from searchlib.searcher import Searcher

DOCS = 3
QUERY = Term("body", "common")


def commit_generation(index: Index) -> int:
    """Rewrite every document stamped with the generation this commit makes; return it."""
    with index.writer(timeout=30) as writer:
        generation = writer.generation + 1
        for number in range(DOCS):
            writer.update_document(id=f"doc-{number}", body=f"common words g{generation}", gen=generation)
    return generation


@pytest.fixture
def index(tmp_path: Path) -> Index:
    index = Index.create(tmp_path / "index", Schema(id=ID(), body=TEXT(), gen=STORED()))
    commit_generation(index)
    return index


def check_consistent(searcher: Searcher) -> int:
    """Search, and fail unless the result is one whole generation: the searcher's own."""
    generation = searcher.index.generation
    results = searcher.search(QUERY, limit=DOCS + 1)
    assert results.total == DOCS, f"{results.total} hits on generation {generation}"
    stamps = [hit["gen"] for hit in results]
    assert stamps == [generation] * DOCS, f"stamps {stamps} on generation {generation}"
    return generation


def test_a_refresh_swaps_in_the_new_generation_and_the_old_closes_with_its_last_user(index: Index) -> None:
    manager = SearcherManager(index)
    first = manager.acquire()
    assert manager.acquire() is first  # the same shared searcher, counted twice
    assert manager.maybe_refresh() is False  # nothing committed
    committed = commit_generation(index)
    assert first.index.generation == committed - 1
    assert manager.maybe_refresh() is True
    assert manager.generation == committed
    with manager.searcher() as second:
        assert second is not first and check_consistent(second) == committed
    assert check_consistent(first) == committed - 1  # still open for its users
    manager.release(first)
    assert not first.is_closed  # one user left
    assert check_consistent(first) == committed - 1
    manager.release(first)
    assert first.is_closed  # its last user gave it back
    assert not second.is_closed  # the current one stays open for the next users
    manager.close()
    assert second.is_closed


def test_an_unused_old_searcher_closes_at_the_refresh(index: Index) -> None:
    with SearcherManager(index) as manager:
        with manager.searcher() as first:
            pass
        commit_generation(index)
        assert manager.maybe_refresh() and first.is_closed


def test_release_refuses_what_was_not_acquired(index: Index) -> None:
    with SearcherManager(index) as manager, Searcher(index) as stranger:
        with pytest.raises(ValueError):
            manager.release(stranger)
        searcher = manager.acquire()
        manager.release(searcher)
        with pytest.raises(ValueError):
            manager.release(searcher)  # twice would take another user's count


def test_a_closed_manager_hands_out_nothing_and_closes_the_last_searcher_at_its_release(index: Index) -> None:
    manager = SearcherManager(index)
    held = manager.acquire()
    manager.close()
    with pytest.raises(SearchlibError, match="closed"):
        manager.acquire()
    with pytest.raises(SearchlibError, match="closed"):
        manager.maybe_refresh()
    assert check_consistent(held)  # in use: still open
    manager.release(held)
    assert held.is_closed
    manager.close()  # a second close does nothing


def test_options_and_warming_apply_to_every_generation(index: Index) -> None:
    warmed: list[int] = []
    manager = SearcherManager(index, warm=lambda s: warmed.append(s.index.generation), default_operator="AND")
    with manager.searcher() as searcher:
        assert searcher.search("common nothing").total == 0  # AND: both words needed
    committed = commit_generation(index)
    manager.maybe_refresh()
    with manager.searcher() as searcher:
        assert searcher.search("common nothing").total == 0
    assert warmed == [committed - 1, committed]
    manager.close()


def test_a_failed_warming_keeps_the_current_searcher(index: Index) -> None:
    first_generation = index.reopen().generation
    warmed: list[Searcher] = []

    def warm(searcher: Searcher) -> None:
        warmed.append(searcher)
        if searcher.index.generation > first_generation:
            raise RuntimeError("warming failed")

    manager = SearcherManager(index, warm=warm)
    commit_generation(index)
    with pytest.raises(RuntimeError):
        manager.maybe_refresh()
    assert manager.generation == first_generation
    assert len(warmed) == 2 and warmed[1].is_closed  # the new one is not left open
    with manager.searcher() as searcher:
        assert check_consistent(searcher) == first_generation
    manager.close()


# --- threads searching while another commits and refreshes ----------------------------

SEARCH_THREADS = 4
REFRESHES = 20
#: Searches in all, at least: the commits are spread over them.
TOTAL_SEARCHES = 100_000
#: Searches each generation gets before the next commit, whatever the timing.
PER_GENERATION = 200


def test_threads_search_consistent_generations_while_another_commits_and_refreshes(index: Index) -> None:
    manager = SearcherManager(index)
    errors: list[str] = []
    #: Per thread: searches per generation, filled by that thread alone.
    counts: list[dict[int, int]] = [{} for _ in range(SEARCH_THREADS)]
    acquired: list[set[Searcher]] = [set() for _ in range(SEARCH_THREADS)]
    writer_done = threading.Event()
    stop = threading.Event()

    def searched(generation: int) -> int:
        return sum(count.get(generation, 0) for count in counts)

    def searched_in_all() -> int:
        return sum(sum(count.values()) for count in counts)

    def search(number: int) -> None:
        mine = counts[number]
        seen = acquired[number]
        last = 0
        try:
            while not stop.is_set():
                with manager.searcher() as searcher:
                    seen.add(searcher)
                    generation = check_consistent(searcher)
                assert generation >= last, f"generation {generation} after {last}"  # never back
                last = generation
                mine[generation] = mine.get(generation, 0) + 1
                if writer_done.is_set() and searched(committed[-1]) >= PER_GENERATION and (
                    searched_in_all() >= TOTAL_SEARCHES
                ):
                    stop.set()
        except BaseException:
            errors.append(traceback.format_exc())
            stop.set()

    committed = [manager.generation]

    def write() -> None:
        try:
            for number in range(1, REFRESHES + 1):
                # The next commit once its share of all searches is done (at once if the
                # commits fall behind), and the current generation was searched enough.
                share = number * TOTAL_SEARCHES // (REFRESHES + 1)
                while (searched_in_all() < share or searched(committed[-1]) < PER_GENERATION) and not stop.is_set():
                    stop.wait(0.002)
                if stop.is_set():
                    return
                committed.append(commit_generation(index))
                assert manager.maybe_refresh()
        except BaseException:
            errors.append(traceback.format_exc())
            stop.set()
        finally:
            writer_done.set()

    threads = [threading.Thread(target=search, args=(n,)) for n in range(SEARCH_THREADS)]
    threads.append(threading.Thread(target=write))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == [], errors[0]
    assert searched_in_all() >= TOTAL_SEARCHES
    assert len(committed) == REFRESHES + 1
    seen_generations = set().union(*counts)
    assert seen_generations == set(committed)  # every generation searched, and only those
    assert all(searched(generation) >= PER_GENERATION for generation in committed)
    assert all(count for count in counts)  # every thread searched
    # Every searcher but the current one was closed by its last user.
    searchers = set().union(*acquired)
    assert len(searchers) == len(committed)
    with manager.searcher() as current:
        assert [s for s in searchers if not s.is_closed] == [current]
    manager.close()
    assert current.is_closed
