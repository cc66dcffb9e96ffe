//! Slicing: contracting once per value of some labels and summing (or, for output labels,
//! placing) the results, so that no intermediate exceeds a memory limit.
//!
//! Labels are chosen one at a time on a fixed tree: among the labels of the steps whose
//! result is over the limit, the one whose slicing leaves the smallest total (per-slice cost
//! times the number of slices) is taken, until every result fits.

use super::graph::Graph;
use super::tree::{evaluate, Cost};

/// The labels to slice so that every step's result of `steps` has at most `limit` elements,
/// in the order chosen, with the cost of one slice. Stops early (over the limit) when no
/// label is left to slice.
pub(crate) fn choose(graph: &Graph, steps: &[(usize, usize)], limit: u128) -> (Vec<usize>, Cost) {
    let mut sliced: Vec<usize> = Vec::new();
    let mut current = graph.clone();
    let (mut legs, mut cost) = evaluate(&current, steps);
    let over = |legs: &[Vec<usize>], graph: &Graph| -> Vec<usize> {
        let mut labels: Vec<usize> = legs[graph.inputs.len()..]
            .iter()
            .filter(|l| graph.size(l) > limit)
            .flatten()
            .copied()
            .filter(|&l| graph.extents[l] > 1)
            .collect();
        labels.sort_unstable();
        labels.dedup();
        labels
    };
    while cost.largest > limit {
        let mut best: Option<(u128, u128, usize, Graph, Vec<Vec<usize>>, Cost)> = None;
        for label in over(&legs, &current) {
            let mut trial = current.clone();
            let slices = trial.extents[label];
            trial.extents[label] = 1;
            let (trial_legs, trial_cost) = evaluate(&trial, steps);
            let total = trial_cost.multiply_adds.saturating_mul(slices);
            let key = (total, trial_cost.largest);
            if best.as_ref().is_none_or(|b| key < (b.0, b.1)) {
                best = Some((key.0, key.1, label, trial, trial_legs, trial_cost));
            }
        }
        let Some((_, _, label, trial, trial_legs, trial_cost)) = best else {
            break;
        };
        sliced.push(label);
        current = trial;
        legs = trial_legs;
        cost = trial_cost;
    }
    (sliced, cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slicing_brings_every_result_under_the_limit() {
        // A ring of four matrices of 16: the trace of their product. The best tree holds a
        // 16x16 intermediate; a limit of 16 elements needs one ring label sliced.
        let inputs: Vec<Vec<usize>> = (0..4).map(|n| vec![n, (n + 1) % 4]).collect();
        let graph = Graph::new(&inputs, &[], &[16; 4]);
        let steps = [(0, 1), (2, 3), (4, 5)];
        let (sliced, cost) = choose(&graph, &steps, 16);
        assert_eq!(sliced.len(), 1);
        assert!(cost.largest <= 16);
    }
}
