"""The compiled analysis chain (searchlib._core.CoreAnalyzer) against Python's.

Given the same stemmer, both chains must give the same terms, positions and offsets on
any text: the core's character classes and folds are tables generated from Python
(core/src/analysis/gen_tables.py), so where Unicode versions or the ``re`` and ``regex``
modules' classes differ, the core follows Python's chain.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib import _core
from searchlib.analysis import (
    Analyzer,
    ASCIIFoldingFilter,
    ElisionFilter,
    LengthFilter,
    LowercaseFilter,
    PossessiveFilter,
    StopFilter,
    SynonymFilter,
    UnicodeWordTokenizer,
    SnowballStemFilter,
    analyzer_from_spec,
    get_analyzer,
)
from searchlib.analysis.filters import (
    COMPILED_SNOWBALL_LANGUAGES,
    COMPILED_STEMMER,
    COMPILED_STEMMER_VERSION,
    CompiledSnowballStemFilter,
)

# Arbitrary Unicode (no lone surrogates: they have no UTF-8 form, and Python runs the
# chain for such a text), weighted towards what the chains find hard: apostrophes, number
# separators, combining marks (also ones assigned after Python's Unicode version, which
# a Rust crate would reorder: U+05C9, U+1AEE), CJK and the marks CJK runs share, case
# foldings that grow (ß, İ, ŉ), final sigma, ligatures, letters that fold to ASCII, Hangul
# jamo that compose, odd whitespace.
TRICKY = st.sampled_from(
    list(
        "'’.,-_ \t\n\x0b\x1c\u0085\u00a0\u3000\u0301\u0302\u0323\u0305\u0345\u05c9\u1aee\u00ad\x00"
        "東京都サーコ한글𠀀3aeÉßİŉΣςﬁæØ①ǅ\u1100\u1161\u11a8"
    )
)
UNICODE_TEXT = st.text(alphabet=st.one_of(st.characters(codec="utf-8"), TRICKY), max_size=80)

PRESETS = [
    ("standard", {}), ("simple", {}), ("whitespace", {}), ("keyword", {}), ("english", {}),
    ("ngram", {}), ("edge_ngram", {"max_size": 4}), ("french", {}), ("italian", {}), ("german", {}),
    ("russian", {}), ("greek", {}), ("turkish", {}), ("tamil", {}),
    ("english", {"synonyms": {"car": ["automobiles", "car"], "talks": ["negotiations"], "ß": ["ss"]}}),
]

#: Every built-in filter in one chain, with a synonym table whose outputs other filters change.
ALL_FILTERS = Analyzer(
    UnicodeWordTokenizer(),
    [
        LowercaseFilter(), ElisionFilter(language="french"), PossessiveFilter(), ASCIIFoldingFilter(),
        SynonymFilter({"cafe": ["Coffee", "cafes"], "l": ["le"]}), StopFilter(["le", "the"]),
        LengthFilter(2, 6), CompiledSnowballStemFilter("english"),
    ],
)


def python_tokens(analyzer: Analyzer, text: str) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.start, t.end) for t in analyzer.tokens(text, cached=False)]


def core_tokens(core: _core.CoreAnalyzer, text: str) -> list[tuple[str, int, int, int]]:
    return list(zip(*core.tokens(text)))


@pytest.mark.parametrize(("name", "params"), PRESETS, ids=[f"{n}{'+' if p else ''}" for n, p in PRESETS])
@given(text=UNICODE_TEXT)
def test_core_and_python_chains_agree(name: str, params: dict, text: str) -> None:
    analyzer = get_analyzer(name, **params)
    core = analyzer.core()
    assert core is not None, f"{name} runs in the core"
    expected = python_tokens(analyzer, text)
    assert core_tokens(core, text) == expected
    terms, positions = core.terms_batch([text])[0]
    assert list(zip(terms, positions)) == [(term, pos) for term, pos, _, _ in expected]


@given(text=UNICODE_TEXT)
def test_every_filter_in_one_chain_agrees(text: str) -> None:
    core = ALL_FILTERS.core()
    assert core is not None
    assert core_tokens(core, text) == python_tokens(ALL_FILTERS, text)


@given(text=UNICODE_TEXT)
def test_the_python_api_through_the_core_keeps_its_shapes(text: str) -> None:
    analyzer = get_analyzer("english")
    reference = Analyzer(analyzer.tokenizer, analyzer.filters)
    reference._core = False  # the Python path alone
    assert analyzer.terms(text) == reference.terms(text)
    assert analyzer.term_list(text) == reference.term_list(text)
    assert list(analyzer.tokens(text)) == list(reference.tokens(text))


@pytest.mark.parametrize("name", ["standard", "simple", "whitespace", "keyword", "english", "ngram", "edge_ngram"])
def test_a_stored_preset_spec_builds_the_same_chain_in_the_core(name: str) -> None:
    analyzer = get_analyzer(name)
    text = "Israel’s talks-with Hamas: 東京都, Straße & CAFÉ l'homme 3.14"
    from_preset = _core.CoreAnalyzer(json.dumps(analyzer.spec))
    assert core_tokens(from_preset, text) == python_tokens(analyzer, text)


def test_chains_the_core_does_not_have_run_in_python() -> None:
    assert get_analyzer("english", stemmer="porter").core() is None
    assert get_analyzer("english", stemmer="nltk-snowball").core() is None
    assert get_analyzer("regex", pattern=r"\w+[!?]").core() is None
    assert get_analyzer("regex", pattern=r"\w+[!?]").term_list("why? no") == ["why?"]
    with pytest.raises(ValueError, match="runs in Python"):
        _core.CoreAnalyzer(json.dumps({"name": "english", "params": {}}))


def test_a_lone_surrogate_falls_back_to_python() -> None:
    analyzer = get_analyzer("whitespace")
    assert analyzer.core() is not None
    assert analyzer.term_list("a\udcff b") == ["a\udcff", "b"]
    assert [t.text for t in analyzer.tokens("x\ud800")] == ["x\ud800"]


def test_many_texts_in_one_call_and_a_bounded_cache() -> None:
    core = _core.CoreAnalyzer(get_analyzer("english").core_spec(), 3)
    batch = core.terms_batch(["Talks with Hamas", "", "talks talks TALKS", "a b c d e f"])
    assert batch[0] == (["talk", "hama"], [0, 2])
    assert batch[1] == ([], [])
    assert batch[2] == (["talk"] * 3, [0, 1, 2])
    lookups, misses, held = core.cache_stats()
    assert held <= 3 and lookups == 3 + 3 + 6 and misses >= 5


def test_new_specs_record_the_compiled_stemmer_and_its_version() -> None:
    assert _core.STEMMER_NAME == COMPILED_STEMMER and _core.STEMMER_VERSION == COMPILED_STEMMER_VERSION
    assert set(COMPILED_SNOWBALL_LANGUAGES) == set(_core.STEMMER_LANGUAGES)
    for name in ("english", "french", "turkish"):
        params = get_analyzer(name).spec["params"]
        assert params == {"stemmer": COMPILED_STEMMER, "stemmer_version": COMPILED_STEMMER_VERSION}


def test_the_tables_follow_the_running_pythons_unicode() -> None:
    # The property tests above check the tables character by character; a Python of
    # another Unicode version needs them regenerated (core/src/analysis/gen_tables.py).
    assert _core.UNICODE_VERSION == unicodedata.unidata_version


def test_a_spec_naming_no_stemmer_keeps_nltks_snowball() -> None:
    # Indexes stored before stemmers were recorded were stemmed by NLTK's Snowball.
    for name in ("english", "french"):
        old = analyzer_from_spec({"name": name, "params": {}})
        assert isinstance(old.filters[-1], SnowballStemFilter) and old.core() is None
        new = analyzer_from_spec(get_analyzer(name).spec)
        assert isinstance(new.filters[-1], CompiledSnowballStemFilter) and new.core() is not None
    old, new = analyzer_from_spec("english"), get_analyzer("english")
    assert old.term_list("ionization") == ["ionize"] and new.term_list("ionization") == ["ioniz"]


def test_another_compiled_stemmer_version_warns() -> None:
    spec = {"name": "english", "params": {"stemmer": "snowball", "stemmer_version": "rust-stemmers 0.1"}}
    with pytest.warns(UserWarning, match="rust-stemmers 0.1"):
        analyzer = analyzer_from_spec(spec)
    assert analyzer.term_list("talks") == ["talk"]
