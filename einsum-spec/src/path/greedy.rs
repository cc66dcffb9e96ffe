//! Greedy trees: contract, again and again, the pair of tensors that share a label and whose
//! result is smallest against what it replaces; with noise, the same with Boltzmann sampling.

use super::graph::{Graph, Holders};
use super::rng::Rng;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

/// A label held by more tensors than this (a hyperedge) proposes only pairs of tensors next
/// to each other in its list, so that candidate pairs stay linear in the network's size.
const ALL_PAIRS_UP_TO: usize = 16;

/// How a greedy run ranks pairs. A pair of tensors of sizes `a` and `b` whose result has
/// size `c` scores `c - costmod * (a + b)`; lower is better. With a temperature, the score is
/// compared on a signed log scale and a Gumbel sample times the temperature is subtracted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scoring {
    pub(crate) costmod: f64,
    pub(crate) temperature: f64,
}

impl Scoring {
    /// opt_einsum's greedy: the memory a step frees, ties to the cheaper step.
    pub(crate) const PLAIN: Scoring = Scoring {
        costmod: 1.0,
        temperature: 0.0,
    };
}

/// A candidate pair in the queue, best first.
#[derive(PartialEq)]
struct Candidate {
    score: f64,
    cost: u128,
    a: usize,
    b: usize,
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.cost.cmp(&other.cost))
            .then(self.a.cmp(&other.a))
            .then(self.b.cmp(&other.b))
    }
}

/// A greedy tree's steps for `graph` (see [`super::Tree`] for their numbering). Pairs that
/// share no label are contracted only when no other pair is left, smallest first.
pub(crate) fn greedy(graph: &Graph, scoring: Scoring, rng: &mut Rng) -> Vec<(usize, usize)> {
    let n = graph.inputs.len();
    let mut steps = Vec::with_capacity(n.saturating_sub(1));
    if n < 2 {
        return steps;
    }
    let mut legs: Vec<Vec<usize>> = graph.inputs.clone();
    let mut sizes: Vec<u128> = legs.iter().map(|l| graph.size(l)).collect();
    let mut alive = vec![true; n];
    let mut remaining = n;
    let mut holders = Holders::of(graph);
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); graph.extents.len()];
    for (k, input) in legs.iter().enumerate() {
        for &l in input {
            by_label[l].push(k);
        }
    }
    let mut queue: BinaryHeap<Reverse<Candidate>> = BinaryHeap::new();
    let score = |holders: &Holders,
                 legs: &[Vec<usize>],
                 sizes: &[u128],
                 a: usize,
                 b: usize,
                 rng: &mut Rng| {
        let (result, cost) = holders.peek(graph, &legs[a], &legs[b]);
        let removed =
            graph.size(&result) as f64 - scoring.costmod * (sizes[a] as f64 + sizes[b] as f64);
        let score = if scoring.temperature > 0.0 {
            removed.signum() * removed.abs().ln_1p() - scoring.temperature * rng.gumbel()
        } else {
            removed
        };
        Candidate { score, cost, a, b }
    };
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    for list in &by_label {
        for (x, y) in pairs(list) {
            if seen.insert((x.min(y), x.max(y))) {
                queue.push(Reverse(score(&holders, &legs, &sizes, x, y, rng)));
            }
        }
    }
    drop(seen);
    while remaining > 1 {
        let Some(Reverse(candidate)) = queue.pop() else {
            break;
        };
        let (a, b) = (candidate.a, candidate.b);
        if !alive[a] || !alive[b] {
            continue;
        }
        let (result, _) = holders.contract(graph, &legs[a], &legs[b]);
        let c = legs.len();
        for &l in legs[a].iter().chain(&legs[b]) {
            by_label[l].retain(|&k| k != a && k != b);
        }
        for &l in &result {
            by_label[l].push(c);
        }
        sizes.push(graph.size(&result));
        legs.push(result);
        alive[a] = false;
        alive[b] = false;
        alive.push(true);
        remaining -= 1;
        steps.push((a, b));
        let mut neighbours: Vec<usize> = Vec::new();
        for &l in &legs[c] {
            let list = &by_label[l];
            let near = if list.len() > ALL_PAIRS_UP_TO {
                &list[list.len() - ALL_PAIRS_UP_TO..]
            } else {
                &list[..]
            };
            neighbours.extend(near.iter().copied().filter(|&k| k != c));
        }
        neighbours.sort_unstable();
        neighbours.dedup();
        for x in neighbours {
            queue.push(Reverse(score(&holders, &legs, &sizes, x, c, rng)));
        }
    }
    // What is left shares no label: outer products, the two smallest first.
    let mut left: Vec<usize> = (0..legs.len()).filter(|&k| alive[k]).collect();
    while left.len() > 1 {
        left.sort_by_key(|&k| Reverse(sizes[k]));
        let (Some(a), Some(b)) = (left.pop(), left.pop()) else {
            break;
        };
        let (result, _) = holders.contract(graph, &legs[a], &legs[b]);
        let c = legs.len();
        sizes.push(graph.size(&result));
        legs.push(result);
        steps.push((a.min(b), a.max(b)));
        left.push(c);
    }
    steps
}

/// The candidate pairs among the tensors holding one label: all of them, or for a hyperedge
/// only neighbours in the list.
fn pairs(list: &[usize]) -> Vec<(usize, usize)> {
    if list.len() <= ALL_PAIRS_UP_TO {
        let mut out = Vec::new();
        for (i, &x) in list.iter().enumerate() {
            for &y in &list[i + 1..] {
                out.push((x, y));
            }
        }
        out
    } else {
        list.windows(2).map(|w| (w[0], w[1])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::evaluate;
    use super::*;

    #[test]
    fn a_chain_is_contracted_along_the_chain() {
        // ij,jk,kl,lm->im with small bonds: no outer product is ever chosen.
        let inputs: Vec<Vec<usize>> = (0..4).map(|n| vec![n, n + 1]).collect();
        let graph = Graph::new(&inputs, &[0, 4], &[10, 2, 2, 2, 10]);
        let steps = greedy(&graph, Scoring::PLAIN, &mut Rng::new(0));
        assert_eq!(steps.len(), 3);
        let (_, cost) = evaluate(&graph, &steps);
        // The two bonds of 2 first, then the two ends: 40 + 40 + 400 at most.
        assert!(cost.multiply_adds <= 480, "{steps:?}: {cost:?}");
    }

    #[test]
    fn disconnected_operands_end_in_outer_products() {
        let graph = Graph::new(
            &[vec![0], vec![1], vec![2, 3], vec![3]],
            &[0, 1, 2],
            &[2; 4],
        );
        let steps = greedy(&graph, Scoring::PLAIN, &mut Rng::new(0));
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0], (2, 3), "the one shared label first");
    }
}
