//! Plain query text straight to a plan: the words of a search box (no syntax), each
//! analyzed by its default fields' analyzers, joined by the default operator, into the
//! very plan the Python query tree compiles to for the same text.
//!
//! Most searches are such text; building Python nodes for them, only to turn them into
//! plan tuples, costs more than running them. The shapes here follow the parser's plain
//! path node for node (`searchlib/parser/__init__.py` `_parse_plain`, and `any_of`,
//! `all_of`, `text_values` in `nodes.py`): scores are sums whose order matters, so the
//! plan must be the same tree, not just an equivalent one. Anything this module does not
//! take exactly (syntax, a word past the clause limit) is reported as `None` and the
//! caller takes the tree path.
//!
//! Two pieces of syntax are taken as well: words joined by one operator throughout
//! (`a AND b`, see `joined_words`), and a text that is one quoted phrase and nothing
//! else (`"direct talks"`), the parser's `phrase` node for node (`phrase` in `nodes.py`):
//! per group of default fields, a phrase per field, or the word's leaf when the phrase
//! analyzes to one term.

use crate::query::plan::{BoolNode, LeafField, Node, TermLeaf};

/// Characters that give a query syntax anywhere in a word (the parser's `_SYNTAX_ANYWHERE`).
const SYNTAX_ANYWHERE: &[char] = &['\\', '[', ']', '{', '}', '"', '^', '~', ':', '*', '?'];
/// Characters that are operators at the start of a word only.
const SYNTAX_AT_START: &[char] = &['+', '-', '!', '/', '&', '|'];
/// Words that are operators.
const OPERATOR_WORDS: &[&str] = &["AND", "OR", "NOT"];

/// Python's `str.isspace` (what `\s` matches in a `str` pattern): Rust's Unicode
/// whitespace and the four ASCII information separators, which Python counts too.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// The words of `text` if it holds no syntax, else None: the parser's `plain_words`.
///
/// Parentheses end a word wherever they are; groups are allowed only with the OR
/// operator (nested ORs flatten, so a group adds nothing), at most `max_depth` deep.
pub fn plain_words(text: &str, allow_groups: bool, max_depth: usize) -> Option<Vec<&str>> {
    if text.contains(SYNTAX_ANYWHERE) {
        return None;
    }
    let mut words = Vec::new();
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    for (at, c) in text.char_indices() {
        if c == '(' || c == ')' || is_python_space(c) {
            end_word(text, &mut start, at, &mut words)?;
            if c == '(' {
                depth += 1;
                if !allow_groups || depth > max_depth {
                    return None;
                }
            } else if c == ')' {
                depth = depth.checked_sub(1)?;
            }
        } else if start.is_none() {
            start = Some(at);
        }
    }
    end_word(text, &mut start, text.len(), &mut words)?;
    (depth == 0).then_some(words)
}

/// Ends the word that started at `from` (if one did) at `to`: None when it is an
/// operator, so that the text is not plain.
fn end_word<'t>(text: &'t str, from: &mut Option<usize>, to: usize, words: &mut Vec<&'t str>) -> Option<()> {
    if let Some(at) = from.take() {
        let word = &text[at..to];
        if word.starts_with(SYNTAX_AT_START) || OPERATOR_WORDS.contains(&word) {
            return None;
        }
        words.push(word);
    }
    Some(())
}

/// The words of `text` if it is plain words joined by one operator throughout
/// (`a AND b AND c`, `a OR b`), and whether that operator is AND; else None. No
/// parentheses, no other syntax, no operator at either end.
///
/// The parser joins such words by that operator, and each word's own terms (`x-ray`
/// gives x and ray) by the default operator, as it does in plain text.
pub fn joined_words(text: &str) -> Option<(Vec<&str>, bool)> {
    if text.contains(SYNTAX_ANYWHERE) || text.contains(['(', ')']) {
        return None;
    }
    let pieces: Vec<&str> = text.split(is_python_space).filter(|piece| !piece.is_empty()).collect();
    if pieces.len() < 3 || pieces.len() % 2 == 0 {
        return None;
    }
    let operator = pieces[1];
    if operator != "AND" && operator != "OR" {
        return None;
    }
    let mut words = Vec::with_capacity(pieces.len() / 2 + 1);
    for (at, piece) in pieces.iter().enumerate() {
        if at % 2 == 1 {
            if *piece != operator {
                return None;
            }
        } else if piece.starts_with(SYNTAX_AT_START) || OPERATOR_WORDS.contains(piece) {
            return None;
        } else {
            words.push(*piece);
        }
    }
    Some((words, operator == "AND"))
}

/// The text inside the quotes if `text` is one quoted phrase, spaces around it aside,
/// with no escape or other quote in it (the lexer's quoted text, which then needs no
/// unescaping); else None.
pub fn plain_phrase(text: &str) -> Option<&str> {
    let inner = text.trim_matches(is_python_space).strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains(['"', '\\'])).then_some(inner)
}

/// Default fields searched with one query analyzer: how each of their terms becomes a
/// leaf. One field is a Python `Term` (its weight the leaf's boost); several are a
/// `CombinedTerm` (weights per field, boost 1).
#[derive(Debug, Clone)]
pub struct FieldGroup {
    pub fields: Vec<LeafField>,
    pub boost: f64,
    /// N: live documents with any of the group's fields.
    pub n: f64,
}

/// A node while the plan is built: the Python tree's shape (Or and And flatten as
/// `any_of` and `all_of` do).
enum Shape {
    Leaf(TermLeaf),
    /// A quoted phrase's node in one field (see `phrase_plan`).
    Phrase(Node),
    Or(Vec<Shape>),
    And(Vec<Shape>),
}

/// `any_of`: an Or of the clauses, nested Ors flattened; one clause alone; None for none.
fn any_of(clauses: impl IntoIterator<Item = Option<Shape>>) -> Option<Shape> {
    let mut flat = Vec::new();
    for clause in clauses.into_iter().flatten() {
        match clause {
            Shape::Or(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    one_or(flat, Shape::Or)
}

/// `all_of`: an And of the clauses, nested Ands flattened; one clause alone; None for none.
fn all_of(clauses: impl IntoIterator<Item = Option<Shape>>) -> Option<Shape> {
    let mut flat = Vec::new();
    for clause in clauses.into_iter().flatten() {
        match clause {
            Shape::And(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    one_or(flat, Shape::And)
}

fn one_or(mut flat: Vec<Shape>, many: fn(Vec<Shape>) -> Shape) -> Option<Shape> {
    match flat.len() {
        0 => None,
        1 => flat.pop(),
        _ => Some(many(flat)),
    }
}

impl Shape {
    /// A term's leaf over a group's fields (a Python `Term` or `CombinedTerm`), its df
    /// `df` if known; a group whose df is left to count is noted in `uncounted`.
    fn leaf(group: &FieldGroup, index: usize, term: String, df: Option<u64>, uncounted: &mut Vec<usize>) -> Shape {
        if df.is_none() {
            uncounted.push(index);
        }
        Shape::Leaf(TermLeaf { fields: group.fields.clone(), term, boost: group.boost, df, n: group.n })
    }

    /// The plan node, as the Python nodes emit theirs: an Or is a bool of should
    /// clauses with one required, an And a bool of must clauses.
    fn into_node(self) -> Node {
        match self {
            Shape::Leaf(leaf) => Node::Term(leaf),
            Shape::Phrase(node) => node,
            Shape::Or(clauses) => Node::Bool(BoolNode { should: clauses.into_iter().map(Shape::into_node).collect(), min_should: 1, ..BoolNode::default() }),
            Shape::And(clauses) => Node::Bool(BoolNode { must: clauses.into_iter().map(Shape::into_node).collect(), min_should: 0, ..BoolNode::default() }),
        }
    }
}

/// What a plain text becomes: the plan, and for each term leaf (in plan order) its
/// group, so that the dfs counted for it can be remembered.
pub struct PlainPlan {
    pub plan: Node,
    pub leaf_groups: Vec<usize>,
}

/// The plan of `words` over `groups`, joined by AND when `is_and` (else OR), each word's
/// own terms by AND when `word_is_and`: `terms(group, word)` gives the terms a group's
/// analyzer makes of the word, None when two share a position (alternatives, which the
/// tree joins otherwise), and `df(group, term)` a document frequency already known. None
/// when a word's terms are not one per position, or the words hold more than
/// `max_clauses` leaves (the tree path cuts them or refuses, with the position it reports).
pub fn plan(
    words: &[&str],
    groups: &[FieldGroup],
    is_and: bool,
    word_is_and: bool,
    max_clauses: usize,
    mut terms: impl FnMut(usize, &str) -> Option<Vec<String>>,
    mut df: impl FnMut(usize, &str) -> Option<u64>,
) -> Option<PlainPlan> {
    let mut values = Vec::with_capacity(words.len());
    let mut leaf_groups = Vec::new();
    let mut clauses = 0usize;
    for word in words {
        let mut per_group = Vec::with_capacity(groups.len());
        let mut count = 0usize;
        let mut word_groups = Vec::new();
        for (index, group) in groups.iter().enumerate() {
            let found = terms(index, word)?;
            count += found.len() * group.fields.len();
            let leaves: Vec<Option<Shape>> = found
                .into_iter()
                .map(|term| {
                    let known = df(index, &term);
                    Some(Shape::leaf(group, index, term, known, &mut word_groups))
                })
                .collect();
            per_group.push(if word_is_and { all_of(leaves) } else { any_of(leaves) });
        }
        if clauses + count > max_clauses {
            return None;
        }
        clauses += count;
        leaf_groups.extend(word_groups);
        values.push(if per_group.len() == 1 { per_group.pop().flatten() } else { any_of(per_group) });
    }
    let query = if is_and { all_of(values) } else { any_of(values) };
    let plan = query.map_or_else(|| Node::Bool(BoolNode { min_should: 1, ..BoolNode::default() }), Shape::into_node);
    Some(PlainPlan { plan, leaf_groups })
}

/// The plan of the quoted phrase `text` over `groups`, as the parser's `phrase` builds
/// it: per group, the phrase's terms one per position (`terms(group)`, the first term at
/// a position, with its position); none: nothing from the group; one: that term's leaf over the group's fields, as a word's; more: a phrase per
/// field, in the group's order, scoring `factor(group, field, terms)` (the field's
/// weight times the summed idfs of the terms in that field alone). The groups' clauses
/// are joined as `any_of` joins them. None past `max_clauses` leaves.
pub fn phrase_plan(
    groups: &[FieldGroup],
    max_clauses: usize,
    mut terms: impl FnMut(usize) -> Vec<(String, u32)>,
    mut df: impl FnMut(usize, &str) -> Option<u64>,
    mut factor: impl FnMut(usize, usize, &[(String, u32)]) -> Result<f64, crate::error::Error>,
) -> Result<Option<PlainPlan>, crate::error::Error> {
    let mut clauses = Vec::with_capacity(groups.len());
    let mut leaf_groups = Vec::new();
    let mut count = 0usize;
    for (index, group) in groups.iter().enumerate() {
        let mut found = terms(index);
        if found.len() == 1 {
            let (term, _) = found.pop().unwrap_or_default();
            let known = df(index, &term);
            count += group.fields.len();
            clauses.push(Some(Shape::leaf(group, index, term, known, &mut leaf_groups)));
        } else if !found.is_empty() {
            // Offsets from the first word, as the Python node keeps them.
            let first = found[0].1;
            found.iter_mut().for_each(|(_, position)| *position -= first);
            for (at, field) in group.fields.iter().enumerate() {
                let factor = factor(index, at, &found)?;
                count += 1;
                clauses.push(Some(Shape::Phrase(Node::Phrase { field: field.name.clone(), words: found.clone(), slop: 0, factor, average: field.average })));
            }
        }
        if count > max_clauses {
            return Ok(None);
        }
    }
    let plan = any_of(clauses).map_or_else(|| Node::Bool(BoolNode { min_should: 1, ..BoolNode::default() }), Shape::into_node);
    Ok(Some(PlainPlan { plan, leaf_groups }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_parsers_plain_rule() {
        assert_eq!(plain_words("cell  growth\tfactor", true, 8), Some(vec!["cell", "growth", "factor"]));
        assert_eq!(plain_words("(cell (growth))x", true, 8), Some(vec!["cell", "growth", "x"]));
        assert_eq!(plain_words("(cell growth)", false, 8), None);
        assert_eq!(plain_words("((a))", true, 1), None);
        assert_eq!(plain_words("a)", true, 8), None);
        assert_eq!(plain_words("(a", true, 8), None);
        assert_eq!(plain_words("title:cell", true, 8), None);
        assert_eq!(plain_words("-cell", true, 8), None);
        assert_eq!(plain_words("a-cell", true, 8), Some(vec!["a-cell"]));
        assert_eq!(plain_words("cell AND growth", true, 8), None);
        assert_eq!(plain_words("cell and growth", true, 8), Some(vec!["cell", "and", "growth"]));
        assert_eq!(plain_words("a\u{1f}b\u{3000}c", true, 8), Some(vec!["a", "b", "c"]));
        assert_eq!(plain_words("  ", true, 8), Some(vec![]));
    }

    #[test]
    fn words_joined_by_one_operator_throughout() {
        assert_eq!(joined_words("a AND b"), Some((vec!["a", "b"], true)));
        assert_eq!(joined_words(" x-ray\tOR  cell OR o'neil "), Some((vec!["x-ray", "cell", "o'neil"], false)));
        for text in ["a", "a b", "a AND", "AND a", "a AND b OR c", "a AND AND b", "a AND NOT b", "a and b", "a AND -b",
                     "(a) AND b", "a AND b*", "a && b", "a AND title:b"] {
            assert_eq!(joined_words(text), None, "{text}");
        }
    }

    #[test]
    fn a_words_terms_join_by_the_default_operator_whatever_joins_the_words() {
        let split = |_: usize, word: &str| Some(word.split('-').map(str::to_owned).collect::<Vec<_>>());
        let built = plan(&["a-b", "c"], &[group(&["f"])], true, false, 100, split, |_, _| None).unwrap();
        match &built.plan {
            Node::Bool(node) => {
                assert_eq!((node.must.len(), node.should.len()), (2, 0));
                assert!(matches!(&node.must[0], Node::Bool(inner) if inner.should.len() == 2 && inner.min_should == 1));
            }
            _ => panic!("an And of an Or and a term"),
        }
    }

    #[test]
    fn a_phrase_is_quoted_text_alone_without_escapes() {
        assert_eq!(plain_phrase("\"direct talks\""), Some("direct talks"));
        assert_eq!(plain_phrase(" \t\"a (b) AND c*\"\u{3000}"), Some("a (b) AND c*"));
        assert_eq!(plain_phrase("\"\""), Some(""));
        for text in ["\"", "\"a b\"~2", "\"a b\"^2", "\"a \\\"b\"", "\"a\" \"b\"", "title:\"a\"", "a \"b\"", "\"a b"] {
            assert_eq!(plain_phrase(text), None, "{text}");
        }
    }

    #[test]
    fn a_phrase_is_a_phrase_per_field_a_leaf_for_one_term_and_nothing_for_none() {
        let terms = |words: &'static [&'static str]| {
            move |_: usize| words.iter().enumerate().map(|(at, w)| ((*w).to_owned(), at as u32 + 3)).collect::<Vec<_>>()
        };
        let factor = |_: usize, at: usize, words: &[(String, u32)]| Ok(10.0 * at as f64 + words.len() as f64);
        let two = phrase_plan(&[group(&["f", "g"])], 100, terms(&["a", "b"]), |_, _| None, factor).unwrap().unwrap();
        match &two.plan {
            Node::Bool(node) => {
                assert_eq!(node.min_should, 1);
                let expected: Vec<Node> = ["f", "g"]
                    .iter()
                    .enumerate()
                    .map(|(at, field)| Node::Phrase {
                        field: (*field).into(),
                        words: vec![("a".into(), 0), ("b".into(), 1)],
                        slop: 0,
                        factor: 10.0 * at as f64 + 2.0,
                        average: 3.0,
                    })
                    .collect();
                assert_eq!(node.should, expected);
            }
            _ => panic!("two fields' phrases are an Or"),
        }
        let one = phrase_plan(&[group(&["f", "g"])], 100, terms(&["a"]), |_, _| None, factor).unwrap().unwrap();
        assert!(matches!(&one.plan, Node::Term(leaf) if leaf.term == "a" && leaf.fields.len() == 2));
        assert_eq!(one.leaf_groups, vec![0]);
        let none = phrase_plan(&[group(&["f"])], 100, terms(&[]), |_, _| None, factor).unwrap().unwrap();
        assert_eq!(none.plan, Node::Bool(BoolNode { min_should: 1, ..BoolNode::default() }));
        assert!(phrase_plan(&[group(&["f", "g"])], 1, terms(&["a", "b"]), |_, _| None, factor).unwrap().is_none());
    }

    fn group(names: &[&str]) -> FieldGroup {
        FieldGroup { fields: names.iter().map(|n| LeafField { name: (*n).into(), weight: 1.0, average: 3.0 }).collect(), boost: 1.0, n: 10.0 }
    }

    #[test]
    fn split_words_join_by_the_operator_and_flatten() {
        let split = |_: usize, word: &str| Some(word.split('-').map(str::to_owned).collect::<Vec<_>>());
        let or = plan(&["a-b", "c"], &[group(&["f"])], false, false, 100, split, |_, _| None).unwrap();
        match &or.plan {
            Node::Bool(node) => assert_eq!((node.should.len(), node.must.len(), node.min_should), (3, 0, 1)),
            _ => panic!("an Or is a bool"),
        }
        assert_eq!(or.leaf_groups, vec![0, 0, 0]);
        let and = plan(&["a-b", "c"], &[group(&["f"])], true, true, 100, split, |_, _| Some(1)).unwrap();
        match &and.plan {
            Node::Bool(node) => assert_eq!((node.must.len(), node.should.len(), node.min_should), (3, 0, 0)),
            _ => panic!("an And is a bool"),
        }
        assert!(and.leaf_groups.is_empty());
    }

    #[test]
    fn the_clause_limit_counts_fields_and_nothing_matches_no_word() {
        let one = |_: usize, word: &str| Some(vec![word.to_owned()]);
        assert!(plan(&["a", "b"], &[group(&["f", "g"])], false, false, 3, one, |_, _| None).is_none());
        assert!(plan(&["a", "b"], &[group(&["f", "g"])], false, false, 4, one, |_, _| None).is_some());
        let none = plan(&["the"], &[group(&["f"])], false, false, 4, |_, _| Some(Vec::new()), |_, _| None).unwrap();
        assert!(plan(&["a"], &[group(&["f"])], false, false, 4, |_, _| None, |_, _| None).is_none());
        assert_eq!(none.plan, Node::Bool(BoolNode { min_should: 1, ..BoolNode::default() }));
    }
}
