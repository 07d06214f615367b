//! Bit packing: `count` unsigned integers of `width` bits each, low bits first.
//!
//! Packing is a scalar loop with a 64-bit accumulator (postings blocks are 128 values,
//! field norms a whole field). Unpacking whole blocks, which every query does, goes
//! through the bitpacking crate's scalar `BitPacker1x`, whose layout is this one; its
//! SIMD packers interleave values across lanes, a different format. On 1M documents the
//! generic loop this replaced took about 10 instructions a value (these kernels under 6),
//! a third of a one-word query's cost.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::{Corrupt, Decoded};

/// Postings are packed in blocks of this many values.
pub const BLOCK: usize = 128;

/// The bits needed for `max` (0 for 0).
#[inline]
pub fn width(max: u32) -> u8 {
    (32 - max.leading_zeros()) as u8
}

/// Bytes taken by `count` values of `width` bits.
#[inline]
pub fn packed_len(count: usize, width: u8) -> usize {
    (count * usize::from(width)).div_ceil(8)
}

/// Appends `values` packed at `width` bits (every value must fit).
pub fn pack(values: &[u32], width: u8, out: &mut Vec<u8>) {
    debug_assert!(width <= 32);
    if width == 0 {
        return;
    }
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &value in values {
        debug_assert!(width == 32 || value >> width == 0);
        acc |= u64::from(value) << bits;
        bits += u32::from(width);
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// Unpacks `count` values of `width` bits from the front of `data`, appending them to `out`.
/// Returns the bytes read. Whole blocks of [`BLOCK`] values (each ends on a byte) go
/// through [`unpack_block`], the rest value by value.
pub fn unpack(data: &[u8], width: u8, count: usize, out: &mut Vec<u32>) -> Decoded<usize> {
    if width > 32 {
        return Err(Corrupt::new(format!("bit width {width} exceeds 32")));
    }
    let len = packed_len(count, width);
    let bytes = data.get(..len).ok_or_else(|| Corrupt::new("packed integers are truncated"))?;
    if width == 0 {
        out.resize(out.len() + count, 0);
        return Ok(0);
    }
    out.reserve(count);
    let blocks = count / BLOCK;
    let mut at = 0;
    for _ in 0..blocks {
        at += unpack_block(bytes.get(at..).unwrap_or_default(), width, out)?;
    }
    let mask: u64 = (1u64 << width) - 1;
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    let mut iter = bytes.get(at..).unwrap_or_default().iter();
    for _ in blocks * BLOCK..count {
        while bits < u32::from(width) {
            // `bytes` holds exactly enough bytes for `count` values.
            let byte = iter.next().copied().unwrap_or(0);
            acc |= u64::from(byte) << bits;
            bits += 8;
        }
        out.push((acc & mask) as u32);
        acc >>= width;
        bits -= u32::from(width);
    }
    Ok(len)
}

/// Unpacks one block of [`BLOCK`] values of `width` bits from the front of `data`
/// (appended to `out`); returns the bytes read. The format is [`pack`]'s, which is also
/// the bitpacking crate's `BitPacker1x` layout, 32 values at a time: 32 values of `width`
/// bits end on a byte, so a block is four of its blocks back to back. Its kernels are
/// unrolled per width, with every shift a constant: a postings block is decoded every
/// time a query steps into it, and [`unpack`] reads its arrays by blocks too.
pub fn unpack_block(data: &[u8], width: u8, out: &mut Vec<u32>) -> Decoded<usize> {
    if width > 32 {
        return Err(Corrupt::new(format!("bit width {width} exceeds 32")));
    }
    let len = packed_len(BLOCK, width);
    let bytes = data.get(..len).ok_or_else(|| Corrupt::new("packed integers are truncated"))?;
    let start = out.len();
    out.resize(start + BLOCK, 0);
    if width == 0 {
        return Ok(0); // every value is 0
    }
    let values = out.get_mut(start..).unwrap_or_default();
    // chunks_exact: each kernel gets exactly 4 * width bytes and 32 values, the lengths
    // the crate asserts.
    for (packed, chunk) in bytes.chunks_exact(len / 4).zip(values.chunks_exact_mut(BLOCK / 4)) {
        unpack32(packed, width, chunk);
    }
    Ok(len)
}

/// Unpacks one block of [`BLOCK`] doc-id gaps of `width` bits from the front of `data`
/// into the ids themselves (appended to `out`): each id is the previous one plus its gap
/// plus 1, the first `base` plus its gap (`base` is one past the previous block's last
/// id). Returns the bytes read.
///
/// Where the ids cannot pass 2^32 (a width of at most 24 bits from a base of at most
/// 2^31: 128 gaps add under 2^31), the crate's kernels unpack and add up in one pass,
/// its strictly sorted decoding being this very delta; otherwise the gaps are unpacked
/// and added in 64 bits (an id past 2^32 is an error). Callers check the last id, the
/// largest, against the segment's size.
pub fn unpack_ids(data: &[u8], width: u8, base: u64, out: &mut Vec<u32>) -> Decoded<usize> {
    let start = out.len();
    let fused = width <= 24 && base <= 1 << 31 && cfg!(target_endian = "little");
    if !fused || width == 0 {
        let used = unpack_block(data, width, out)?;
        let mut next = base;
        for id in out.get_mut(start..).unwrap_or_default() {
            let value = next + u64::from(*id); // 128 gaps of under 2^32 cannot overflow a u64
            *id = value as u32;
            next = value + 1;
        }
        if next > 1 << 32 {
            return Err(Corrupt::new(format!("doc id {} out of range", next - 1)));
        }
        return Ok(used);
    }
    let len = packed_len(BLOCK, width);
    let bytes = data.get(..len).ok_or_else(|| Corrupt::new("packed integers are truncated"))?;
    out.resize(start + BLOCK, 0);
    let ids = out.get_mut(start..).unwrap_or_default();
    // The id before the first: None stands for -1 (a first block's base of 0).
    let mut previous = u32::try_from(base).ok().and_then(|base| base.checked_sub(1));
    for (packed, chunk) in bytes.chunks_exact(len / 4).zip(ids.chunks_exact_mut(BLOCK / 4)) {
        unpack32_ids(packed, width, previous, chunk);
        previous = chunk.last().copied();
    }
    Ok(len)
}

/// 32 ids from exactly `4 * width` bytes of gaps, after `previous` (see [`unpack_ids`]).
#[inline]
fn unpack32_ids(packed: &[u8], width: u8, previous: Option<u32>, ids: &mut [u32]) {
    use bitpacking::BitPacker;
    bitpacking::BitPacker1x::new().decompress_strictly_sorted(previous, packed, ids, width);
}

/// Widths up to which [`sum_block`] counts bits rather than unpacking.
const SUMMED_WIDTH: usize = 8;

/// The sum of one block of [`BLOCK`] values of `width` bits at the front of `data`, and
/// the bytes it takes. Value i's bit j is bit `i * width + j` of the block, so the sum
/// is the sum over j of 2^j times how many of those bits are set, counted with one mask
/// per j a 64-bit word at a time: 2 * width^2 masked popcounts a block. Term
/// frequencies mostly need 1 to 3 bits, where that is a few dozen instructions and
/// unpacking a few hundred; a wider block is unpacked and added up.
pub fn sum_block(data: &[u8], width: u8) -> Decoded<(u64, usize)> {
    if width > 32 {
        return Err(Corrupt::new(format!("bit width {width} exceeds 32")));
    }
    let len = packed_len(BLOCK, width);
    let bytes = data.get(..len).ok_or_else(|| Corrupt::new("packed integers are truncated"))?;
    if usize::from(width) > SUMMED_WIDTH {
        let mut values = Vec::with_capacity(BLOCK);
        unpack_block(bytes, width, &mut values)?;
        return Ok((values.iter().map(|&v| u64::from(v)).sum(), len));
    }
    let mut sum = 0u64;
    for (j, mask) in sum_masks(width).iter().enumerate() {
        // A block of width w is 16 w bytes: exactly 2 w words.
        let set: u32 = bytes.chunks_exact(8).zip(mask).map(|(word, m)| (u64::from_le_bytes(word.try_into().unwrap_or_default()) & m).count_ones()).sum();
        sum += u64::from(set) << j;
    }
    Ok((sum, len))
}

/// For `width` up to [`SUMMED_WIDTH`], per bit j of a value, the mask of the bits
/// `i * width + j` of a block (2 * width words), made once per process.
fn sum_masks(width: u8) -> &'static [Vec<u64>] {
    static MASKS: std::sync::OnceLock<Vec<Vec<Vec<u64>>>> = std::sync::OnceLock::new();
    let all = MASKS.get_or_init(|| {
        (0..=SUMMED_WIDTH)
            .map(|w| {
                (0..w)
                    .map(|j| {
                        let mut mask = vec![0u64; 2 * w];
                        for i in 0..BLOCK {
                            let bit = i * w + j;
                            if let Some(word) = mask.get_mut(bit / 64) {
                                *word |= 1 << (bit % 64);
                            }
                        }
                        mask
                    })
                    .collect()
            })
            .collect()
    });
    all.get(usize::from(width)).map_or(&[], Vec::as_slice)
}

/// 32 values of `width` bits (1 to 32) from exactly `4 * width` bytes.
#[cfg(target_endian = "little")]
#[inline]
fn unpack32(packed: &[u8], width: u8, values: &mut [u32]) {
    use bitpacking::BitPacker;
    bitpacking::BitPacker1x::new().decompress(packed, values, width);
}

/// 32 values of `width` bits (1 to 32) from exactly `4 * width` bytes: the crate reads
/// native 32-bit words, so a big-endian machine swaps the format's little-endian words
/// first.
#[cfg(target_endian = "big")]
fn unpack32(packed: &[u8], width: u8, values: &mut [u32]) {
    use bitpacking::BitPacker;
    let mut native = [0u8; 128];
    for (to, from) in native.chunks_exact_mut(4).zip(packed.chunks_exact(4)) {
        let word = u32::from_le_bytes([from[0], from[1], from[2], from[3]]);
        to.copy_from_slice(&word.to_ne_bytes());
    }
    bitpacking::BitPacker1x::new().decompress(&native[..packed.len()], values, width);
}

/// The `index`-th value of a packed array, for random access (field norms, id offsets).
pub fn get(data: &[u8], width: u8, index: usize) -> Decoded<u32> {
    if width == 0 {
        return Ok(0);
    }
    let bit = index * usize::from(width);
    let mut word = [0u8; 8];
    let start = bit / 8;
    let end = packed_len(index + 1, width);
    let bytes = data.get(start..end).ok_or_else(|| Corrupt::new("packed value lies outside its array"))?;
    word.get_mut(..bytes.len()).ok_or_else(|| Corrupt::new("packed value is too wide"))?.copy_from_slice(bytes);
    let value = u64::from_le_bytes(word) >> (bit % 8);
    Ok((value & ((1u64 << width) - 1)) as u32)
}

/// The bits needed for `max` as a 64-bit value (0 for 0).
#[inline]
pub fn width64(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// Appends 64-bit `values` packed at `width` bits (up to 64; every value must fit): for
/// arrays of offsets, which may pass 4 GiB.
pub fn pack64(values: &[u64], width: u8, out: &mut Vec<u8>) {
    debug_assert!(width <= 64);
    if width == 0 {
        return;
    }
    let mut acc: u128 = 0;
    let mut bits: u32 = 0;
    for &value in values {
        debug_assert!(width == 64 || value >> width == 0);
        acc |= u128::from(value) << bits;
        bits += u32::from(width);
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// The `index`-th value of an array [`pack64`] wrote.
pub fn get64(data: &[u8], width: u8, index: usize) -> Decoded<u64> {
    if width == 0 {
        return Ok(0);
    }
    if width > 64 {
        return Err(Corrupt::new(format!("bit width {width} exceeds 64")));
    }
    let bit = index
        .checked_mul(usize::from(width))
        .ok_or_else(|| Corrupt::new("packed value lies outside its array"))?;
    let start = bit / 8;
    let end = (bit + usize::from(width)).div_ceil(8);
    let bytes = data.get(start..end).ok_or_else(|| Corrupt::new("packed value lies outside its array"))?;
    let mut word = [0u8; 16];
    word.get_mut(..bytes.len()).ok_or_else(|| Corrupt::new("packed value is too wide"))?.copy_from_slice(bytes);
    let value = u128::from_le_bytes(word) >> (bit % 8);
    let mask = if width == 64 { u128::from(u64::MAX) } else { (1u128 << width) - 1 };
    Ok((value & mask) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_unpacks_as_packed() {
        for width in 0..=32u8 {
            let max = if width == 0 { 0 } else { u32::MAX >> (32 - width) };
            let values: Vec<u32> = (0..BLOCK as u32).map(|i| i.wrapping_mul(2654435761) & max).collect();
            let mut packed = Vec::new();
            pack(&values, width, &mut packed);
            let mut out = Vec::new();
            assert_eq!(unpack_block(&packed, width, &mut out).unwrap(), packed.len());
            assert_eq!(out, values);
            if !packed.is_empty() {
                assert!(unpack_block(&packed[..packed.len() - 1], width, &mut Vec::new()).is_err());
            }
        }
        assert!(unpack_block(&[0; 600], 33, &mut Vec::new()).is_err());
    }

    #[test]
    fn ids_unpack_as_their_gaps_add_up() {
        let mut seed = 7u64;
        for width in 0..=32u8 {
            for base in [0u64, 1, 5000, 1 << 31, (1 << 31) + 1] {
                let max = if width == 0 { 0 } else { u32::MAX >> (32 - width) };
                let gaps: Vec<u32> = (0..BLOCK)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        ((seed >> 33) as u32 & max) >> (width / 3) // mostly small, some the maximum
                    })
                    .chain(std::iter::once(max))
                    .skip(1)
                    .collect();
                let mut packed = Vec::new();
                pack(&gaps, width, &mut packed);
                let mut ids = vec![9u32]; // appended after what is there
                let total: u64 = base + gaps.iter().map(|&gap| u64::from(gap) + 1).sum::<u64>();
                if total > 1 << 32 {
                    assert!(unpack_ids(&packed, width, base, &mut ids).is_err(), "width {width}, base {base}");
                    continue;
                }
                assert_eq!(unpack_ids(&packed, width, base, &mut ids).unwrap(), packed_len(BLOCK, width));
                let mut next = base;
                let expected: Vec<u32> = std::iter::once(9)
                    .chain(gaps.iter().map(|&gap| {
                        let id = next + u64::from(gap);
                        next = id + 1;
                        id as u32
                    }))
                    .collect();
                assert_eq!(ids, expected, "width {width}, base {base}");
            }
        }
        assert!(unpack_ids(&[0; 10], 3, 0, &mut Vec::new()).is_err());
    }

    #[test]
    fn a_block_sums_as_its_values_do() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for width in 0..=32u8 {
            for round in 0..4 {
                let max = if width == 0 { 0 } else { u32::MAX >> (32 - width) };
                let values: Vec<u32> = (0..BLOCK)
                    .map(|i| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        // All zeros, all the maximum, and random values between.
                        match round {
                            0 => 0,
                            1 => max,
                            _ => ((seed >> 32) as u32 & max).wrapping_add(i as u32 % 2) & max,
                        }
                    })
                    .collect();
                let mut packed = Vec::new();
                pack(&values, width, &mut packed);
                packed.push(0xff); // the next block's byte is not read
                let expected: u64 = values.iter().map(|&v| u64::from(v)).sum();
                assert_eq!(sum_block(&packed, width).unwrap(), (expected, packed_len(BLOCK, width)), "width {width}");
                assert!(sum_block(&packed[..packed_len(BLOCK, width).saturating_sub(1)], width).is_err() || width == 0);
            }
        }
        assert!(sum_block(&[0; 1024], 33).is_err());
    }

    #[test]
    fn every_width_round_trips() {
        for w in 0..=32u8 {
            let max = if w == 0 { 0 } else { u32::MAX >> (32 - w) };
            let values: Vec<u32> = (0..300u32).map(|i| i.wrapping_mul(2654435761) & max).collect();
            let mut packed = Vec::new();
            pack(&values, w, &mut packed);
            assert_eq!(packed.len(), packed_len(values.len(), w));
            let mut out = Vec::new();
            assert_eq!(unpack(&packed, w, values.len(), &mut out).unwrap(), packed.len());
            assert_eq!(out, values);
            for (i, v) in values.iter().enumerate() {
                assert_eq!(get(&packed, w, i).unwrap(), *v);
            }
        }
    }

    #[test]
    fn truncated_or_too_wide_is_an_error() {
        let mut packed = Vec::new();
        pack(&[5, 6, 7], 3, &mut packed);
        assert!(unpack(&packed[..0], 3, 3, &mut Vec::new()).is_err());
        assert!(unpack(&packed, 33, 3, &mut Vec::new()).is_err());
        assert!(get(&packed, 3, 100).is_err());
        assert_eq!(width(0), 0);
        assert_eq!(width(1), 1);
        assert_eq!(width(u32::MAX), 32);
    }

    #[test]
    fn sixty_four_bit_arrays_round_trip() {
        for w in 0..=64u8 {
            let max = if w == 0 { 0 } else { u64::MAX >> (64 - w) };
            let values: Vec<u64> = (0..70u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & max).collect();
            let mut packed = Vec::new();
            pack64(&values, w, &mut packed);
            assert_eq!(packed.len(), packed_len(values.len(), w));
            for (i, v) in values.iter().enumerate() {
                assert_eq!(get64(&packed, w, i).unwrap(), *v);
            }
            assert!(w == 0 || get64(&packed, w, values.len() + 8).is_err());
        }
        assert_eq!(width64(u64::MAX), 64);
        assert!(get64(&[0; 16], 65, 0).is_err());
    }
}
