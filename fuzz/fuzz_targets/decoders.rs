//! Every decoder of the segment format on arbitrary bytes: each must return a value or
//! an error, never panic, whatever it is given (a file's bytes after its checksums
//! passed may still be hostile).
#![no_main]

use _core::termdict::{Entries, TermDict};
use _core::{columns, fieldnorms, positions, postings, store};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let count = u32::from(selector) * 3;
    let (mut docs, mut freqs, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let _ = postings::decode(rest, count, 1 << 20, &mut docs, &mut freqs);
    let _ = postings::skips(rest, count);
    let freqs: Vec<u32> = rest.iter().take(64).map(|&b| u32::from(b)).collect();
    let _ = positions::decode(rest, &freqs, &mut out);
    let _ = fieldnorms::decode(rest, count);
    let _ = columns::decode(rest, count);
    if let Ok(entries) = store::read_index(rest, count, rest.len() as u64) {
        for entry in entries.iter().take(4) {
            let _ = store::inflate(rest, entry);
        }
    }
    if let Ok(ids) = store::Ids::new(rest, count) {
        let _ = ids.all();
        let _ = ids.get(count / 2);
    }
    let (data_part, index_part) = rest.split_at(rest.len() / 2);
    let entries = [Entries::WithPositions, Entries::WithoutPositions, Entries::Keys];
    let kind = entries.get(usize::from(selector) % 3).copied().unwrap_or_default();
    if let Ok(dict) = TermDict::open(data_part, index_part, u64::from(selector) * 7, kind) {
        let _ = dict.find(b"term");
        let _ = dict.prefix_range(b"t");
        let _ = dict.bound(b"m", true);
        let _ = dict.get(3);
        let _ = dict.range(0, 40);
        let _ = dict.iter().take(100).count();
    }
    let _ = _core::bitpack::get64(rest, selector % 70, usize::from(selector));
});
