"""Generated query strings at length: python tests/stress/query_fuzz.py [COUNT] [--processes P]
[--index DIR | --dataset DIR] [--seed S] (default: 1,000,000 strings, 2 processes, an index
of Cranfield built in a temporary directory; --index index/ searches the bundled one).

Each string is parsed strictly (only QueryError may come out), then searched leniently
(nothing may come out; ``Results.warnings`` must be a list of strings), and the lenient
search is timed. The strings are seeded: string ``n`` of seed ``s`` is always the same,
so a failure is reproduced with ``query_string(s, n)``. Kinds, mixed: random Unicode
(astral, combining, right-to-left and control characters, lone surrogates), operator
soup, deep nesting, huge patterns, long fuzzy words, garbage ranges and boosts, field
names that exist and do not, 100 KB strings. Prints the counts, the slowest searches
(shortened) and a histogram of times. Not part of the default test command; the quick
version is in tests/unit/test_parser.py.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from searchlib import Searcher  # noqa: E402
from searchlib.errors import QueryError  # noqa: E402

#: Characters the syntax gives a meaning to, and operator words.
SYNTAX = list('"():[]{}~^*?/\\+-!&| ') + ["AND", "OR", "NOT", "TO", "&&", "||", "*:*", "\\*"]
#: Characters beyond the Basic Latin: astral (emoji, CJK extension, math), combining marks,
#: right-to-left scripts and marks, controls, zero-width and odd spaces, lone surrogates.
UNICODE = [
    "\U0001f600", "\U0001f469\u200d\U0001f4bb", "\U00020000", "\U0001d400", "\u0301", "\u0308\u0323",
    "\u05d0\u05d1", "\u0627\u0644\u0639", "\u200f", "\u202e", "\u0000", "\u0007", "\x1b[31m", "\u200b",
    "\u00a0", "\u3000", "\u2028", "\ufeff", "\ud800", "\udfff", "\uffff", "ß", "İ", "ﬁ", "Å", "ǅ", "\t", "\n",
]
#: Words: some the index holds (Cranfield's), some it does not.
WORDS = ["flow", "boundary", "layer", "pressure", "heat", "wing", "shock", "mach", "the", "of", "xyzzy", "a", "é"]
#: Field names: ones a Cranfield index has, and ones it does not.
FIELDS = ["title", "text", "id", "nope", "_id", "text.present", "ТЕКСТ", "*", ""]


def _size(rng: random.Random, largest: int) -> int:
    """A count from 1 to ``largest``, log-uniform: mostly small, now and then huge."""
    return int(largest ** rng.random())


def _word(rng: random.Random) -> str:
    return rng.choice(WORDS) if rng.random() < 0.8 else "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(1, 12)))


def _unicode(rng: random.Random) -> str:
    pieces = []
    for _ in range(_size(rng, 30)):
        roll = rng.random()
        if roll < 0.4:
            pieces.append(rng.choice(UNICODE))
        elif roll < 0.7:
            pieces.append(chr(rng.randint(0, 0x10FFFF)))
        else:
            pieces.append(_word(rng) + " ")
    return "".join(pieces)


def _soup(rng: random.Random) -> str:
    return "".join(rng.choice(SYNTAX) if rng.random() < 0.7 else _word(rng) for _ in range(_size(rng, 60)))


def _nesting(rng: random.Random) -> str:
    opening, closing = _size(rng, 3000), _size(rng, 3000)
    inner = rng.choice(["flow", "a OR b", "-x", "title:(wing", "*", ""])
    return rng.choice(["(", "((", "(-", "(+", "NOT (", "title:("]) * (opening // 2) + inner + ")" * closing + rng.choice(["", "^2", "~1"])


def _pattern(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice("abcdefghijklmnopqrstuvwxyz") * rng.randint(0, 3) + "*"
    if kind == 1:
        return "".join(rng.choice(["*", "?", "a", "e", "o", "*a", "?*"]) for _ in range(_size(rng, 400))) + rng.choice(["", "b"])
    if kind == 2:
        return " ".join(rng.choice(["a*", "*e*", "?", "s*", "t?e*", "*"]) for _ in range(_size(rng, 300)))
    if kind == 3:
        return "/" + "".join(rng.choice(["a", ".", "*", "+", "?", "[a-z]", "(", ")", "|", "{2,5}", "\\w", "b"]) for _ in range(_size(rng, 40))) + "/"
    if kind == 4:
        return rng.choice(FIELDS) + ":" + rng.choice(["*", "a*", "*a", "?*", "\\**"])
    return "".join(rng.choice("ab*?\\") for _ in range(_size(rng, 80)))


def _fuzzy(rng: random.Random) -> str:
    word = _word(rng) * _size(rng, 40)
    suffix = rng.choice(["~", "~0", "~1", "~2", "~3", "~-1", "~2.5", "~99999999999", "~~", "~1^2", "~x"])
    return " ".join([word + suffix] * _size(rng, 100))


def _ranges_and_boosts(rng: random.Random) -> str:
    def bound() -> str:
        return rng.choice(["*", "1", "-3", "1e999", "nan", "2024-05-01", "2024-13-45", "\"a b\"", "", "TO", "]", _word(rng)])

    pieces = []
    for _ in range(_size(rng, 20)):
        roll = rng.random()
        if roll < 0.5:
            opening, closing = rng.choice("[{"), rng.choice("]}")
            pieces.append(f"{rng.choice(FIELDS)}:{opening}{bound()} {rng.choice(['TO', 'to', ''])} {bound()}{closing}")
        else:
            factor = rng.choice(["2", "0", "-1", "1e999", "1e-999", ".5", "x", "", "^", "99999999999999999999"])
            pieces.append(f"{_word(rng)}^{factor}")
    return " ".join(pieces)


def _fields(rng: random.Random) -> str:
    values = [_word(rng), f"({_word(rng)} {_word(rng)})", '"a b"', ""]
    return " ".join(f"{rng.choice(FIELDS)}:{rng.choice(values)}" for _ in range(_size(rng, 30)))


def _huge(rng: random.Random) -> str:
    unit = rng.choice(["flow ", "a* ", "&& ", "(", "\"", "x~2 ", "title:", "\U0001f600", "-", "a AND ", "[a TO b] "])
    return (unit * (100_000 // len(unit) + 1))[:100_000]


GENERATORS: list[tuple[float, Callable[[random.Random], str]]] = [
    (0.2, _unicode), (0.2, _soup), (0.08, _nesting), (0.15, _pattern), (0.1, _fuzzy),
    (0.12, _ranges_and_boosts), (0.149, _fields), (0.001, _huge),
]


def query_string(seed: int, number: int) -> str:
    """The ``number``-th generated query of ``seed``: one kind, or two or three joined."""
    rng = random.Random(seed * 1_000_003 + number)
    weights = [weight for weight, _ in GENERATORS]
    kinds = rng.choices([generate for _, generate in GENERATORS], weights, k=rng.choice([1, 1, 1, 2, 3]))
    return rng.choice(["", " ", " AND ", " OR ", "-"]).join(generate(rng) for generate in kinds)


#: Upper bounds (seconds) of the histogram's bins; the last bin holds the rest.
BINS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0]


def check(searcher: Searcher, text: str) -> tuple[str, float]:
    """Parse ``text`` strictly and search it leniently: the outcome, and the search's time.

    Outcomes: "ok" or "query-error" (strict), "warned" when the lenient search cut
    something; a problem is "strict-raised X" or "lenient-raised X".
    """
    outcome = "ok"
    try:
        searcher.parse(text, strict=True)
    except QueryError:
        outcome = "query-error"
    except Exception as exc:  # noqa: BLE001  # what the run counts
        return f"strict-raised {type(exc).__name__}: {exc}"[:300], 0.0
    start = time.perf_counter()
    try:
        results = searcher.search(text, strict=False, limit=10)
    except Exception as exc:  # noqa: BLE001
        return f"lenient-raised {type(exc).__name__}: {exc}"[:300], time.perf_counter() - start
    elapsed = time.perf_counter() - start
    if not (isinstance(results.warnings, list) and all(isinstance(w, str) for w in results.warnings)):
        return "lenient-raised bad warnings", elapsed
    return ("warned" if results.warnings and outcome == "ok" else outcome), elapsed


def run_slice(index: str, seed: int, start: int, stop: int, step: int) -> dict[str, object]:
    """Queries ``start, start + step, ... < stop`` of ``seed``, checked over ``index``."""
    counts: Counter[str] = Counter()
    histogram = [0] * (len(BINS) + 1)
    slowest: list[tuple[float, int]] = []
    problems: list[tuple[int, str]] = []
    times: list[float] = []
    with Searcher(index) as searcher:
        for warm_up in ("flow zzqxunknownwords", "a* *e* flow~2 /fl.*/", "title:[a TO b]"):  # imports, caches
            check(searcher, warm_up)
        for number in range(start, stop, step):
            outcome, elapsed = check(searcher, query_string(seed, number))
            if outcome.startswith(("strict-raised", "lenient-raised")):
                problems.append((number, outcome))
                counts["problem"] += 1
            else:
                counts[outcome] += 1
            histogram[next((at for at, bound in enumerate(BINS) if elapsed < bound), len(BINS))] += 1
            times.append(elapsed)
            slowest.append((elapsed, number))
            if len(times) % 10_000 == 0:
                print(f"  process {start}: {len(times):,} strings", file=sys.stderr, flush=True)
            if len(slowest) > 40:
                slowest.sort(reverse=True)
                del slowest[10:]
    slowest.sort(reverse=True)
    times.sort()
    return {"counts": counts, "histogram": histogram, "slowest": slowest[:10], "problems": problems[:50],
            "median": times[len(times) // 2] if times else 0.0, "count": len(times)}


def shorten(text: str, width: int = 100) -> str:
    shown = ascii(text)
    return shown if len(shown) <= width else f"{shown[: width - 30]}...{shown[-20:]} ({len(text):,} chars)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--index", default=None, help="an index to search (default: Cranfield, built)")
    parser.add_argument(
        "--dataset", default=str(Path(__file__).resolve().parents[3] / "shared" / "datasets" / "cranfield"),
        help="a BEIR dataset to index (default: Cranfield from the shared/ folder beside the repository)",
    )
    args = parser.parse_args()
    index = args.index
    if index is None:
        from searchlib.evaluation import build_index, load_dataset

        index = str(Path(tempfile.mkdtemp()) / "index")
        build_index(load_dataset(args.dataset), index)
    started = time.perf_counter()
    jobs = [(index, args.seed, at, args.count, args.processes) for at in range(args.processes)]
    with multiprocessing.Pool(args.processes) as pool:
        parts = pool.starmap(run_slice, jobs)
    counts: Counter[str] = Counter()
    histogram = [0] * (len(BINS) + 1)
    for part in parts:
        counts.update(part["counts"])  # type: ignore[arg-type]
        histogram = [a + b for a, b in zip(histogram, part["histogram"])]  # type: ignore[call-overload]
    print(f"{args.count:,} query strings (seed {args.seed}) in {time.perf_counter() - started:.0f} s over {index}")
    print(f"  strict: {counts['query-error']:,} QueryError, {counts['ok'] + counts['warned']:,} parsed")
    print(f"  lenient: {counts['warned']:,} of the strictly valid ones searched with warnings")
    print(f"  problems (an exception other than QueryError strict, any lenient): {counts['problem']:,}")
    for part in parts:
        for number, outcome in part["problems"]:  # type: ignore[attr-defined]
            print(f"    #{number}: {outcome}  query {shorten(query_string(args.seed, number))}")
    medians = ", ".join(f"{part['median'] * 1000:.2f} ms" for part in parts)
    print(f"  lenient search time: median per process {medians}")
    slowest = sorted((entry for part in parts for entry in part["slowest"]), reverse=True)[:5]  # type: ignore[attr-defined]
    for elapsed, number in slowest:
        print(f"  slow: {elapsed * 1000:8.1f} ms  #{number} {shorten(query_string(args.seed, number))}")
    labels = [f"< {bound * 1000:g} ms" for bound in BINS] + [f">= {BINS[-1] * 1000:g} ms"]
    for label, count in zip(labels, histogram):
        print(f"  {label:>12}: {count:>9,}")
    if counts["problem"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
