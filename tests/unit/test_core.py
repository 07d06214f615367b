"""The compiled core (searchlib._core, built from core/ by maturin) loads and stems like
NLTK's Snowball, the reference our stemming is checked against."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nltk.stem.snowball import SnowballStemmer

from searchlib import _core

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_every_compiled_language_is_one_nltk_knows() -> None:
    assert _core.STEMMER_LANGUAGES == sorted(_core.STEMMER_LANGUAGES)
    assert {"english", "french", "german", "russian"} <= set(_core.STEMMER_LANGUAGES)
    # Greek, Tamil and Turkish come with the compiled stemmers alone.
    assert set(_core.STEMMER_LANGUAGES) - set(SnowballStemmer.languages) == {"greek", "tamil", "turkish"}


def test_english_stems_agree_with_nltk_on_the_seed_vocabulary() -> None:
    text = " ".join(path.read_text(encoding="utf-8", errors="replace") for path in SEEDS.iterdir())
    words = sorted(set(re.findall(r"[a-z]+", text.lower())))
    assert len(words) > 100
    reference = SnowballStemmer("english")
    assert _core.stem_words("english", words) == [reference.stem(word) for word in words]


def test_known_differences_from_nltk_are_the_documented_ones() -> None:
    """NLTK's Snowball English turns -ization into -ize; the compiled Snowball, as the
    reference algorithm, strips to the stem (seen on SciFact: 3 of 23,467 words)."""
    words = ["ionization", "realization"]
    assert _core.stem_words("english", words) == ["ioniz", "realiz"]
    assert [SnowballStemmer("english").stem(w) for w in words] == ["ionize", "realize"]


def test_other_languages_and_any_unicode_stem_without_error() -> None:
    assert _core.stem_words("french", ["continuellement", "chevaux"]) == [
        SnowballStemmer("french").stem("continuellement"), SnowballStemmer("french").stem("chevaux")]
    odd = ["", "ß", "日本語", "x\u0301ing", "\U0001f600s", "a" * 10_000]
    assert len(_core.stem_words("english", odd)) == len(odd)


def test_bad_arguments_raise_python_errors_not_panics() -> None:
    with pytest.raises(ValueError, match='no compiled Snowball stemmer for "klingon"; the languages are arabic, danish'):
        _core.stem_words("klingon", ["word"])
    with pytest.raises(TypeError):
        _core.stem_words("english", ["word", 3])  # type: ignore[list-item]
