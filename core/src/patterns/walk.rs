//! Driving an automaton over a sorted dictionary, skipping whole runs of terms whose
//! shared prefix already leads to a dead state.

use std::time::Duration;

use super::Automaton;
use crate::error::{Corrupt, Decoded};
use crate::termdict::{TermDict, TermInfo, TERMS_PER_BLOCK};

/// How many terms are visited between two reads of the clock (a read costs about as
/// much as a few terms).
const CLOCK_EVERY: u32 = 256;

/// A bound on the CPU time of the calling thread: what a walk does, not how long the
/// machine takes to give it a core (a loaded machine, or many searching threads, would
/// otherwise cut walks that did little). It applies only past a walk's first
/// `untimed_visits` entries: a dictionary that small is walked whole on any machine, so
/// that a stall the walk did not cause (a page fault, the kernel compacting memory, all
/// charged to the thread) cannot change a small index's answers.
#[derive(Debug, Clone, Copy)]
pub struct CpuDeadline {
    at: Duration,
    untimed_visits: u32,
}

impl CpuDeadline {
    /// `budget` of this thread's CPU time from now, counted past each walk's first
    /// `untimed_visits` entries.
    pub fn after(budget: Duration, untimed_visits: u32) -> CpuDeadline {
        CpuDeadline { at: thread_cpu_time().saturating_add(budget), untimed_visits }
    }

    /// Whether a walk that has visited `visits` entries is to stop.
    pub fn passed(&self, visits: u32) -> bool {
        visits >= self.untimed_visits && thread_cpu_time() >= self.at
    }
}

/// The CPU time the calling thread has used.
#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer to a local; the
    // clock id is a constant every Linux and BSD kernel knows.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0;
    if failed {
        return Duration::MAX; // no clock: the bound ends at once rather than never
    }
    Duration::new(u64::try_from(now.tv_sec).unwrap_or(0), u32::try_from(now.tv_nsec).unwrap_or(0))
}

/// Where no thread CPU clock is at hand (Windows, without a binding to GetThreadTimes):
/// the time since the process first asked, so the bound counts wall time there, which
/// a busy machine only makes shorter.
#[cfg(not(unix))]
fn thread_cpu_time() -> Duration {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

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

/// The last block from `block` on (whose first term is below `key`) whose first term is
/// below `key`: found by galloping, so a short run of skipped blocks costs a probe or
/// two and a long one a binary search.
fn last_block_below(dict: &TermDict<'_>, block: usize, key: &[u8]) -> Decoded<usize> {
    let count = dict.block_count();
    let (mut low, mut step) = (block, 1usize);
    // Galloping: `low` starts below the key; find a block that does not (or the end).
    let mut high = loop {
        let probe = low.saturating_add(step);
        if probe >= count {
            break count;
        }
        if dict.first_term(probe)? >= key {
            break probe;
        }
        low = probe;
        step = step.saturating_mul(2);
    };
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if dict.first_term(mid)? < key {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(low)
}

/// The smallest key above `term` that the automaton may still match a term from, given
/// that `term[..=dead]` leads to a dead state and `states[i]` is the state after
/// `term[..i]`: at the deepest depth with a live byte above the term's, that byte (the
/// terms in between all share a dead prefix). None when no later term can match.
fn next_live_key<A: Automaton + ?Sized>(automaton: &mut A, states: &[A::State], term: &[u8], dead: usize) -> Option<Vec<u8>> {
    for depth in (0..=dead).rev() {
        let (Some(&state), Some(&byte)) = (states.get(depth), term.get(depth)) else { continue };
        for next in byte.saturating_add(1)..=u8::MAX {
            if next <= byte {
                continue; // the term's byte was already 0xff
            }
            let stepped = automaton.step(state, next);
            if automaton.can_match(stepped) {
                let mut key = term.get(..depth).unwrap_or_default().to_vec();
                key.push(next);
                return Some(key);
            }
        }
    }
    None
}

/// Drives `automaton` over terms `start..end` of `dict`, calling `found(ordinal, term,
/// slot)` for each match in order (`slot` is the entry's doc_freq, or a lexicon's term
/// ordinal). Returns false when `deadline` (of this thread's CPU time) passed first.
///
/// Terms are rebuilt in one buffer from the front-coded entries, and the automaton's
/// state after each byte of the buffer is kept: a term resumes from the bytes it shares
/// with the previous one. When a prefix leads to a dead state, the walk skips to the
/// next key the automaton can still match from (the next live byte at the deepest depth
/// that has one, as automaton intersections with an FST do): entries below it are
/// passed over (those sharing the dead prefix without even a comparison), and blocks
/// that start below it by galloping over the block heads.
pub fn walk<A: Automaton + ?Sized>(
    dict: &TermDict<'_>,
    automaton: &mut A,
    start: u64,
    end: u64,
    deadline: Option<CpuDeadline>,
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
    // While skipping: the length of the dead prefix, and the key to skip to.
    let mut skip: Option<(usize, Vec<u8>)> = None;
    let mut ordinal = start;
    // The entries before `ordinal` in its block are read only to rebuild the term.
    let mut block = (start / TERMS_PER_BLOCK as u64) as usize;
    let mut at = block as u64 * TERMS_PER_BLOCK as u64;
    let mut cursor = dict.block_cursor(block)?;
    let mut visits = 0u32;
    while ordinal < end {
        if visits % CLOCK_EVERY == 0 && deadline.is_some_and(|d| d.passed(visits)) {
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
                if let Some((_, key)) = &skip {
                    if dict.first_term(block)? < key.as_slice() {
                        // The block starts below the key: go to the last block that
                        // does, whose entries below it are then passed over.
                        block = last_block_below(dict, block, key)?;
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
        if let Some((dead, key)) = &skip {
            if kept >= *dead || term.as_slice() < key.as_slice() {
                continue; // under the dead prefix, or below the next live key
            }
            skip = None;
        }
        let mut dead_at = None;
        for index in states.len() - 1..term.len() {
            let (Some(&state), Some(&byte)) = (states.last(), term.get(index)) else { break };
            let next = automaton.step(state, byte);
            states.push(next);
            if !automaton.can_match(next) {
                dead_at = Some(index);
                break;
            }
        }
        match dead_at {
            Some(dead) => match next_live_key(automaton, &states, &term, dead) {
                Some(key) => skip = Some((dead + 1, key)),
                None => break, // no later term can match
            },
            None => {
                let state = *states.last().ok_or_else(|| Corrupt::new("automaton states lost"))?;
                if automaton.is_match(state, &term) {
                    let at = u32::try_from(this).map_err(|_| Corrupt::new("more than 2^32 terms"))?;
                    found(at, &term, slot);
                }
            }
        }
    }
    Ok(true)
}

/// The doc_freq of each of the ascending `keys` (0 where the dictionary lacks it).
///
/// Keys that lie close together (the terms a pattern found in other segments, mostly
/// this segment's own terms) are matched against one scan of the dictionary
/// ([`TermDict::scan_sorted`]); keys spread wide are each found by a seek, a key inside
/// the block decoded for the previous one there.
pub fn doc_freqs_sorted(dict: &TermDict<'_>, keys: &[&[u8]]) -> Decoded<Vec<u32>> {
    let mut out = vec![0; keys.len()];
    let scanned = dict.scan_sorted(keys, |at, info| {
        if let Some(slot) = out.get_mut(at) {
            *slot = info.doc_freq;
        }
    })?;
    if scanned { Ok(out) } else { doc_freqs_sought(dict, keys) }
}

/// [`doc_freqs_sorted`] by a seek per key.
fn doc_freqs_sought(dict: &TermDict<'_>, keys: &[&[u8]]) -> Decoded<Vec<u32>> {
    let mut blocks = Blocks { dict, block: None, entries: Vec::with_capacity(TERMS_PER_BLOCK) };
    let mut out = Vec::with_capacity(keys.len());
    for &key in keys {
        let inside = blocks.block.is_some() && blocks.entries.last().is_some_and(|(last, _)| key <= last.as_slice());
        let ordinal = if inside {
            let first = blocks.block.unwrap_or(0) as u64 * TERMS_PER_BLOCK as u64;
            first + blocks.entries.partition_point(|(term, _)| term.as_slice() < key) as u64
        } else {
            dict.bound(key, false)?
        };
        let freq = if ordinal < dict.len() {
            let (term, info) = blocks.entry(ordinal)?;
            if term.as_slice() == key { info.doc_freq } else { 0 }
        } else {
            0
        };
        out.push(freq);
    }
    Ok(out)
}

/// (ordinal, doc_freq) of each of the ascending `ordinals`, decoding each block once.
pub fn doc_freqs_at(dict: &TermDict<'_>, ordinals: &[u32]) -> Decoded<Vec<(u32, u32)>> {
    let mut out = Vec::with_capacity(ordinals.len());
    entries_at(dict, ordinals, |ordinal, _, info| out.push((ordinal, info.doc_freq)))?;
    Ok(out)
}

/// Calls `each(ordinal, term, info)` for each of the ascending `ordinals`, reading each
/// block once, up to the last ordinal wanted there (an ordinal past the dictionary, or
/// one out of order, is damage: they come from a lexicon).
pub fn entries_at(dict: &TermDict<'_>, ordinals: &[u32], mut each: impl FnMut(u32, &[u8], &TermInfo)) -> Decoded<()> {
    let per_block = TERMS_PER_BLOCK as u64;
    let mut rest = ordinals;
    while let Some(&first) = rest.first() {
        if u64::from(first) >= dict.len() {
            return Err(Corrupt::new("the lexicon points past the terms"));
        }
        let block_end = (u64::from(first) / per_block + 1) * per_block;
        let here = rest.partition_point(|&ordinal| u64::from(ordinal) < block_end);
        let (wanted, later) = rest.split_at(here);
        let last = wanted.last().map_or(first, |&ordinal| ordinal);
        let mut next = wanted.iter().peekable();
        dict.scan(u64::from(first), u64::from(last) + 1, |ordinal, term, info| {
            while let Some(&&at) = next.peek() {
                if u64::from(at) != ordinal {
                    break;
                }
                each(at, term, &info);
                next.next();
            }
        })?;
        if next.peek().is_some() {
            return Err(Corrupt::new("the lexicon's ordinals are out of order"));
        }
        rest = later;
    }
    Ok(())
}
