//! Pruned top-k against exhaustive scoring on random segments (seeded), and boolean
//! logic against sets computed directly.

use std::collections::BTreeSet;

use crate::merge::paths_in;
use crate::query::boolean::Segment;
use crate::query::plan::{BoolNode, LeafField, Node, TermLeaf};
use crate::query::scorer::{Bm25, NormCache, Variant};
use crate::query::term::TermCache;
use crate::query::topk::ScratchPool;
use crate::query::topk;
use crate::segment_reader::SegmentReader;
use crate::segment_writer::{DocumentInput, FieldSpec, SegmentBuilder};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A word index with a Zipf-like skew: a few words in most documents.
    fn word(&mut self, vocabulary: u64) -> u64 {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((vocabulary as f64).powf(u) as u64).saturating_sub(1).min(vocabulary - 1)
    }
}

/// A segment of `docs` documents with fields "title" and "body" of random words.
fn random_segment(name: &str, docs: u32, seed: u64) -> (SegmentReader, String) {
    let dir = std::env::temp_dir().join(format!("searchlib-query-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.to_string_lossy().into_owned();
    let spec = |name: &str| FieldSpec { name: name.into(), analyzer: String::new(), norms: true, positions: true, stemmer: String::new() };
    let mut builder = SegmentBuilder::new(vec![spec("title"), spec("body")], vec![]).unwrap();
    let mut rng = Rng(seed);
    for doc in 0..docs {
        let mut tokens = Vec::new();
        for (field, length) in [(0usize, 1 + rng.below(6)), (1, rng.below(300))] {
            let words: Vec<String> = (0..length).map(|_| format!("w{}", rng.word(400))).collect();
            let positions = (0..words.len() as u32).collect();
            tokens.push((field, words, positions));
        }
        let id = format!("d{doc}");
        builder.add(&DocumentInput { stored: b"{}".to_vec(), id: id.into_bytes(), values: vec![], tokens, columns: vec![] }).unwrap();
    }
    let paths = paths_in(&dir, name);
    builder.write(&paths).unwrap();
    (SegmentReader::open(&paths, docs).unwrap(), dir)
}

fn leaf(rng: &mut Rng) -> Node {
    let fields = match rng.below(3) {
        0 => vec![("title", 1.0 + rng.below(3) as f64)],
        1 => vec![("body", 1.0)],
        _ => vec![("title", 2.0), ("body", 0.5 + rng.below(2) as f64)],
    };
    Node::Term(TermLeaf {
        fields: fields.into_iter().map(|(name, weight)| LeafField { name: name.into(), weight, average: 3.0 + rng.below(150) as f64 }).collect(),
        term: format!("w{}", rng.word(400)),
        boost: 0.5 + rng.below(4) as f64,
        df: None,
        // N above every df, as real statistics have it (Robertson's idf is NaN past it).
        n: 2500.0,
    })
}

fn exhaustive(plan: &Node, segments: &[Segment<'_>], bm25: &Bm25, k: usize) -> (Vec<topk::Hit>, u64) {
    let mut hits = Vec::new();
    for (segment, (docs, scores)) in topk::all_matches(plan, segments, bm25).unwrap().into_iter().enumerate() {
        for (doc, score) in docs.into_iter().zip(scores) {
            hits.push(topk::Hit { score, segment: segment as u32, doc });
        }
    }
    let total = hits.len() as u64;
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then((a.segment, a.doc).cmp(&(b.segment, b.doc))));
    hits.truncate(k);
    (hits, total)
}

fn assert_same(pruned: &[topk::Hit], expected: &[topk::Hit]) {
    assert_eq!(pruned.len(), expected.len());
    for (p, e) in pruned.iter().zip(expected) {
        assert!((p.score - e.score).abs() <= 1e-9 * e.score.abs().max(1.0), "{p:?} vs {e:?}");
        // Equal addresses, unless two documents tie (to rounding) and swap, within the
        // top k or across its end (sums taken in another order round apart).
        if (p.segment, p.doc) != (e.segment, e.doc) {
            let last = expected.last().map_or(0.0, |x| x.score);
            let ties_last = (p.score - last).abs() <= 1e-9 * last.abs().max(1.0);
            assert!(ties_last || expected.iter().any(|x| (x.segment, x.doc) == (p.segment, p.doc)), "{p:?} not in {expected:?}");
        }
    }
}

#[test]
fn pruned_and_summed_find_the_exhaustive_top_k() {
    let (first, dir) = random_segment("a", 1500, 11);
    let (second, _) = random_segment("b", 700, 12);
    let norms = [NormCache::default(), NormCache::default()];
    let terms = [TermCache::default(), TermCache::default()];
    let scratch = [ScratchPool::default(), ScratchPool::default()];
    let mut rng = Rng(5);
    let live: Vec<bool> = (0..700).map(|_| rng.below(5) != 0).collect();
    let segments =
        [
        Segment { reader: &first, live: None, norms: &norms[0], terms: &terms[0], scratch: &scratch[0] },
        Segment { reader: &second, live: Some(&live), norms: &norms[1], terms: &terms[1], scratch: &scratch[1] },
    ];
    for variant in [Variant::Lucene, Variant::Robertson, Variant::Atire, Variant::Bm25l, Variant::Bm25Plus] {
        let bm25 = Bm25 { variant, k1: 0.5 + rng.below(3) as f64 * 0.4, b: [0.0, 0.75, 1.0][rng.below(3) as usize] };
        for _ in 0..40 {
            // Now and then a pattern's many terms, or disjunctions nested in one (run flattened).
            let terms = if rng.below(8) == 0 { 40 } else { 1 + rng.below(7) as usize };
            let mut should: Vec<Node> = (0..terms).map(|_| leaf(&mut rng)).collect();
            if terms > 2 && rng.below(3) == 0 {
                let inner = should.split_off(terms / 2);
                should.push(Node::Bool(BoolNode { should: inner, min_should: 1, ..BoolNode::default() }));
            }
            let mut plan = Node::Bool(BoolNode { should, min_should: 1, ..BoolNode::default() });
            let unresolved = plan.clone();
            topk::resolve_doc_freqs(&mut plan, &segments).unwrap();
            for k in [1, 10, 100] {
                // The dfs counted in the pruned search's own pass are the resolved ones.
                let counted = topk::search_with(&mut unresolved.clone(), &segments, &bm25, k, true, topk::Strategy::Pruned).unwrap();
                let resolved = topk::search_with(&mut plan.clone(), &segments, &bm25, k, true, topk::Strategy::Pruned).unwrap();
                assert_eq!(counted.hits, resolved.hits);
                let (expected, total) = exhaustive(&plan, &segments, &bm25, k);
                for strategy in [topk::Strategy::Pruned, topk::Strategy::Summed, topk::Strategy::Auto] {
                    let exact = topk::search_with(&mut plan.clone(), &segments, &bm25, k, true, strategy).unwrap();
                    assert_eq!(exact.total, total);
                    assert!(exact.exact);
                    assert_same(&exact.hits, &expected);
                    let cheap = topk::search_with(&mut plan.clone(), &segments, &bm25, k, false, strategy).unwrap();
                    // One segment summed whole counts exactly, pruned or not.
                    let one = topk::search_with(&mut unresolved.clone(), &segments[..1], &bm25, k, true, strategy).unwrap();
                    let mut plan_one = unresolved.clone();
                    topk::resolve_doc_freqs(&mut plan_one, &segments[..1]).unwrap();
                    let (expected_one, total_one) = exhaustive(&plan_one, &segments[..1], &bm25, k);
                    assert_eq!(one.total, total_one);
                    assert_same(&one.hits, &expected_one);
                    assert!(cheap.total <= total && cheap.total >= cheap.hits.len() as u64);
                    assert_same(&cheap.hits, &expected);
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn summed_conjunctions_find_the_exhaustive_top_k() {
    let (first, dir) = random_segment("c", 1500, 21);
    let (second, _) = random_segment("d", 700, 22);
    let norms = [NormCache::default(), NormCache::default()];
    let terms = [TermCache::default(), TermCache::default()];
    let scratch = [ScratchPool::default(), ScratchPool::default()];
    let mut rng = Rng(9);
    let live: Vec<bool> = (0..700).map(|_| rng.below(5) != 0).collect();
    let segments = [
        Segment { reader: &first, live: None, norms: &norms[0], terms: &terms[0], scratch: &scratch[0] },
        Segment { reader: &second, live: Some(&live), norms: &norms[1], terms: &terms[1], scratch: &scratch[1] },
    ];
    let mut summed = 0;
    for variant in [Variant::Lucene, Variant::Robertson, Variant::Atire, Variant::Bm25l, Variant::Bm25Plus] {
        let bm25 = Bm25 { variant, k1: 0.5 + rng.below(3) as f64 * 0.4, b: [0.0, 0.75, 1.0][rng.below(3) as usize] };
        for _ in 0..40 {
            let must: Vec<Node> = (0..2 + rng.below(3)).map(|_| leaf(&mut rng)).collect();
            let mut plan = Node::Bool(BoolNode { must, min_should: 0, ..BoolNode::default() });
            topk::resolve_doc_freqs(&mut plan, &segments).unwrap();
            let Node::Bool(node) = &plan else { unreachable!() };
            let leaves: Vec<TermLeaf> = node.must.iter().map(|n| if let Node::Term(l) = n { l.clone() } else { unreachable!() }).collect();
            for k in [1, 10, 100] {
                let (expected, total) = exhaustive(&plan, &segments, &bm25, k);
                let found = topk::search(&mut plan.clone(), &segments, &bm25, k, true).unwrap();
                assert_eq!(found.total, total);
                assert_same(&found.hits, &expected);
                // Each segment summed alone, where the costs allow it, against its own matches.
                for (index, segment) in segments.iter().enumerate() {
                    let mut top = topk::TopK::new(k);
                    let Some(matched) = topk::conjunction_summed(&leaves, segment, index as u32, &bm25, &mut top).unwrap() else { continue };
                    summed += 1;
                    let (alone, count) = exhaustive(&plan, std::slice::from_ref(segment), &bm25, k);
                    assert_eq!(matched, count);
                    let alone: Vec<topk::Hit> = alone.into_iter().map(|h| topk::Hit { segment: index as u32, ..h }).collect();
                    assert_same(&top.into_sorted(), &alone);
                }
            }
        }
    }
    assert!(summed > 100, "the summed path ran {summed} times");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The live docs of one segment matching a leaf (by exhaustive scoring).
fn docs_of(plan: &Node, segment: &Segment<'_>, bm25: &Bm25) -> BTreeSet<u32> {
    let found = topk::all_matches(plan, std::slice::from_ref(segment), bm25).unwrap();
    found.into_iter().next().unwrap().0.into_iter().collect()
}

#[test]
fn boolean_logic_matches_set_algebra() {
    let (reader, dir) = random_segment("c", 1200, 21);
    let norms = NormCache::default();
    let terms = TermCache::default();
    let scratch = ScratchPool::default();
    let mut rng = Rng(9);
    let live: Vec<bool> = (0..1200).map(|_| rng.below(7) != 0).collect();
    let segment = Segment { reader: &reader, live: Some(&live), norms: &norms, terms: &terms, scratch: &scratch };
    let bm25 = Bm25 { variant: Variant::Lucene, k1: 1.2, b: 0.75 };
    let all: BTreeSet<u32> = (0..1200).filter(|&d| live[d as usize]).collect();
    for _ in 0..60 {
        let mut leaves: Vec<Node> = (0..6).map(|_| leaf(&mut rng)).collect();
        for node in &mut leaves {
            topk::resolve_doc_freqs(node, std::slice::from_ref(&segment)).unwrap();
        }
        let sets: Vec<BTreeSet<u32>> = leaves.iter().map(|n| docs_of(n, &segment, &bm25)).collect();
        let needed = rng.below(4) as usize;
        let plan = Node::Bool(BoolNode {
            must: vec![leaves[0].clone()],
            should: leaves[1..4].to_vec(),
            must_not: vec![leaves[4].clone()],
            filter: vec![leaves[5].clone()],
            min_should: needed,
        });
        let expected: BTreeSet<u32> = sets[0]
            .iter()
            .copied()
            .filter(|d| sets[5].contains(d) && !sets[4].contains(d))
            .filter(|d| sets[1..4].iter().filter(|s| s.contains(d)).count() >= needed)
            .collect();
        assert_eq!(docs_of(&plan, &segment, &bm25), expected);
        let plan = Node::Bool(BoolNode { should: leaves[..4].to_vec(), min_should: needed.max(1), ..BoolNode::default() });
        let expected: BTreeSet<u32> =
            all.iter().copied().filter(|d| sets[..4].iter().filter(|s| s.contains(d)).count() >= needed.max(1)).collect();
        assert_eq!(docs_of(&plan, &segment, &bm25), expected);
        let plan = Node::Bool(BoolNode { must: vec![Node::MatchAll { score: 0.0 }], must_not: vec![leaves[0].clone()], ..BoolNode::default() });
        let expected: BTreeSet<u32> = all.difference(&sets[0]).copied().collect();
        let got = docs_of(&plan, &segment, &bm25);
        if got != expected {
            let extra: Vec<_> = got.difference(&expected).collect();
            eprintln!("{:?} extra {extra:?} live0 {} in0 {}", leaves[0], live[0], sets[0].contains(&0));
        }
        assert_eq!(got, expected);
        // Many clauses take the summed path; it must agree with the merged one.
        let many: Vec<Node> = (0..40).map(|_| leaf(&mut rng)).collect();
        let mut plan = Node::Bool(BoolNode { should: many, min_should: 2, ..BoolNode::default() });
        topk::resolve_doc_freqs(&mut plan, std::slice::from_ref(&segment)).unwrap();
        let Node::Bool(node) = &plan else { unreachable!() };
        let sets: Vec<BTreeSet<u32>> = node.should.iter().map(|n| docs_of(n, &segment, &bm25)).collect();
        let expected: BTreeSet<u32> = all.iter().copied().filter(|d| sets.iter().filter(|s| s.contains(d)).count() >= 2).collect();
        assert_eq!(docs_of(&plan, &segment, &bm25), expected);
        // A pattern's terms as a set (ranges of one term each, read into one bitset), and two
        // such sets OR'ed, each match scoring its constant: doc lists merged by galloping.
        let words: Vec<Vec<u8>> = (0..1 + rng.below(30)).map(|_| format!("w{}", rng.word(400)).into_bytes()).collect();
        let field = if rng.below(2) == 0 { "title" } else { "body" };
        let set = |words: &[Vec<u8>], field: &str| {
            let ranges = words
                .iter()
                .map(|w| Node::TermRange { field: field.into(), low: Some((w.clone(), true)), high: Some((w.clone(), true)) })
                .collect();
            Node::Bool(BoolNode { should: ranges, min_should: 1, ..BoolNode::default() })
        };
        let holding = |words: &[Vec<u8>], field: &str| -> BTreeSet<u32> {
            words
                .iter()
                .flat_map(|w| {
                    let term = String::from_utf8(w.clone()).unwrap();
                    let fields = vec![LeafField { name: field.into(), weight: 1.0, average: 10.0 }];
                    docs_of(&Node::Term(TermLeaf { fields, term, boost: 1.0, df: Some(1), n: 2500.0 }), &segment, &bm25)
                })
                .collect()
        };
        let expected = holding(&words, field);
        assert_eq!(docs_of(&set(&words, field), &segment, &bm25), expected);
        let plan = Node::Bool(BoolNode {
            should: vec![
                Node::Constant { node: Box::new(set(&words, "title")), score: 1.0 },
                Node::Constant { node: Box::new(set(&words, "body")), score: 2.0 },
            ],
            min_should: 1,
            ..BoolNode::default()
        });
        let (in_title, in_body) = (holding(&words, "title"), holding(&words, "body"));
        let found = topk::all_matches(&plan, std::slice::from_ref(&segment), &bm25).unwrap().remove(0);
        let expected: Vec<(u32, f64)> = all
            .iter()
            .map(|d| (*d, f64::from(u8::from(in_title.contains(d))) + 2.0 * f64::from(u8::from(in_body.contains(d)))))
            .filter(|&(_, score)| score > 0.0)
            .collect();
        assert_eq!(found.0.into_iter().zip(found.1).collect::<Vec<_>>(), expected);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_hand_made_plan_is_checked() {
    let deep = (0..300).fold(Node::Empty, |node, _| Node::Boost { node: Box::new(node), factor: 1.0 });
    assert!(deep.validate(&[10]).is_err());
    assert!(Node::Precomputed(vec![(vec![3, 2], vec![1.0, 1.0])]).validate(&[10]).is_err());
    assert!(Node::Precomputed(vec![(vec![2, 3], vec![1.0])]).validate(&[10]).is_err());
    assert!(Node::Precomputed(vec![(vec![2, 30], vec![1.0, 1.0])]).validate(&[10]).is_err());
    assert!(Node::Precomputed(vec![(vec![2, 3], vec![1.0, 1.0])]).validate(&[10]).is_ok());
    let twice = TermLeaf {
        fields: vec![LeafField { name: "a".into(), weight: 1.0, average: 1.0 }; 2],
        term: "x".into(),
        boost: 1.0,
        df: None,
        n: 1.0,
    };
    assert!(Node::Term(twice).validate(&[10]).is_err());
}


#[test]
fn a_dictionary_look_up_finds_every_term_and_no_other() {
    let (reader, dir) = random_segment("d", 400, 31);
    let dict = reader.dict("body").unwrap().unwrap();
    for entry in dict.iter() {
        let (term, info) = entry.unwrap();
        assert_eq!(dict.lookup(&term).unwrap(), Some(info));
        let mut absent = term.clone();
        absent.push(b'~');
        assert_eq!(dict.lookup(&absent).unwrap(), None);
    }
    for absent in [&b""[..], b"a", b"w", b"zzz", b"w3999"] {
        assert_eq!(dict.lookup(absent).unwrap(), None);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pattern_expanded_across_segments_unites_what_each_picked() {
    use crate::patterns::{expand_across, Bounds, Compiled, PatternSpec};

    let built: Vec<(SegmentReader, String)> = (0..3).map(|i| random_segment(&format!("x{i}"), 150 + 50 * i, 70 + u64::from(i))).collect();
    let readers: Vec<&SegmentReader> = built.iter().map(|(reader, _)| reader).collect();
    // Each segment's terms with the prefix, by brute force over its whole dictionary.
    let own: Vec<Vec<(Vec<u8>, u32)>> = readers
        .iter()
        .map(|reader| {
            let dict = reader.dict("body").unwrap().unwrap();
            dict.iter().map(Result::unwrap).filter(|(term, _)| term.starts_with(b"w1")).map(|(term, info)| (term, info.doc_freq)).collect()
        })
        .collect();
    for keep in [None, Some(4)] {
        let mut compiled = Compiled::new(&PatternSpec::Prefix("w1".into())).unwrap();
        let across = expand_across(&readers, "body", &mut compiled, true, Bounds { deadline: None, keep }).unwrap();
        assert!(across.complete);
        // Per segment, what it picked: everything, or its `keep` most frequent (ties: first in order).
        let picked: Vec<Vec<(Vec<u8>, u32)>> = own
            .iter()
            .map(|terms| {
                let mut ranked = terms.clone();
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                ranked.truncate(keep.unwrap_or(usize::MAX));
                ranked.sort();
                ranked
            })
            .collect();
        let union: BTreeSet<Vec<u8>> = picked.iter().flatten().map(|(term, _)| term.clone()).collect();
        let terms: Vec<Vec<u8>> = across.terms.iter().map(|term| term.as_bytes().to_vec()).collect();
        assert_eq!(terms, union.iter().cloned().collect::<Vec<_>>());
        assert_eq!(across.matched, own.iter().map(Vec::len).sum::<usize>());
        assert_eq!(across.cut, keep.is_some_and(|keep| own.iter().any(|terms| terms.len() > keep)));
        // No lexicon: a segment counts the terms it picked itself, and no other.
        assert_eq!(across.doc_freqs.len(), readers.len() * terms.len());
        for (row, mine) in across.doc_freqs.chunks(terms.len().max(1)).zip(&picked) {
            let expected: Vec<u32> = terms.iter().map(|term| mine.iter().find(|(t, _)| t == term).map_or(0, |p| p.1)).collect();
            assert_eq!(row, expected.as_slice());
        }
    }
    for (_, dir) in built {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
