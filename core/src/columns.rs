//! Typed columns: one value per document of a NUMERIC, DATETIME or BOOLEAN field, for
//! sorting, filtering and faceting without reading stored JSON.
//!
//! ```text
//! kind u8 (1 int64 | 2 float64 | 3 bool) | presence: a bit per document, low bit first |
//! values: per document, 8 bytes little-endian (int64, float64) or 1 byte (bool)
//! ```
//!
//! Datetimes are int64 microseconds since the epoch (UTC), as Python hands them over.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::{Corrupt, Decoded};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Int = 1,
    Float = 2,
    Bool = 3,
}

impl ColumnKind {
    pub fn from_code(code: u8) -> Option<ColumnKind> {
        match code {
            1 => Some(ColumnKind::Int),
            2 => Some(ColumnKind::Float),
            3 => Some(ColumnKind::Bool),
            _ => None,
        }
    }

    /// The numpy dtype of the values.
    pub fn dtype(self) -> &'static str {
        match self {
            ColumnKind::Int => "<i8",
            ColumnKind::Float => "<f8",
            ColumnKind::Bool => "|u1",
        }
    }

    pub fn width(self) -> usize {
        match self {
            ColumnKind::Bool => 1,
            _ => 8,
        }
    }
}

/// A column being filled in doc id order (absent values are zero).
#[derive(Debug, Clone)]
pub struct ColumnWriter {
    pub kind: ColumnKind,
    values: Vec<u8>,
    present: Vec<u8>,
    docs: u32,
}

impl ColumnWriter {
    pub fn new(kind: ColumnKind) -> ColumnWriter {
        ColumnWriter { kind, values: Vec::new(), present: Vec::new(), docs: 0 }
    }

    /// Sets the value of the next document (`None`: it has none); `bits` are the value's
    /// little-endian bytes (an i64's, an f64's, or 0/1 for a bool).
    #[allow(clippy::indexing_slicing)] // an encoder indexes its own arrays, of lengths it set
    pub fn push(&mut self, value: Option<u64>) {
        if self.docs % 8 == 0 {
            self.present.push(0);
        }
        if let Some(bits) = value {
            if let Some(byte) = self.present.last_mut() {
                *byte |= 1 << (self.docs % 8);
            }
            self.values.extend_from_slice(&bits.to_le_bytes()[..self.kind.width()]);
        } else {
            self.values.resize(self.values.len() + self.kind.width(), 0);
        }
        self.docs += 1;
    }

    pub fn memory(&self) -> usize {
        self.values.capacity() + self.present.capacity()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.present.len() + self.values.len());
        out.push(self.kind as u8);
        out.extend_from_slice(&self.present);
        out.extend_from_slice(&self.values);
        out
    }
}

/// A column read back: its kind, a presence byte (0/1) per document, and the values' bytes.
pub fn decode(data: &[u8], doc_count: u32) -> Decoded<(ColumnKind, Vec<u8>, &[u8])> {
    let (&code, rest) = data.split_first().ok_or_else(|| Corrupt::new("a column is empty"))?;
    let kind = ColumnKind::from_code(code).ok_or_else(|| Corrupt::new(format!("unknown column kind {code}")))?;
    let docs = doc_count as usize;
    let bits_len = docs.div_ceil(8);
    if rest.len() != bits_len + docs * kind.width() {
        return Err(Corrupt::new(format!("a column of {} bytes for {docs} documents", data.len())));
    }
    let (bits, values) = rest.split_at(bits_len);
    let present = (0..docs).map(|d| bits.get(d / 8).map_or(0, |b| (b >> (d % 8)) & 1)).collect();
    Ok((kind, present, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_round_trip() {
        let mut writer = ColumnWriter::new(ColumnKind::Float);
        let values = [Some(1.5f64), None, Some(-2.0), None, None, None, None, None, Some(9.0)];
        for v in values {
            writer.push(v.map(f64::to_bits));
        }
        let data = writer.encode();
        let (kind, present, bytes) = decode(&data, values.len() as u32).unwrap();
        assert_eq!(kind, ColumnKind::Float);
        assert_eq!(present, values.iter().map(|v| v.is_some() as u8).collect::<Vec<_>>());
        let read: Vec<f64> = bytes.chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(read[2], -2.0);
        assert_eq!(read[1], 0.0);
        assert!(decode(&data, 8).is_err());
        assert!(decode(&[9], 0).is_err());
        let mut bools = ColumnWriter::new(ColumnKind::Bool);
        bools.push(Some(1));
        bools.push(Some(0));
        let encoded = bools.encode();
        let (_, present, bytes) = decode(&encoded, 2).unwrap();
        assert_eq!((present, bytes.to_vec()), (vec![1, 1], vec![1, 0]));
    }
}
