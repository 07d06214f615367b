"""The query grammar: recursive descent over the tokens of one query.

Internal to :mod:`searchlib.parser`.
"""

from __future__ import annotations

from searchlib.limits import DEFAULT_LIMITS, QueryLimits
from searchlib.parser.lexer import QueryToken, SyntaxProblem
from searchlib.parser.nodes import DIGITS, FACTOR, FLOAT, NodeBuilder, Occur, Target, all_of, any_of, boosted, negated, number_after
from searchlib.query import Bool, MatchAll, Not, Or, Query, leaf_count

#: Deepest nesting of parentheses a query may have by default (a guard against
#: runaway recursion; see :class:`~searchlib.limits.QueryLimits`).
MAX_DEPTH = DEFAULT_LIMITS.max_depth
#: Largest phrase slop: matching a phrase costs time in proportion to its slop.
MAX_SLOP = 1000

CLAUSE_STARTS = frozenset({"word", "field", "phrase", "regex", "range", "lparen", "not", "plus", "minus"})
PRIMARY_STARTS = frozenset({"word", "phrase", "regex", "range", "lparen"})
#: What a query of only stop words becomes: no document.
NOTHING: Query = Or(())


def flatten_deep_groups(tokens: list[QueryToken], max_depth: int, *, strict: bool) -> tuple[list[QueryToken], int]:
    """``tokens`` with the parentheses nested deeper than ``max_depth`` taken out (with
    a ``^n`` or ``~n`` written right after such a closing one), and how many pairs
    were; strict, the first of them raises instead.

    One pass, before the grammar recurses: 2,000 nested parentheses would otherwise
    cost 2,000 levels of recursive descent (and a lenient parse would retry them one
    repair at a time). A group adds nothing but grouping, so reading its content as
    part of the group around it keeps what the query means as nearly as can be.
    """
    depth = 0
    opened: list[bool] = []  # per open parenthesis: whether it is taken out
    dropped: set[int] = set()
    for at, token in enumerate(tokens):
        if token.kind == "lparen":
            depth += 1
            if depth > max_depth:
                if strict:
                    raise SyntaxProblem(
                        f"parentheses nest deeper than {max_depth} levels (QueryLimits.max_depth)", token.start
                    )
                dropped.add(at)
            opened.append(depth > max_depth)
        elif token.kind == "rparen" and opened:
            depth -= 1
            if opened.pop():
                dropped.add(at)
                end = token.end
                for following in range(at + 1, len(tokens)):  # its boost or slop goes with it
                    if tokens[following].kind not in ("tilde", "caret") or tokens[following].start != end:
                        break
                    dropped.add(following)
                    end = tokens[following].end
    if not dropped:
        return tokens, 0
    kept = [token for at, token in enumerate(tokens) if at not in dropped]
    return kept, sum(1 for at in dropped if tokens[at].kind == "lparen")


def only_exclusions_left(marked: list[tuple[Query | None, Occur]]) -> bool:
    """Whether every clause meant to match (unmarked or ``+``) vanished as a stop word
    while exclusions remain, as in ``the -zebra``, ``+the -zebra`` or ``the AND NOT
    zebra``.

    Such clauses match nothing, as a query of only stop words does: the exclusions
    alone would match every other document, the opposite of what was asked. Only
    exclusions written alone (``-zebra``, ``NOT zebra``) mean every other document.
    """
    wanted = [query for query, occur in marked if occur != "-"]
    excluded = [query for query, occur in marked if occur == "-"]
    return bool(wanted) and all(query is None for query in wanted) and any(query is not None for query in excluded)


class Grammar:
    """Recursive descent over the tokens of one query::

        query    := sequence END
        sequence := or_expr*                  (side by side: the default operator)
        or_expr  := and_expr (OR and_expr)*
        and_expr := unary (AND unary)*
        unary    := (NOT | + | -)* primary
        primary  := FIELD primary | ( sequence ) [^n] | WORD [~n] [^n]
                  | PHRASE [~n] [^n] | REGEX [^n] | RANGE [^n]

    Each rule returns its query (None when every word was a stop word) and how it was
    marked (``+``, ``-`` or neither), which only matters to the sequence around it.
    """

    def __init__(
        self,
        builder: NodeBuilder,
        defaults: Target,
        tokens: list[QueryToken],
        limits: QueryLimits = DEFAULT_LIMITS,
        *,
        strict: bool = True,
    ) -> None:
        self.builder = builder
        self.defaults = defaults
        self.is_and = builder.is_and
        self.limits = limits
        self.strict = strict
        #: What a lenient parse cut to keep to the limits, as sentences a user can read.
        self.warnings: list[str] = []
        tokens, flattened = flatten_deep_groups(tokens, limits.max_depth, strict=strict)
        if flattened:
            self.warnings.append(
                f"{flattened:,} pairs of parentheses nested deeper than {limits.max_depth} levels were read "
                "as part of the group around them"
            )
        self.tokens = tokens
        self.at = 0
        #: Leaf clauses built so far, and whether the rest of the query was cut off.
        self.clauses = 0
        self.cut = False

    def counted(self, query: Query | None, token: QueryToken) -> Query | None:
        """``query`` (the clause of ``token``), counted against the query's clause limit.

        Past it, a strict parse fails; a lenient one leaves the clause out and reads no
        further (every token left becomes the end), so that the query keeps its first
        clauses, as a search box that cut a pasted text would.
        """
        if query is None:
            return None
        count = leaf_count(query)
        limit = self.limits.max_clauses
        if self.clauses + count <= limit:
            self.clauses += count
            return query
        what = f"more than {limit:,} clauses (a word counts once per field it searches)"
        if self.strict:
            raise SyntaxProblem(f"the query holds {what}, the limit (QueryLimits.max_clauses)", token.start)
        self.cut = True
        self.warnings.append(f"the query was cut before character {token.start:,}: it holds {what}")
        end = self.tokens[-1]
        self.tokens[self.at :] = [end]
        return None

    def peek(self) -> QueryToken:
        return self.tokens[self.at]

    def next(self) -> QueryToken:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def query(self) -> Query | None:
        query = self.sequence(self.defaults, 0)
        token = self.peek()
        if token.kind == "rparen":
            raise SyntaxProblem("unbalanced parenthesis: nothing opens this one", token.start)
        return query

    def sequence(self, target: Target, depth: int) -> Query | None:
        """Clauses side by side, up to a closing parenthesis or the end."""
        items: list[tuple[Query | None, Occur]] = []
        while self.peek().kind not in ("end", "rparen"):
            items.append(self.or_expr(target, depth))
        return self.combine(items)

    def combine(self, marked: list[tuple[Query | None, Occur]]) -> Query | None:
        """Clauses side by side as one query: unmarked ones with the default operator;
        a :class:`Bool` only where optional clauses sit next to marked ones. Clauses
        that vanished (stop words) are left out, but see :func:`only_exclusions_left`."""
        if only_exclusions_left(marked):
            return NOTHING
        items = [(query, occur) for query, occur in marked if query is not None]
        is_and = self.is_and
        if all(occur == "" for _, occur in items):
            queries = [query for query, _ in items]
            return all_of(queries) if is_and else any_of(queries)
        must = [query for query, occur in items if occur == "+" or (occur == "" and is_and)]
        should = [query for query, occur in items if occur == "" and not is_and]
        must_not = [query for query, occur in items if occur == "-"]
        if should:
            return Bool(must=tuple(must), should=tuple(should), must_not=tuple(must_not))
        return all_of([*must, *(Not(query) for query in must_not)])

    def or_expr(self, target: Target, depth: int) -> tuple[Query | None, Occur]:
        first = self.and_expr(target, depth)
        if self.peek().kind != "or":
            return first
        clauses = [negated(*first)]
        while self.peek().kind == "or":
            self.operand_after(self.next())
            clauses.append(negated(*self.and_expr(target, depth)))
        return any_of(clauses), ""

    def and_expr(self, target: Target, depth: int) -> tuple[Query | None, Occur]:
        first = self.unary(target, depth)
        if self.peek().kind != "and":
            return first
        operands = [first]
        while self.peek().kind == "and":
            self.operand_after(self.next())
            operands.append(self.unary(target, depth))
        if only_exclusions_left(operands):
            return NOTHING, ""
        return all_of(negated(*operand) for operand in operands), ""

    def operand_after(self, operator: QueryToken) -> None:
        """Check that a clause follows ``operator`` (AND, OR, NOT)."""
        if self.peek().kind not in CLAUSE_STARTS:
            name = self.spelling(operator)
            raise SyntaxProblem(f"{name} needs a clause after it", operator.start)

    @staticmethod
    def spelling(token: QueryToken) -> str:
        return {"and": "AND", "or": "OR", "not": "NOT", "plus": "+", "minus": "-"}.get(token.kind, token.kind)

    def unary(self, target: Target, depth: int) -> tuple[Query | None, Occur]:
        """Prefix operators: the first one marks the clause (``+`` required, ``-`` or NOT
        excluded); each NOT or ``-`` after it negates the clause, a ``+`` there changes
        nothing: ``-+a`` excludes a, ``+-a`` requires not-a.

        The marks are counted as they are read, not nested, so that no chain of them
        (``!!!!...a``, typed or generated) builds a tree deep enough to exhaust the
        stack. Two negations cancel, but ``Not(Not(a))`` matches a's documents scoring
        0, not as a: an even count keeps two Nots, an odd one one.
        """
        first_mark: QueryToken | None = None
        negations = 0
        while self.peek().kind in ("not", "plus", "minus"):
            mark = self.next()
            self.operand_after(mark)
            if mark.kind != "not" and self.peek().start != mark.end:
                raise SyntaxProblem(f"{self.spelling(mark)} must be written right before its clause", mark.start)
            if first_mark is None:
                first_mark = mark
            elif mark.kind != "plus":
                negations += 1
        query = self.primary(target, depth)
        for _ in range(0 if negations == 0 else 2 - negations % 2):
            query = negated(query, "-")
        occur: Occur = "" if first_mark is None else "+" if first_mark.kind == "plus" else "-"
        return query, occur

    def primary(self, target: Target, depth: int) -> Query | None:
        token = self.next()
        kind = token.kind
        if kind == "field":
            return self.field(token, depth)
        if kind == "lparen":
            return self.group(token, target, depth)
        if kind == "word":
            tilde, caret = self.suffixes(token, allow_tilde=True)
            return self.boost(self.counted(self.builder.word(target, token, tilde), token), caret)
        if kind == "phrase":
            tilde, caret = self.suffixes(token, allow_tilde=True)
            slop = 0 if tilde is None else self.slop(tilde)
            return self.boost(self.counted(self.builder.phrase(target, token, slop), token), caret)
        if kind == "regex":
            query = self.builder.regex(target, self.no_tilde(token))
            return self.boost(self.counted(query, token), self.suffixes(token)[1])
        if kind == "range":
            query = self.builder.range(target, self.no_tilde(token))
            return self.boost(self.counted(query, token), self.suffixes(token)[1])
        if kind in ("and", "or"):
            raise SyntaxProblem(f"{self.spelling(token)} needs a clause before it", token.start)
        if kind in ("tilde", "caret"):
            sign = "~" if kind == "tilde" else "^"
            raise SyntaxProblem(f"{sign} must be written right after a word or phrase, as in word{sign}2", token.start)
        raise SyntaxProblem("unbalanced parenthesis: nothing opens this one", token.start)  # rparen

    def field(self, token: QueryToken, depth: int) -> Query | None:
        """``field:`` and the clause it applies to; ``*:*`` is every document."""
        self.join_sign_of_number()
        following = self.peek()
        if following.kind not in PRIMARY_STARTS:
            raise SyntaxProblem(f"{token.text}: needs a word, phrase, range or group after it", token.start, token.end - 1)
        if token.text == "*" and token.wild == (0,):
            if following.kind == "word" and following.text == "*" and following.wild == (0,):
                self.next()
                return self.boost(self.counted(MatchAll(), following), self.suffixes(following)[1])
            raise SyntaxProblem("*: can only be followed by *: *:* is every document", token.start, token.end - 1)
        return self.primary(self.builder.field_target(token), depth)

    def join_sign_of_number(self) -> None:
        """``year:-3``: a ``-`` or ``+`` written against a number after ``field:`` is the
        number's sign, not an exclusion or a requirement (neither can follow a field)."""
        sign = self.peek()
        if sign.kind not in ("minus", "plus") or self.at + 1 >= len(self.tokens):
            return
        number = self.tokens[self.at + 1]
        if number.kind == "word" and number.start == sign.end and not number.wild and FLOAT.fullmatch(number.text):
            signed = ("-" if sign.kind == "minus" else "+") + number.text
            self.tokens[self.at : self.at + 2] = [QueryToken("word", sign.start, number.end, signed)]

    def group(self, opening: QueryToken, target: Target, depth: int) -> Query | None:
        if depth >= self.limits.max_depth:  # flatten_deep_groups took deeper ones out
            raise SyntaxProblem(f"parentheses nest deeper than {self.limits.max_depth} levels", opening.start)
        query = self.sequence(target, depth + 1)
        closing = self.peek()
        if closing.kind != "rparen":
            if self.cut:  # the query was cut inside this group: it ends there
                return query
            raise SyntaxProblem("unbalanced parenthesis: this one is never closed", opening.start)
        self.next()
        return self.boost(query, self.suffixes(self.no_tilde(closing))[1])

    def suffixes(self, token: QueryToken, *, allow_tilde: bool = False) -> tuple[QueryToken | None, QueryToken | None]:
        """The ``~n`` and ``^n`` written right after ``token``, in either order."""
        tilde: QueryToken | None = None
        caret: QueryToken | None = None
        end = token.end
        while self.peek().kind in ("tilde", "caret") and self.peek().start == end:
            suffix = self.next()
            if suffix.kind == "tilde" and allow_tilde and tilde is None:
                tilde = suffix
            elif suffix.kind == "caret" and caret is None:
                caret = suffix
            else:
                raise SyntaxProblem(f"unexpected {'~' if suffix.kind == 'tilde' else '^'} here", suffix.start)
            end = suffix.end
        return tilde, caret

    def no_tilde(self, token: QueryToken) -> QueryToken:
        """``token``, checked not to carry a ``~`` (only words and phrases take one)."""
        following = self.peek()
        if following.kind == "tilde" and following.start == token.end:
            raise SyntaxProblem("~ only follows a word (fuzzy) or a phrase (slop)", following.start)
        return token

    @staticmethod
    def slop(tilde: QueryToken) -> int:
        if not DIGITS.fullmatch(tilde.text) or len(tilde.text) > 6 or int(tilde.text) > MAX_SLOP:
            raise SyntaxProblem(
                f'~ after a phrase takes a slop, a number of moves up to {MAX_SLOP}: "a b"~2',
                tilde.start + 1, tilde.start,
            )
        return int(tilde.text)

    @staticmethod
    def boost(query: Query | None, caret: QueryToken | None) -> Query | None:
        if caret is None:
            return query
        return boosted(query, number_after(caret, FACTOR, "^ needs a boost, a number"))
