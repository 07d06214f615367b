"""Analysis: tokenizers, filters, presets, specs, and the cached fast path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib.analysis import (
    SNOWBALL_LANGUAGES,
    Analyzer,
    ASCIIFoldingFilter,
    EdgeNGramTokenizer,
    KeywordTokenizer,
    LancasterStemFilter,
    LengthFilter,
    LowercaseFilter,
    NGramTokenizer,
    PorterStemFilter,
    PossessiveFilter,
    RegexTokenizer,
    SnowballStemFilter,
    StopFilter,
    SynonymFilter,
    UnicodeWordTokenizer,
    WhitespaceTokenizer,
    analyzer_from_spec,
    analyzer_names,
    english_stop_words,
    get_analyzer,
    register_analyzer,
    stop_words,
)
from searchlib.analysis.tokens import TokenFilter
from searchlib.errors import AnalyzerError
from tests.conftest import REPO_ROOT


def spans(tokenizer: object, text: str) -> list[tuple[str, int]]:
    """(source span, position) of each token: offsets are checked by slicing."""
    return [(text[t.start : t.end], t.pos) for t in tokenizer.tokens(text)]  # type: ignore[attr-defined]


# --- tokenizers ----------------------------------------------------------------------


def test_unicode_words_join_apostrophes_and_split_hyphens_and_numbers() -> None:
    text = "Israel’s ceasefire-talks cost $1,000 (3.14%) in foo_bar; U.S. don't 'quote'"
    assert [span for span, _ in spans(UnicodeWordTokenizer(), text)] == [
        "Israel’s", "ceasefire", "talks", "cost", "1", "000", "3", "14", "in", "foo_bar",
        "U", "S", "don't", "quote",
    ]


def test_cjk_runs_become_overlapping_bigrams_with_exact_offsets() -> None:
    text = "東京都に住む 서울 and 猫"
    assert spans(UnicodeWordTokenizer(), text) == [
        ("東京", 0), ("京都", 1), ("都に", 2), ("に住", 3), ("住む", 4), ("서울", 5), ("and", 6), ("猫", 7),
    ]
    assert UnicodeWordTokenizer().words(text) == [span for span, _ in spans(UnicodeWordTokenizer(), text)]


def test_combining_marks_stay_inside_words() -> None:
    text = "Cafe\u0301 हिन्दी ما"
    assert [span for span, _ in spans(UnicodeWordTokenizer(), text)] == ["Cafe\u0301", "हिन्दी", "ما"]


def test_the_mark_table_matches_unicodedata() -> None:
    import re
    import unicodedata

    from searchlib.analysis._marks import ASTRAL_MARKS, BMP_MARKS, UNICODE_DATA_VERSION

    in_table = re.compile(f"[{BMP_MARKS}{ASTRAL_MARKS}]")
    same_version = unicodedata.unidata_version == UNICODE_DATA_VERSION
    for code_point in range(0x110000):
        char = chr(code_point)
        is_mark = unicodedata.category(char).startswith("M")
        listed = in_table.match(char) is not None
        # A newer Python may know marks this table lacks; what it lists must be marks.
        assert listed == is_mark if same_version else (not listed or is_mark), hex(code_point)


def test_whitespace_regex_and_keyword_tokenizers() -> None:
    assert [s for s, _ in spans(WhitespaceTokenizer(), " Direct  talks,\tnow ")] == ["Direct", "talks,", "now"]
    assert [s for s, _ in spans(RegexTokenizer(r"[A-Z]\w*"), "Direct talks with Hamas")] == ["Direct", "Hamas"]
    assert RegexTokenizer(r"(\d)\d").words("12 345") == ["12", "34"]  # groups do not change tokens
    assert RegexTokenizer(r"\d*").words("a1b") == ["1"]  # empty matches are skipped
    assert spans(KeywordTokenizer(), "New York") == [("New York", 0)]


def test_ngrams_stay_inside_words_and_edge_ngrams_are_prefixes() -> None:
    assert [s for s, _ in spans(NGramTokenizer(2, 3), "Talk it")] == ["Ta", "Tal", "al", "alk", "lk", "it"]
    assert spans(EdgeNGramTokenizer(1, 3), "Direct ok") == [
        ("D", 0), ("Di", 1), ("Dir", 2), ("o", 3), ("ok", 4),
    ]


@pytest.mark.parametrize("sizes", [(0, 2), (3, 2), (2, "3")])
def test_bad_ngram_sizes_are_refused(sizes: tuple[object, object]) -> None:
    with pytest.raises(AnalyzerError, match="n-gram sizes"):
        NGramTokenizer(*sizes)  # type: ignore[arg-type]


def test_a_regex_that_does_not_compile_is_named() -> None:
    with pytest.raises(AnalyzerError, match=r"regex '\[a-' does not compile"):
        RegexTokenizer("[a-")


# --- filters -------------------------------------------------------------------------


def test_lowercase_folds_case_and_composes_accents() -> None:
    assert LowercaseFilter().map_term("STRASSE") == LowercaseFilter().map_term("Straße") == "strasse"
    assert LowercaseFilter().map_term("Cafe\u0301") == "café"


def test_ascii_folding_folds_latin_only() -> None:
    fold = ASCIIFoldingFilter().map_term
    assert [fold(w) for w in ("café", "Øresund", "Łódź", "straße", "naïve")] == [
        "cafe", "Oresund", "Lodz", "strasse", "naive",
    ]
    assert fold("がっこう") == "がっこう" and fold("서울") == "서울" and fold("Москва") == "Москва"


def test_stop_lists_for_every_snowball_language() -> None:
    assert {"the", "don't", "with"} <= english_stop_words()
    assert {"les", "et"} <= stop_words("french") and {"und", "die"} <= stop_words("german")
    for language in SNOWBALL_LANGUAGES:
        assert len(stop_words(language)) > 20, language


def test_possessives_and_curly_apostrophes() -> None:
    strip = PossessiveFilter().map_term
    assert [strip(w) for w in ("israel's", "israel’s", "students'", "don’t", "talks")] == [
        "israel", "israel", "students", "don't", "talks",
    ]


def test_length_bounds() -> None:
    analyzer = UnicodeWordTokenizer() | LengthFilter(2, 4)
    assert analyzer.term_list("a an ant ants antsy") == ["an", "ant", "ants"]


def test_stemmers_from_nltk() -> None:
    assert PorterStemFilter().map_term("generously") == "gener"
    assert SnowballStemFilter("english").map_term("generously") == "generous"
    assert SnowballStemFilter("german").map_term("gespräche") == "gesprach"
    assert LancasterStemFilter().map_term("maximum") == "maxim"


def test_snowball_languages_match_nltk() -> None:
    from nltk.stem.snowball import SnowballStemmer

    assert set(SNOWBALL_LANGUAGES) == set(SnowballStemmer.languages) - {"porter"}


def test_synonyms_share_the_original_position_and_offsets() -> None:
    analyzer = UnicodeWordTokenizer() | LowercaseFilter() | SynonymFilter({"car": ["automobile", "auto"]})
    assert not analyzer.is_fast
    assert [(t.text, t.pos, t.start, t.end) for t in analyzer.tokens("Red car")] == [
        ("red", 0, 0, 3), ("car", 1, 4, 7), ("automobile", 1, 4, 7), ("auto", 1, 4, 7),
    ]
    with pytest.raises(AnalyzerError, match="no fast path"):
        analyzer.terms("Red car")


def test_bad_synonym_mapping_is_refused() -> None:
    with pytest.raises(AnalyzerError, match="synonyms must map"):
        SynonymFilter({"car": "auto"})  # type: ignore[dict-item]


# --- composition and presets -----------------------------------------------------------


def test_composition_with_pipe() -> None:
    analyzer = UnicodeWordTokenizer() | LowercaseFilter() | StopFilter(["x"])
    assert analyzer.terms("X Y") == [None, "y"]


def test_a_chain_must_start_with_a_tokenizer() -> None:
    with pytest.raises(AnalyzerError, match="must start with a tokenizer"):
        LowercaseFilter() | StopFilter()
    with pytest.raises(AnalyzerError, match="must start with a tokenizer"):
        SynonymFilter({}) | LowercaseFilter()
    with pytest.raises(AnalyzerError, match="must start with a tokenizer"):
        Analyzer(LowercaseFilter())  # type: ignore[arg-type]
    with pytest.raises(AnalyzerError, match="only the first step"):
        UnicodeWordTokenizer() | LowercaseFilter() | WhitespaceTokenizer()  # type: ignore[operator]


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(AnalyzerError, match="unknown analyzer 'klingon'.*english.*french"):
        get_analyzer("klingon")
    with pytest.raises(AnalyzerError, match="language 'klingon'; languages: arabic.*swedish"):
        SnowballStemFilter("klingon")
    with pytest.raises(AnalyzerError, match="language 'klingon'"):
        StopFilter(language="klingon")
    with pytest.raises(AnalyzerError, match="unknown stemmer 'bogus'; stemmers: snowball, nltk-snowball, porter2, porter"):
        get_analyzer("english", stemmer="bogus")
    with pytest.raises(AnalyzerError, match="bad parameters"):
        get_analyzer("english", colour="red")


def test_a_built_in_presets_parameters_are_checked_as_its_signature_would() -> None:
    """check_analyzer_spec reads a built-in preset's parameters from its code object
    (inspect would slow every start-up), which holds only for plain functions whose
    parameters may all be named: each built-in is one, and each spec is judged alike."""
    import inspect

    from searchlib.analysis.presets import _BUILT_IN, _built_in_parameter_problem

    for name, factory in _BUILT_IN.items():
        parameters = inspect.signature(factory).parameters.values()
        assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters), name
        names = [p.name for p in parameters]
        for params in [{}, {"colour": "red"}, *({key: None} for key in names), dict.fromkeys(names)]:
            try:
                inspect.signature(factory).bind(**params)
                expected = None
            except TypeError as exc:
                expected = str(exc)
            assert _built_in_parameter_problem(factory, params) == expected, (name, params)
    with pytest.raises(AnalyzerError, match="missing a required argument: 'pattern'"):
        analyzer_from_spec({"name": "regex", "params": {}})


def test_every_language_has_a_preset() -> None:
    assert set(SNOWBALL_LANGUAGES) <= set(analyzer_names())
    assert {"standard", "simple", "keyword", "english"} <= set(analyzer_names())


GOLDEN = [
    ("standard", "Israel’s ceasefire-talks cost $1,000 (3.14%) in foo_bar.",
     ["israel’s", "ceasefire", "talks", "cost", "1", "000", "3", "14", "in", "foo_bar"]),
    ("standard", "東京都に住む 서울 CAFÉ", ["東京", "京都", "都に", "に住", "住む", "서울", "café"]),
    ("simple", "R2-D2 isn't here, ÉTÉ 2024!", ["r", "d", "isn", "t", "here", "été"]),
    ("whitespace", "Direct talks, NOT indirect.", ["Direct", "talks,", "NOT", "indirect."]),
    ("keyword", "New York City", ["New York City"]),
    ("english", "Students' books and Israel's generously running dogs don’t",
     ["student", "book", "israel", "generous", "run", "dog"]),
    ("french", "Les négociations directes entre les États-Unis et le Hamas",
     ["négoci", "direct", "état", "unis", "ham"]),
    ("german", "Die direkten Gespräche zwischen den Vereinigten Staaten und der Hamas",
     ["direkt", "gesprach", "vereinigt", "staat", "hamas"]),
    ("spanish", "Las conversaciones directas entre Estados Unidos y Hamás",
     ["convers", "direct", "unid", "hamas"]),
    ("russian", "Прямые переговоры между США и ХАМАС продолжаются",
     ["прям", "переговор", "сша", "хамас", "продолжа"]),
    ("ngram", "Talks", ["ta", "tal", "al", "alk", "lk", "lks", "ks"]),
    ("edge_ngram", "Go talk", ["g", "go", "t", "ta", "tal", "talk"]),
]


@pytest.mark.parametrize("name,text,expected", GOLDEN)
def test_golden_tokens(name: str, text: str, expected: list[str]) -> None:
    assert get_analyzer(name).term_list(text) == expected


def test_golden_english_on_the_seed_article() -> None:
    lines = (REPO_ROOT / "seeds" / "000_9f2ca6e0f4209d95.txt").read_text("utf-8").splitlines()
    english = get_analyzer("english")
    assert english.term_list(lines[0]) == [
        "date", "2025", "05", "11", "us", "talk", "direct", "hama", "ceasefir", "aid", "gaza",
    ]
    lead = next(line for line in lines if line.startswith("The Trump administration"))
    assert english.term_list(lead) == [
        "trump", "administr", "talk", "direct", "hama", "regard", "end", "war", "gaza", "bring",
        "humanitarian", "aid", "senior", "palestinian", "offici", "told", "reuter",
    ]


def test_spec_round_trip_rebuilds_the_same_chain() -> None:
    original = get_analyzer("english", stemmer="porter", synonyms={"ceasefire": ["truce"]})
    assert original.spec == {"name": "english", "params": {"stemmer": "porter", "synonyms": {"ceasefire": ["truce"]}}}
    rebuilt = analyzer_from_spec(original.spec)
    text = "Negotiators were talking directly about a ceasefire"
    assert [(t.text, t.pos) for t in rebuilt.tokens(text)] == [(t.text, t.pos) for t in original.tokens(text)]


def test_a_registered_analyzer_is_built_by_name_with_params() -> None:
    register_analyzer("test-shouting", lambda marks="!": RegexTokenizer(rf"\w+[{marks}]"))
    assert get_analyzer("test-shouting", marks="?").term_list("why? no! yes?") == ["why?", "yes?"]


# --- the fast path ---------------------------------------------------------------------


def test_cache_reports_hits_and_stays_bounded() -> None:
    analyzer = Analyzer(UnicodeWordTokenizer(), [LowercaseFilter()], cache_size=3)
    analyzer.terms("a b a b a b")
    stats = analyzer.cache_stats()
    assert stats["lookups"] == 6 and stats["misses"] == 2
    assert stats["hit_rate"] == pytest.approx(4 / 6)
    analyzer.terms("c d e f g")
    assert analyzer.cache_stats()["size"] <= 3


class _AppendX(TokenFilter):
    """A cheap filter that changes its own output again: lowercase, then append "x"."""

    def map_term(self, term: str) -> str | None:
        return term.lower() + "x"


class _CountingStem(TokenFilter):
    """A costly filter that counts its calls: drops a trailing "s"."""

    costly = True

    def __init__(self) -> None:
        self.calls = 0

    def map_term(self, term: str) -> str | None:
        self.calls += 1
        return term.removesuffix("s")


def test_a_cached_lowercase_form_stands_in_for_the_stemmer_only_when_the_chain_allows() -> None:
    stem = _CountingStem()
    analyzer = Analyzer(UnicodeWordTokenizer(), [LowercaseFilter(), stem])
    assert analyzer.terms("talks Talks TALKS") == ["talk", "talk", "talk"]
    assert stem.calls == 1 and analyzer.cache_stats()["misses"] == 3
    # "Ab" becomes the key "abx", but the raw word "abx" becomes "abxx" then its stem:
    # the cached entry for "abx" is not the term of "Ab".
    appending = Analyzer(UnicodeWordTokenizer(), [_AppendX(), PorterStemFilter()])
    assert appending.terms("abx Ab") == [appending.term_for("abx"), appending.term_for("Ab")]
    assert appending.term_for("abx") != appending.term_for("Ab")


def test_stop_words_leave_position_gaps() -> None:
    tokens = list(get_analyzer("english").tokens("talks with Hamas"))
    assert [(t.text, t.pos) for t in tokens] == [("talk", 0), ("hama", 2)]


def test_empty_text_gives_no_tokens() -> None:
    for name in analyzer_names():
        if name != "regex":
            assert get_analyzer(name).term_list("") == [], name


# Arbitrary Unicode, weighted towards what tokenizers find hard: apostrophes, number
# separators, combining marks, CJK, lone surrogates and control characters.
TRICKY = st.sampled_from(list("'’.,-_ \t\n\u0301\u00ad\ud800\udfff\x00\x1b東京サ한글3aÉß"))
UNICODE_TEXT = st.text(alphabet=st.one_of(st.characters(), TRICKY), max_size=60)
FAST_PRESETS = [name for name in ("standard", "simple", "whitespace", "keyword", "english", "french", "russian")]


@pytest.mark.parametrize("name", FAST_PRESETS)
@given(text=UNICODE_TEXT)
def test_fast_and_general_paths_agree(name: str, text: str) -> None:
    analyzer = get_analyzer(name)
    fast = [(pos, term) for pos, term in enumerate(analyzer.terms(text)) if term is not None]
    general = [(t.pos, t.text) for t in analyzer.tokens(text, cached=False)]
    cached = [(t.pos, t.text) for t in analyzer.tokens(text)]
    assert fast == general == cached


@pytest.mark.parametrize("name", [*FAST_PRESETS, "ngram", "edge_ngram"])
@given(text=UNICODE_TEXT)
def test_offsets_are_exact_and_positions_never_decrease(name: str, text: str) -> None:
    analyzer = get_analyzer(name)
    tokens = list(analyzer.tokens(text))
    assert [t.pos for t in tokens] == sorted(t.pos for t in tokens)
    for token in tokens:
        source = text[token.start : token.end]
        assert 0 <= token.start < token.end <= len(text)
        # The span, analyzed alone, gives the token back: it is where the token came from.
        assert token.text in analyzer.term_list(source)


@given(text=UNICODE_TEXT)
def test_synonym_chains_agree_with_their_plain_chain_on_the_originals(text: str) -> None:
    plain = get_analyzer("english")
    with_synonyms = get_analyzer("english", synonyms={"car": ["automobile"], "talks": ["negotiations"]})
    originals = [(t.pos, t.text) for t in plain.tokens(text)]
    assert set(originals) <= {(t.pos, t.text) for t in with_synonyms.tokens(text)}


def test_a_synonym_that_stems_like_its_word_counts_once() -> None:
    analyzer = get_analyzer("english", synonyms={"cars": ["car"], "talks": ["talking", "negotiations"]})
    assert [(t.text, t.pos) for t in analyzer.tokens("cars talks")] == [
        ("car", 0), ("talk", 1), ("negoti", 1),
    ]


def test_french_and_italian_strip_elided_articles() -> None:
    assert get_analyzer("french").term_list("l'homme d’affaires qu'il") == ["homm", "affair"]
    assert get_analyzer("italian").term_list("dell'anno") == ["anno"]


def test_kana_runs_keep_the_prolonged_sound_mark() -> None:
    assert get_analyzer("standard").term_list("コーヒー") == ["コー", "ーヒ", "ヒー"]


@pytest.mark.parametrize("name", [*FAST_PRESETS, "ngram", "edge_ngram"])
@given(text=UNICODE_TEXT)
def test_pieces_cut_the_text_into_gaps_and_the_tokens(name: str, text: str) -> None:
    tokenizer = get_analyzer(name).tokenizer
    pieces = tokenizer.pieces(text)
    if pieces is None:  # no fast path here (n-grams, CJK bigrams, user regexes): tokens() serves
        return
    assert "".join(pieces) == text and len(pieces) % 2 == 1
    starts = [sum(map(len, pieces[: 2 * i + 1])) for i in range(len(pieces) // 2)]
    assert [(start, start + len(word)) for start, word in zip(starts, pieces[1::2])] == [
        (t.start, t.end) for t in tokenizer.tokens(text)
    ]
    assert pieces[1::2] == tokenizer.words(text)
