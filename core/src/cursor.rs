//! Reading and writing the primitive encodings every structure shares: little-endian
//! fixed-width integers and variable-byte integers (7 bits a byte, low bits first).
//!
//! [`Cursor`] never indexes past its slice: each read checks what is left and returns
//! [`Corrupt`] instead, so a decoder built on it cannot panic on a truncated or hostile file.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::{Corrupt, Decoded};

/// Appends `value` as a variable-byte integer (1 to 10 bytes).
#[inline]
pub fn put_vint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A read position in a byte slice.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Cursor<'a> {
        Cursor { data, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `count` bytes.
    #[inline]
    pub fn take(&mut self, count: usize) -> Decoded<&'a [u8]> {
        let end = self.pos.checked_add(count).ok_or_else(|| Corrupt::new("length overflows"))?;
        let bytes = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| Corrupt::new(format!("needs {count} bytes at {}, has {}", self.pos, self.remaining())))?;
        self.pos = end;
        Ok(bytes)
    }

    #[inline]
    pub fn u8(&mut self) -> Decoded<u8> {
        let byte = *self.data.get(self.pos).ok_or_else(|| Corrupt::new("unexpected end of data"))?;
        self.pos += 1;
        Ok(byte)
    }

    pub fn u16(&mut self) -> Decoded<u16> {
        let mut word = [0u8; 2];
        word.copy_from_slice(self.take(2)?);
        Ok(u16::from_le_bytes(word))
    }

    pub fn u32(&mut self) -> Decoded<u32> {
        let mut word = [0u8; 4];
        word.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(word))
    }

    pub fn u64(&mut self) -> Decoded<u64> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(word))
    }

    /// A variable-byte integer of at most 64 bits.
    #[inline]
    pub fn vint(&mut self) -> Decoded<u64> {
        // Most integers (doc gaps, frequencies) take one byte: read it without the loop.
        if let Some(&byte) = self.data.get(self.pos) {
            if byte < 0x80 {
                self.pos += 1;
                return Ok(u64::from(byte));
            }
        }
        self.long_vint()
    }

    /// [`Cursor::vint`] past its one-byte case.
    fn long_vint(&mut self) -> Decoded<u64> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.u8()?;
            if shift == 63 && byte > 1 {
                return Err(Corrupt::new("variable-byte integer overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(Corrupt::new("variable-byte integer is too long"));
            }
        }
    }

    /// A variable-byte integer that must fit 32 bits.
    #[inline]
    pub fn vu32(&mut self) -> Decoded<u32> {
        u32::try_from(self.vint()?).map_err(|_| Corrupt::new("integer exceeds 32 bits"))
    }

    /// A variable-byte integer used as a length or offset in memory.
    pub fn vusize(&mut self) -> Decoded<usize> {
        usize::try_from(self.vint()?).map_err(|_| Corrupt::new("length exceeds the address space"))
    }
}

/// `data[start..start + len]`, or damage.
pub fn slice(data: &[u8], start: u64, len: u64) -> Decoded<&[u8]> {
    let start = usize::try_from(start).map_err(|_| Corrupt::new("offset exceeds the address space"))?;
    let len = usize::try_from(len).map_err(|_| Corrupt::new("length exceeds the address space"))?;
    let end = start.checked_add(len).ok_or_else(|| Corrupt::new("offset overflows"))?;
    data.get(start..end).ok_or_else(|| Corrupt::new(format!("slice {start}..{end} lies outside {} bytes", data.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_round_trip_and_truncation_is_an_error() {
        let values = [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX];
        let mut out = Vec::new();
        for value in values {
            put_vint(&mut out, value);
        }
        let mut cursor = Cursor::new(&out);
        for value in values {
            assert_eq!(cursor.vint().unwrap(), value);
        }
        assert!(cursor.is_empty());
        let mut short = Cursor::new(&out[..out.len() - 1]);
        let all: Vec<_> = (0..values.len()).map(|_| short.vint()).collect();
        assert!(all.last().unwrap().is_err());
        assert!(Cursor::new(&[0xff; 11]).vint().is_err());
        assert!(Cursor::new(&[0x80, 0x80, 0x80, 0x80, 0x10]).vu32().is_err());
    }

    #[test]
    fn fixed_reads_check_length() {
        assert!(Cursor::new(&[1, 2, 3]).u32().is_err());
        assert_eq!(Cursor::new(&[1, 0, 0, 0]).u32().unwrap(), 1);
        assert!(slice(&[1, 2, 3], 2, 2).is_err());
        assert!(slice(&[1, 2, 3], u64::MAX, 2).is_err());
    }
}
