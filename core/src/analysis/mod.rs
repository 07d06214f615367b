//! Analysis: text in, terms with positions out.
//!
//! This is the interface the inverter (segment writer) uses. The built-in tokenizers and
//! filters of `searchlib/analysis/` are rebuilt here from an analyzer's JSON spec (the same
//! spec the index stores), so one chain gives the same terms whether Python or the core runs
//! it.
//!
//! Placeholder implementation: lower-cased whitespace words, until the full chain lands.

pub mod stem;

/// Why an analyzer spec cannot be built in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisError(pub String);

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AnalysisError {}

/// A built-in analyzer chain. Each indexing thread owns its own (the term cache inside is
/// not shared), so `&mut self` methods need no lock.
#[derive(Debug, Clone)]
pub struct Analyzer {
    _spec: String,
}

impl Analyzer {
    /// The analyzer an analyzer spec (JSON text, as stored in a manifest's schema) describes.
    pub fn from_spec(spec_json: &str) -> Result<Analyzer, AnalysisError> {
        Ok(Analyzer { _spec: spec_json.to_owned() })
    }

    /// Calls `sink(term, position)` for each indexed term of `text`, in position order.
    /// Dropped tokens (stop words) leave a gap in positions, as in Python's chain.
    pub fn for_each_term(&mut self, text: &str, mut sink: impl FnMut(&str, u32)) {
        for (position, word) in text.split_whitespace().enumerate() {
            let term = word.to_lowercase();
            sink(&term, position as u32);
        }
    }
}
