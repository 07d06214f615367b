//! Formatting: fragments as plain text with markers, ANSI colour for terminals, or HTML
//! with `<mark>` and everything else escaped.
//!
//! Fragments come in text order; an ellipsis stands wherever text was left out. In a
//! fragment that holds a run of white space, white space other than a space, or a control
//! character, runs of white space become one space and control characters become U+FFFD,
//! so no escape sequence from a stored text reaches a terminal; a fragment with none of
//! them is shown as it is. Offsets are characters, as everywhere in highlighting.

use super::edges::is_space;

pub const ELLIPSIS: &str = "…";
pub const ANSI_MATCH: &str = "\x1b[1;33m";
pub const ANSI_RESET: &str = "\x1b[0m";

/// How matches are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style<'a> {
    /// Each match between `before` and `after`.
    Plain { before: &'a str, after: &'a str },
    /// Matches in bold yellow.
    Ansi,
    /// Matches in `<mark>`, every piece of text escaped (safe in an element or a quoted
    /// attribute).
    Html,
}

/// One fragment to show: its field's text, `[start, end)` and its matches, in characters.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
    pub matches: &'a [(u32, u32)],
}

/// A C0 or C1 control character (Unicode category Cc).
fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}')
}

/// Appends `piece`, cleaned when `clean`, escaped for HTML when `html`.
fn push_piece(out: &mut String, piece: &str, clean: bool, html: bool) {
    if !clean && !html {
        out.push_str(piece); // nothing to change: the common case, at once
        return;
    }
    let mut in_space = false;
    for c in piece.chars() {
        if clean && is_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
            continue;
        }
        in_space = false;
        match c {
            _ if clean && is_control(c) => out.push('\u{FFFD}'),
            '&' if html => out.push_str("&amp;"),
            '<' if html => out.push_str("&lt;"),
            '>' if html => out.push_str("&gt;"),
            '"' if html => out.push_str("&quot;"),
            '\'' if html => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
}

/// Whether a fragment needs cleaning: two white space characters in a row, white space
/// other than a space, or a control character.
fn needs_cleaning(piece: &str) -> bool {
    let mut previous_space = false;
    for c in piece.chars() {
        let space = is_space(c);
        if (space && (previous_space || c != ' ')) || is_control(c) {
            return true;
        }
        previous_space = space;
    }
    false
}

/// Byte offsets of character offsets in one text, found walking forward from the last one
/// asked (a fragment's offsets come in order), so only the text up to the last fragment's
/// end is walked, once.
struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl Offsets<'_> {
    fn new(text: &str) -> Offsets<'_> {
        Offsets { text, ascii: text.is_ascii(), chars: 0, bytes: 0 }
    }

    /// The byte offset of character `at`, or the text's length past its end.
    fn byte(&mut self, at: usize) -> usize {
        if self.ascii {
            return at.min(self.text.len());
        }
        if at < self.chars {
            (self.chars, self.bytes) = (0, 0);
        }
        for c in self.text[self.bytes..].chars() {
            if self.chars == at {
                break;
            }
            self.chars += 1;
            self.bytes += c.len_utf8();
        }
        self.bytes
    }
}

/// `fragments` as one string in `style`. Offsets past a text are clamped to it.
pub fn render(fragments: &[Shown<'_>], style: Style<'_>) -> String {
    let mut parts = String::new();
    for (index, fragment) in fragments.iter().enumerate() {
        let text = fragment.text;
        let mut offsets = Offsets::new(text);
        let mut byte = |at: usize| offsets.byte(at);
        if index == 0 && fragment.start > 0 {
            parts.push_str(ELLIPSIS);
        } else if index > 0 {
            parts.push(' ');
            parts.push_str(ELLIPSIS);
            parts.push(' ');
        }
        // The end from a cursor of its own: the other cursor goes on from the start.
        let end = Offsets::new(text).byte(fragment.end.max(fragment.start));
        let start = byte(fragment.start);
        let clean = needs_cleaning(&text[start..end]);
        let html = style == Style::Html;
        let mut shown = String::with_capacity(end - start + 16 * fragment.matches.len());
        let mut cursor = start;
        for &(match_start, match_end) in fragment.matches {
            let (match_start, match_end) = (byte(match_start as usize).max(cursor), byte(match_end as usize));
            if match_end < match_start {
                continue;
            }
            push_piece(&mut shown, &text[cursor..match_start], clean, html);
            shown.push_str(match style {
                Style::Plain { before, .. } => before,
                Style::Ansi => ANSI_MATCH,
                Style::Html => "<mark>",
            });
            push_piece(&mut shown, &text[match_start..match_end], clean, html);
            shown.push_str(match style {
                Style::Plain { after, .. } => after,
                Style::Ansi => ANSI_RESET,
                Style::Html => "</mark>",
            });
            cursor = match_end;
        }
        if cursor < end {
            push_piece(&mut shown, &text[cursor..end], clean, html);
        }
        parts.push_str(shown.trim_matches(char::is_whitespace));
    }
    if let Some(last) = fragments.last() {
        if Offsets::new(last.text).byte(last.end) < last.text.len() {
            parts.push_str(ELLIPSIS);
        }
    }
    parts.trim_matches(char::is_whitespace).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Style<'static> = Style::Plain { before: "[", after: "]" };

    #[test]
    fn ellipses_mark_what_was_left_out() {
        let text = "Aid arrived. Envoys held direct talks. The talks stalled.";
        let first = Shown { text, start: 0, end: 12, matches: &[(0, 3)] };
        let second = Shown { text, start: 13, end: 38, matches: &[(25, 31), (32, 37)] };
        assert_eq!(render(&[first, second], PLAIN), "[Aid] arrived. … Envoys held [direct] [talks].…");
        assert_eq!(render(&[second], Style::Ansi), "…Envoys held \x1b[1;33mdirect\x1b[0m \x1b[1;33mtalks\x1b[0m.…");
    }

    #[test]
    fn offsets_are_characters_in_every_fragment() {
        let text = "Café talks. Ünïcode direct talks here. Ende.";
        let first = Shown { text, start: 0, end: 11, matches: &[(0, 4), (5, 10)] };
        let second = Shown { text, start: 12, end: 38, matches: &[(20, 26), (27, 32)] };
        assert_eq!(render(&[first, second], PLAIN), "[Café] [talks]. … Ünïcode [direct] [talks] here.…");
        let last = Shown { text, start: 39, end: 44, matches: &[(39, 43)] };
        assert_eq!(render(&[last], PLAIN), "…[Ende].");
    }

    #[test]
    fn html_escapes_everything_but_its_marks() {
        let text = "x <b>\"talks\"</b> & 'y'";
        let got = render(&[Shown { text, start: 0, end: text.len(), matches: &[(6, 11)] }], Style::Html);
        assert_eq!(got, "x &lt;b&gt;&quot;<mark>talks</mark>&quot;&lt;/b&gt; &amp; &#x27;y&#x27;");
    }

    #[test]
    fn white_space_runs_and_control_characters_are_cleaned_in_characters() {
        let text = "évil \x1b]0;x\x07  title\n\ntalks";
        let chars = text.chars().count() as u32;
        let got = render(&[Shown { text, start: 0, end: chars as usize, matches: &[(chars - 5, chars)] }], PLAIN);
        assert_eq!(got, "évil \u{FFFD}]0;x\u{FFFD} title [talks]");
        let tidy = "a  b";
        assert_eq!(render(&[Shown { text: "ab c", start: 0, end: 4, matches: &[] }], PLAIN), "ab c");
        assert_eq!(render(&[Shown { text: tidy, start: 0, end: 4, matches: &[] }], PLAIN), "a b");
    }
}
