"""The Python tokenizers' regular expressions (:data:`PATTERNS`), in a module of their
own that :mod:`searchlib.analysis.tokenizers` loads when Python first tokenizes a text:
built-in chains run in the compiled core, and a search that only uses them never loads
this module, ``re`` or ``functools`` (several milliseconds of its start-up).
"""

from __future__ import annotations

import functools
import re

from searchlib.analysis._marks import ASTRAL_MARKS, BMP_MARKS

TYPE_CHECKING = False  # typing's flag, without importing typing at run time
if TYPE_CHECKING:
    import regex

# By script extension, so marks shared by the scripts (the prolonged sound mark ー, the
# voicing marks) stay inside a run: コーヒー gives bigrams, not single characters.
_CJK = r"\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}"


class _Patterns:
    """The tokenizers' regular expressions, each compiled on first use.

    Compiling them (large Unicode classes; the ``regex`` module's script properties)
    costs more than the rest of importing the analysis package, and a process whose
    analysis runs in the compiled core (every built-in chain) never needs them: this
    module, with ``re``, ``enum`` and ``functools``, loads when Python first tokenizes.

    Words are ``\\w`` runs of the standard library's ``re`` (letters and digits of every
    script, underscore) plus combining marks, which ``re`` leaves out of ``\\w``. ``re`` is
    used for its speed; which of three equivalent patterns runs depends on the text:
    ASCII text (most documents), text without marks, and text with some (rare: decomposed
    accents, Devanagari, Arabic vowel signs), whose large class is slow to test.
    """

    @functools.cached_property
    def ascii_word(self) -> re.Pattern[str]:
        return re.compile(r"\w+(?:'\w+)*", re.ASCII)

    @functools.cached_property
    def word(self) -> re.Pattern[str]:
        return re.compile(r"\w+(?:['’]\w+)*")

    @functools.cached_property
    def marked_word(self) -> re.Pattern[str]:
        return re.compile(rf"{_MARKED_WORD_CHAR}+(?:['’]{_MARKED_WORD_CHAR}+)*")

    @functools.cached_property
    def bmp_mark(self) -> re.Pattern[str]:
        return re.compile(f"[{BMP_MARKS}]")

    @functools.cached_property
    def astral(self) -> re.Pattern[str]:
        return re.compile("[\U00010000-\U0010ffff]")

    @functools.cached_property
    def splitters(self) -> dict[re.Pattern[str], re.Pattern[str]]:
        """Each word pattern as one capturing group, so that ``split`` keeps the words
        between the gaps; possessive, which matches the same (an apostrophe is never a
        word character) with no backtracking to remember, 13% faster."""
        return {
            self.ascii_word: re.compile(r"(\w++(?:'\w++)*+)", re.ASCII),
            self.word: re.compile(r"(\w++(?:['’]\w++)*+)"),
            self.marked_word: re.compile(rf"({_MARKED_WORD_CHAR}++(?:['’]{_MARKED_WORD_CHAR}++)*+)"),
        }

    @functools.cached_property
    def maybe_cjk(self) -> re.Pattern[str]:
        """A superset of the code points of CJK scripts (and their punctuation): text
        without any of them cannot hold a CJK run. Text with some goes the careful way,
        by script."""
        return re.compile(
            "[\u1100-\u11ff\u2e80-\ua4cf\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef"
            "\U00016fe0-\U0001b2ff\U00020000-\U0003ffff]"
        )

    @functools.cached_property
    def cjk_run_or_other(self) -> regex.Pattern[str]:
        """Within a word, a CJK run or a stretch of anything else (by Unicode script)."""
        import regex

        return regex.compile(rf"([{_CJK}]+)|[^{_CJK}]+", regex.V1)

    @functools.cached_property
    def cjk_char(self) -> regex.Pattern[str]:
        import regex

        return regex.compile(rf"[{_CJK}]", regex.V1)

    @functools.cached_property
    def non_space(self) -> regex.Pattern[str]:
        import regex

        return regex.compile(r"\S+")

    @functools.cached_property
    def non_space_splitter(self) -> regex.Pattern[str]:
        import regex

        return regex.compile(r"(\S+)")

    @functools.cached_property
    def any_word(self) -> regex.Pattern[str]:
        import regex

        return regex.compile(r"\w+")


_MARKED_WORD_CHAR = f"[\\w{BMP_MARKS}{ASTRAL_MARKS}]"
PATTERNS = _Patterns()
