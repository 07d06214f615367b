//! JSON text an index holds (manifests, array files' tables of contents), read for
//! Python: bounded in depth, parsed by serde_json, and a manifest's checksum recomputed
//! over its canonical form.
//!
//! Why here and not in Python's `json` module: that module imports `re` and `enum`,
//! a quarter of the start-up of a process that opens an index and runs one query.
//! Writers still serialize with Python's `json`; this side reads what they wrote.
//!
//! Two serde_json features make the reading exact. `preserve_order` keeps an object's
//! keys in the order of the text, as Python's dicts do (a schema's fields keep their
//! order). `arbitrary_precision` keeps each number's text, so an int of any size reads
//! as Python's `int` would, and the canonical form below writes a number exactly as the
//! writer did: Python's `json.dumps` writes a float as `repr` gives it, in the file and
//! in the canonical form alike.

use serde_json::{Map, Number, Value};

/// Why a JSON text was refused; the binding raises it as `ValueError`, which the
/// Python side reports as damage to the file it came from.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonError {
    /// Lists and objects nest deeper than the limit.
    TooDeep(usize),
    /// The text is not JSON (serde_json's message says where).
    Invalid(String),
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::TooDeep(limit) => write!(f, "nests JSON more than {limit} deep"),
            JsonError::Invalid(message) => write!(f, "is not valid JSON ({message})"),
        }
    }
}

/// Parse `data`, refusing lists and objects nested more than `max_depth` deep before
/// anything is built (a hostile file may nest a million brackets).
pub fn parse(data: &[u8], max_depth: usize) -> Result<Value, JsonError> {
    if depth(data) > max_depth {
        return Err(JsonError::TooDeep(max_depth));
    }
    serde_json::from_slice(data).map_err(|error| JsonError::Invalid(error.to_string()))
}

/// How deeply `data` nests lists and objects, from its brackets outside strings.
/// Malformed text may count deeper than it would parse; it is refused either way.
pub fn depth(data: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in data {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// `value` as Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))` writes
/// it, leaving out the top-level key `leave_out`: the text a manifest's checksum covers.
pub fn canonical(value: &Value, leave_out: Option<&str>, out: &mut String) {
    match value {
        Value::Object(map) => write_object(map, leave_out, out),
        _ => write_value(value, out),
    }
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, None, out),
    }
}

fn write_object(map: &Map<String, Value>, leave_out: Option<&str>, out: &mut String) {
    // Python sorts keys by code point; UTF-8 bytes sort in the same order.
    let mut keys: Vec<&String> = map.keys().filter(|key| Some(key.as_str()) != leave_out).collect();
    keys.sort_unstable();
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_value(&map[key.as_str()], out);
    }
    out.push('}');
}

/// A number as its text in the file: what Python wrote for it (see the module's notes).
fn write_number(number: &Number, out: &mut String) {
    out.push_str(number.as_str());
}

/// A string as Python's `json` writes it with `ensure_ascii`: printable ASCII as is, the
/// short escapes, and every other character as `\uXXXX` (a pair of them past U+FFFF).
fn write_string(text: &str, out: &mut String) {
    out.push('"');
    // Most strings of an index (names, words) need no escape: copied whole.
    if text.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(text);
        out.push('"');
        return;
    }
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical_text(json: &str, leave_out: Option<&str>) -> String {
        let mut out = String::new();
        canonical(&parse(json.as_bytes(), 32).unwrap(), leave_out, &mut out);
        out
    }

    #[test]
    fn canonical_form_sorts_keys_compacts_and_escapes_as_python_does() {
        // Expected texts are what json.dumps(json.loads(text), sort_keys=True,
        // separators=(",", ":")) prints in CPython 3.11.
        let text = "{\"b\": [1, 2.5, 1e-05, -0.0, 12345678901234567890123], \"a\": {\"z\": null, \"y\": true},\n \"é\": \"naïve \\u0001 \\\" \\\\ \\n\\t\\b\\f 😀 \u{7f}\", \"crc32\": 7}";
        assert_eq!(
            canonical_text(text, Some("crc32")),
            "{\"a\":{\"y\":true,\"z\":null},\"b\":[1,2.5,1e-05,-0.0,12345678901234567890123],\
             \"\\u00e9\":\"na\\u00efve \\u0001 \\\" \\\\ \\n\\t\\b\\f \\ud83d\\ude00 \\u007f\"}"
        );
        // Only the top level's key is left out.
        assert_eq!(canonical_text("{\"crc32\": {\"crc32\": 1}, \"x\": 2}", Some("crc32")), "{\"x\":2}");
        assert_eq!(canonical_text("{\"x\": {\"crc32\": 1}}", Some("crc32")), "{\"x\":{\"crc32\":1}}");
    }

    #[test]
    fn objects_keep_the_order_of_the_text() {
        let value = parse(b"{\"title\": 1, \"body\": 2, \"id\": 3}", 32).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["title", "body", "id"]);
    }

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert_eq!(depth(b"[[{\"a\": [1]}]]"), 4);
        assert_eq!(depth(b"{\"a\": \"[[[[\\\"[[\"}"), 1);
        assert_eq!(depth(b"1"), 0);
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert_eq!(parse(deep.as_bytes(), 32), Err(JsonError::TooDeep(32)));
        let shallow = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(parse(shallow.as_bytes(), 32).is_ok());
        // A million unclosed brackets is refused before serde_json sees it.
        assert_eq!(parse("[".repeat(1_000_000).as_bytes(), 32), Err(JsonError::TooDeep(32)));
    }

    #[test]
    fn text_that_is_not_json_is_refused_with_where() {
        match parse(b"{\"a\": }", 32) {
            Err(JsonError::Invalid(message)) => assert!(message.contains("column"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(b"[1, 2]x", 32), Err(JsonError::Invalid(_))));
    }
}
