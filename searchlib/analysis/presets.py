"""Named analyzers: the presets, the registry, and rebuilding an analyzer from its spec.

An index stores each field's analyzer as ``{"name": ..., "params": {...}}`` (JSON, never
pickled) and rebuilds it on open with :func:`analyzer_from_spec`. A custom chain is
registered under a name with :func:`register_analyzer` before an index naming it is
opened; opening one that names an unregistered analyzer fails, saying which name.

An index may come from an untrusted source, so :func:`check_analyzer_spec` checks a
spec before anything is built from it: parameters the factory does not take are
refused, and the built-in presets' parameters must be within sane limits (n-gram sizes
up to ``MAX_NGRAM_SIZE``, patterns compilable in bounded time, bounded synonym tables).
"""

from __future__ import annotations

import functools
import inspect
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
    MAX_NGRAM_SIZE,
    EdgeNGramTokenizer,
    KeywordTokenizer,
    NGramTokenizer,
    RegexTokenizer,
    UnicodeWordTokenizer,
    WhitespaceTokenizer,
    compile_pattern,
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


#: The presets as shipped, whose parameters check_analyzer_spec knows.
_BUILT_IN: dict[str, Callable[..., Analyzer]] = dict(_PRESETS)


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
    """Rebuild an analyzer from the JSON spec an index stores (or a bare name), after
    :func:`check_analyzer_spec`."""
    name, params = check_analyzer_spec(spec)
    return get_analyzer(name, **params)


#: Limits on a synonym table given as an analyzer parameter (a table from an index of
#: unknown origin is bounded before any token is expanded with it).
MAX_SYNONYM_WORDS = 1_000_000
MAX_SYNONYMS_PER_WORD = 64
MAX_SYNONYM_CHARS = 256


def check_analyzer_spec(spec: Any) -> tuple[str, dict[str, Any]]:
    """The name and parameters of an analyzer spec, checked without building anything.

    Raises AnalyzerError for an unknown name, a parameter its factory does not take, or
    (for the built-in presets) a value past a limit: n-gram sizes above
    ``MAX_NGRAM_SIZE``, a pattern :func:`compile_pattern` refuses, a synonym table of
    more than ``MAX_SYNONYM_WORDS`` words, ``MAX_SYNONYMS_PER_WORD`` synonyms a word or
    words longer than ``MAX_SYNONYM_CHARS``.
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise AnalyzerError(f"malformed analyzer spec {str(spec)[:200]}: expected {{'name': ...}}")
    name, params = spec["name"], spec.get("params") or {}
    if not isinstance(params, dict):
        raise AnalyzerError(f"malformed analyzer params {str(params)[:200]}: expected an object")
    factory = _PRESETS.get(name)
    if factory is None:
        raise unknown_analyzer_error(name)
    signature = _signature(factory)
    if signature is not None:
        try:
            signature.bind(**params)
        except TypeError as exc:
            raise AnalyzerError(f"bad parameters {sorted(params)} for analyzer {name!r}: {exc}") from None
    if factory is _BUILT_IN.get(name):
        for key, value in params.items():
            problem = _check_preset_param(key, value)
            if problem:
                raise AnalyzerError(f"analyzer {name!r} parameter {key!r}: {problem}")
    return name, params


@functools.lru_cache(maxsize=256)
def _signature(factory: Callable[..., Analyzer]) -> inspect.Signature | None:
    """The factory's signature (None for a callable without one, whose own call checks),
    remembered: a schema of many fields checks the same few factories again and again."""
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):
        return None


def _check_preset_param(key: str, value: Any) -> str | None:
    """What is wrong with a built-in preset's parameter value, or None."""
    if key in ("min_size", "max_size"):
        if type(value) is not int or not 1 <= value <= MAX_NGRAM_SIZE:
            return f"must be a whole number from 1 to {MAX_NGRAM_SIZE}, got {str(value)[:40]}"
    elif key == "pattern":
        try:
            compile_pattern(value)
        except ValueError as exc:
            return f"the pattern {exc}"
    elif key == "stemmer":
        if not isinstance(value, str) or len(value) > 40:
            return "must be a stemmer's name"
    elif key == "synonyms" and value is not None:
        if not isinstance(value, dict) or len(value) > MAX_SYNONYM_WORDS:
            return f"must be an object of at most {MAX_SYNONYM_WORDS:,} words"
        for word, synonyms in value.items():
            if (
                len(word) > MAX_SYNONYM_CHARS
                or not isinstance(synonyms, list)
                or len(synonyms) > MAX_SYNONYMS_PER_WORD
                or not all(isinstance(s, str) and len(s) <= MAX_SYNONYM_CHARS for s in synonyms)
            ):
                return (
                    f"word {word[:40]!r} must map to a list of at most {MAX_SYNONYMS_PER_WORD} words "
                    f"of at most {MAX_SYNONYM_CHARS} characters"
                )
    return None
