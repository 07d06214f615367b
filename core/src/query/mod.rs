//! Query execution over one segment's structures.

pub mod phrase;
