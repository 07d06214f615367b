//! The names of a segment's sections, defined once: per-field sections are named
//! `<field>\0<part>`, and since no part contains a NUL, the last NUL splits a name into
//! one (field, part) pair, so no field name can make one field's section another's.

pub const SEGMENT: &str = "\0segment";
pub const DICT: &str = "dict";
pub const DICT_INDEX: &str = "dict_index";
pub const META: &str = "meta";
/// A stemmed field's lexicon: words before the stemmer, each with its term's ordinal
/// (kept in a term dictionary whose doc_freq slot holds the ordinal).
pub const LEXICON: &str = "lexicon";
pub const LEXICON_INDEX: &str = "lexicon_index";
pub const LEXICON_META: &str = "lexicon_meta";
/// One bit per term of a stemmed field: set when the term is itself a word of the field.
pub const LEXICON_WORDS: &str = "lexicon_words";
pub const POSTINGS: &str = "postings";
pub const POSITIONS: &str = "positions";
pub const NORMS: &str = "norms";
pub const COLUMN: &str = "column";
pub const STORE_BLOCKS: &str = "\0store.blocks";
pub const STORE_INDEX: &str = "\0store.index";
pub const IDS: &str = "\0ids";
/// The ID field whose value the stored lines leave out (in the ids section instead).
pub const STORE_ID_FIELD: &str = "\0store.id_field";

/// The section `part` of field `field`.
pub fn field(field: &str, part: &str) -> String {
    format!("{field}\0{part}")
}

/// The field of a section named `<field>\0<part>`, if its part is `part`.
pub fn field_of<'a>(name: &'a str, part: &str) -> Option<&'a str> {
    let (field, found) = name.rsplit_once('\0')?;
    (found == part).then_some(field)
}
