"""A seeded synthetic corpus for ``run.py --scale N``: made-up words, Zipf-distributed.

The vocabulary is 40 real English function words (the most frequent ranks, as in real
text, so stop-word filters have something to do) followed by made-up words built from
English-like syllables, some with English suffixes (``-s``, ``-ing``, ``-ed``...) so
stemmers have something to conflate. Shorter words get the more frequent ranks. Token
ranks follow a Zipf law (exponent 1.1); document lengths are log-normal (median 120
words, like abstracts and short articles), titles 2-9 words. Queries are 2-3 words of
middling frequency. There are no relevance judgments.

Documents are generated and written in chunks, so memory does not grow with N.
Everything comes from ``numpy.random.default_rng(seed)``: the same N and seed give the
same files, which are reused once complete (folder ``synthetic-N``, or
``synthetic-N-seedS`` for a seed other than 0).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

VOCABULARY = 200_000
ZIPF_EXPONENT = 1.1
MEDIAN_LENGTH = 120
LENGTH_SIGMA = 0.9
MAX_LENGTH = 20_000
QUERIES = 300
CHUNK = 2_000

FUNCTION_WORDS = (
    "the of and to in a is that for it as was with be by on not he i this are or his from "
    "at which but have an they you were her she there been one all we their"
).split()
ONSETS = "b c d f g h k l m n p r s t v w z br ch cl cr dr fl gr pl pr sh st th tr".split()
VOWELS = "a e i o u a e i o ai ea ou io".split()
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "rt", "nt"]
SUFFIXES = ["", "", "", "", "s", "s", "ing", "ed", "er", "ly", "tion", "ness", "al"]


def made_up_words(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct made-up words, shortest (roughly) first."""
    words: set[str] = set()
    while len(words) < count:
        batch = 2 * (count - len(words))
        syllables = rng.choice([1, 2, 2, 3, 3, 4], batch)
        parts = [rng.integers(len(table), size=(batch, 4)) for table in (ONSETS, VOWELS, CODAS)]
        suffixes = rng.integers(len(SUFFIXES), size=batch)
        for row in range(batch):
            stem = "".join(
                ONSETS[parts[0][row, i]] + VOWELS[parts[1][row, i]] + CODAS[parts[2][row, i]]
                for i in range(syllables[row])
            )
            words.add(stem + SUFFIXES[suffixes[row]])
    candidates = sorted(words)  # a set's order is not seeded: sort, then keep a seeded sample
    ordered = [candidates[i] for i in np.sort(rng.choice(len(candidates), count, replace=False))]
    noise = rng.normal(0.0, 2.0, count)
    return [ordered[i] for i in np.argsort(np.array([len(w) for w in ordered]) + noise, kind="stable")]


def vocabulary(rng: np.random.Generator) -> np.ndarray:
    words = FUNCTION_WORDS + made_up_words(rng, VOCABULARY - len(FUNCTION_WORDS))
    return np.array(words, dtype=object)


def zipf_cdf(size: int, exponent: float = ZIPF_EXPONENT) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1, dtype=np.float64) ** exponent
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def sample_words(rng: np.random.Generator, cdf: np.ndarray, words: np.ndarray, count: int) -> np.ndarray:
    return words[np.minimum(np.searchsorted(cdf, rng.random(count)), len(words) - 1)]


def document_chunks(rng: np.random.Generator, words: np.ndarray, total: int) -> Iterator[list[dict[str, str]]]:
    """Documents ``d0`` .. ``d{total-1}``, ``CHUNK`` at a time."""
    cdf = zipf_cdf(len(words))
    for first in range(0, total, CHUNK):
        count = min(CHUNK, total - first)
        lengths = np.clip(rng.lognormal(np.log(MEDIAN_LENGTH), LENGTH_SIGMA, count), 3, MAX_LENGTH).astype(int)
        title_lengths = rng.integers(2, 10, count)
        body = np.split(sample_words(rng, cdf, words, int(lengths.sum())), np.cumsum(lengths)[:-1])
        titles = np.split(sample_words(rng, cdf, words, int(title_lengths.sum())), np.cumsum(title_lengths)[:-1])
        yield [
            {"id": f"d{first + i}", "title": " ".join(title).capitalize(), "text": " ".join(text).capitalize() + "."}
            for i, (title, text) in enumerate(zip(titles, body, strict=True))
        ]


def queries(rng: np.random.Generator, words: np.ndarray) -> list[dict[str, str]]:
    """2-3 word queries drawn log-uniformly from frequency ranks 100 .. 20,000."""
    result = []
    for number in range(QUERIES):
        ranks = np.exp(rng.uniform(np.log(100), np.log(20_000), int(rng.integers(2, 4)))).astype(int)
        result.append({"id": f"q{number}", "text": " ".join(words[ranks])})
    return result


def write_jsonl(path: Path, rows: list[dict[str, str]], mode: str = "w") -> None:
    with path.open(mode, encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def synthetic_dataset(scratch: Path, documents: int, seed: int = 0) -> Path:
    """Write (or reuse) the corpus and queries for ``documents`` and ``seed``; return the folder."""
    directory = scratch / (f"synthetic-{documents}" + (f"-seed{seed}" if seed else ""))
    done = directory / "COMPLETE"
    if done.exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    # Separate streams, so the vocabulary and the queries do not depend on N.
    vocabulary_rng, query_rng, document_rng = np.random.default_rng(seed).spawn(3)
    words = vocabulary(vocabulary_rng)
    write_jsonl(directory / "queries.jsonl", queries(query_rng, words))
    corpus = directory / "corpus.jsonl"
    corpus.write_text("", encoding="utf-8")
    for chunk in document_chunks(document_rng, words, documents):
        write_jsonl(corpus, chunk, mode="a")
    done.touch()
    return directory
