"""Snippets: what is marked (terms, phrases, expansions), fragment choice, formats, safe
HTML for hostile text, and large fields read only up to max_chars."""

from __future__ import annotations

import html as html_module
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib import ID, STORED, TEXT, Index, Schema, Searcher
from searchlib.analysis import (
    Analyzer,
    ASCIIFoldingFilter,
    LowercaseFilter,
    Tokenizer,
    UnicodeWordTokenizer,
    get_analyzer,
)
from searchlib.errors import SchemaError
from searchlib.highlight import (
    DEFAULT_WIDTH,
    best_fragment,
    best_fragments,
    find_marks,
    format_ansi,
    format_as,
    format_html,
    format_plain,
    format_spans,
    phrase_occurrences,
    query_targets,
)
from searchlib.query import And, Bool, Filter, Fuzzy, Not, Or, Phrase, Prefix, Regex, Term, Wildcard

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


# --- what is marked -----------------------------------------------------------------------



def marked(text: str, terms: set[str], phrases: list[Phrase] = [], analyzer=ENGLISH) -> list[str]:  # type: ignore[no-untyped-def]  # noqa: B006
    return [text[start:end] for start, end, _ in find_marks(text, analyzer, terms, phrases)]


def test_folded_forms_are_marked_through_the_fields_analyzer() -> None:
    folding = UnicodeWordTokenizer() | LowercaseFilter() | ASCIIFoldingFilter()
    assert marked("Un café, a CAFE and a cafe.", {"cafe"}, analyzer=folding) == ["café", "CAFE", "cafe"]


def test_a_phrase_is_marked_only_where_it_occurs() -> None:
    text = "Direct flights resumed; talks stalled. Then direct talks began."
    assert marked(text, set(), [Phrase("body", ("direct", "talk"))]) == ["direct", "talks"]
    assert format_plain(best_fragment(text, ENGLISH, set(), [Phrase("body", ("direct", "talk"))])) == (
        "Direct flights resumed; talks stalled. Then [direct] [talks] began."
    )


def test_a_sloppy_phrase_is_marked_within_its_slop_as_query_counts_it() -> None:
    text = "The talks were direct."  # talk at 1, direct at 3 ("were" is a stop word)
    reversed_phrase = [Phrase("body", ("direct", "talk"), slop=2)]
    assert marked(text, set(), reversed_phrase) == []  # "b a" with a gap needs slop 3
    assert marked(text, set(), [Phrase("body", ("direct", "talk"), slop=3)]) == ["talks", "direct"]


def test_stop_words_are_never_marked_even_inside_a_phrase() -> None:
    # The query "talks of peace": "of" is dropped but keeps its gap.
    phrase = Phrase("body", ("talk", "peac"), positions=(0, 2))
    assert marked("No talks of peace, no peace talks.", set(), [phrase]) == ["talks", "peace"]


def test_terms_are_marked_anywhere_and_phrase_terms_only_in_the_phrase() -> None:
    text = "aid flows; direct aid talks; talks resume"
    assert marked(text, {"aid"}, [Phrase("body", ("direct", "aid"))]) == ["aid", "direct", "aid"]


def test_targets_skip_exclusions_and_keep_filters_boosts_and_phrases() -> None:
    query = Bool(
        must=[And([Term("body", "gaza"), Not(Term("body", "war"))])],
        should=[Or([Phrase("body", ("direct", "talk"), slop=1), Phrase("title", ("aid",))])],
        must_not=[Term("body", "trump")],
        filter=[Filter(Term("title", "ceasefir"), Term("tag", "news"))],
    )
    targets = query_targets(query)
    assert targets.terms == {"body": {"gaza"}, "title": {"aid", "ceasefir"}, "tag": {"news"}}
    assert [p.phrase_terms for p in targets.phrases["body"]] == [("direct", "talk")]
    assert targets.fields == {"body", "title", "tag"}


@given(
    words=st.lists(st.sampled_from(["a", "b", "c", "x"]), max_size=30),
    phrase=st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=3),
    slop=st.integers(0, 3),
)
def test_phrase_occurrences_agree_with_the_phrase_query(words: list[str], phrase: list[str], slop: int) -> None:
    # The highlighter's occurrences are the query's: one per matching first-term position.
    analyzer = get_analyzer("standard")
    text = " ".join(words)
    query = Phrase("body", tuple(phrase), slop=slop)
    occurrences: dict[str, list[int]] = {}
    for token in analyzer.tokens(text):
        occurrences.setdefault(token.text, []).append(token.pos)
    found = list(phrase_occurrences(query, occurrences))
    with tempfile.TemporaryDirectory() as path:
        index = Index.create(path, Schema(body=TEXT("standard")))
        with index.writer() as writer:
            writer.add_document(body=text)
        reader = Index.open_snapshot(path)[1][0]
        _, freqs = query.frequencies(reader)
    assert len(found) == (int(freqs[0]) if len(freqs) else 0)
    for positions in found:  # every term of the occurrence where the phrase puts it
        assert [words[p] for p in positions] == phrase
        start = positions[0] - slop
        assert any(
            all(s + offset <= p <= s + offset + slop for p, offset in zip(positions, query.positions))
            for s in range(start, positions[0] + 1)
        )


VOCABULARY = ["talks", "talking", "Talk", "direct", "directly", "the", "of", "café", "cafe", "Hamas", "aid", "x1", "東京都"]
SEPARATORS = st.sampled_from([" ", " ", ", ", ". ", "\n", " (", ") ", "-", " <b>", " & "])


@pytest.mark.parametrize("name", ["english", "standard", "french", "simple", "whitespace"])
@given(
    words=st.lists(st.tuples(st.sampled_from(VOCABULARY), SEPARATORS), max_size=60),
    query_words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3),
    as_phrase=st.booleans(),
    width=st.integers(10, 120),
    count=st.integers(1, 3),
)
def test_every_mark_is_a_token_whose_term_the_query_asks_for(
    name: str, words: list[tuple[str, str]], query_words: list[str], as_phrase: bool, width: int, count: int
) -> None:
    analyzer = get_analyzer(name)
    text = "".join(word + separator for word, separator in words)
    query_terms = [term for word in query_words for term in analyzer.term_list(word)]
    terms: set[str] = set() if as_phrase and len(query_terms) > 1 else set(query_terms)
    phrases = [Phrase("body", tuple(query_terms))] if as_phrase and len(query_terms) > 1 else []
    wanted = set(query_terms)
    tokens = {(t.start, t.end): t.text for t in analyzer.tokens(text)}
    marks = find_marks(text, analyzer, terms, phrases)
    for start, end, term in marks:
        assert tokens.get((start, end)) == term and term in wanted
        assert analyzer.term_list(text[start:end]) == [term]
    # Every plain query term is marked wherever it occurs.
    assert {span for span, term in tokens.items() if term in terms} <= {(s, e) for s, e, _ in marks}
    fragments = best_fragments(text, analyzer, terms, phrases, count=count, width=width)
    assert len(fragments) <= count
    previous_end = -1
    for fragment in fragments:
        assert previous_end < fragment.start <= fragment.end <= len(text) or fragment.is_opening
        previous_end = fragment.end
        for start, end in fragment.matches:
            assert fragment.start <= start < end <= fragment.end
            assert all(tokens.get(span) in wanted for span in tokens if start <= span[0] and span[1] <= end)
        # Edges fall on word boundaries: never inside a token (unless one is too long to fit).
        for start, end in tokens if max((e - s for s, e in tokens), default=0) < width // 2 else ():
            assert not start < fragment.start < end and not start < fragment.end < end
    assert (not marks) == fragments[0].is_opening


# --- fragments ----------------------------------------------------------------------------

FILLER = "Lorem ipsum dolor sit amet consectetur. " * 6


def test_several_fragments_come_in_text_order_joined_by_ellipses() -> None:
    text = f"Aid arrived. {FILLER}Direct talks began. {FILLER}The talks stalled. {FILLER}"
    fragments = best_fragments(text, ENGLISH, {"direct", "talk", "aid"}, count=2, width=60)
    assert len(fragments) == 2 and fragments[0].end < fragments[1].start
    # Best first (two distinct terms), then the densest of the rest, shown in text order.
    assert format_plain(fragments) == (
        "[Aid] arrived. Lorem ipsum dolor sit amet consectetur. … "
        "[Direct] [talks] began. Lorem ipsum dolor sit amet consectetur.…"
    )


def test_overlapping_fragments_are_merged() -> None:
    text = "talks " + "x " * 30 + "direct " + "y " * 30 + "aid " + "z " * 200
    fragments = best_fragments(text, ENGLISH, {"direct", "talk", "aid"}, count=3, width=80)
    assert len(fragments) == 1 and not fragments[0].is_cut_before
    rendered = format_plain(fragments)
    assert rendered.count("[") == 3 and rendered.count("…") == 1 and rendered.endswith("…")


def test_fewer_fragments_when_fewer_matches() -> None:
    fragments = best_fragments("Direct talks. " + FILLER * 3, ENGLISH, {"talk"}, count=3, width=40)
    assert len(fragments) == 1 and fragments[0].terms == {"talk"}


def test_fragments_prefer_to_start_and_end_with_sentences() -> None:
    text = "First sentence is here and long enough. Envoys held direct talks today. Last sentence goes on and on."
    fragment = best_fragment(text, ENGLISH, {"talk"}, width=50)
    assert text[fragment.start : fragment.end] == "Envoys held direct talks today."
    assert format_plain(fragment) == "…Envoys held direct [talks] today.…"


def test_the_opening_ends_on_a_sentence_when_one_is_near() -> None:
    text = "A short opening sentence of the text. " + FILLER * 3
    fragment = best_fragment(text, ENGLISH, {"zzz"}, width=45)
    assert fragment.is_opening and text[: fragment.end] == "A short opening sentence of the text."


def test_invalid_counts_and_widths_are_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        best_fragments("text", ENGLISH, {"text"}, count=0)
    with pytest.raises(ValueError, match="width"):
        best_fragments("text", ENGLISH, {"text"}, width=0)


def test_structured_spans_give_offsets_into_the_field() -> None:
    text = "Envoys held <direct> talks & more."
    fragment = best_fragment(text, ENGLISH, {"direct", "talk"})
    spans = format_spans(fragment)
    assert [s for s in spans if s["matched"]] == [
        {"text": "direct", "start": 13, "end": 19, "matched": True},
        {"text": "talks", "start": 21, "end": 26, "matched": True},
    ]
    assert all(text[s["start"] : s["end"]] == s["text"] for s in spans)
    assert "".join(s["text"] for s in spans) == text


# --- hostile text -------------------------------------------------------------------------

HOSTILE = [
    '<script>alert("talks")</script>',
    "talks' onmouseover='alert(1)",
    '"><img src=x onerror=alert(1)> talks',
    "talks &amp; &lt;b&gt; &#x3C;script&#x3E;",
    "</mark><script>talks</script><mark>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_html_is_safe_for_hostile_documents(text: str) -> None:
    rendered = format_html(best_fragments(text, ENGLISH, {"talk", "script", "alert", "mark"}, count=2))
    without_marks = rendered.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks
    assert '"' not in rendered and "'" not in rendered
    # Every & starts an entity the escaping made: the text's own "&amp;" is shown as written.
    assert "&amp;amp;" in rendered or "&amp;" not in text
    assert html_text(rendered) == format_plain(best_fragments(text, ENGLISH, {"talk", "script", "alert", "mark"}, count=2), "", "")


def html_text(rendered: str) -> str:
    return html_module.unescape(rendered.replace("<mark>", "").replace("</mark>", ""))


@pytest.mark.parametrize("query", ['<script>alert("talks")</script>', "talks' OR '1'='1", "a & b <mark>talks"])
def test_html_is_safe_for_hostile_queries(query: str) -> None:
    with tempfile.TemporaryDirectory() as path:
        index = Index.create(path, Schema(id=ID(), body=TEXT()))
        with index.writer() as writer:
            writer.add_document(id="a", body=f'They said <script>alert("x")</script> & held talks in {query}.')
        with Searcher(index) as searcher:
            hits = searcher.search(query, strict=False)
            assert hits.total == 1
            rendered = hits[0].snippet(format="html", count=3)
    without_marks = rendered.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks and '"' not in rendered and "'" not in rendered
    assert "<mark>talks</mark>" in rendered and "&lt;" in rendered and "&quot;" in rendered and "&amp;" in rendered


# --- large fields -------------------------------------------------------------------------


class CountingTokenizer(Tokenizer):
    """A tokenizer that records how many characters it was given to cut."""

    def __init__(self, inner: Tokenizer) -> None:
        self.inner, self.seen = inner, 0

    def tokens(self, text: str):  # type: ignore[no-untyped-def]
        self.seen += len(text)
        return self.inner.tokens(text)

    def words(self, text: str) -> list[str]:
        self.seen += len(text)
        return self.inner.words(text)

    def pieces(self, text: str) -> list[str] | None:
        self.seen += len(text)
        return self.inner.pieces(text)


def counting(analyzer: Analyzer) -> tuple[Analyzer, CountingTokenizer]:
    tokenizer = CountingTokenizer(analyzer.tokenizer)
    return Analyzer(tokenizer, analyzer.filters), tokenizer


def test_a_10_mb_field_is_read_only_up_to_max_chars() -> None:
    text = "Envoys held direct talks. " + "Lorem ipsum dolor sit amet. " * 375_000  # 10.5 MB
    assert len(text) > 10_000_000
    analyzer, tokenizer = counting(ENGLISH)
    fragments = best_fragments(text, analyzer, {"talk", "lorem"}, count=2)
    assert all(fragment.is_truncated for fragment in fragments)
    assert 0 < tokenizer.seen <= 1_000_000
    assert "[talks]. [Lorem]" in format_plain(fragments[0])  # two distinct terms: the best window
    late = "Lorem ipsum. " * 100 + "Envoys held direct talks."
    fragment = best_fragment(late, ENGLISH, {"talk"}, max_chars=200)  # the match lies beyond
    assert fragment.is_opening and fragment.is_truncated


def test_a_hit_says_when_its_snippet_stopped_at_max_chars(tmp_path) -> None:  # type: ignore[no-untyped-def]
    index = Index.create(tmp_path / "idx", Schema(id=ID(), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(id="long", body="Direct talks. " + "Lorem ipsum dolor. " * 2_000)
        writer.add_document(id="short", body="Direct talks, briefly.")
    with Searcher(index, highlight_max_chars=5_000) as searcher:
        analyzer, tokenizer = counting(searcher.analyzers["body"])
        searcher.analyzers = {"body": analyzer}  # type: ignore[assignment]  # what snippets analyze with
        hits = {hit.id: hit for hit in searcher.search("direct talks")}
        assert hits["long"].is_truncated and hits["long"].fragments()[0].is_truncated
        assert not hits["short"].is_truncated and not hits["short"].fragment().is_truncated
        tokenizer.seen = 0
        hits["long"].snippet()
        assert 0 < tokenizer.seen <= 5_000
        assert not hits["long"].fragments(max_chars=100_000)[0].is_truncated


# --- through a searcher -------------------------------------------------------------------


@pytest.fixture
def searcher(tmp_path) -> Searcher:  # type: ignore[no-untyped-def]
    schema = Schema(id=ID(), title=TEXT("standard"), body=TEXT(), note=TEXT(stored=False), extra=STORED())
    index = Index.create(tmp_path / "idx", schema)
    with index.writer() as writer:
        writer.add_document(id="a", title="Direct talks", body="Envoys were talking directly. Direct talks resumed.",
                            note="talks", extra="talks")
    return Searcher(index)


def test_any_stored_text_field_can_be_highlighted_with_its_own_analyzer(searcher: Searcher) -> None:
    hit = searcher.search(Term("title", "talks"))[0]  # standard: no stemming
    assert hit.snippet() == "Direct [talks]"
    # body is english: the query's "talks" analyzed again there is "talk", so "talking" too.
    assert hit.snippet("body") == "Envoys were [talking] directly. Direct [talks] resumed."
    hit = searcher.search(Phrase("title", ("direct", "talks")))[0]
    assert hit.snippet("body") == "Envoys were talking directly. [Direct] [talks] resumed."


def test_fields_that_cannot_be_highlighted_say_why(searcher: Searcher) -> None:
    hit = searcher.search("talks")[0]
    for name, reason in (("note", "not a stored text field"), ("extra", "not a stored text field"),
                         ("id", "not a stored text field"), ("nothing", "unknown field")):
        with pytest.raises(SchemaError, match=reason):
            hit.snippet(name)


def test_pattern_queries_mark_their_expansions(searcher: Searcher) -> None:
    for query in (Prefix("body", "talk"), Wildcard("body", "t?lk*"), Regex("body", "tal.*"), Fuzzy("body", "tolk", 1)):
        hit = searcher.search(query)[0]
        assert hit.snippet() == "Envoys were [talking] directly. Direct [talks] resumed.", query


def test_excluded_words_are_not_marked(searcher: Searcher) -> None:
    hit = searcher.search(And([Term("body", "envoy"), Not(Term("body", "nobody"))]))[0]
    assert hit.snippet() == "[Envoys] were talking directly. Direct talks resumed."
    hit = searcher.search(Bool(should=[Term("body", "envoy")], must_not=[Term("body", "direct")]))
    assert hit.total == 0


def test_snippet_options_reach_the_formats(searcher: Searcher) -> None:
    hit = searcher.search("direct")[0]
    assert hit.snippet("body", before="**", after="**") == "Envoys were talking **directly**. **Direct** talks resumed."
    assert hit.fragment("body").field == "body" and hit.fragments("body", count=2)[0].field == "body"


def test_a_page_of_snippets_reads_as_each_hits_fragments_formatted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    index = Index.create(tmp_path / "page", Schema(id=ID(), title=TEXT(stored=True), body=TEXT(stored=True)))
    bodies = ["Envoys held direct talks. " + FILLER, FILLER + "Talking directly <b>helps</b> & more.",
              "Nothing to see.", "", "Direct flights \x1b[31m resumed;  talks\n\nstalled."]
    with index.writer() as writer:
        for i, body in enumerate(bodies):
            writer.add_document(id=str(i), title=f"Talks {i}" if i % 2 else "", body=body)
    with Searcher(index) as searcher:
        results = searcher.search("direct talks OR nothing OR talks")
        assert len(results) == 5
        for options in ({}, {"count": 2, "width": 30}, {"format": "html"}, {"format": "ansi"},
                        {"field_name": "title"}, {"before": "<<", "after": ">>"}):
            style = str(options.get("format", "plain"))
            wanted = [format_as(hit.fragments(options.get("field_name"), count=int(options.get("count", 1)),  # type: ignore[arg-type]
                                              width=int(options.get("width", DEFAULT_WIDTH))),  # type: ignore[arg-type]
                                style, options.get("before"), options.get("after"))  # type: ignore[arg-type]
                      for hit in results]
            assert [hit.snippet(**options) for hit in reversed(results.hits)] == wanted[::-1], options  # type: ignore[arg-type]
        # A hit without its page (or moved to another one) is highlighted alone, alike.
        hits = list(results)
        first = hits[0].snippet()
        del results
        assert hits[0].snippet() == first and hits[1].snippet(count=2) == format_plain(hits[1].fragments(count=2))
        with pytest.raises(ValueError, match="count and width"):
            hits[0].snippet(count=0)


# --- the query as typed -------------------------------------------------------------------


def test_the_window_with_the_query_as_typed_and_in_order_wins() -> None:
    text = f"They held talks direct. {FILLER}Envoys held direct talks. {FILLER}"
    terms = {"direct", "talk"}
    # Without the query's words, the first of two equally dense windows is shown.
    assert "[talks] [direct]" in format_plain(best_fragment(text, ENGLISH, terms, width=60))
    typed = [("direct", "direct", 0), ("talk", "talks", 1)]
    chosen = best_fragments(text, ENGLISH, terms, width=60, words=typed)
    assert "[direct] [talks]" in format_plain(chosen) and chosen[0].affinity == 4
    # In order but not as typed still beats the reverse order; as typed the other way wins back.
    ordered = [("direct", None, 0), ("talk", None, 1)]
    assert "[direct] [talks]" in format_plain(best_fragments(text, ENGLISH, terms, width=60, words=ordered))
    reverse = [("talk", "talks", 0), ("direct", "direct", 1)]
    assert "[talks] [direct]" in format_plain(best_fragments(text, ENGLISH, terms, width=60, words=reverse))


def test_a_searcher_remembers_the_text_of_the_query_it_parsed(searcher: Searcher) -> None:
    from searchlib.highlight import query_text

    results = searcher.search("direct talks")
    assert query_text(results.query) == "direct talks"
    assert query_text(Term("body", "talk")) is None


def test_html_snippets_take_the_callers_markers_and_still_escape_the_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    index = Index.create(tmp_path / "marks", Schema(id=ID(), body=TEXT(stored=True)))
    with index.writer() as writer:
        writer.add_document(id="a", body='Talks <mark>resumed</mark> & "direct" <script>x</script> talks.')
    with Searcher(index) as searcher:
        results = searcher.search("talks")
        hit = results[0]
        marked = hit.snippet(format="html", before='<em class="hl">', after="</em>")
        assert marked == ('<em class="hl">Talks</em> &lt;mark&gt;resumed&lt;/mark&gt; &amp; &quot;direct&quot; '
                          '&lt;script&gt;x&lt;/script&gt; <em class="hl">talks</em>.')
        assert hit.snippet(format="html") == marked.replace('<em class="hl">', "<mark>").replace("</em>", "</mark>")
        assert hit.snippet(before="{", after="}").startswith("{Talks} <mark>resumed</mark>")
        assert format_html(hit.fragments(), before="<b>", after="</b>") == marked.replace(
            '<em class="hl">', "<b>").replace("</em>", "</b>")
