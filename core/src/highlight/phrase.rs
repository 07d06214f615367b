//! Where a phrase occurs among one text's re-analyzed positions, by Lucene's rule.
//!
//! A phrase is a list of slots: a query word (a term) and its offset in the query (0, then
//! not decreasing; a dropped stop word leaves a gap). An assignment gives each slot a
//! position of its term; a slot's value is its position minus its offset. An assignment
//! matches with slop `s` when the values lie within `s` of each other, and every slot
//! takes its own position, so a word the phrase repeats needs as many occurrences
//! (`"alfa alfa"~1` does not match one `alfa`). This is the rule search applies; here it
//! runs over the handful of positions one stored text holds, so it can be simple.
//!
//! A matching assignment can always be moved to start (its smallest value) at some slot's
//! value, so only those starts `L` are tried, in ascending order. At each, a slot may take
//! a position in `[L + offset, L + offset + slop]`; the slots of one term have windows of
//! equal length in offset order, so giving each the smallest free position that fits is
//! optimal. Each slot's smallest candidate only moves forward as `L` grows. The first slot
//! tries each of its positions in the window in turn, so every first-word position where an
//! occurrence starts is found (search's phrase frequency); the work is the number of starts
//! times the first word's positions in a window times the number of slots.

/// One phrase: per slot, the index of its term's positions and its offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub slots: Vec<(usize, u32)>,
    pub slop: u32,
}

/// Each occurrence of `phrase` as the position of every slot, given each term's ascending,
/// distinct positions (`positions[term]`). One occurrence per first-slot position, the one
/// whose window starts earliest, as search counts them (a phrase's frequency is the number
/// of first-word positions where an occurrence starts).
pub fn occurrences(phrase: &Phrase, positions: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let slots = &phrase.slots;
    if slots.is_empty() || slots.iter().any(|&(term, _)| term >= positions.len()) {
        return Vec::new();
    }
    // A word repeated n times needs n positions.
    for &(term, _) in slots {
        let needed = slots.iter().filter(|&&(other, _)| other == term).count();
        if positions[term].len() < needed {
            return Vec::new();
        }
    }
    let mut starts: Vec<i64> = slots
        .iter()
        .flat_map(|&(term, offset)| positions[term].iter().map(move |&p| i64::from(p) - i64::from(offset)))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    // The earlier slot of the same term, if any: a slot takes a position after it.
    let previous_same: Vec<Option<usize>> =
        (0..slots.len()).map(|k| (0..k).rev().find(|&j| slots[j].0 == slots[k].0)).collect();
    let slop = i64::from(phrase.slop);
    let mut lowest = vec![0usize; slots.len()]; // per slot: first index with position >= L + offset
    let mut taken = vec![0usize; slots.len()];
    let mut found: Vec<Vec<u32>> = Vec::new();
    let mut seen = vec![false; positions[slots[0].0].len()]; // per first-word position
    for &start in &starts {
        // Slot 0 takes each of its positions in the window in turn (a later one leaves the
        // other slots of its word less room, so the first that fails ends the turn).
        let first_list = &positions[slots[0].0];
        let from = start + i64::from(slots[0].1);
        while lowest[0] < first_list.len() && i64::from(first_list[lowest[0]]) < from {
            lowest[0] += 1;
        }
        let mut first_index = lowest[0];
        while first_index < first_list.len() && i64::from(first_list[first_index]) <= from + slop {
            taken[0] = first_index;
            if !assign_rest(slots, positions, &previous_same, start, slop, &mut lowest, &mut taken) {
                break;
            }
            let layout: Vec<u32> = slots.iter().zip(&taken).map(|(&(term, _), &i)| positions[term][i]).collect();
            if !seen[first_index] {
                seen[first_index] = true;
                found.push(layout);
            }
            first_index += 1;
        }
    }
    found.sort_unstable_by_key(|layout| layout[0]);
    found
}

/// Gives slots 1.. the smallest free position in the window starting at `start` (slot 0's
/// is `taken[0]`); false when one has none.
fn assign_rest(
    slots: &[(usize, u32)],
    positions: &[Vec<u32>],
    previous_same: &[Option<usize>],
    start: i64,
    slop: i64,
    lowest: &mut [usize],
    taken: &mut [usize],
) -> bool {
    for (k, &(term, offset)) in slots.iter().enumerate().skip(1) {
        let list = &positions[term];
        let from = start + i64::from(offset);
        while lowest[k] < list.len() && i64::from(list[lowest[k]]) < from {
            lowest[k] += 1;
        }
        let index = match previous_same[k] {
            Some(j) => lowest[k].max(taken[j] + 1),
            None => lowest[k],
        };
        if index >= list.len() || i64::from(list[index]) > from + slop {
            return false;
        }
        taken[k] = index;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(slots: &[(usize, u32)], slop: u32) -> Phrase {
        Phrase { slots: slots.to_vec(), slop }
    }

    #[test]
    fn exact_phrase_only_where_the_words_follow_each_other() {
        // direct talks: direct at 1 and 4, talk at 3 and 5.
        let positions = vec![vec![1, 4], vec![3, 5]];
        assert_eq!(occurrences(&phrase(&[(0, 0), (1, 1)], 0), &positions), [vec![4, 5]]);
    }

    #[test]
    fn reversed_words_need_slop_two_and_gaps_count() {
        // "talks were direct": talk at 1, direct at 3.
        let positions = vec![vec![3], vec![1]];
        let direct_talk = |slop| phrase(&[(0, 0), (1, 1)], slop);
        assert!(occurrences(&direct_talk(2), &positions).is_empty());
        assert_eq!(occurrences(&direct_talk(3), &positions), [vec![3, 1]]);
        // "talks of peace" with the stop word's gap: talk at 0, peace at 2.
        let gap = phrase(&[(0, 0), (1, 2)], 0);
        assert_eq!(occurrences(&gap, &[vec![1, 6], vec![3, 5]]), [vec![1, 3]]);
    }

    #[test]
    fn a_repeated_word_needs_as_many_occurrences() {
        let alfa2 = phrase(&[(0, 0), (0, 1)], 1);
        assert!(occurrences(&alfa2, &[vec![4]]).is_empty(), "one alfa is not alfa alfa");
        assert_eq!(occurrences(&alfa2, &[vec![4, 5]]), [vec![4, 5]]);
        let alfa3 = phrase(&[(0, 0), (0, 1), (0, 2)], 1);
        assert!(occurrences(&alfa3, &[vec![0, 1]]).is_empty(), "alfa alfa is not alfa alfa alfa");
        assert_eq!(occurrences(&alfa3, &[vec![0, 1, 3]]), [vec![0, 1, 3]]);
        assert!(occurrences(&phrase(&[(0, 0), (0, 1), (0, 2)], 0), &[vec![0, 1, 3]]).is_empty());
    }

    #[test]
    fn one_occurrence_per_first_word_position_earliest_window() {
        // "talk direct talk", phrase "direct talk"~2: the window before direct is shown.
        let positions = vec![vec![1], vec![0, 2]];
        assert_eq!(occurrences(&phrase(&[(0, 0), (1, 1)], 2), &positions), [vec![1, 0]]);
        // "direct direct talk"~1: both directs start an occurrence.
        let positions = vec![vec![0, 1], vec![2]];
        assert_eq!(occurrences(&phrase(&[(0, 0), (1, 1)], 1), &positions), [vec![0, 2], vec![1, 2]]);
        // "talk direct direct"~3: both directs again, though the window starts before both.
        let positions = vec![vec![1, 2], vec![0]];
        assert_eq!(occurrences(&phrase(&[(0, 0), (1, 1)], 3), &positions), [vec![1, 0], vec![2, 0]]);
    }

    #[test]
    fn missing_terms_and_empty_phrases_match_nothing() {
        assert!(occurrences(&phrase(&[(0, 0), (1, 1)], 5), &[vec![1], vec![]]).is_empty());
        assert!(occurrences(&phrase(&[], 0), &[]).is_empty());
        assert!(occurrences(&phrase(&[(3, 0)], 0), &[vec![1]]).is_empty());
    }
}
