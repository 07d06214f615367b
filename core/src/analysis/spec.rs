//! Analyzer specs (JSON) -> a tokenizer and filters.
//!
//! Two forms are read:
//! - a **chain**, `{"tokenizer": {"type": ...}, "filters": [{"type": ...}, ...]}`, which
//!   Python's `Analyzer.core_spec()` writes for any analyzer made of built-in parts (it
//!   carries stop lists and elision articles, so nothing is looked up here);
//! - a **preset**, `{"name": ..., "params": {...}}` as an index's schema stores it, for the
//!   presets whose data the core has (`standard`, `simple`, `whitespace`, `keyword`,
//!   `english`, `ngram`, `edge_ngram`, `regex`).
//!
//! Anything else (a custom Python filter, an NLTK stemmer, a preset whose stop list lives
//! in Python) is an `AnalysisError`: the caller runs that chain in Python.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::filters::Filter;
use super::stem;
use super::tokenizers::Tokenizer;
use super::AnalysisError;

/// The English stop list the Python package ships (the same file).
const ENGLISH_STOP_WORDS: &str = include_str!("../../../searchlib/data/stopwords_en.txt");

fn error(message: impl Into<String>) -> AnalysisError {
    AnalysisError(message.into())
}

/// The tokenizer and filters a spec describes.
pub fn parse(spec_json: &str) -> Result<(Tokenizer, Vec<Filter>), AnalysisError> {
    let spec: Value = serde_json::from_str(spec_json).map_err(|e| error(format!("analyzer spec is not JSON: {e}")))?;
    match &spec {
        Value::String(name) => preset(name, &Map::new()),
        Value::Object(object) if object.contains_key("tokenizer") => chain(object),
        Value::Object(object) => {
            let name = object
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| error("analyzer spec has no name"))?;
            let empty = Map::new();
            let params = match object.get("params") {
                None | Some(Value::Null) => &empty,
                Some(Value::Object(params)) => params,
                Some(_) => return Err(error("analyzer params must be an object")),
            };
            preset(name, params)
        }
        _ => Err(error("analyzer spec must be an object")),
    }
}

fn english_stop_words() -> HashSet<String> {
    ENGLISH_STOP_WORDS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn int(params: &Map<String, Value>, key: &str, default: i64) -> Result<i64, AnalysisError> {
    match params.get(key) {
        None => Ok(default),
        Some(value) => value
            .as_i64()
            .ok_or_else(|| error(format!("{key} must be a whole number"))),
    }
}

fn string_set(value: Option<&Value>, what: &str) -> Result<HashSet<String>, AnalysisError> {
    let items = value
        .and_then(Value::as_array)
        .ok_or_else(|| error(format!("{what} must be a list of words")))?;
    items
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| error(format!("{what} must be a list of words")))
        })
        .collect()
}

fn synonyms(value: &Value) -> Result<Filter, AnalysisError> {
    let bad = || error("synonyms must map each word to a list of non-empty words");
    let object = value.as_object().ok_or_else(bad)?;
    let mut map = HashMap::with_capacity(object.len());
    for (word, list) in object {
        let list = list.as_array().ok_or_else(bad)?;
        let words: Option<Vec<String>> = list
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
            .collect();
        map.insert(word.clone(), words.ok_or_else(bad)?);
    }
    Ok(Filter::Synonyms(map))
}

/// The core runs `\p{L}+` alone (by Python's letter table); any other pattern runs in
/// Python, whose `regex` module semantics no Rust engine reproduces exactly.
fn regex_tokenizer(pattern: &str) -> Result<Tokenizer, AnalysisError> {
    if pattern == r"\p{L}+" {
        Ok(Tokenizer::Letters)
    } else {
        Err(error(format!(
            "tokenizer regex {pattern:?} runs in Python (the regex module's semantics)"
        )))
    }
}

fn stem_filter(language: &str) -> Result<Filter, AnalysisError> {
    stem::algorithm(language)
        .map(Filter::stem)
        .ok_or_else(|| error(format!("no compiled Snowball stemmer for {language:?}")))
}

fn chain(object: &Map<String, Value>) -> Result<(Tokenizer, Vec<Filter>), AnalysisError> {
    let tokenizer = object
        .get("tokenizer")
        .and_then(Value::as_object)
        .ok_or_else(|| error("tokenizer must be an object"))?;
    let kind = tokenizer.get("type").and_then(Value::as_str).unwrap_or("");
    let tokenizer = match kind {
        "unicode_words" => Tokenizer::UnicodeWords,
        "whitespace" => Tokenizer::Whitespace,
        "keyword" => Tokenizer::Keyword,
        "ngram" | "edge_ngram" => Tokenizer::ngram(
            int(tokenizer, "min_size", 0)?,
            int(tokenizer, "max_size", 0)?,
            kind == "edge_ngram",
        )?,
        "regex" => regex_tokenizer(
            tokenizer
                .get("pattern")
                .and_then(Value::as_str)
                .ok_or_else(|| error("regex tokenizer needs a pattern"))?,
        )?,
        other => return Err(error(format!("tokenizer {other:?} is not built into the core"))),
    };
    let mut filters = Vec::new();
    let empty = Vec::new();
    for filter in object.get("filters").and_then(Value::as_array).unwrap_or(&empty) {
        let filter = filter.as_object().ok_or_else(|| error("a filter must be an object"))?;
        let kind = filter.get("type").and_then(Value::as_str).unwrap_or("");
        filters.push(match kind {
            "lowercase" => Filter::Lowercase,
            "ascii_folding" => Filter::AsciiFolding,
            "stop" => Filter::Stop(string_set(filter.get("words"), "stop words")?),
            "possessive" => Filter::Possessive,
            "elision" => Filter::Elision(string_set(filter.get("articles"), "elision articles")?),
            "length" => {
                let (min, max) = (int(filter, "min", 1)?, int(filter, "max", 255)?);
                if !(0 <= min && min <= max) {
                    return Err(error(format!(
                        "length bounds need 0 <= min <= max, got {min} and {max}"
                    )));
                }
                Filter::Length {
                    min: min as usize,
                    max: max as usize,
                }
            }
            "synonyms" => synonyms(filter.get("mapping").unwrap_or(&Value::Null))?,
            "stem" => {
                let algorithm = filter.get("algorithm").and_then(Value::as_str).unwrap_or("");
                if algorithm != stem::NAME {
                    return Err(error(format!("stemmer {algorithm:?} is not compiled into the core")));
                }
                stem_filter(filter.get("language").and_then(Value::as_str).unwrap_or(""))?
            }
            other => return Err(error(format!("filter {other:?} is not built into the core"))),
        });
    }
    Ok((tokenizer, filters))
}

fn known_params(name: &str, params: &Map<String, Value>, known: &[&str]) -> Result<(), AnalysisError> {
    match params.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(error(format!("analyzer {name:?} takes no parameter {key:?}"))),
        None => Ok(()),
    }
}

fn with_synonyms(params: &Map<String, Value>, filters: &mut Vec<Filter>) -> Result<(), AnalysisError> {
    match params.get("synonyms") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(map)) if map.is_empty() => Ok(()),
        Some(value) => {
            filters.push(synonyms(value)?);
            Ok(())
        }
    }
}

fn preset(name: &str, params: &Map<String, Value>) -> Result<(Tokenizer, Vec<Filter>), AnalysisError> {
    let size = |key: &str, default: i64| int(params, key, default);
    match name {
        "standard" => {
            known_params(name, params, &["synonyms"])?;
            let mut filters = vec![Filter::Lowercase];
            with_synonyms(params, &mut filters)?;
            Ok((Tokenizer::UnicodeWords, filters))
        }
        "simple" => {
            known_params(name, params, &[])?;
            Ok((Tokenizer::Letters, vec![Filter::Lowercase]))
        }
        "whitespace" => known_params(name, params, &[]).map(|()| (Tokenizer::Whitespace, vec![])),
        "keyword" => known_params(name, params, &[]).map(|()| (Tokenizer::Keyword, vec![])),
        "ngram" | "edge_ngram" => {
            known_params(name, params, &["min_size", "max_size"])?;
            let edge = name == "edge_ngram";
            let (min, max) = if edge {
                (size("min_size", 1)?, size("max_size", 20)?)
            } else {
                (size("min_size", 2)?, size("max_size", 3)?)
            };
            Ok((Tokenizer::ngram(min, max, edge)?, vec![Filter::Lowercase]))
        }
        "regex" => {
            known_params(name, params, &["pattern"])?;
            let pattern = params
                .get("pattern")
                .and_then(Value::as_str)
                .ok_or_else(|| error("analyzer \"regex\" needs a pattern"))?;
            Ok((regex_tokenizer(pattern)?, vec![Filter::Lowercase]))
        }
        "english" => {
            known_params(name, params, &["stemmer", "stemmer_version", "synonyms"])?;
            let mut filters = vec![
                Filter::Lowercase,
                Filter::Possessive,
                Filter::Stop(english_stop_words()),
            ];
            with_synonyms(params, &mut filters)?;
            match params.get("stemmer").and_then(Value::as_str) {
                Some("none") => {}
                Some(stem::NAME) => filters.push(stem_filter("english")?),
                Some(other) => return Err(error(format!("stemmer {other:?} is not compiled into the core"))),
                None => {
                    return Err(error(
                        "a spec naming no stemmer means NLTK's Snowball, which runs in Python",
                    ))
                }
            }
            Ok((Tokenizer::UnicodeWords, filters))
        }
        other => Err(error(format!(
            "preset {other:?} is not built into the core (build it from its chain spec)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_chains() {
        let (t, f) =
            parse(r#"{"name": "english", "params": {"stemmer": "snowball", "stemmer_version": "x"}}"#).unwrap();
        assert!(matches!(t, Tokenizer::UnicodeWords));
        assert_eq!(f.len(), 4);
        assert!(
            parse(r#"{"name": "english", "params": {}}"#).is_err(),
            "NLTK's Snowball stays in Python"
        );
        assert!(parse(r#"{"name": "english", "params": {"stemmer": "lancaster"}}"#).is_err());
        assert!(parse(r#"{"name": "english", "params": {"bogus": 1}}"#).is_err());
        assert!(parse(r#"{"name": "ngram", "params": {"min_size": 0}}"#).is_err());
        assert!(matches!(parse(r#"{"name": "simple"}"#).unwrap().0, Tokenizer::Letters));
        assert!(parse(r#""keyword""#).is_ok());
        assert!(parse(r#"{"name": "french"}"#).is_err());
        assert!(parse("not json").is_err());
        let chain = r#"{"tokenizer": {"type": "unicode_words"}, "filters": [
            {"type": "lowercase"}, {"type": "elision", "articles": ["l"]}, {"type": "stop", "words": ["le"]},
            {"type": "length", "min": 1, "max": 9}, {"type": "ascii_folding"}, {"type": "synonyms", "mapping": {"a": ["b"]}},
            {"type": "stem", "algorithm": "snowball", "language": "french"}]}"#;
        assert_eq!(parse(chain).unwrap().1.len(), 7);
        assert!(parse(r#"{"tokenizer": {"type": "python"}}"#).is_err());
        assert!(
            parse(r#"{"tokenizer": {"type": "regex", "pattern": "[a-z]+"}}"#).is_err(),
            "Python runs other patterns"
        );
        assert!(
            parse(r#"{"tokenizer": {"type": "keyword"}, "filters": [{"type": "stem", "algorithm": "porter"}]}"#)
                .is_err()
        );
    }

    #[test]
    fn the_english_stop_list_is_the_shipped_one() {
        let words = english_stop_words();
        assert!(words.contains("the") && words.contains("with") && !words.contains("talk"));
    }
}
