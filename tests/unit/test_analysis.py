"""Analysis: tokens, offsets, presets, and the cached fast path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib.analysis import (
    Analyzer,
    LowercaseFilter,
    StopFilter,
    UnicodeWordTokenizer,
    analyzer_from_spec,
    english_stop_words,
    get_analyzer,
)
from searchlib.errors import AnalyzerError


def test_english_stems_lowercases_and_drops_stop_words() -> None:
    analyzer = get_analyzer("english")
    assert analyzer.terms("The Talks were DIRECT") == [None, "talk", None, "direct"]


def test_stemmed_variants_share_a_term() -> None:
    analyzer = get_analyzer("english")
    assert {analyzer.terms(w)[0] for w in ("talks", "talking", "talked")} == {"talk"}


def test_tokens_carry_exact_source_offsets() -> None:
    text = "Israel’s  café—TALKS, 2024!"
    tokens = list(get_analyzer("standard").tokens(text))
    assert [text[t.start : t.end] for t in tokens] == ["Israel", "s", "café", "TALKS", "2024"]
    assert [t.text for t in tokens] == ["israel", "s", "café", "talks", "2024"]
    assert [t.pos for t in tokens] == [0, 1, 2, 3, 4]


def test_stop_words_leave_position_gaps() -> None:
    tokens = list(get_analyzer("english").tokens("talks with Hamas"))
    assert [(t.text, t.pos) for t in tokens] == [("talk", 0), ("hama", 2)]


def test_shipped_stop_list_is_loaded() -> None:
    words = english_stop_words()
    assert {"the", "and", "with"} <= words
    assert "talks" not in words


def test_cache_reports_hits_and_stays_bounded() -> None:
    analyzer = Analyzer(UnicodeWordTokenizer(), [LowercaseFilter()], cache_size=3)
    analyzer.terms("a b a b a b")
    stats = analyzer.cache_stats()
    assert stats["lookups"] == 6 and stats["misses"] == 2
    assert stats["hit_rate"] == pytest.approx(4 / 6)
    analyzer.terms("c d e f g")
    assert analyzer.cache_stats()["size"] <= 3


def test_composition_with_pipe() -> None:
    analyzer = UnicodeWordTokenizer() | LowercaseFilter() | StopFilter(["x"])
    assert analyzer.terms("X Y") == [None, "y"]


def test_chain_must_start_with_a_tokenizer() -> None:
    with pytest.raises(AnalyzerError, match="must start with a tokenizer"):
        Analyzer(LowercaseFilter())  # type: ignore[arg-type]


def test_unknown_analyzer_lists_the_known_ones() -> None:
    with pytest.raises(AnalyzerError, match="unknown analyzer 'klingon'.*english"):
        get_analyzer("klingon")


def test_spec_round_trip_rebuilds_the_same_chain() -> None:
    original = get_analyzer("english")
    rebuilt = analyzer_from_spec(original.spec or {})
    text = "Negotiators were talking directly"
    assert rebuilt.terms(text) == original.terms(text)


@given(st.text())
def test_fast_and_general_paths_agree(text: str) -> None:
    analyzer = get_analyzer("english")
    fast = [(pos, term) for pos, term in enumerate(analyzer.terms(text)) if term is not None]
    general = [(t.pos, t.text) for t in analyzer.tokens(text)]
    assert fast == general


@given(st.text())
def test_offsets_slice_to_the_raw_token(text: str) -> None:
    analyzer = get_analyzer("standard")
    for token in analyzer.tokens(text):
        assert token.text == text[token.start : token.end].casefold()
