//! Errors of the codecs, readers and writers.
//!
//! Decoders see bytes, not files: they return [`Corrupt`] with a message, and the segment
//! reader attaches the path of the file the bytes came from ([`Error::Corrupt`]), so Python
//! gets `CorruptIndexError(path, message)` naming the damaged file.

use std::fmt;

/// Bytes that do not decode: damage (or a hostile file). The message says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub String);

impl Corrupt {
    pub fn new(message: impl Into<String>) -> Corrupt {
        Corrupt(message.into())
    }
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The result of decoding bytes.
pub type Decoded<T> = Result<T, Corrupt>;

/// What can go wrong reading or writing a segment.
#[derive(Debug)]
pub enum Error {
    /// A file is damaged: `path` names it.
    Corrupt { path: String, message: String },
    /// The operating system refused a read or write.
    Io { path: String, error: std::io::Error },
    /// A caller's mistake (an unknown field kind, a doc id out of range, ...).
    Invalid(String),
}

impl Error {
    pub fn corrupt(path: &str, message: impl Into<String>) -> Error {
        Error::Corrupt { path: path.to_owned(), message: message.into() }
    }

    pub fn io(path: &str, error: std::io::Error) -> Error {
        Error::Io { path: path.to_owned(), error }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Corrupt { path, message } => write!(f, "{path}: {message}"),
            Error::Io { path, error } => write!(f, "{path}: {error}"),
            Error::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// Attaches a file's path to a decoding error.
pub trait InFile<T> {
    fn in_file(self, path: &str) -> Result<T, Error>;
}

impl<T> InFile<T> for Decoded<T> {
    fn in_file(self, path: &str) -> Result<T, Error> {
        self.map_err(|Corrupt(message)| Error::corrupt(path, message))
    }
}
