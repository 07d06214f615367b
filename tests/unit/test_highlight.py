"""Snippets: the best fragment, stemmed matches, word edges and safe HTML."""

from __future__ import annotations

from searchlib.analysis import get_analyzer
from searchlib.highlight import best_fragment, format_ansi, format_html, format_plain

ENGLISH = get_analyzer("english")


def test_stemmed_variants_are_marked() -> None:
    fragment = best_fragment("They were talking directly.", ENGLISH, {"talk"})
    assert format_plain(fragment) == "They were [talking] directly."


def test_fragment_prefers_distinct_terms_then_density() -> None:
    filler = "Lorem ipsum dolor sit amet consectetur. " * 10
    text = f"talks {filler} talks {filler} the direct talks happened {filler}"
    fragment = best_fragment(text, ENGLISH, {"direct", "talk"}, width=80)
    rendered = format_plain(fragment)
    assert "[direct] [talks]" in rendered
    assert rendered.startswith("…") and rendered.endswith("…")
    assert fragment.end - fragment.start <= 80


def test_fragment_edges_fall_on_word_boundaries() -> None:
    text = "alpha beta gamma delta " * 30 + "direct talks " + "epsilon zeta eta theta " * 30
    fragment = best_fragment(text, ENGLISH, {"direct", "talk"}, width=60)
    assert fragment.start == 0 or text[fragment.start - 1] == " "
    assert fragment.end == len(text) or text[fragment.end] == " "


def test_no_match_gives_the_opening() -> None:
    fragment = best_fragment("A quiet day in the markets. " * 20, ENGLISH, {"talk"}, width=50)
    assert fragment.is_opening and fragment.start == 0 and not fragment.matches
    assert format_plain(fragment).startswith("A quiet day")


def test_html_escapes_everything_but_the_marks() -> None:
    text = 'x <script>alert("talks")</script> & <b>talks</b>'
    html = format_html(best_fragment(text, ENGLISH, {"talk"}))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&quot;" in html and "&amp;" in html
    assert html.count("<mark>talks</mark>") == 2


def test_ansi_wraps_matches_in_colour() -> None:
    rendered = format_ansi(best_fragment("direct talks", ENGLISH, {"direct"}))
    assert rendered == "\x1b[1;33mdirect\x1b[0m talks"


def test_spans_cover_the_fragment_in_order() -> None:
    text = "Envoys held direct talks on Monday."
    fragment = best_fragment(text, ENGLISH, {"direct", "talk"})
    spans = fragment.spans()
    assert "".join(text[s.start : s.end] for s in spans) == text[fragment.start : fragment.end]
    assert [text[s.start : s.end] for s in spans if s.is_match] == ["direct", "talks"]


def test_a_match_longer_than_the_width_is_still_shown() -> None:
    word = "x" * 170
    fragment = best_fragment(f"before {word} after", get_analyzer("standard"), {word}, width=160)
    assert fragment.matches and format_plain(fragment).count("[") == 1


def test_the_window_always_contains_its_matches() -> None:
    text = "Lorem ipsum dolor sit (direct " + "z" * 150 + " talks) and more words follow here."
    fragment = best_fragment(text, ENGLISH, {"direct", "talk"}, width=160)
    assert all(fragment.start <= s and e <= fragment.end for s, e in fragment.matches)


def test_control_characters_never_reach_the_output() -> None:
    text = "evil \x1b]0;pwned\x07 title \x1b[2J with talks"
    for render in (format_plain, format_ansi, format_html):
        rendered = render(best_fragment(text, ENGLISH, {"talk"}))
        assert "\x1b]" not in rendered and "\x07" not in rendered and "\x1b[2J" not in rendered


def test_overlapping_matches_are_marked_once() -> None:
    from searchlib.highlight import best_fragment, format_plain

    analyzer = get_analyzer("standard")
    fragment = best_fragment("我住在東京都。", analyzer, set(analyzer.term_list("東京都")))
    assert format_plain(fragment) == "我住在[東京都]。"
