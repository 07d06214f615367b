"""Named analyzers: the presets, the registry, and rebuilding an analyzer from its spec.

An index stores each field's analyzer as ``{"name": ..., "params": {...}}`` (JSON, never
pickled) and rebuilds it on open with :func:`analyzer_from_spec`. A custom chain is
registered under a name with :func:`register_analyzer` before an index naming it is
opened; opening one that names an unregistered analyzer fails, saying which name.

Stemmers are recorded: a new analyzer (:func:`get_analyzer`) that stems names its stemmer
in its spec, and the version too for the compiled Snowball stemmer (``{"stemmer":
"snowball", "stemmer_version": "rust-stemmers 1.2.0"}``), so an index is always queried
with the stemmer that built it. A stored spec that names no stemmer was written before
stemmers were recorded, when ``english`` and the language presets stemmed with NLTK's
Snowball: :func:`analyzer_from_spec` rebuilds it with NLTK's Snowball.

An index may come from an untrusted source, so :func:`check_analyzer_spec` checks a
spec before anything is built from it: parameters the factory does not take are
refused, and the built-in presets' parameters must be within sane limits (n-gram sizes
up to ``MAX_NGRAM_SIZE``, patterns compilable in bounded time, bounded synonym tables).
"""

from __future__ import annotations


from searchlib.analysis.analyzer import Analyzer
from searchlib.analysis.filters import (
    COMPILED_SNOWBALL_LANGUAGES,
    COMPILED_STEMMER,
    COMPILED_STEMMER_VERSION,
    ELISIONS,
    SNOWBALL_LANGUAGES,
    CompiledSnowballStemFilter,
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
    LETTERS,
    RegexTokenizer,
    UnicodeWordTokenizer,
    WhitespaceTokenizer,
    compile_pattern,
)
from searchlib.analysis.tokens import TokenFilter, Tokenizer
from searchlib.errors import AnalyzerError

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:  # loaded only to check a custom analyzer's parameters (see _signature)
    import inspect
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    Synonyms = Mapping[str, Sequence[str]]


def _with_synonyms(analyzer: Analyzer, synonyms: Synonyms | None) -> Analyzer:
    return analyzer | SynonymFilter(synonyms) if synonyms else analyzer


def standard(synonyms: Synonyms | None = None) -> Analyzer:
    """Unicode words (CJK as bigrams), case folded."""
    return _with_synonyms(UnicodeWordTokenizer() | LowercaseFilter(), synonyms)


def simple() -> Analyzer:
    """Runs of letters only (digits and punctuation separate), case folded."""
    return RegexTokenizer(LETTERS) | LowercaseFilter()


def whitespace() -> Analyzer:
    """Whitespace-separated runs, exactly as written (no case folding)."""
    return Analyzer(WhitespaceTokenizer())


def keyword() -> Analyzer:
    """The whole value as one term."""
    return Analyzer(KeywordTokenizer())


#: What a stemming preset's spec says when it names no stemmer: it was stored before
#: stemmers were recorded, when the presets stemmed with NLTK's Snowball.
UNRECORDED_STEMMER = "nltk-snowball"


def _stem_filter(language: str, stemmer: str | None, stemmer_version: str | None) -> TokenFilter | None:
    """The stem filter a preset's ``stemmer`` parameter names (None for ``none``)."""
    stemmer = UNRECORDED_STEMMER if stemmer is None else stemmer
    if stemmer == COMPILED_STEMMER:
        if stemmer_version not in (None, COMPILED_STEMMER_VERSION):
            import warnings  # loaded only to warn

            warnings.warn(
                f"the index was built with the Snowball stemmer of {stemmer_version}, and this "
                f"searchlib has {COMPILED_STEMMER_VERSION}: a few words may stem differently "
                "(rebuild the index to match)",
                stacklevel=4,
            )
        return CompiledSnowballStemFilter(language)
    if stemmer == "nltk-snowball" or (stemmer == "porter2" and language == "english"):
        return SnowballStemFilter(language)
    if language == "english" and stemmer in _NLTK_ENGLISH_STEMMERS:
        return _NLTK_ENGLISH_STEMMERS[stemmer]()
    if language == "english" and stemmer == "none":
        return None
    known = ["snowball", "nltk-snowball", *(["porter2", *_NLTK_ENGLISH_STEMMERS, "none"] if language == "english" else [])]
    raise AnalyzerError(f"unknown stemmer {stemmer!r}; stemmers: {', '.join(known)}")


_NLTK_ENGLISH_STEMMERS: dict[str, Callable[[], TokenFilter]] = {
    "porter": PorterStemFilter,
    "lancaster": LancasterStemFilter,
}

#: A new analyzer's stemmer when none is asked for: the compiled Snowball.
DEFAULT_STEMMER = COMPILED_STEMMER


def english(
    stemmer: str | None = None, synonyms: Synonyms | None = None, stemmer_version: str | None = None
) -> Analyzer:
    """Unicode words, case folded, possessives stripped, English stop words dropped,
    then stemmed: ``snowball`` (the compiled Snowball English stemmer, Porter2: the
    default of a new analyzer), ``nltk-snowball`` or its old name ``porter2`` (NLTK's
    Snowball), ``porter``, ``lancaster`` (NLTK's), or ``none``. Synonyms, if given, are
    added before stemming, so they are stemmed like the text."""
    chain = UnicodeWordTokenizer() | LowercaseFilter() | PossessiveFilter() | StopFilter()
    if synonyms:
        chain = chain | SynonymFilter(synonyms)
    stem = _stem_filter("english", stemmer, stemmer_version)
    return chain if stem is None else chain | stem


#: Languages with a compiled stemmer but no stop list in ``stop-words``.
_WITHOUT_STOP_LIST = frozenset({"tamil"})


def language(
    name: str, synonyms: Synonyms | None = None, stemmer: str | None = None, stemmer_version: str | None = None
) -> Analyzer:
    """The preset for a Snowball language: words, case folding, elided articles stripped
    (French, Italian), its stop list, its stems (``snowball``, compiled, the default of a
    new analyzer, or ``nltk-snowball``)."""
    chain = UnicodeWordTokenizer() | LowercaseFilter()
    if name in ELISIONS:
        chain = chain | ElisionFilter(language=name)
    if name not in _WITHOUT_STOP_LIST:
        chain = chain | StopFilter(language=name)
    if synonyms:
        chain = chain | SynonymFilter(synonyms)
    stem = _stem_filter(name, stemmer, stemmer_version)
    return chain if stem is None else chain | stem


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
    def preset(
        synonyms: Synonyms | None = None, stemmer: str | None = None, stemmer_version: str | None = None
    ) -> Analyzer:
        return language(name, synonyms, stemmer, stemmer_version)

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
    **{name: _language_preset(name) for name in COMPILED_SNOWBALL_LANGUAGES if name != "english"},
}

#: The presets that stem, whose new specs record the stemmer.
_STEMMING = frozenset(name for name in COMPILED_SNOWBALL_LANGUAGES)


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


def is_built_in(name: str) -> bool:
    """Whether ``name`` is a preset as shipped (not one registered, nor a preset's name
    registered again)."""
    factory = _BUILT_IN.get(name)
    return factory is not None and _PRESETS.get(name) is factory


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
    """Build a new analyzer registered under ``name`` with JSON-serializable ``params``.

    A built-in stemming preset asked for no stemmer gets the compiled Snowball one, and
    its spec records the stemmer and version (see the module docstring).

    >>> get_analyzer("english").terms("Talking directly")
    ['talk', 'direct']
    >>> get_analyzer("french").term_list("Les négociations directes")
    ['négoci', 'direct']
    """
    if name in _STEMMING and _PRESETS.get(name) is _BUILT_IN.get(name):
        if params.get("stemmer") is None:
            params = {**params, "stemmer": DEFAULT_STEMMER}
        if params["stemmer"] == COMPILED_STEMMER and params.get("stemmer_version") is None:
            params = {**params, "stemmer_version": COMPILED_STEMMER_VERSION}
    return _build(name, params)


def _build(name: str, params: dict[str, Any], *, as_shipped: bool = False) -> Analyzer:
    """The analyzer ``name`` with exactly ``params`` (as given or as stored)."""
    factory = (_BUILT_IN if as_shipped else _PRESETS).get(name)
    if factory is None:
        raise unknown_analyzer_error(name)
    if not all(type(key) is str and type(value) is str for key, value in params.items()):
        import json  # a stored spec's parameters are strings: only others need the check

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


def analyzer_from_spec(spec: Any, *, as_shipped: bool = False) -> Analyzer:
    """Rebuild an analyzer from the JSON spec an index stores (or a bare name), after
    :func:`check_analyzer_spec`, with exactly its parameters: a stemming preset's spec
    that names no stemmer stems with NLTK's Snowball, as when it was stored.

    ``as_shipped`` builds the preset searchlib ships under the name even when the
    application has registered another since (a searcher that resolved the name to the
    index's recorded chain keeps to it on every path)."""
    name, params = check_analyzer_spec(spec, as_shipped=as_shipped)
    return _build(name, params, as_shipped=as_shipped)


#: Limits on a synonym table given as an analyzer parameter (a table from an index of
#: unknown origin is bounded before any token is expanded with it).
MAX_SYNONYM_WORDS = 1_000_000
MAX_SYNONYMS_PER_WORD = 64
MAX_SYNONYM_CHARS = 256


def check_analyzer_spec(spec: Any, *, as_shipped: bool = False) -> tuple[str, dict[str, Any]]:
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
    factory = (_BUILT_IN if as_shipped else _PRESETS).get(name)
    if factory is None:
        raise unknown_analyzer_error(name)
    built_in = factory is _BUILT_IN.get(name)
    problem = _built_in_parameter_problem(factory, params) if built_in else _signature_problem(factory, params)
    if problem:
        raise AnalyzerError(f"bad parameters {sorted(params)} for analyzer {name!r}: {problem}")
    if built_in:
        for key, value in params.items():
            problem = _check_preset_param(key, value)
            if problem:
                raise AnalyzerError(f"analyzer {name!r} parameter {key!r}: {problem}")
    return name, params


def _built_in_parameter_problem(factory: Callable[..., Analyzer], params: dict[str, Any]) -> str | None:
    """Why ``params`` cannot be passed to a built-in preset, or None: the words of
    :meth:`inspect.Signature.bind`'s error, read from the preset's code.

    Every index checks its fields' specs when it opens, and :mod:`inspect` (which loads
    ast, dis and tokenize) would take longer to import than the open and a first query
    take together. A built-in preset is a plain function whose parameters all may be
    named (no ``*args``, ``**kwargs`` or keyword-only ones), so its code object lists
    them, those with defaults last; a test checks this against their signatures.
    """
    code = factory.__code__
    names = code.co_varnames[: code.co_argcount]
    required = names[: len(names) - len(factory.__defaults__ or ())]
    for name in required:
        if name not in params:
            return f"missing a required argument: {name!r}"
    for key in params:
        if key not in names:
            return f"got an unexpected keyword argument {key!r}"
    return None


def _signature_problem(factory: Callable[..., Analyzer], params: dict[str, Any]) -> str | None:
    """Why ``params`` cannot be passed to a registered factory, or None (also when the
    factory has no signature to check against: its own call checks)."""
    signature = _signature(factory)
    if signature is not None:
        try:
            signature.bind(**params)
        except TypeError as exc:
            return str(exc)
    return None


#: Factories' signatures (see _signature), emptied when it holds _SIGNATURES_SIZE.
_SIGNATURES: dict[Callable[..., Analyzer], inspect.Signature | None] = {}
_SIGNATURES_SIZE = 256


def _signature(factory: Callable[..., Analyzer]) -> inspect.Signature | None:
    """The factory's signature (None for a callable without one, whose own call checks),
    remembered: a schema of many fields checks the same few factories again and again."""
    if factory in _SIGNATURES:
        return _SIGNATURES[factory]
    import inspect  # only custom factories are checked with it (see _built_in_parameter_problem)

    try:
        signature: inspect.Signature | None = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None
    if len(_SIGNATURES) >= _SIGNATURES_SIZE:
        _SIGNATURES.clear()
    _SIGNATURES[factory] = signature
    return signature


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
    elif key in ("stemmer", "stemmer_version"):
        if value is not None and (not isinstance(value, str) or len(value) > 40):
            return "must be a stemmer's name" if key == "stemmer" else "must be a version string"
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
