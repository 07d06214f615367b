"""Analysis: turning text into the terms an index stores and a query looks up.

- A **tokenizer** splits text into raw tokens, each a :class:`Token` carrying its
  position and the exact character span it came from (``text[start:end]``).
- A **filter** transforms them: fold case or diacritics, drop stop words, stem, add
  synonyms.
- An **analyzer** is a tokenizer followed by filters, built with ``|``::

      >>> analyzer = UnicodeWordTokenizer() | LowercaseFilter() | StopFilter()
      >>> [t.text for t in analyzer.tokens("The Direct Talks")]
      ['direct', 'talks']

Named presets (``standard``, ``simple``, ``whitespace``, ``keyword``, ``english``, one
per Snowball language such as ``french`` or ``russian``, and the parameterized
``ngram``, ``edge_ngram`` and ``regex``) are built with :func:`get_analyzer`.

Modules: :mod:`.tokens` (the building blocks), :mod:`.tokenizers`, :mod:`.filters`,
:mod:`.analyzer` (the chain and its cached fast path), :mod:`.presets` (names, the
registry and JSON specs).
"""

from searchlib.analysis.analyzer import Analyzer
from searchlib.analysis.filters import (
    SNOWBALL_LANGUAGES,
    ASCIIFoldingFilter,
    ElisionFilter,
    LancasterStemFilter,
    LengthFilter,
    LowercaseFilter,
    PorterStemFilter,
    PossessiveFilter,
    SnowballStemFilter,
    StemFilter,
    StopFilter,
    SynonymFilter,
    english_stop_words,
    stop_words,
)
from searchlib.analysis.presets import (
    analyzer_from_spec,
    analyzer_names,
    check_analyzer_spec,
    get_analyzer,
    is_known_analyzer,
    register_analyzer,
)
from searchlib.analysis.tokenizers import (
    EdgeNGramTokenizer,
    KeywordTokenizer,
    NGramTokenizer,
    RegexTokenizer,
    UnicodeWordTokenizer,
    WhitespaceTokenizer,
)
from searchlib.analysis.tokens import DROPPED, StreamFilter, Token, TokenFilter, Tokenizer

__all__ = [
    "DROPPED", "SNOWBALL_LANGUAGES", "ASCIIFoldingFilter", "Analyzer", "EdgeNGramTokenizer", "ElisionFilter",
    "KeywordTokenizer", "LancasterStemFilter", "LengthFilter", "LowercaseFilter",
    "NGramTokenizer", "PorterStemFilter", "PossessiveFilter", "RegexTokenizer",
    "SnowballStemFilter", "StemFilter", "StopFilter", "StreamFilter", "SynonymFilter", "Token",
    "TokenFilter", "Tokenizer", "UnicodeWordTokenizer", "WhitespaceTokenizer",
    "analyzer_from_spec", "analyzer_names", "check_analyzer_spec", "english_stop_words", "get_analyzer",
    "is_known_analyzer", "register_analyzer", "stop_words",
]
