//! Driving an automaton over a sorted dictionary, skipping whole runs of terms whose
//! shared prefix already leads to a dead state.

use std::time::Instant;

use super::Automaton;
use crate::error::{Corrupt, Decoded};
use crate::termdict::{TermDict, TermInfo, TERMS_PER_BLOCK};

/// How many terms are visited between two reads of the clock (a read costs about as
/// much as a few terms).
const CLOCK_EVERY: u32 = 256;

/// Matches every term (a prefix's range is all it needs).
pub struct Everything;

impl Automaton for Everything {
    type State = ();

    fn start(&mut self) {}

    fn step(&mut self, _: (), _: u8) {}

    fn can_match(&self, _: ()) -> bool {
        true
    }

    fn is_match(&mut self, _: (), _: &[u8]) -> bool {
        true
    }
}

/// The dictionary's blocks, decoded whole one at a time (for look-ups by ordinal).
struct Blocks<'d, 'a> {
    dict: &'d TermDict<'a>,
    block: Option<usize>,
    entries: Vec<(Vec<u8>, TermInfo)>,
}

impl Blocks<'_, '_> {
    /// The entry of `ordinal` (decoding its block if it is not the current one).
    fn entry(&mut self, ordinal: u64) -> Decoded<&(Vec<u8>, TermInfo)> {
        let block = (ordinal / TERMS_PER_BLOCK as u64) as usize;
        if self.block != Some(block) {
            self.entries.clear();
            self.block = None;
            self.dict.block(block, &mut self.entries)?;
            self.block = Some(block);
        }
        self.entries.get((ordinal % TERMS_PER_BLOCK as u64) as usize).ok_or_else(|| Corrupt::new("a term block is short"))
    }
}

/// The last block from `block` on (which starts with `prefix`) whose first term starts
/// with `prefix`: found by galloping, so a short run of dead blocks costs a probe or two
/// and a long one a binary search.
fn last_block_starting_with(dict: &TermDict<'_>, block: usize, prefix: &[u8]) -> Decoded<usize> {
    let count = dict.block_count();
    let (mut low, mut step) = (block, 1usize);
    // Galloping: `low` starts with the prefix; find a block past the run (or the end).
    let mut high = loop {
        let probe = low.saturating_add(step);
        if probe >= count {
            break count;
        }
        if !dict.first_term(probe)?.starts_with(prefix) {
            break probe;
        }
        low = probe;
        step = step.saturating_mul(2);
    };
    // The run's last block lies in low..high.
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if dict.first_term(mid)?.starts_with(prefix) {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(low)
}

/// Drives `automaton` over terms `start..end` of `dict`, calling `found(ordinal, term,
/// slot)` for each match in order (`slot` is the entry's doc_freq, or a lexicon's term
/// ordinal). Returns false when `deadline` passed first.
///
/// Terms are rebuilt in one buffer from the front-coded entries, and the automaton's
/// state after each byte of the buffer is kept: a term resumes from the bytes it shares
/// with the previous one. Once a prefix is dead, the entries that still share it are
/// passed over unread, and a following block that starts with it is skipped by a seek
/// past every term with that prefix.
pub fn walk<A: Automaton + ?Sized>(
    dict: &TermDict<'_>,
    automaton: &mut A,
    start: u64,
    end: u64,
    deadline: Option<Instant>,
    found: &mut dyn FnMut(u32, &[u8], u32),
) -> Decoded<bool> {
    let end = end.min(dict.len());
    let initial = automaton.start();
    if start >= end || !automaton.can_match(initial) {
        return Ok(true);
    }
    // states[i]: the state after term[..i]; valid for the first states.len() - 1 bytes.
    let mut states = vec![initial];
    let mut term: Vec<u8> = Vec::new();
    // The length of a prefix of `term` that leads to a dead state, while terms share it.
    let mut dead: Option<usize> = None;
    let mut ordinal = start;
    // The entries before `ordinal` in its block are read only to rebuild the term.
    let mut block = (start / TERMS_PER_BLOCK as u64) as usize;
    let mut at = block as u64 * TERMS_PER_BLOCK as u64;
    let mut cursor = dict.block_cursor(block)?;
    let mut visits = 0u32;
    while ordinal < end {
        if visits % CLOCK_EVERY == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(false);
        }
        visits = visits.wrapping_add(1);
        let entry = match cursor.next_entry()? {
            Some(entry) => entry,
            None => {
                block += 1;
                if block >= dict.block_count() {
                    return Err(Corrupt::new("the dictionary ends before its term count"));
                }
                if let Some(length) = dead {
                    let prefix = term.get(..length).unwrap_or_default();
                    if dict.first_term(block)?.starts_with(prefix) {
                        // The block starts dead: go to the last block that does, whose
                        // entries under the prefix are then passed over unread.
                        block = last_block_starting_with(dict, block, prefix)?;
                        ordinal = ordinal.max(block as u64 * TERMS_PER_BLOCK as u64);
                    }
                }
                at = block as u64 * TERMS_PER_BLOCK as u64;
                cursor = dict.block_cursor(block)?;
                continue;
            }
        };
        let (shared, suffix, slot) = entry;
        // A block's first entry shares nothing by its coding, but the states still hold
        // for the bytes it has in common with the previous term.
        let kept = if at % TERMS_PER_BLOCK as u64 == 0 {
            term.iter().zip(suffix).take_while(|(a, b)| a == b).count()
        } else {
            shared
        };
        term.truncate(shared);
        term.extend_from_slice(suffix);
        states.truncate(kept.min(states.len() - 1) + 1);
        let this = at;
        at += 1;
        if this < ordinal {
            continue;
        }
        ordinal += 1;
        if let Some(length) = dead {
            if kept >= length {
                continue; // still under the dead prefix
            }
            dead = None;
        }
        let mut alive = true;
        for index in states.len() - 1..term.len() {
            let (Some(&state), Some(&byte)) = (states.last(), term.get(index)) else { break };
            let next = automaton.step(state, byte);
            states.push(next);
            if !automaton.can_match(next) {
                dead = Some(index + 1);
                alive = false;
                break;
            }
        }
        if alive {
            let state = *states.last().ok_or_else(|| Corrupt::new("automaton states lost"))?;
            if automaton.is_match(state, &term) {
                let at = u32::try_from(this).map_err(|_| Corrupt::new("more than 2^32 terms"))?;
                found(at, &term, slot);
            }
        }
    }
    Ok(true)
}

/// (ordinal, doc_freq) of each of the ascending `ordinals`, decoding each block once.
pub fn doc_freqs_at(dict: &TermDict<'_>, ordinals: &[u32]) -> Decoded<Vec<(u32, u32)>> {
    let mut out = Vec::with_capacity(ordinals.len());
    entries_at(dict, ordinals, |ordinal, _, info| out.push((ordinal, info.doc_freq)))?;
    Ok(out)
}

/// Calls `each(ordinal, term, info)` for each of the ascending `ordinals`, decoding each
/// block once (an ordinal past the dictionary is damage: it came from a lexicon).
pub fn entries_at(dict: &TermDict<'_>, ordinals: &[u32], mut each: impl FnMut(u32, &[u8], &TermInfo)) -> Decoded<()> {
    let mut blocks = Blocks { dict, block: None, entries: Vec::with_capacity(TERMS_PER_BLOCK) };
    for &ordinal in ordinals {
        if u64::from(ordinal) >= dict.len() {
            return Err(Corrupt::new("the lexicon points past the terms"));
        }
        let (term, info) = blocks.entry(u64::from(ordinal))?;
        each(ordinal, term, info);
    }
    Ok(())
}
