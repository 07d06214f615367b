//! NFC, by the Unicode data of the Python the tables were generated from.
//!
//! A normalization crate carries its own Unicode version, and marks assigned since
//! Python's version have a combining class there but none in Python, so the two reorder
//! marks differently. NFC here is the standard algorithm (UAX #15: decompose, order
//! marks by combining class, compose primary composites) over Python's tables.

use super::unicode_tables as tables;

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = V_COUNT * T_COUNT;
const S_COUNT: u32 = L_COUNT * N_COUNT;

fn ccc(c: char) -> u8 {
    if (c as u32) < 0x300 {
        return 0;
    }
    tables::CCC
        .binary_search_by_key(&(c as u32), |&(k, _)| k)
        .map_or(0, |i| tables::CCC[i].1)
}

fn push_decomposed(c: char, out: &mut Vec<(char, u8)>) {
    let code = c as u32;
    if (S_BASE..S_BASE + S_COUNT).contains(&code) {
        let index = code - S_BASE;
        let jamo = [
            L_BASE + index / N_COUNT,
            V_BASE + (index % N_COUNT) / T_COUNT,
            T_BASE + index % T_COUNT,
        ];
        for (k, &j) in jamo.iter().enumerate() {
            if k < 2 || j != T_BASE {
                out.extend(char::from_u32(j).map(|j| (j, 0)));
            }
        }
        return;
    }
    match tables::DECOMPOSE.binary_search_by_key(&code, |&(k, _)| k) {
        Ok(i) => out.extend(tables::DECOMPOSE[i].1.chars().map(|d| (d, ccc(d)))),
        Err(_) => out.push((c, ccc(c))),
    }
}

fn compose(a: char, b: char) -> Option<char> {
    let (a, b) = (a as u32, b as u32);
    if (L_BASE..L_BASE + L_COUNT).contains(&a) && (V_BASE..V_BASE + V_COUNT).contains(&b) {
        return char::from_u32(S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT);
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&a)
        && (a - S_BASE) % T_COUNT == 0
        && (T_BASE + 1..T_BASE + T_COUNT).contains(&b)
    {
        return char::from_u32(a + (b - T_BASE));
    }
    tables::COMPOSE
        .binary_search_by_key(&(a, b), |&(x, y, _)| (x, y))
        .ok()
        .and_then(|i| char::from_u32(tables::COMPOSE[i].2))
}

/// Python's `unicodedata.normalize("NFC", text)`.
pub fn nfc(text: &str) -> String {
    let mut chars: Vec<(char, u8)> = Vec::with_capacity(text.len());
    for c in text.chars() {
        push_decomposed(c, &mut chars);
    }
    // Canonical order: each run of marks sorted by class, stably.
    for i in 1..chars.len() {
        let mut j = i;
        while j > 0 && chars[j].1 != 0 && chars[j - 1].1 > chars[j].1 {
            chars.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut out: Vec<(char, u8)> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    // The class of the last character kept since the starter (None: nothing between).
    let mut last: Option<u8> = None;
    for (c, class) in chars {
        if let Some(s) = starter {
            let blocked = last.is_some_and(|l| l == 0 || l >= class);
            if !blocked {
                if let Some(composed) = compose(out[s].0, c) {
                    out[s].0 = composed;
                    continue;
                }
            }
        }
        if class == 0 {
            starter = Some(out.len());
            last = None;
        } else {
            last = Some(class);
        }
        out.push((c, class));
    }
    out.into_iter().map(|(c, _)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_reorders_and_keeps_hangul() {
        assert_eq!(nfc("Cafe\u{301}"), "Caf\u{e9}");
        assert_eq!(nfc("e\u{323}\u{302}"), "\u{1ec7}");
        assert_eq!(nfc("e\u{302}\u{323}"), "\u{1ec7}", "marks are ordered before composing");
        assert_eq!(nfc("\u{1100}\u{1161}\u{11a8}"), "\u{ac01}");
        assert_eq!(nfc("\u{ac01}"), "\u{ac01}");
        assert_eq!(nfc("\u{212b}"), "\u{c5}", "a singleton decomposes and recomposes");
        assert_eq!(nfc("a\u{301}\u{301}"), "\u{e1}\u{301}");
        assert_eq!(nfc("\u{301}a"), "\u{301}a");
    }
}
