//! Slicing: contracting once per value of some labels and summing (or, for output labels,
//! placing) the results, so that no intermediate exceeds a memory limit.
//!
//! The limit bounds every step's result. Labels are chosen one at a time: among the labels of
//! the results over the limit, the one whose slicing leaves the smallest total (one slice's
//! multiply-adds times the number of slices, then the smaller peak of elements held at once)
//! on the current tree is taken; then the tree is planned again for the sliced network with
//! every result under the limit (exactly, or by subtree reconfiguration for large networks),
//! since the best tree of a sliced network is often another one. This repeats until every
//! result fits. When the budget runs out, or more than 512 labels are candidates (each trial is
//! a pass over the tree), the widest labels of each result still over the limit are sliced
//! in one pass over the tree as it is.
//!
//! Bounding the peak instead (the intermediates waiting for their sibling subtree, a step's
//! result and copies of its intermediate operands, `tree::peak`) was tried: on the network
//! benchmark it multiplied the slices by up to 10^5 for a measured peak still above the limit
//! on most networks, so the limit stays on the largest intermediate and the peak is reported.

use super::exact;
use super::graph::Graph;
use super::reconfigure::reconfigure;
use super::tree::{self, evaluate, peak, step_costs, Cost, Objective};
use super::{Budget, PlanOptions};

/// The labels to slice so that every step's result has at most `limit` elements (in the
/// order chosen), the tree for the sliced network, and one slice's cost. Stops early (over
/// the limit) when no label is left to slice.
pub(crate) fn slice(
    graph: &Graph,
    steps: Vec<(usize, usize)>,
    limit: u128,
    options: &PlanOptions,
    budget: &Budget,
) -> (Vec<usize>, Vec<(usize, usize)>, Cost) {
    let objective = Objective {
        minimize: options.minimize,
        limit: Some(limit),
    };
    let exactly = graph.inputs.len() <= options.exact_up_to.min(exact::MAX_TENSORS);
    let output: Vec<usize> = (0..graph.output.len())
        .filter(|&l| graph.output[l])
        .collect();
    let mut sliced: Vec<usize> = Vec::new();
    let mut current = graph.clone();
    let mut tree = steps;
    loop {
        if !budget.exhausted() {
            let replanned = if exactly {
                exact::optimal(&current, &current.inputs, &output, objective, None, budget)
                    .map(|(steps, _)| steps)
            } else if options.subtree > 2 {
                Some(reconfigure(
                    &current,
                    tree.clone(),
                    objective,
                    options.subtree,
                    budget,
                ))
            } else {
                None
            };
            if let Some(replanned) = replanned {
                tree = replanned;
            }
        }
        let cost = evaluate(&current, &tree).1;
        if cost.largest <= limit {
            return (sliced, tree, cost);
        }
        let label = (!budget.exhausted())
            .then(|| best_label(&current, &tree, limit))
            .flatten();
        let Some(label) = label else {
            slice_each_result(&mut current, &tree, limit, &mut sliced);
            let cost = evaluate(&current, &tree).1;
            return (sliced, tree, cost);
        };
        sliced.push(label);
        current.extents[label] = 1;
    }
}

/// More candidate labels than this, and slicing finishes with [`slice_each_result`].
const TRIED_LABELS_UP_TO: usize = 512;

/// Slices, in one pass over the tree, the widest labels of each result over `limit` until it
/// fits (labels sliced for one result shrink the others too): for when the budget is spent
/// or the candidates are too many to try each.
fn slice_each_result(
    graph: &mut Graph,
    steps: &[(usize, usize)],
    limit: u128,
    sliced: &mut Vec<usize>,
) {
    let (legs, _) = evaluate(graph, steps);
    for result in &legs[graph.inputs.len()..] {
        while graph.size(result) > limit {
            let widest = result
                .iter()
                .copied()
                .filter(|&l| graph.extents[l] > 1)
                .max_by_key(|&l| graph.extents[l]);
            let Some(label) = widest else { break };
            sliced.push(label);
            graph.extents[label] = 1;
        }
    }
}

/// The label whose slicing leaves the smallest total on `steps` (ties to the smaller peak),
/// among those of the results over `limit`; `None` when none is left, or when there are too
/// many to try each (each trial is a pass over the tree).
fn best_label(graph: &Graph, steps: &[(usize, usize)], limit: u128) -> Option<usize> {
    let (legs, _) = evaluate(graph, steps);
    let mut candidates: Vec<usize> = legs[graph.inputs.len()..]
        .iter()
        .filter(|l| graph.size(l) > limit)
        .flatten()
        .copied()
        .filter(|&l| graph.extents[l] > 1)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.len() > TRIED_LABELS_UP_TO {
        return None;
    }
    candidates
        .into_iter()
        .map(|label| {
            let mut trial = graph.clone();
            let slices = trial.extents[label];
            trial.extents[label] = 1;
            let costs = step_costs(&trial, steps);
            let total = tree::total(&costs).multiply_adds.saturating_mul(slices);
            ((total, peak(trial.inputs.len(), steps, &costs)), label)
        })
        .min()
        .map(|(_, label)| label)
}

#[cfg(test)]
mod tests {
    use super::super::Budget;
    use super::*;

    #[test]
    fn slicing_brings_every_result_under_the_limit() {
        // A ring of four matrices of 16: the trace of their product. The best tree holds a
        // 16x16 intermediate; a limit of 16 elements needs one ring label sliced.
        let inputs: Vec<Vec<usize>> = (0..4).map(|n| vec![n, (n + 1) % 4]).collect();
        let graph = Graph::new(&inputs, &[], &[16; 4]);
        let steps = vec![(0, 1), (2, 3), (4, 5)];
        let options = PlanOptions::default();
        let (sliced, _, cost) = slice(&graph, steps, 16, &options, &Budget::unlimited());
        assert_eq!(sliced.len(), 1);
        assert!(cost.largest <= 16);
    }
}
