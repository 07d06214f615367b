//! Regular expressions and wildcards as a lazily built DFA over a term's bytes
//! (`regex-automata`'s hybrid DFA), anchored at both ends of the term.
//!
//! Users write regular expressions in the query language's dialect, Python's `regex`
//! module. [`translate`] maps what reads differently in `regex-syntax` (a `[` or a
//! doubled `&&`/`--`/`~~` inside a class is literal there; `\Z` is the end; a `{` that
//! starts no counted repetition is literal; `{,n}` means `{0,n}`; `(?#...)` is a comment;
//! a bare flag group such as `(?i)` sets its flags for the whole pattern, wherever it
//! stands) and names what an automaton cannot run (look-around, backreferences, atomic
//! groups, possessive quantifiers, conditionals, flags other than i, m, s, x, u), so a
//! pattern means the same thing or is refused.
//!
//! The DFA gives up on a non-ASCII byte only when the pattern holds a Unicode word
//! boundary (`\b`); such a term is checked by the PikeVM over the same NFA instead.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::nfa::thompson::{self, pikevm::PikeVM, WhichCaptures, NFA};
use regex_automata::{Anchored, Input};
use regex_syntax::ast::ErrorKind as AstErrorKind;

use super::{Automaton, PatternError};

/// Largest compiled NFA (bytes): `\w{50}` is about 10 MB under Unicode; past this the
/// pattern is refused rather than built.
const NFA_SIZE_LIMIT: usize = 8 << 20;
/// Memory the lazy DFA may cache its states in.
const DFA_CACHE_BYTES: usize = 4 << 20;
/// Deepest nesting of groups and classes.
const NEST_LIMIT: u32 = 100;

/// A compiled regular expression matched against whole terms.
pub struct RegexAutomaton {
    dfa: DFA,
    cache: Cache,
    pike: PikeVM,
    pike_cache: thompson::pikevm::Cache,
}

impl RegexAutomaton {
    /// A regular expression in the query language's (Python `regex`) dialect.
    pub fn new(pattern: &str) -> Result<RegexAutomaton, PatternError> {
        RegexAutomaton::from_syntax(&translate(pattern)?)
    }

    /// A wildcard pattern: `*` any run of characters, `?` any one, the rest literal.
    pub fn wildcard(pattern: &str) -> Result<RegexAutomaton, PatternError> {
        let mut syntax = String::with_capacity(pattern.len() * 2);
        for c in pattern.chars() {
            match c {
                '*' => syntax.push_str("(?s:.)*"),
                '?' => syntax.push_str("(?s:.)"),
                _ => syntax.push_str(&regex_syntax::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
        RegexAutomaton::from_syntax(&syntax)
    }

    /// `syntax` in `regex-syntax`'s own dialect.
    fn from_syntax(syntax: &str) -> Result<RegexAutomaton, PatternError> {
        let whole = format!("(?:{syntax})\\z");
        let ast = regex_syntax::ast::parse::ParserBuilder::new()
            .nest_limit(NEST_LIMIT)
            .build()
            .parse(&whole)
            .map_err(|error| PatternError(describe_ast_error(error.kind())))?;
        let hir = regex_syntax::hir::translate::TranslatorBuilder::new()
            .utf8(true)
            .unicode(true)
            .build()
            .translate(&whole, &ast)
            .map_err(|error| PatternError(format!("cannot run as an automaton: {}", error.kind())))?;
        let nfa: NFA = thompson::Compiler::new()
            .configure(thompson::Config::new().nfa_size_limit(Some(NFA_SIZE_LIMIT)).which_captures(WhichCaptures::None))
            .build_from_hir(&hir)
            .map_err(|_| PatternError("is too large to run: its repetitions expand to too many states".into()))?;
        let dfa = DFA::builder()
            .configure(DFA::config().unicode_word_boundary(true).cache_capacity(DFA_CACHE_BYTES))
            .build_from_nfa(nfa.clone())
            .map_err(|error| PatternError(format!("cannot run as an automaton: {error}")))?;
        let pike = PikeVM::new_from_nfa(nfa).map_err(|error| PatternError(format!("cannot run as an automaton: {error}")))?;
        let cache = dfa.create_cache();
        let pike_cache = pike.create_cache();
        Ok(RegexAutomaton { dfa, cache, pike, pike_cache })
    }

    /// The slow path for a term the DFA gave up on.
    fn pike_matches(&mut self, term: &[u8]) -> bool {
        self.pike.is_match(&mut self.pike_cache, Input::new(term).anchored(Anchored::Yes))
    }
}

/// A state of the lazy DFA; None once it gave up on the term (the PikeVM then decides).
impl Automaton for RegexAutomaton {
    type State = Option<LazyStateID>;

    fn start(&mut self) -> Option<LazyStateID> {
        self.dfa.start_state_forward(&mut self.cache, &Input::new(&b""[..]).anchored(Anchored::Yes)).ok()
    }

    fn step(&mut self, state: Option<LazyStateID>, byte: u8) -> Option<LazyStateID> {
        let next = self.dfa.next_state(&mut self.cache, state?, byte).ok()?;
        (!next.is_quit()).then_some(next)
    }

    fn can_match(&self, state: Option<LazyStateID>) -> bool {
        state.map_or(true, |state| !state.is_dead())
    }

    fn is_match(&mut self, state: Option<LazyStateID>, term: &[u8]) -> bool {
        match state.map(|state| self.dfa.next_eoi_state(&mut self.cache, state)) {
            Some(Ok(end)) if !end.is_quit() => end.is_match(),
            _ => self.pike_matches(term),
        }
    }
}

/// Why `regex-syntax` refused a pattern, as the end of "regex /.../ ...".
fn describe_ast_error(kind: &AstErrorKind) -> String {
    match kind {
        AstErrorKind::UnsupportedLookAround => unsupported("look-around ((?=, (?!, (?<=, (?<!)"),
        AstErrorKind::UnsupportedBackreference => unsupported("a backreference"),
        AstErrorKind::NestLimitExceeded(limit) => format!("nests groups or classes deeper than {limit}"),
        other => format!("cannot run as an automaton: {other}"),
    }
}

fn unsupported(what: &str) -> String {
    format!("uses {what}, which term patterns do not support (they run as automata over the terms)")
}

/// `pattern` (Python `regex` dialect) in `regex-syntax`'s dialect, or why it cannot be
/// run as an automaton.
pub fn translate(pattern: &str) -> Result<String, PatternError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut at = 0;
    // Inside a class: the index where it started (to tell a leading ']').
    let mut class: Option<usize> = None;
    // The pattern's global flags, from bare flag groups wherever they stand.
    let mut flags = String::new();
    let peek = |at: usize| chars.get(at).copied();
    while let Some(c) = peek(at) {
        at += 1;
        if c == '\\' {
            let Some(next) = peek(at) else {
                return Err(PatternError("ends with a lone backslash".into()));
            };
            at += 1;
            if class.is_none() {
                match next {
                    'Z' => {
                        out.push_str("\\z");
                        continue;
                    }
                    '1'..='9' | 'g' => return Err(PatternError(unsupported("a backreference"))),
                    'K' | 'G' => return Err(PatternError(unsupported(&format!("\\{next}")))),
                    _ => {}
                }
            }
            out.push('\\');
            out.push(next);
            if matches!(next, 'p' | 'P' | 'x' | 'N') && peek(at) == Some('{') {
                if next == 'N' {
                    return Err(PatternError(unsupported("a named character \\N{...}")));
                }
                // \p{Letter}, \x{263a}: the braces belong to the escape.
                while let Some(c) = peek(at) {
                    at += 1;
                    out.push(c);
                    if c == '}' {
                        break;
                    }
                }
            }
            continue;
        }
        if let Some(start) = class {
            match c {
                ']' if at - 1 > start => class = None,
                ']' => {
                    out.push_str("\\]");
                    continue;
                }
                '[' if peek(at) == Some(':') => {
                    // A POSIX class [:name:], copied whole.
                    let rest: String = chars.get(at - 1..).map(|r| r.iter().collect()).unwrap_or_default();
                    if let Some(end) = rest.find(":]") {
                        out.push_str(&rest[..end + 2]);
                        at += rest[..end + 2].chars().count() - 1;
                        continue;
                    }
                    out.push_str("\\[");
                    continue;
                }
                '[' => {
                    out.push_str("\\[");
                    continue;
                }
                '&' | '-' | '~' if peek(at) == Some(c) => {
                    // Set operations in regex-syntax, two literal characters in Python's.
                    out.push(c);
                    out.push('\\');
                    out.push(c);
                    at += 1;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            continue;
        }
        match c {
            '[' => {
                out.push('[');
                if peek(at) == Some('^') {
                    out.push('^');
                    at += 1;
                }
                class = Some(at);
                continue;
            }
            '(' if peek(at) == Some('?') => {
                let rest: String = chars.get(at + 1..(at + 4).min(chars.len())).map(|r| r.iter().collect()).unwrap_or_default();
                if rest.starts_with('#') {
                    // A comment: dropped up to its ')'.
                    match chars.get(at..).and_then(|r| r.iter().position(|&c| c == ')')) {
                        Some(end) => {
                            at += end + 1;
                            continue;
                        }
                        None => return Err(PatternError("has an unterminated comment (?#".into())),
                    }
                }
                if rest.starts_with('>') {
                    return Err(PatternError(unsupported("an atomic group (?>...)")));
                }
                if rest.starts_with("P=") || rest.starts_with("P>") || rest.starts_with('&') {
                    return Err(PatternError(unsupported("a backreference or recursion")));
                }
                if rest.starts_with('(') {
                    return Err(PatternError(unsupported("a conditional group (?(...)")));
                }
                if rest.starts_with('|') {
                    return Err(PatternError(unsupported("a branch reset group (?|...)")));
                }
                if rest.starts_with('R') || rest.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(PatternError(unsupported("recursion")));
                }
                // A bare flag group (?i): in Python's dialect it sets its flags for the
                // whole pattern wherever it stands, so it moves to the front.
                let tail = chars.get(at + 1..).unwrap_or_default();
                let letters = tail.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '-').count();
                if letters > 0 && tail.get(letters) == Some(&')') {
                    for &flag in tail.get(..letters).unwrap_or_default() {
                        match flag {
                            'i' | 'm' | 's' | 'x' | 'u' => {
                                if !flags.contains(flag) {
                                    flags.push(flag);
                                }
                            }
                            other => return Err(PatternError(unsupported(&format!("the inline flag (?{other})")))),
                        }
                    }
                    at += letters + 2;
                    continue;
                }
            }
            '*' | '+' | '?' if peek(at) == Some('+') => {
                return Err(PatternError(unsupported("a possessive quantifier (*+, ++, ?+)")));
            }
            '{' => {
                // A counted repetition {n}, {n,}, {n,m} or {,m}; any other { is literal.
                let end = chars.get(at..).and_then(|r| r.iter().position(|&c| c == '}')).map(|e| at + e);
                let inner: Option<String> = end.and_then(|end| chars.get(at..end)).map(|r| r.iter().collect());
                match inner.filter(|inner| is_counted(inner)) {
                    Some(inner) => {
                        let Some(end) = end else { continue };
                        if inner.starts_with(',') {
                            out.push_str(&format!("{{0{inner}}}"));
                        } else {
                            out.push_str(&format!("{{{inner}}}"));
                        }
                        at = end + 1;
                        if peek(at) == Some('+') {
                            return Err(PatternError(unsupported("a possessive quantifier ({n}+)")));
                        }
                    }
                    None => out.push_str("\\{"),
                }
                continue;
            }
            '}' => {
                out.push_str("\\}");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    if class.is_some() {
        return Err(PatternError("has an unterminated character class".into()));
    }
    if flags.is_empty() {
        return Ok(out);
    }
    Ok(format!("(?{flags}){out}"))
}

/// Whether the text between `{` and `}` is a counted repetition: `n`, `n,`, `n,m`, `,m`
/// (Python reads `{,}` and `{}` as literal text).
fn is_counted(inner: &str) -> bool {
    let (low, high) = match inner.split_once(',') {
        Some((low, high)) => (low, Some(high)),
        None => (inner, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    match high {
        None => !low.is_empty() && digits(low),
        Some(high) => digits(low) && digits(high) && !(low.is_empty() && high.is_empty()),
    }
}
