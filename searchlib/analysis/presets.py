"""Named analyzers: the presets, the registry, and rebuilding an analyzer from its spec.

An index stores each field's analyzer as ``{"name": ..., "params": {...}}`` (JSON, never
pickled) and rebuilds it on open with :func:`analyzer_from_spec`. A custom chain is
registered under a name with :func:`register_analyzer` before an index naming it is
opened; opening one that names an unregistered analyzer fails, saying which name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from searchlib.analysis.analyzer import Analyzer
from searchlib.analysis.filters import (
    ELISIONS,
    SNOWBALL_LANGUAGES,
    ElisionFilter,
    LancasterStemFilter,
    LowercaseFilter,
    PorterStemFilter,
    PossessiveFilter,
    SnowballStemFilter,
    StopFilter,
    SynonymFilter,
)
from searchlib.analysis.tokenizers import (
    EdgeNGramTokenizer,
    KeywordTokenizer,
    NGramTokenizer,
    RegexTokenizer,
    UnicodeWordTokenizer,
    WhitespaceTokenizer,
)
from searchlib.analysis.tokens import TokenFilter, Tokenizer
from searchlib.errors import AnalyzerError

Synonyms = Mapping[str, Sequence[str]]


def _with_synonyms(analyzer: Analyzer, synonyms: Synonyms | None) -> Analyzer:
    return analyzer | SynonymFilter(synonyms) if synonyms else analyzer


def standard(synonyms: Synonyms | None = None) -> Analyzer:
    """Unicode words (CJK as bigrams), case folded."""
    return _with_synonyms(UnicodeWordTokenizer() | LowercaseFilter(), synonyms)


def simple() -> Analyzer:
    """Runs of letters only (digits and punctuation separate), case folded."""
    return RegexTokenizer(r"\p{L}+") | LowercaseFilter()


def whitespace() -> Analyzer:
    """Whitespace-separated runs, exactly as written (no case folding)."""
    return Analyzer(WhitespaceTokenizer())


def keyword() -> Analyzer:
    """The whole value as one term."""
    return Analyzer(KeywordTokenizer())


_ENGLISH_STEMMERS: dict[str, Callable[[], TokenFilter]] = {
    "porter2": lambda: SnowballStemFilter("english"),
    "porter": PorterStemFilter,
    "lancaster": LancasterStemFilter,
}


def english(stemmer: str = "porter2", synonyms: Synonyms | None = None) -> Analyzer:
    """Unicode words, case folded, possessives stripped, English stop words dropped,
    then stemmed (``porter2``, the default, ``porter``, ``lancaster`` or ``none``).
    Synonyms, if given, are added before stemming, so they are stemmed like the text."""
    chain = UnicodeWordTokenizer() | LowercaseFilter() | PossessiveFilter() | StopFilter()
    if synonyms:
        chain = chain | SynonymFilter(synonyms)
    if stemmer == "none":
        return chain
    if stemmer not in _ENGLISH_STEMMERS:
        raise AnalyzerError(f"unknown stemmer {stemmer!r}; stemmers: {', '.join([*_ENGLISH_STEMMERS, 'none'])}")
    return chain | _ENGLISH_STEMMERS[stemmer]()


def language(name: str, synonyms: Synonyms | None = None) -> Analyzer:
    """The preset for a Snowball language: words, case folding, elided articles stripped
    (French, Italian), its stop list, its stems."""
    chain = UnicodeWordTokenizer() | LowercaseFilter()
    if name in ELISIONS:
        chain = chain | ElisionFilter(language=name)
    chain = chain | StopFilter(language=name)
    if synonyms:
        chain = chain | SynonymFilter(synonyms)
    return chain | SnowballStemFilter(name)


def ngram(min_size: int = 2, max_size: int = 3) -> Analyzer:
    """Character n-grams of each word, case folded (substring matching)."""
    return NGramTokenizer(min_size, max_size) | LowercaseFilter()


def edge_ngram(min_size: int = 1, max_size: int = 20) -> Analyzer:
    """Prefixes of each word, case folded (search as you type)."""
    return EdgeNGramTokenizer(min_size, max_size) | LowercaseFilter()


def regex_words(pattern: str) -> Analyzer:
    """Every match of ``pattern`` is a token, case folded."""
    return RegexTokenizer(pattern) | LowercaseFilter()


def _language_preset(name: str) -> Callable[..., Analyzer]:
    def preset(synonyms: Synonyms | None = None) -> Analyzer:
        return language(name, synonyms)

    preset.__doc__ = f"The {name} preset: {language.__doc__}"
    return preset


_PRESETS: dict[str, Callable[..., Analyzer]] = {
    "standard": standard,
    "simple": simple,
    "whitespace": whitespace,
    "keyword": keyword,
    "english": english,
    "ngram": ngram,
    "edge_ngram": edge_ngram,
    "regex": regex_words,
    **{name: _language_preset(name) for name in SNOWBALL_LANGUAGES if name != "english"},
}


def register_analyzer(name: str, factory: Callable[..., Analyzer]) -> None:
    """Make ``factory`` available under ``name`` for schemas and stored indexes.

    The factory is called with the field's JSON parameters as keyword arguments, so an
    index records ``name`` and parameters, never code.
    """
    if not isinstance(name, str) or not name:
        raise AnalyzerError(f"an analyzer name must be a non-empty string, got {name!r}")
    if not callable(factory):
        raise AnalyzerError(f"the factory for analyzer {name!r} is not callable")
    _PRESETS[name] = factory


def analyzer_names() -> list[str]:
    """The names :func:`get_analyzer` accepts."""
    return sorted(_PRESETS)


def is_known_analyzer(name: str) -> bool:
    return name in _PRESETS


def unknown_analyzer_error(name: str, context: str = "") -> AnalyzerError:
    return AnalyzerError(
        f"unknown analyzer {name!r}{context}; known analyzers: {', '.join(analyzer_names())}"
        " (a custom one must be registered with searchlib.register_analyzer first)"
    )


def get_analyzer(name: str, **params: Any) -> Analyzer:
    """Build the analyzer registered under ``name`` with JSON-serializable ``params``.

    >>> get_analyzer("english").terms("Talking directly")
    ['talk', 'direct']
    >>> get_analyzer("french").term_list("Les négociations directes")
    ['négoci', 'direct']
    """
    factory = _PRESETS.get(name)
    if factory is None:
        raise unknown_analyzer_error(name)
    try:
        json.dumps(params)
    except (TypeError, ValueError) as exc:
        raise AnalyzerError(f"parameters of analyzer {name!r} must be JSON values: {exc}") from None
    try:
        analyzer = factory(**params)
    except TypeError as exc:
        raise AnalyzerError(f"bad parameters {params!r} for analyzer {name!r}: {exc}") from None
    if isinstance(analyzer, Tokenizer):  # a bare tokenizer is an analyzer without filters
        analyzer = Analyzer(analyzer)
    if not isinstance(analyzer, Analyzer):
        raise AnalyzerError(f"the factory for analyzer {name!r} returned {type(analyzer).__name__}, not an Analyzer")
    analyzer.spec = {"name": name, "params": params}
    return analyzer


def analyzer_from_spec(spec: Any) -> Analyzer:
    """Rebuild an analyzer from the JSON spec an index stores (or a bare name)."""
    if isinstance(spec, str):
        return get_analyzer(spec)
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise AnalyzerError(f"malformed analyzer spec {spec!r}: expected {{'name': ...}}")
    params = spec.get("params") or {}
    if not isinstance(params, dict):
        raise AnalyzerError(f"malformed analyzer params {params!r}: expected an object")
    return get_analyzer(spec["name"], **params)
