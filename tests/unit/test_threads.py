"""One Searcher shared by many threads answers every query exactly as one thread does.

First the parts a search changes, each hammered alone by threads (a segment's
stored-block cache, a stemmer); then the whole: eight threads run a mix of queries (words,
phrases, prefixes, fuzzy words, boolean logic, sorted and filtered searches, snippets,
did-you-mean) on one searcher, while its lazily opened dictionaries, memos and caches
(and the core's per-segment term look-ups and length norms) fill up. The interpreter
switches threads every few microseconds instead of every 5 ms, so that a thread is
interrupted inside nearly every cache operation. ``tests/stress/threads_stress.py``
runs the same mix at length on SciFact.
"""

from __future__ import annotations

import inspect
import json
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from searchlib import ID, TEXT, Index, Schema, Searcher, suggest
from searchlib.segment import store
from searchlib.analysis.filters import SnowballStemFilter
from searchlib.query import Expansion, patterns
from searchlib.segment import SegmentReader
from tests.conftest import SHARED

CRANFIELD = SHARED / "datasets" / "cranfield"
THREADS = 8


@dataclass(frozen=True)
class Ask:
    """One search of the mix and what else is asked of its results."""

    query: str
    sort: str | None = None
    filter: str | None = None
    snippets: bool = False
    did_you_mean: bool = False


def corpus_words(documents: Sequence[dict[str, str]]) -> tuple[list[str], list[tuple[str, str]]]:
    """The corpus's words of three letters or more, most frequent first, and pairs of
    neighbouring words (phrases that occur)."""
    counts: dict[str, int] = {}
    pairs: list[tuple[str, str]] = []
    for document in documents:
        words = re.findall(r"[a-z]{3,}", document["text"].lower())
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        pairs.extend(zip(words[::17], words[1::17]))
    return sorted(counts, key=lambda word: (-counts[word], word)), pairs


def query_mix(documents: Sequence[dict[str, str]], count: int, seed: int) -> list[Ask]:
    """``count`` seeded searches of every kind over the corpus's own words."""
    words, pairs = corpus_words(documents)
    rng = random.Random(seed)

    def word() -> str:  # frequent words mostly, a long tail of rare ones
        return words[min(int(rng.expovariate(1 / 150)), len(words) - 1)]

    def typo(text: str) -> str:
        at = rng.randrange(len(text))
        return text[:at] + rng.choice("aeioust") + text[at + 1 :]

    asks: list[Ask] = []
    for _ in range(count):
        kind = rng.randrange(10)
        if kind == 0:
            first, second = rng.choice(pairs)
            query = f'"{first} {second}"' + rng.choice(["", "~2"])
        elif kind == 1:
            query = word()[: rng.randint(3, 5)] + "*"
        elif kind == 2:
            query = f"{typo(word())}~{rng.choice(['', '1'])} {word()}"
        elif kind == 3:
            query = f"{word()} AND ({word()} OR {word()}) -{word()}"
        elif kind == 4:
            query = f"title:{word()} OR text:{word()}^2"
        else:
            query = " ".join(word() for _ in range(rng.randint(1, 4)))
        asks.append(
            Ask(
                query,
                sort=rng.choice(["id", "-id"]) if rng.random() < 0.1 else None,
                filter=f"text:{word()}" if rng.random() < 0.1 else None,
                snippets=rng.random() < 0.2,
                did_you_mean=rng.random() < 0.05,
            )
        )
        if asks[-1].did_you_mean:
            asks[-1] = Ask(f"{typo(word())} {word()}", did_you_mean=True)
    return asks


def mix_searcher(index: Index) -> Searcher:
    """A searcher as the mix is run with: patterns keeping
    their most frequent terms (a short prefix matches many in a large corpus)."""
    return Searcher(index, expansion=Expansion(100, "keep_frequent"))


def answer(searcher: Searcher, ask: Ask) -> tuple[Any, ...]:
    """Everything the search gives back that a thread could get wrong."""
    results = searcher.search(ask.query, limit=10, sort=ask.sort, filter=ask.filter)
    ranking = tuple((hit.id, hit.score) for hit in results)
    snippets = tuple(hit.snippet() for hit in results.hits[:3]) if ask.snippets else ()
    suggestion = searcher.did_you_mean(ask.query) if ask.did_you_mean else None
    return results.total, ranking, snippets, suggestion


@contextmanager
def frequent_switches(interval: float = 1e-6) -> Iterator[None]:
    """Let the interpreter switch threads every ``interval`` seconds (at its next check),
    so that races show up in thousands of queries rather than millions."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@dataclass
class SharedRun:
    """What the threads found: errors raised, and answers unlike one thread's."""

    queries: int
    errors: list[str]
    mismatches: list[str]


@contextmanager
def switching_inside(*owners: type | Callable[..., Any]) -> Iterator[None]:
    """Make threads started in this block hand over at every bytecode of the functions
    (and classes' methods) given: a race that the interpreter's own switches, every 5 ms
    at a few chosen instructions, show once in thousands of operations (as they did
    before those parts were made safe) then shows in nearly every one; a free-threaded
    interpreter runs threads truly at once, which is no kinder."""
    codes = {
        function.__code__
        for owner in owners
        for function in ([owner] if inspect.isfunction(owner) else [f for _, f in inspect.getmembers(owner, inspect.isfunction)])
    }

    def step(frame: FrameType, event: str, arg: object) -> Callable[..., Any]:
        if event == "opcode":
            time.sleep(0)  # lets the next thread run
        return step

    def enter(frame: FrameType, event: str, arg: object) -> Callable[..., Any] | None:
        if frame.f_code in codes:
            frame.f_trace_opcodes = True
            return step
        return None

    threading.settrace(enter)
    try:
        yield
    finally:
        threading.settrace(None)  # type: ignore[arg-type]


def in_threads(work: Callable[[int], None], *inside: type | Callable[..., Any]) -> list[str]:
    """Run ``work(number)`` in ``THREADS`` threads started together, switching at every
    bytecode ``inside`` the functions or classes given; the errors they raised."""
    errors: list[str] = []
    start = threading.Barrier(THREADS)

    def run(number: int) -> None:
        start.wait()
        try:
            work(number)
        except Exception as exc:  # noqa: BLE001  # every kind counts as a failure
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(number,)) for number in range(THREADS)]
    with frequent_switches() if not inside else switching_inside(*inside):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


def run_shared(searcher: Searcher, asks: Sequence[Ask], expected: Sequence[tuple[Any, ...]], rounds: int) -> SharedRun:
    """``THREADS`` threads each ask every search ``rounds`` times, each starting at its
    own place in the list, on one ``searcher``; every answer is compared with
    ``expected``."""
    errors: list[str] = []
    mismatches: list[str] = []
    start = threading.Barrier(THREADS)

    def work(number: int) -> None:
        offset = number * len(asks) // THREADS
        start.wait()
        for _ in range(rounds):
            for step in range(len(asks)):
                slot = (offset + step) % len(asks)
                try:
                    got = answer(searcher, asks[slot])
                except Exception as exc:  # noqa: BLE001  # every kind counts as a failure
                    errors.append(f"{asks[slot]}: {type(exc).__name__}: {exc}")
                    continue
                if got != expected[slot]:
                    mismatches.append(f"{asks[slot]}: {got} != {expected[slot]}")

    threads = [threading.Thread(target=work, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return SharedRun(THREADS * rounds * len(asks), errors, mismatches)


def load_documents(path: Path, count: int) -> list[dict[str, str]]:
    with open(path / "corpus.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(count), handle)]


@pytest.fixture(scope="module")
def documents() -> list[dict[str, str]]:
    return load_documents(CRANFIELD, 600)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, documents: list[dict[str, str]]) -> Index:
    """600 Cranfield documents in three segments, every ninth deleted."""
    created = Index.create(tmp_path_factory.mktemp("threads") / "idx", Schema(id=ID(), title=TEXT(), text=TEXT()))
    for start in range(0, 600, 200):
        with created.writer() as writer:
            for document in documents[start : start + 200]:
                writer.add_document(id=document["id"], title=document["title"], text=document["text"])
    with created.writer() as writer:
        for document in documents[::9]:
            writer.delete_by_term("id", document["id"])
    return created.reopen()


def test_a_shared_searcher_answers_as_one_thread_does(
    index: Index, documents: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Did-you-mean and a query's pattern walks stop after 50 ms of their thread's CPU
    # time, and a switch every microsecond spends that on handing the GIL around (as a
    # loaded machine's cache misses do): a cut answer would then be timing, not a race.
    # The bounds have tests of their own; here they are wide.
    monkeypatch.setattr(suggest, "SUGGEST_SECONDS", 5.0)
    monkeypatch.setattr(patterns, "PATTERN_MATCH_SECONDS", 5.0)
    asks = query_mix(documents, 400, seed=17)
    with mix_searcher(index) as alone:
        expected = [answer(alone, ask) for ask in asks]
    assert sum(1 for total, *_ in expected if total) > 300, "most searches must find something"
    assert sum(1 for *_, suggestion in expected if suggestion) > 5, "some must get a suggestion"
    with mix_searcher(index) as shared, frequent_switches():
        run = run_shared(shared, asks, expected, rounds=2)
    assert run.errors == [], f"{len(run.errors)} errors in {run.queries} queries, first: {run.errors[:3]}"
    assert run.mismatches == [], f"{len(run.mismatches)} wrong answers, first: {run.mismatches[:3]}"


def test_stored_fields_read_by_threads_through_a_small_block_cache(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "STORE_BLOCK_CACHE", 2)  # every read evicts
    with Searcher(index) as searcher:
        readers = searcher.readers
        documents = [(reader, doc) for reader in readers for doc in range(reader.doc_count)]
        expected = [reader.stored_fields(doc) for reader, doc in documents]
    with Searcher(index) as searcher:
        shared = {id(old): new for old, new in zip(readers, searcher.readers)}
        wrong: list[int] = []

        def work(number: int) -> None:
            order = list(range(len(documents)))
            random.Random(number).shuffle(order)
            for at in order[:60]:
                reader, doc = documents[at]
                if shared[id(reader)].stored_fields(doc) != expected[at]:
                    wrong.append(at)

        assert in_threads(work, SegmentReader.stored_fields) == []
        assert wrong == []


def test_a_stemmer_shared_by_threads_stems_as_alone() -> None:
    # Arabic's NLTK stemmer keeps the word being stemmed in its own attributes (and
    # Lancaster's reads its rules on first use): the filter lets one thread in at a time.
    stems = ["المكتبات", "والكتاب", "يكتبون", "بالمدرسة", "سيلعبون"]
    words = [word + suffix for word in stems for suffix in ("", "ها", "ات", "هم", "كم")]
    expected = [SnowballStemFilter("arabic", memo_size=0).map_term(word) for word in words]
    shared = SnowballStemFilter("arabic", memo_size=0)  # no memo: every call stems
    wrong: list[str] = []

    def work(number: int) -> None:
        for _ in range(30):
            wrong.extend(word for word, stem in zip(words, expected) if shared.map_term(word) != stem)

    assert in_threads(work) == []
    assert wrong == []
