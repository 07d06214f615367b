"""Whoosh's analyzers, as the searchlib presets nearest them.

An analyzer here is a name and parameters that a field hands to searchlib (the index
stores them as JSON); it does not run in Python as Whoosh's do. Composing analyzers
with ``|`` or writing filters is not supported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from searchlib.compat.whoosh import Unsupported


@dataclass(frozen=True)
class Preset:
    """A searchlib analyzer preset standing in for a Whoosh analyzer."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __or__(self, other: object) -> Preset:
        raise Unsupported("composing analyzers with |")

    def __call__(self, text: str, **options: Any) -> Any:
        raise Unsupported("running an analyzer in Python")


#: Whoosh's language codes and the searchlib preset of each.
LANGUAGES = {
    "ar": "arabic", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french",
    "de": "german", "hu": "hungarian", "it": "italian", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "es": "spanish", "sv": "swedish", "tr": "turkish",
}


def StandardAnalyzer(**options: Any) -> Preset:  # noqa: N802
    """Words, lowercase, English stop words: ``english`` without stems."""
    return Preset("english", {"stemmer": "none"})


def StemmingAnalyzer(**options: Any) -> Preset:  # noqa: N802
    """Words, lowercase, stop words, Porter stems: ``english`` with NLTK's Porter."""
    return Preset("english", {"stemmer": "porter"})


def SimpleAnalyzer(**options: Any) -> Preset:  # noqa: N802
    """Words, lowercase: ``standard``."""
    return Preset("standard")


def KeywordAnalyzer(lowercase: bool = False, commas: bool = False) -> Preset:  # noqa: N802
    """Whitespace-separated terms as written: ``whitespace`` (lowercasing is not kept)."""
    if lowercase or commas:
        raise Unsupported("KeywordAnalyzer(lowercase=True or commas=True) on a TEXT field; use a KEYWORD field")
    return Preset("whitespace")


def IDAnalyzer(**options: Any) -> Preset:  # noqa: N802
    """The whole value as one term: ``keyword``."""
    return Preset("keyword")


def LanguageAnalyzer(lang: str, **options: Any) -> Preset:  # noqa: N802
    """The language's stop words and Snowball stems: its searchlib preset."""
    name = LANGUAGES.get(lang, lang)
    if name not in LANGUAGES.values():
        raise Unsupported(f"LanguageAnalyzer({lang!r})")
    return Preset(name)


def NgramAnalyzer(minsize: int, maxsize: int | None = None) -> Preset:  # noqa: N802
    """Character n-grams: ``ngram``."""
    return Preset("ngram", {"min_size": minsize, "max_size": maxsize or minsize})


def FancyAnalyzer(**options: Any) -> Preset:  # noqa: N802
    """Whoosh's intra-word splitting has no preset; the nearest is ``english`` without stems."""
    return Preset("english", {"stemmer": "none"})
