"""Query parser: each syntax element's exact tree, errors and their positions, lenient
reading of broken input, and every query type run against a real index."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from searchlib import Index, Searcher
from searchlib.analysis import get_analyzer
from searchlib.errors import QueryError
from searchlib.limits import QueryLimits
from searchlib.parser import MAX_DEPTH, QueryParser, escape, plain_words
from searchlib.query import (
    And,
    Bool,
    Boost,
    CombinedTerm,
    Expansion,
    Fuzzy,
    MatchAll,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    Range,
    Regex,
    Term,
    Wildcard,
    wildcard_regex,
)
from searchlib.query.patterns import MatchedTerms
from searchlib.segment import SegmentReader
from searchlib.schema import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

SCHEMA = Schema(
    id=ID(), title=TEXT(boost=2.0), body=TEXT(), code=TEXT("standard"), tag=KEYWORD(),
    year=NUMERIC("int"), price=NUMERIC("float"), when=DATETIME(), done=BOOLEAN(), note=STORED(),
)
BODY = QueryParser(SCHEMA, ["body"])


def body(text: str, boost: float = 1.0) -> Term:
    return Term("body", text, boost)


# --- words and fields -------------------------------------------------------------------

WORDS = {
    "direct talks": Or([body("direct"), body("talk")]),
    "talks": body("talk"),
    "Talks, talks": Or([body("talk"), body("talk")]),  # a word typed twice counts twice
    "wi-fi": Or([body("wi"), body("fi")]),  # one word, several terms
    "shock-sound": Or([body("shock"), body("sound")]),  # a - inside a word is part of it
    "the of": Or(()),  # stop words only: nothing matches
    "": Or(()),
    "   ": Or(()),
    "talks the": body("talk"),
    "and or not": Or(()),  # lower case: words (stop words), not operators
}


@pytest.mark.parametrize("text", WORDS)
def test_bare_words_over_one_default_field(text: str) -> None:
    assert BODY.parse(text) == WORDS[text]


def test_default_fields_sharing_an_analyzer_are_searched_together() -> None:
    parser = QueryParser(SCHEMA, ["title", "body"])
    assert parser.parse("talks") == CombinedTerm(("title", "body"), "talk", (2.0, 1.0))
    assert parser.parse("direct talks") == Or([
        CombinedTerm(("title", "body"), "direct", (2.0, 1.0)),
        CombinedTerm(("title", "body"), "talk", (2.0, 1.0)),
    ])


def test_default_fields_with_different_analyzers_give_an_or_over_the_groups() -> None:
    parser = QueryParser(SCHEMA, {"title": 1.5, "code": 3.0, "body": 1.0, "tag": 2.0})
    assert parser.fields == ["title", "code", "body", "tag"]
    assert parser.parse("Talks") == Or([
        CombinedTerm(("title", "body"), "talk", (3.0, 1.0)),  # weight times the field's boost
        Term("code", "talks", 3.0),
        Term("tag", "Talks", 2.0),  # a keyword field takes the text exactly
    ])


@pytest.mark.parametrize("operator", ["OR", "AND"])
def test_a_split_word_joins_its_terms_by_the_default_operator_within_each_group_of_fields(operator: str) -> None:
    parser = QueryParser(SCHEMA, {"title": 1.5, "code": 3.0, "body": 1.0, "tag": 2.0}, default_operator=operator)
    join = And if operator == "AND" else Or
    text_fields = [CombinedTerm(("title", "body"), term, (3.0, 1.0)) for term in ("zebra", "covid")]
    code_field = [Term("code", term, 3.0) for term in ("zebra", "covid")]
    groups = [join(text_fields), join(code_field), Term("tag", "Zebra-Covid", 2.0)]  # the groups stay alternatives
    assert parser.parse("Zebra-Covid") == Or(groups if operator == "AND" else [*text_fields, *code_field, groups[2]])


def test_a_synonym_is_an_alternative_to_its_word_within_a_split_word() -> None:
    synonyms = Schema(body=TEXT(analyzer_params={"synonyms": {"car": ["automobile"]}}))
    car = Or([body("car"), body("automobil")])
    assert QueryParser(synonyms, default_operator="AND").parse("car-wash") == And([car, body("wash")])
    assert QueryParser(synonyms).parse("car-wash") == Or([*car.clauses, body("wash")])


def test_a_parsers_default_operator_is_fixed_as_the_words_it_remembers_depend_on_it() -> None:
    parser = QueryParser(SCHEMA, ["body"], default_operator="AND")
    assert parser.parse("wi-fi") == And([body("wi"), body("fi")])
    with pytest.raises(AttributeError):
        parser.default_operator = "OR"  # type: ignore[misc]
    assert parser.parse("wi-fi") == And([body("wi"), body("fi")])


def test_default_fields_are_every_text_field_unless_given() -> None:
    assert QueryParser(SCHEMA).fields == ["title", "body", "code"]
    assert QueryParser(SCHEMA, "body").fields == ["body"]


@pytest.mark.parametrize("fields,error", [
    (["note"], QueryError), (["nope"], QueryError), ({"body": 0.0}, ValueError),
])
def test_bad_default_fields_are_refused(fields: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        QueryParser(SCHEMA, fields)  # type: ignore[arg-type]


def test_an_unknown_default_operator_is_refused() -> None:
    with pytest.raises(ValueError, match="default_operator"):
        QueryParser(SCHEMA, default_operator="XOR")


FIELDS = {
    "title:Talks": Term("title", "talk", 2.0),  # analyzed; boost = the field's boost
    "title: talks": Term("title", "talk", 2.0),  # a space after the colon is allowed
    "tag:Peace": Term("tag", "Peace"),  # exact
    "id:a-1": Term("id", "a-1"),
    "year:1999": Range("year", 1999, 1999),
    "year:-5": Range("year", -5, -5),  # a sign against a number is the number's
    "year: -5": Range("year", -5, -5),
    "price:2.5": Range("price", 2.5, 2.5),
    "price:3": Range("price", 3, 3),
    "when:2024-05-01": Range("when", "2024-05-01", "2024-05-02", include_high=False),  # the whole day
    "when:2024-12": Range("when", "2024-12-01", "2025-01-01", include_high=False),
    "when:2024": Range("when", "2024-01-01", "2025-01-01", include_high=False),
    "when:9999": Range("when", "9999-01-01", None, include_high=False),
    'when:"2024-05-01T10:30:00"': Range("when", "2024-05-01T10:30:00", "2024-05-01T10:30:00"),
    "done:true": Range("done", True, True),
    "done:FALSE": Range("done", False, False),
    "title:(direct talks)": Or([Term("title", "direct", 2.0), Term("title", "talk", 2.0)]),
    "title:the": Or(()),
    'tag:"New York"': Term("tag", "New York"),
    "price:-5.5": Range("price", -5.5, -5.5),
    "year:-3 talks": Or([Range("year", -3, -3), body("talk")]),
    "year:+3": Range("year", 3, 3),
}


@pytest.mark.parametrize("text", [text for text, tree in FIELDS.items() if tree is not None])
def test_a_field_prefix_searches_that_field_by_its_kind(text: str) -> None:
    assert BODY.parse(text) == FIELDS[text]
    assert BODY.parse(text, strict=False) == FIELDS[text]


@pytest.mark.parametrize("text", ["year:- 3", "title:-war", "year:-3*", "year:+-3"])
def test_a_minus_after_a_field_is_a_sign_only_against_a_number(text: str) -> None:
    with pytest.raises(QueryError, match="needs a word, phrase, range or group after it"):
        BODY.parse(text)


# --- operators ----------------------------------------------------------------------------

A, B, C = body("alpha"), body("beta"), body("gamma")

OPERATORS = {
    "alpha AND beta": And([A, B]),
    "alpha && beta": And([A, B]),
    "alpha AND beta AND gamma": And([A, B, C]),  # chains flatten
    "alpha OR beta": Or([A, B]),
    "alpha || beta || gamma": Or([A, B, C]),
    "NOT alpha": Not(A),
    "!alpha": Not(A),
    "-alpha": Not(A),
    "alpha AND NOT beta": And([A, Not(B)]),
    "alpha AND -beta": And([A, Not(B)]),
    "NOT alpha AND beta": And([Not(A), B]),  # NOT binds tighter than AND
    "alpha OR beta AND gamma": Or([A, And([B, C])]),  # AND binds tighter than OR
    "alpha AND beta OR gamma": Or([And([A, B]), C]),
    "alpha beta AND gamma": Or([A, And([B, C])]),  # side by side binds loosest
    "(alpha OR beta) AND gamma": And([Or([A, B]), C]),
    "((alpha))": A,
    "alpha (beta gamma)": Or([A, B, C]),  # nested Ors flatten
    "+alpha beta -gamma": Bool(must=(A,), should=(B,), must_not=(C,)),
    "alpha -beta": Bool(should=(A,), must_not=(B,)),
    "alpha NOT beta": Bool(should=(A,), must_not=(B,)),
    "+alpha +beta": And([A, B]),
    "+alpha -beta": And([A, Not(B)]),
    "-alpha -beta": And([Not(A), Not(B)]),
    "+alpha": A,
    "+alpha OR beta": Or([A, B]),  # + means nothing inside OR
    "-alpha OR beta": Or([Not(A), B]),
    "NOT NOT alpha": Not(Not(A)),
    "alpha AND the": A,  # a stop word's clause disappears
    "-the alpha": A,
    "()": Or(()),
    # A stop word next to exclusions: nothing matches, as for stop words alone...
    "the -alpha": Or(()),
    "+the -alpha": Or(()),
    "(the) -alpha": Or(()),
    "the NOT alpha": Or(()),
    "the AND -alpha": Or(()),
    "the AND NOT alpha AND -beta": Or(()),
    "gamma AND (the -alpha)": And([C, Or(())]),
    "gamma (the -alpha)": C,
    # ...while exclusions written alone, or next to a clause that matches, keep their meaning.
    "-the -alpha": Not(A),
    "the +gamma -alpha": And([C, Not(A)]),
    "the AND gamma AND -alpha": And([C, Not(A)]),
    "the OR -alpha": Not(A),
}


@pytest.mark.parametrize("text", OPERATORS)
def test_operators_and_their_precedence(text: str) -> None:
    assert BODY.parse(text) == OPERATORS[text]


DEFAULT_AND = {
    "alpha beta": And([A, B]),
    "alpha beta OR gamma": And([A, Or([B, C])]),
    "alpha -beta": And([A, Not(B)]),
    "+alpha beta -gamma": And([A, B, Not(C)]),
    "alpha": A,
    "wi-fi alpha": And([body("wi"), body("fi"), A]),  # a word's terms are each required, as words are
    "covid-19 vaccine": And([body("covid"), body("19"), body("vaccin")]),
    "covid-19 OR vaccine": Or([And([body("covid"), body("19")]), body("vaccin")]),
    '"covid-19" vaccine': And([Phrase("body", ("covid", "19")), body("vaccin")]),  # a phrase is a phrase
    "the -alpha": Or(()),
    "gamma (the -alpha)": And([C, Or(())]),
    "-alpha": Not(A),
}


@pytest.mark.parametrize("text", DEFAULT_AND)
def test_default_operator_and_requires_every_clause(text: str) -> None:
    assert QueryParser(SCHEMA, ["body"], default_operator="and").parse(text) == DEFAULT_AND[text]


# --- phrases, patterns, ranges, boosts -------------------------------------------------

LEAVES = {
    '"direct talks"': Phrase("body", ("direct", "talk")),
    '"direct talks"~3': Phrase("body", ("direct", "talk"), slop=3),
    '"talks with Hamas"': Phrase("body", ("talk", "hama"), positions=(0, 2)),  # the stop word's gap stays
    '"talks"': body("talk"),
    '"the of"': Or(()),
    '"a \\"quoted\\" word"': Phrase("body", ("quot", "word"), positions=(1, 2)),
    "talk*": Prefix("body", "talk"),
    "Universit*": Prefix("body", "universit"),  # folded, not stemmed
    "t?lk*": Wildcard("body", "t?lk*"),
    "*alks": Wildcard("body", "*alks"),
    "ta**": Wildcard("body", "ta**"),
    "TA?K": Wildcard("body", "ta?k"),
    "a\\*b*": Prefix("body", "a*b"),  # an escaped * is a plain character
    "a\\*b?": Regex("body", "a\\*b."),  # ...which only a regex can say next to a wildcard
    "tag:Pe*": Prefix("tag", "Pe"),  # keyword patterns are not folded
    "talks~": Fuzzy("body", "talk", 2),
    "talks~1": Fuzzy("body", "talk", 1),
    "Talking~0": Fuzzy("body", "talk", 0),
    "the~1": Fuzzy("body", "the", 1),  # a stop word is still a fuzzy term
    "e-mail~1": Or([Fuzzy("body", "e", 1), Fuzzy("body", "mail", 1)]),  # each term of a split word
    "the-e-mail~1": Or([Fuzzy("body", "e", 1), Fuzzy("body", "mail", 1)]),  # ...but its stop words
    "code:U.S.A.~1": Or([Fuzzy("code", "u", 1), Fuzzy("code", "s", 1), Fuzzy("code", "a", 1)]),
    "tag:Peace~1": Fuzzy("tag", "Peace", 1),
    "/ta[lk]+s/": Regex("body", "ta[lk]+s"),
    "/a\\/b/": Regex("body", "a\\/b"),  # as typed
    "year:[1990 TO 2000]": Range("year", 1990, 2000),
    "year:{1990 TO 2000}": Range("year", 1990, 2000, include_low=False, include_high=False),
    "year:[1990 TO 2000}": Range("year", 1990, 2000, include_high=False),
    "year:{1990 TO *]": Range("year", 1990, None, include_low=False),
    "year:[* TO 2000]": Range("year", None, 2000),
    "year:[-5 TO 2.5]": Range("year", -5, 2.5),
    "price:[0.5 TO 10]": Range("price", 0.5, 10),
    "when:[2024-01-01 TO 2024-12-31T23:59:59]": Range("when", "2024-01-01", "2024-12-31T23:59:59"),
    "when:[2024-01-01 TO 2024-12-31]": Range("when", "2024-01-01", "2025-01-01", include_high=False),
    "when:{2024-01-01 TO 2024-12-31}": Range("when", "2024-01-02", "2024-12-31", include_high=False),
    "when:{2024 TO *]": Range("when", "2025-01-01", None),
    "done:[false TO true]": Range("done", False, True),
    "tag:[Apple TO Melon]": Range("tag", "Apple", "Melon"),
    'tag:["New York" TO *]': Range("tag", "New York", None),
    "body:[Apple TO melon]": Range("body", "apple", "melon"),  # text bounds are folded
    "body:(year:[1 TO 2])": Range("year", 1, 2),
    "talks^2": body("talk", 2.0),
    "title:talks^2": Term("title", "talk", 4.0),
    '"direct talks"^1.5': Phrase("body", ("direct", "talk"), boost=1.5),
    '"direct talks"~1^2': Phrase("body", ("direct", "talk"), slop=1, boost=2.0),
    "talks~1^2": Fuzzy("body", "talk", 1, boost=2.0),
    "talks^2~1": Fuzzy("body", "talk", 1, boost=2.0),
    "talk*^3": Prefix("body", "talk", 3.0),
    "(alpha beta)^3": Boost(Or([A, B]), 3.0),
    "(alpha)^3": body("alpha", 3.0),
    "((alpha beta)^2)^3": Boost(Or([A, B]), 6.0),
    "wi-fi^2": Boost(Or([body("wi"), body("fi")]), 2.0),
    "year:[1 TO 2]^2": Range("year", 1, 2, boost=2.0),
    "talks^1": body("talk"),
    "talks^.5": body("talk", 0.5),
    "*": MatchAll(),
    "*:*": MatchAll(),
    "*^2": MatchAll(2.0),
    "title:*": Range("title", None, None),  # every document with a title
    "year:*": Range("year", None, None),
    "\\(alpha\\)": A,
    "title\\:alpha": Or([body("titl"), A]),  # an escaped colon is no field
    "\\AND": Or(()),  # an escaped operator is a word (here a stop word)
    "C\\+\\+": body("c"),
}


@pytest.mark.parametrize("text", LEAVES)
def test_phrases_patterns_ranges_and_boosts(text: str) -> None:
    assert BODY.parse(text) == LEAVES[text]


def test_phrases_and_patterns_over_several_default_fields_give_one_node_per_field() -> None:
    parser = QueryParser(SCHEMA, {"title": 1.0, "body": 1.0, "tag": 1.0})
    assert parser.parse('"direct talks"~1') == Or([
        Phrase("title", ("direct", "talk"), 1, boost=2.0),
        Phrase("body", ("direct", "talk"), 1),
        Term("tag", "direct talks"),
    ])
    assert parser.parse('"talks"') == Or([CombinedTerm(("title", "body"), "talk", (2.0, 1.0)), Term("tag", "talks")])
    assert parser.parse("Tal*") == Or([Prefix("title", "tal", 2.0), Prefix("body", "tal"), Prefix("tag", "Tal")])
    assert parser.parse("talks~1") == Or([
        Fuzzy("title", "talk", 1, boost=2.0), Fuzzy("body", "talk", 1), Fuzzy("tag", "talks", 1),
    ])
    assert parser.parse("/t.*/") == Or([Regex("title", "t.*", 2.0), Regex("body", "t.*"), Regex("tag", "t.*")])


def test_under_and_a_split_fuzzy_word_needs_each_term_within_a_group_of_fields() -> None:
    parser = QueryParser(SCHEMA, {"title": 1.0, "body": 1.0, "code": 1.0, "tag": 1.0}, default_operator="AND")
    assert parser.parse("e-mail~1") == Or([
        And([
            Or([Fuzzy("title", "e", 1, boost=2.0), Fuzzy("body", "e", 1)]),
            Or([Fuzzy("title", "mail", 1, boost=2.0), Fuzzy("body", "mail", 1)]),
        ]),
        And([Fuzzy("code", "e", 1), Fuzzy("code", "mail", 1)]),
        Fuzzy("tag", "e-mail", 1),  # a keyword field takes the text exactly
    ])
    assert QueryParser(SCHEMA, ["body"], default_operator="AND").parse("e-mail~1^2") == Boost(
        And([Fuzzy("body", "e", 1), Fuzzy("body", "mail", 1)]), 2.0,
    )


def test_the_expansion_bound_goes_on_every_pattern_node() -> None:
    bound = Expansion(10, "keep_frequent")
    parser = QueryParser(SCHEMA, ["body"], expansion=bound)
    assert parser.parse("talk* t?lk talks~1 /talk/") == Or([
        Prefix("body", "talk", expansion=bound), Wildcard("body", "t?lk", expansion=bound),
        Fuzzy("body", "talk", 1, expansion=bound), Regex("body", "talk", expansion=bound),
    ])


# --- errors -------------------------------------------------------------------------------

ERRORS = {
    "title:(a b": 6,  # the parenthesis never closed
    '"abc': 0,  # the quote never closed
    'alpha "abc': 6,
    "alpha)": 5,
    "alpha AND": 6,  # dangling operators
    "AND alpha": 0,
    "alpha OR OR beta": 6,
    "alpha AND )": 6,
    "NOT": 0,
    "-": 0,
    "alpha -": 6,
    "+ alpha": 0,
    "title:": 0,  # a field with nothing
    "title: ": 0,
    "nope:alpha": 0,  # unknown field
    "note:alpha": 0,  # stored, not indexed
    "title:body:alpha": 0,
    "*:alpha": 0,
    "year:abc": 5,  # values that do not fit the field
    "year:2.5": 5,
    "year:99999999999999999999": 5,
    "price:1e999": 6,
    "done:maybe": 5,
    "when:yesterday": 5,
    "year:[1 TO abc]": 11,
    "when:[yesterday TO *]": 6,
    "[a TO b]": 0,  # a range needs a field
    "body:[a TO b": 5,  # unclosed range
    "body:[a b]": 8,  # no TO
    "body:[a TO b c]": 13,
    "]": 0,
    ":alpha": 0,
    "year:5*": 5,  # patterns on a column
    "year:/5/": 5,
    "year:5~1": 5,
    "/(/": 0,  # bad regex
    "/abc": 0,
    "alpha^": 6,  # bad numbers
    "alpha^x": 6,
    "alpha^-1": 6,
    '"a b"~x': 6,
    '"a b"~': 6,
    '"a b"~1.5': 6,
    '"a b"~5000': 6,
    "alpha~3": 6,
    "alpha~x": 6,
    "alpha ~2": 6,  # a suffix must touch its clause
    "(alpha)~2": 7,
    "/a/~1": 3,
    "alpha^2^3": 7,
    "al*ha~1": 5,
    "alpha\\": 5,
    "(" * (MAX_DEPTH + 1) + "alpha" + ")" * (MAX_DEPTH + 1): MAX_DEPTH,
}


@pytest.mark.parametrize("text", ERRORS)
def test_strict_errors_say_where_the_problem_is(text: str) -> None:
    with pytest.raises(QueryError) as caught:
        BODY.parse(text)
    assert type(caught.value) is QueryError
    assert caught.value.query == text
    assert caught.value.position == ERRORS[text], caught.value.caret()


@pytest.mark.parametrize("text", ERRORS)
def test_lenient_parsing_reads_the_same_inputs_as_words(text: str) -> None:
    assert isinstance(BODY.parse(text, strict=False), Query)


LENIENT = {
    '"direct talks': "direct talks",
    "direct talks)": "direct talks",
    "(direct talks": "direct talks",
    "direct AND": "direct",
    "nope:talks": "nope talks",
    "year:abc talks": "year abc talks",
    "/(talks/": "talks",
    "talks^x": "talks x",
    "- talks": "talks",
    "[direct TO talks]": "direct talks",
}


@pytest.mark.parametrize("text", LENIENT)
def test_lenient_parsing_reads_what_is_not_syntax_as_plain_words(text: str) -> None:
    assert BODY.parse(text, strict=False) == BODY.parse(LENIENT[text])


def test_lenient_parsing_keeps_the_syntax_that_is_right() -> None:
    assert BODY.parse('title:talks "direct', strict=False) == Or([Term("title", "talk", 2.0), body("direct")])


def test_the_error_caret_points_at_the_problem() -> None:
    with pytest.raises(QueryError) as caught:
        BODY.parse("talks AND (direct OR")
    assert caught.value.caret() == "talks AND (direct OR\n                  ^ OR needs a clause after it"


def test_a_query_must_be_a_string() -> None:
    with pytest.raises(QueryError, match="must be a string"):
        BODY.parse(b"talks")  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------

SPECIALS = list('"():[]{}~^*?/\\+-!&| ') + ["AND", "OR", "NOT", "TO", "&&", "||", " ", "title", "year", "tag"]
QUERY_TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(SPECIALS), st.text(max_size=4))).map("".join),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(QUERY_TEXT)
def test_strict_parsing_raises_nothing_but_query_errors(text: str) -> None:
    try:
        QueryParser(SCHEMA).parse(text)
    except QueryError as error:
        assert error.position is not None and 0 <= error.position <= len(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(QUERY_TEXT)
def test_lenient_parsing_never_raises(text: str) -> None:
    assert isinstance(QueryParser(SCHEMA).parse(text, strict=False), Query)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(QUERY_TEXT)
def test_escaped_text_is_exactly_its_plain_words(text: str) -> None:
    terms = [body(term) for term in get_analyzer("english").term_list(text)]
    expected = Or(()) if not terms else terms[0] if len(terms) == 1 else Or(terms)
    assert BODY.parse(escape(text)) == expected


#: Text near the plain-words fast path's edges: words, parentheses, spaces of every
#: kind, and characters that are syntax only at a word's start or anywhere.
PLAIN_ISH_TEXT = st.lists(st.one_of(
    st.sampled_from(["talks", "Direct", "wi-fi", "the", "(", ")", " ", "\u00a0", "\t", "-", "+", "!", "/",
                     "&", "|", "AND", "OR", "NOT", "TO", "c++", "25", ":", "*", "?", "\\", '"', "x-", "é"]),
    st.text(max_size=3),
), max_size=12).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(PLAIN_ISH_TEXT, st.sampled_from(["OR", "AND"]), st.booleans())
def test_the_plain_words_fast_path_builds_exactly_the_grammars_tree(text: str, operator: str, strict: bool) -> None:
    parser = QueryParser(SCHEMA, {"title": 1.0, "body": 1.0}, default_operator=operator)
    words = plain_words(text, allow_groups=operator == "OR")
    if words is None:
        return  # not plain: only the grammar reads it
    assert parser.parse(text, strict=strict) == parser._parse(text, frozenset())
    assert parser.parse(text, strict=strict) == parser.parse(text, strict=strict)  # again, from the memo


def test_the_fast_path_takes_plain_text_and_balanced_groups_only() -> None:
    def words(text: str, allow_groups: bool = True) -> list[str] | None:
        found = plain_words(text, allow_groups=allow_groups)
        return None if found is None else [match.group() for match in found]

    assert words("direct talks, re-entry c++") == ["direct", "talks,", "re-entry", "c++"]
    assert words("25(OH)D levels (HSC)") == ["25", "OH", "D", "levels", "HSC"]
    assert words("a (b c)", allow_groups=False) is None
    for text in ["a:b", "talk*", "what?", "-x", "+x", "x AND y", '"a b"', "a^2", "a~", "/re/", "(a", "a)", "\\a"]:
        assert words(text) is None, text


# --- against a real index -------------------------------------------------------------------

DOCUMENTS = [
    dict(id="a", title="Ceasefire", body="Envoys held direct talks with Hamas.", tag="Peace", year=1999,
         when="2024-01-15", done=True),
    dict(id="b", title="Weather", body="Rain is expected on Monday.", tag="Weather", year=2005,
         when="2024-06-01", done=False),
    dict(id="c", title="Talks stall", body="Talking stopped; no direct contact.", tag="Peace", year=2011,
         when="2025-03-09", done=True),
    dict(id="d", title="Universities", body="University talks on research funding.", tag="Science", year=2020,
         when="2025-11-30", done=False),
]

FOUND = {
    "direct talks": {"a", "c", "d"},
    "direct AND talks": {"a", "c"},
    "talks -direct": {"d"},
    "+direct talks": {"a", "c"},
    "direct NOT hamas": {"c"},
    "NOT talks": {"b"},
    "-talks": {"b"},
    '"direct talks"': {"a"},
    '"held talks"~1': {"a"},
    '"held talks"': set(),
    "univ*": {"d"},
    "t?lk*": {"a", "c", "d"},
    "rein~1": {"b"},
    "/ha.*/": {"a"},
    "title:talks": {"c"},
    "tag:Peace": {"a", "c"},
    "tag:peace": set(),
    "tag:Pea*": {"a", "c"},
    "tag:[Peace TO Science]": {"a", "c", "d"},
    "year:2005": {"b"},
    "year:[2000 TO *]": {"b", "c", "d"},
    "year:{1999 TO 2011}": {"b"},
    "when:[2025-01-01 TO *]": {"c", "d"},
    "done:true": {"a", "c"},
    "(talks OR rain) AND year:[* TO 2010]": {"a", "b"},
    "talks^3 weather": {"a", "b", "c", "d"},
    "*": {"a", "b", "c", "d"},
    "title:*": {"a", "b", "c", "d"},
    "the of": set(),
    "the -hamas": set(),
    "+the -hamas": set(),
    "(the) -hamas": set(),
    "the AND -hamas": set(),
    "talks AND (the -hamas)": set(),
    "-hamas": {"b", "c", "d"},
    "the talks -hamas": {"c", "d"},
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    schema = Schema(
        id=ID(), title=TEXT(), body=TEXT(), tag=KEYWORD(), year=NUMERIC("int"), when=DATETIME(), done=BOOLEAN(),
    )
    index = Index.create(tmp_path_factory.mktemp("parser") / "index", schema)
    with index.writer() as writer:
        for document in DOCUMENTS[:2]:
            writer.add_document(document)
    with index.writer() as writer:
        for document in DOCUMENTS[2:]:
            writer.add_document(document)
    return index.reopen()


@pytest.mark.parametrize("text", FOUND)
def test_every_query_type_runs_and_finds_its_documents(index: Index, text: str) -> None:
    with Searcher(index) as searcher:
        assert {hit.id for hit in searcher.search(text, limit=10)} == FOUND[text]


SPLIT_WORDS_FOUND = {
    ("direct-talks", "OR"): {"a", "c", "d"},
    ("direct-talks", "AND"): {"a", "c"},  # c: direct in its body, talks in its title
    ("rain-hamas", "OR"): {"a", "b"},
    ("rain-hamas", "AND"): set(),
    ("rein-hamas~1", "OR"): {"a", "b"},  # rein~1 finds rain, hamas~1 hamas
    ("rein-hamas~1", "AND"): set(),
}


@pytest.mark.parametrize("text,operator", SPLIT_WORDS_FOUND)
def test_a_split_word_finds_documents_by_the_default_operator(index: Index, text: str, operator: str) -> None:
    with Searcher(index, default_operator=operator) as searcher:
        assert {hit.id for hit in searcher.search(text, limit=10)} == SPLIT_WORDS_FOUND[text, operator]


def test_a_boost_reorders_the_hits(index: Index) -> None:
    with Searcher(index) as searcher:
        assert searcher.search("rain talks^10", limit=1)[0].id != "b"
        assert searcher.search("rain^10 talks", limit=1)[0].id == "b"


def test_a_parsed_query_scores_like_the_same_query_built_in_python(index: Index) -> None:
    built = Bool(
        must=(CombinedTerm(("title", "body"), "direct"),),
        should=(Phrase("body", ("talk", "hama"), positions=(0, 2)),),
        must_not=(Range("year", 2020, None),),
    )
    with Searcher(index) as searcher:
        parsed = searcher.search('+direct body:"talks with Hamas" -year:[2020 TO *]')
        assert parsed.query == built
        again = searcher.search(built)
        assert [(hit.id, hit.score) for hit in parsed] == [(hit.id, hit.score) for hit in again]


def test_a_searcher_reads_query_syntax(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "index", Schema(id=ID(), body=TEXT()))
    with index.writer() as writer:
        writer.add_document(id="x", body="alpha beta")
    with Searcher(index) as searcher:
        with pytest.raises(QueryError):
            searcher.search("alpha AND")


#: Chains of marks and the short form each reads as: the first mark says excluded or
#: required, every NOT or - after it negates, two negations cancel (an even count stays
#: Not(Not(a)), which scores 0), and + after the first mark changes nothing.
MARK_CHAINS = {
    **{mark * count: mark * (2 + count % 2) for mark in ("!", "NOT ", "-") for count in (300, 301, 2000)},
    "+" + "-" * 300: "+--",
    "-+" * 2000: "--",
}


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("chain", MARK_CHAINS, ids=lambda chain: f"{chain[:4]!r}*{len(chain)}")
def test_a_long_chain_of_marks_searches_as_its_short_form(index: Index, chain: str, strict: bool) -> None:
    with Searcher(index) as searcher:
        long_form = searcher.search(chain + "talks", strict=strict)
        short_form = searcher.search(MARK_CHAINS[chain] + "talks", strict=strict)
        assert long_form.query == short_form.query
        assert [(hit.id, hit.score) for hit in long_form] == [(hit.id, hit.score) for hit in short_form]
        assert long_form.total == short_form.total > 0


MOMENTS = {
    "w0": "2024-04-30T23:59:59", "w1": "2024-05-01T00:00:00", "w2": "2024-05-01T10:00:00",
    "w3": "2024-05-01T23:59:59.999999", "w4": "2024-05-02T00:00:00", "w5": "2024-12-31T12:00:00",
    "w6": "2025-01-01T00:00:00", "w7": "9999-12-31T23:59:59",
}
DATES_AS_PERIODS = {
    "when:2024-05-01": {"w1", "w2", "w3"},
    "when:2024-05": {"w1", "w2", "w3", "w4"},
    "when:2024": {"w0", "w1", "w2", "w3", "w4", "w5"},
    "when:[2024-04-30 TO 2024-05-01]": {"w0", "w1", "w2", "w3"},
    "when:{2024-04-30 TO 2024-05-01}": set(),
    "when:{2024-05-01 TO *]": {"w4", "w5", "w6", "w7"},
    "when:[* TO 2024-05-01}": {"w0"},
    "when:[2024-05-01T10:00:00 TO 2024-05-01]": {"w2", "w3"},
    "when:{2024-05-01T10:00:00 TO 2024-05-02T00:00:00}": {"w3"},  # moments keep their meaning
    "when:[2024-06 TO 2024]": {"w5"},
    "when:9999": {"w7"},
    "when:{9999 TO *]": set(),
}


@pytest.mark.parametrize("text", DATES_AS_PERIODS)
def test_a_date_without_a_time_means_the_whole_day_month_or_year(tmp_path: Path, text: str) -> None:
    index = Index.create(tmp_path / "index", Schema(id=ID(), when=DATETIME()))
    with index.writer() as writer:
        for doc_id, moment in MOMENTS.items():
            writer.add_document(id=doc_id, when=moment)
    with Searcher(index) as searcher:
        assert {hit.id for hit in searcher.search(text, limit=20)} == DATES_AS_PERIODS[text]


@pytest.mark.parametrize("text", ["when:2024-02-30", "when:2024-13", "when:[2024-02-30 TO *]"])
def test_a_date_that_does_not_exist_is_refused_by_name(text: str) -> None:
    with pytest.raises(QueryError, match="when"):
        BODY.parse(text)


# --- bounds: every query is bounded in work; lenient mode cuts and says so ---------------

LIMITS = QueryLimits(max_length=200, max_clauses=8, max_depth=5, max_expansions=6, max_patterns=3)
SMALL = QueryParser(SCHEMA, ["body"], limits=LIMITS)


def words(count: int) -> str:
    return " ".join(f"w{number}" for number in range(count))


#: Queries past one cap of LIMITS, the cap named by the strict error, and what the
#: lenient parse reads instead.
PAST_A_CAP = {
    "x" * 150 + " " + "y" * 60: ("max_length", "x" * 150 + " " + "y" * 49),
    words(9): ("max_clauses", words(8)),
    " AND ".join(["talks"] * 9): ("max_clauses", " AND ".join(["talks"] * 8)),
    "title:talks " * 5 + "body:(direct peace war hamas)": ("max_clauses", "title:talks " * 5 + "body:(direct peace war)"),
    "(" * 6 + "talks" + ")" * 6: ("max_depth", "(" * 5 + "talks" + ")" * 5),
    "((((((talks)^2 direct)))))": ("max_depth", "(((((talks direct)))))"),  # a deeper group's boost goes with it
}


@pytest.mark.parametrize("text", PAST_A_CAP)
def test_a_query_past_a_cap_fails_strict_naming_it_and_is_cut_lenient_with_a_warning(text: str) -> None:
    cap, cut = PAST_A_CAP[text]
    with pytest.raises(QueryError, match=f"QueryLimits.{cap}"):
        SMALL.parse(text)
    warnings: list[str] = []
    assert SMALL.parse(text, strict=False, warnings=warnings) == SMALL.parse(cut)
    assert len(warnings) == 1 and "cut" in warnings[0] or "nested deeper" in warnings[0], warnings
    within: list[str] = []
    SMALL.parse(cut, strict=False, warnings=within)
    assert within == []


def test_the_limits_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="max_clauses"):
        QueryLimits(max_clauses=0)
    with pytest.raises(ValueError, match="max_depth"):
        QueryLimits(max_depth=10_000)  # deeper than recursive descent can go
    with pytest.raises(ValueError, match="untimed_visits must be a whole number, at least 0"):
        QueryLimits(untimed_visits=-1)
    with pytest.raises(ValueError, match="untimed_visits must be at most"):
        QueryLimits(untimed_visits=2**32)
    assert QueryLimits(untimed_visits=0).untimed_visits == 0  # the clock alone


def test_thousands_of_nested_parentheses_parse_in_one_pass() -> None:
    # Each lenient retry re-reads the whole query; deep nesting is flattened before the
    # grammar recurses, so strict and lenient read it once, with no RecursionError.
    parser = QueryParser(SCHEMA, ["body"])
    deep = "(" * 3000 + "talks" + ")" * 3000
    with pytest.raises(QueryError, match="nest deeper than 50 levels"):
        parser.parse(deep)
    warnings: list[str] = []
    assert parser.parse(deep, strict=False, warnings=warnings) == body("talk")
    assert warnings == ["2,950 pairs of parentheses nested deeper than 50 levels were read as part of the group around them"]


def test_a_lenient_parse_rereads_a_long_query_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from searchlib.parser import REPAIR_BUDGET
    from searchlib.parser.lexer import Lexer

    read: list[int] = []
    original = Lexer.tokens

    def counted(self: Lexer) -> list:  # type: ignore[type-arg]
        read.append(len(self.text))
        return original(self)

    monkeypatch.setattr(Lexer, "tokens", counted)
    text = " ".join(["&&"] * 3000)  # every && is a problem the repairs would fix one at a time
    assert QueryParser(SCHEMA, ["body"]).parse(text, strict=False) == Or(())
    # One reading to find unmatched parentheses, repairs reading at most REPAIR_BUDGET
    # characters (at least one reading), then the escaped text read once: not 50 readings.
    assert sum(read) <= REPAIR_BUDGET + 4 * len(text), read


@pytest.fixture(scope="module")
def many_terms(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """An index whose body holds the terms aa0..aa9, ab0..ab9, ..., each term with
    doc frequency by its digit: aa9 is in most documents."""
    index = Index.create(tmp_path_factory.mktemp("bounds") / "index", Schema(id=ID(), body=TEXT("standard")))
    with index.writer() as writer:
        for doc in range(10):
            body_text = " ".join(f"{first}{digit}" for first in ("aa", "ab", "ac", "ad") for digit in range(10) if digit >= doc)
            writer.add_document(id=str(doc), body=body_text)
    return index


def test_a_lenient_search_keeps_a_broad_patterns_most_frequent_terms_and_says_so(many_terms: Index) -> None:
    with Searcher(many_terms, expansion=Expansion(3)) as searcher:
        with pytest.raises(QueryError, match="limit of 3"):
            searcher.search("aa*")
        results = searcher.search("aa*", strict=False)
        assert results.warnings == ["prefix aa* matched 10 terms in body; searched the 3 most frequent"]
        assert results.query == MatchedTerms("body", ("aa7", "aa8", "aa9"), 1.0, "prefix aa*")
        assert searcher.search("aa0 ab0", strict=False).warnings == []


def test_the_patterns_of_a_query_share_one_bound(many_terms: Index) -> None:
    limits = QueryLimits(max_expansions=25, max_patterns=3)
    with Searcher(many_terms, limits=limits) as searcher:
        with pytest.raises(QueryError, match="QueryLimits.max_expansions"):
            searcher.search("aa* ab* ac*")
        results = searcher.search("aa* ab* ac*", strict=False)
        assert results.query.terms() == {("body", f"{first}{digit}") for first in ("aa", "ab") for digit in range(10)} | {
            ("body", f"ac{digit}") for digit in range(5, 10)  # the 5 most frequent
        }
        assert results.warnings == [
            "prefix ac* matched 10 terms in body; searched the 5 most frequent (the query's patterns may expand to 25 "
            "terms together)"
        ]
        left_out = searcher.search("aa* ab* ac* aa*", strict=False).warnings  # a repeat: no new pattern
        assert left_out[-1] == "1 pattern left out: the query's patterns had expanded to 25 terms together"
        with pytest.raises(QueryError, match="QueryLimits.max_patterns"):
            searcher.search("a?0 a?1 a?2 a?3")
        assert searcher.search("a?0 a?1 a?2 a?3", strict=False).warnings == [
            "1 pattern left out: one query expands at most 3 distinct wildcard, fuzzy or regex patterns"
        ]
        # A pattern repeated is read once, but each copy's terms count.
        assert searcher.search("aa* aa* aa*", strict=False).warnings == [
            "prefix aa* matched 10 terms in body; searched the 5 most frequent (the query's patterns may expand to 25 "
            "terms together)"
        ]


def test_did_you_mean_corrects_a_bounded_number_of_words(many_terms: Index) -> None:
    with Searcher(many_terms, limits=QueryLimits(suggest_words=2)) as searcher:
        assert searcher.did_you_mean("aax0 abx0 acx0") == "aa0 ab0 acx0"
    with Searcher(many_terms) as searcher:
        assert searcher.did_you_mean("aax0 abx0 acx0") == "aa0 ab0 ac0"
        assert searcher.vocabulary("body").suggest("aa", max_edits=1, max_candidates=2) == [
            searcher.vocabulary("body").suggest("aa", max_edits=1)[0], searcher.vocabulary("body").suggest("aa", max_edits=1)[1]
        ]


def naive_glob(pattern: str, text: str) -> bool:
    """Wildcard matching by dynamic programming: the reference for glob_regex."""
    matched = [True] + [False] * len(text)
    for char in pattern:
        if char == "*":
            matched = list(itertools.accumulate(matched, lambda left, right: left or right))
        else:
            matched = [False] + [matched[at] and (char == "?" or text[at] == char) for at in range(len(text))]
    return matched[-1]


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text("ab*?", max_size=10), st.text("abc", max_size=12))
def test_a_wildcard_matches_what_its_definition_says(pattern: str, text: str) -> None:
    assert bool(regex.fullmatch(wildcard_regex(pattern), text)) == naive_glob(pattern, text)


def written_words(reader: SegmentReader, field_name: str) -> list[tuple[str, str]]:
    """(word a pattern is matched against, term it selects) of one segment's field: the
    lexicon's written words and their terms on a stemmed field, else the terms."""
    dictionary = reader.dictionary(field_name)
    terms = dictionary.terms() if dictionary is not None else []
    lexicon = reader.lexicon(field_name)
    if lexicon is None:
        return [(term, term) for term in terms]
    return [(word, terms[int(at)]) for word, at in zip(lexicon.terms(), lexicon.term_indexes)]


def selected_by_brute_force(reader: SegmentReader, field_name: str, keep: Callable[[str], bool]) -> list[str]:
    return sorted({term for word, term in written_words(reader, field_name) if keep(word)}, key=str.encode)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text("ao*?.\\", min_size=1, max_size=12))
def test_a_wildcard_selects_the_words_its_definition_matches(index: Index, pattern: str) -> None:
    # The core's automaton walk over each segment against the definition, word by word.
    for reader in Index.open_snapshot(index.path)[1]:
        expected = selected_by_brute_force(reader, "body", lambda word: naive_glob(pattern, word))
        assert Wildcard("body", pattern).select(reader, "body")[0] == expected


_REGEX_PIECES = ["a", "o", "t", ".", ".*", "[^a]", "[a-z]+", "\\w", "\\s", "\\b", "^", "$", "(?:ta)", "|", "?", "+",
                 "(?s)", "\\A", "\\Z", "(?<=a)", "(?=a)", "(?i)", "\\p{L}", "[\\s\\S]", "\\n", "{2}", "[[]", "{x}"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_REGEX_PIECES), min_size=1, max_size=6))
@example(["\\A", "t", ".*"])
@example(["t", ".*", "\\Z"])
@example(["(?=a)", "a", ".*"])
def test_a_regex_selects_what_the_regex_module_fullmatches_or_is_refused_by_name(index: Index, pieces: list[str]) -> None:
    # The dialect users write (the regex module's) runs as an automaton in the core: it
    # selects the words regex.fullmatch accepts, or the pattern is refused naming what
    # an automaton cannot do.
    pattern = "".join(pieces)
    try:
        regex.compile(pattern)
    except regex.error:
        return
    try:
        query = Regex("body", pattern)
    except QueryError as exc:
        assert "do not support" in str(exc), exc  # look-around, a possessive quantifier (a+ +)
        assert any(p in pattern for p in ("(?=", "(?<=", "*+", "++", "?+")), exc
        return
    for reader in Index.open_snapshot(index.path)[1]:
        expected = selected_by_brute_force(reader, "body", lambda word: bool(regex.fullmatch(pattern, word)))
        assert query.select(reader, "body")[0] == expected


def test_generated_queries_parse_strict_with_query_errors_only_and_search_lenient_without_errors(index: Index) -> None:
    """The quick version of tests/stress/query_fuzz.py: the same generator, fewer strings."""
    from tests.stress.query_fuzz import check, query_string

    outcomes: Counter[str] = Counter()
    with Searcher(index) as searcher:
        for number in range(2000):
            outcome, _ = check(searcher, query_string(1, number))
            assert not outcome.startswith(("strict-raised", "lenient-raised")), (number, outcome)
            outcomes[outcome] += 1
    assert outcomes["query-error"] and outcomes["ok"]  # both kinds were generated


# --- typed default fields ---------------------------------------------------------------

TYPED = Schema(body=TEXT(), year=NUMERIC("int"), when=DATETIME())


def test_a_numeric_default_field_matches_a_word_that_is_one_of_its_values() -> None:
    parser = QueryParser(TYPED, ["body", "year"])
    assert parser.parse("1999 talks") == Or([Term("body", "1999"), Range("year", 1999, 1999), Term("body", "talk")])


def test_a_word_that_is_no_value_of_a_typed_default_field_skips_it() -> None:
    parser = QueryParser(TYPED, ["body", "year"])
    assert parser.parse("talks") == Term("body", "talk")
    assert parser.parse("3.5") == Or([Term("body", "3"), Term("body", "5")])  # not an integer


def test_a_datetime_default_field_takes_a_date_as_the_whole_period() -> None:
    parser = QueryParser(TYPED, {"body": 1.0, "when": 2.0})
    assert parser.parse("2024-05") == Or([
        Term("body", "2024"), Term("body", "05"),
        Range("when", "2024-05-01", "2024-06-01", include_high=False, boost=2.0),
    ])


def test_a_named_typed_field_still_refuses_a_text_that_is_none_of_its_values() -> None:
    parser = QueryParser(TYPED, ["body", "year"])
    with pytest.raises(QueryError, match="takes an integer"):
        parser.parse("year:abc")


def test_patterns_pass_over_typed_default_fields_but_not_over_a_named_one() -> None:
    assert QueryParser(TYPED, ["body", "year"]).parse("tal*") == Prefix("body", "tal")
    with pytest.raises(QueryError, match="NUMERIC"):
        QueryParser(TYPED, ["year"]).parse("tal*")
    with pytest.raises(QueryError, match="NUMERIC"):
        QueryParser(TYPED, ["body", "year"]).parse("year:19*")


def test_a_searcher_over_a_typed_default_field_finds_the_value(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "idx", Schema(id=ID(), body=TEXT(), year=NUMERIC("int")))
    with index.writer() as writer:
        writer.add_document(id="a", body="direct talks", year=1999)
        writer.add_document(id="b", body="nothing here", year=1999)
        writer.add_document(id="c", body="talks in 2001", year=2005)
    with Searcher(index, fields=["body", "year"]) as searcher:
        assert sorted(hit.id for hit in searcher.search("1999")) == ["a", "b"]
        assert [hit.id for hit in searcher.search("1999 talks")][0] == "a"
        assert [hit.id for hit in searcher.search("2001")] == ["c"]
