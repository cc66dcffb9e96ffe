//! Every order of pairwise steps, for contractions of a few operands: there the executor's
//! layout (which axis order each result gets, which operands it must copy into matrix
//! layout) can decide between trees, and trying every order costs microseconds.
//!
//! A step's cost is the one rule of [`super::graph::merge`] (the [`elements`] of every label
//! either tensor has), passed through the executor's [`Layout`], which may add to it.

use super::graph::elements;
use super::tree::Cost;
use super::Minimize;

/// Up to this many operands, every order of steps is tried.
pub(crate) const ORDERED_UP_TO: usize = 5;

/// What an executor adds to the search's cost rule: the axis order it gives each step's
/// result, and what a step costs it beyond the step's multiply-adds.
///
/// ```
/// use einsum_spec::path::{search_with, Layout, PlanOptions, Step};
/// /// Steps that read an operand of more than two axes cost a copy of it.
/// struct Copies;
/// impl Layout for Copies {
///     fn step_cost(&self, step: &Step<'_>) -> u128 {
///         let copy = |axes: &[usize]| if axes.len() > 2 { 1_000 } else { 0 };
///         step.multiply_adds + copy(step.left) + copy(step.right)
///     }
/// }
/// let inputs = [vec![0, 1, 2], vec![2, 3], vec![3, 4]];
/// let path = search_with(&inputs, &[0, 1, 4], &[2; 5], &PlanOptions::default(), &Copies);
/// // Cheapest in multiply-adds is the 3-axis operand first; with its copy, the last.
/// assert_eq!(path.tree().steps()[0], (1, 2));
/// ```
pub trait Layout {
    /// The axis order of the result of contracting tensors with axes `left` and `right`,
    /// given the labels it keeps (`kept`, in order of first appearance in `left`, then
    /// `right`). By default, `kept` as it is.
    fn result_axes(&self, left: &[usize], right: &[usize], kept: &[usize]) -> Vec<usize> {
        let _ = (left, right);
        kept.to_vec()
    }

    /// What `step` costs. By default, its multiply-adds.
    fn step_cost(&self, step: &Step<'_>) -> u128 {
        step.multiply_adds
    }
}

/// The layout of an executor that adds nothing to the search's cost rule.
pub(crate) struct Plain;

impl Layout for Plain {}

/// One pairwise step as a [`Layout`] sees it.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// The first tensor's axes (its labels, in the order the layout laid them out).
    pub left: &'a [usize],
    /// The second tensor's axes; the second comes after the first in the list of current
    /// tensors.
    pub right: &'a [usize],
    /// The labels the result keeps, in order of first appearance in `left`, then `right`.
    pub kept: &'a [usize],
    /// The operands each tensor combines, one bit per operand of the search.
    pub operands: (u64, u64),
    /// The step's multiply-adds: the product of the extents of every label either has.
    pub multiply_adds: u128,
    /// Whether it is the last step, which makes the output.
    pub last: bool,
}

/// A tensor of the search: its node in the tree (operands `0..n`, step `k`'s result
/// `n + k`), its axes and the operands it combines.
#[derive(Clone)]
struct Tensor {
    node: usize,
    axes: Vec<usize>,
    operands: u64,
}

/// What stays fixed during the search.
struct Search<'a> {
    inputs: usize,
    output: &'a [usize],
    extents: &'a [u128],
    minimize: Minimize,
    layout: &'a dyn Layout,
}

/// The cheapest order of pairwise steps for tensors with axes `inputs` (labels, each once)
/// contracted into `output`, with `extents[label]`, as the steps of a [`super::Tree`]. The
/// current tensors form a list (each step removes its pair and appends the result); costs
/// are ranked for `minimize` with each step costed by `layout`; ties go to the earliest
/// pairs in that list.
pub(crate) fn cheapest(
    inputs: &[Vec<usize>],
    output: &[usize],
    extents: &[u128],
    minimize: Minimize,
    layout: &dyn Layout,
) -> Vec<(usize, usize)> {
    let search = Search {
        inputs: inputs.len(),
        output,
        extents,
        minimize,
        layout,
    };
    let current = inputs
        .iter()
        .enumerate()
        .map(|(k, axes)| Tensor {
            node: k,
            axes: axes.clone(),
            operands: 1 << k,
        })
        .collect();
    search.cheapest_from(current).1
}

impl Search<'_> {
    /// The cheapest complete order from `current`, with its cost (`multiply_adds` as the
    /// layout costs steps).
    fn cheapest_from(&self, current: Vec<Tensor>) -> (Cost, Vec<(usize, usize)>) {
        let last = current.len() == 2;
        let mut best: Option<(Cost, Vec<(usize, usize)>)> = None;
        for left in 0..current.len() {
            for right in left + 1..current.len() {
                let (l, r) = (&current[left], &current[right]);
                let mut union: Vec<usize> = l.axes.clone();
                union.extend(r.axes.iter().filter(|s| !l.axes.contains(s)));
                let needed = |s: &usize| {
                    self.output.contains(s)
                        || current
                            .iter()
                            .enumerate()
                            .any(|(k, t)| k != left && k != right && t.axes.contains(s))
                };
                let kept: Vec<usize> = union.iter().copied().filter(needed).collect();
                let step = Step {
                    left: &l.axes,
                    right: &r.axes,
                    kept: &kept,
                    operands: (l.operands, r.operands),
                    multiply_adds: elements(self.extents, &union),
                    last,
                };
                let cost = self.layout.step_cost(&step);
                let size = elements(self.extents, &kept);
                let mut next = current.clone();
                let (r, l) = (next.remove(right), next.remove(left));
                next.push(Tensor {
                    node: 2 * self.inputs - current.len(),
                    axes: self.layout.result_axes(&l.axes, &r.axes, &kept),
                    operands: l.operands | r.operands,
                });
                let (rest, steps) = self.cheapest_from(next);
                let total = rest.and(cost, size);
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| total.key(self.minimize) < b.key(self.minimize))
                {
                    let mut all = vec![(l.node, r.node)];
                    all.extend(steps);
                    best = Some((total, all));
                }
            }
        }
        best.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_contracts_its_thin_bond_last() {
        // ab,bc,cd->ad with a thin c: ab·bc first (through the wide b) is 50*50*2, then 50*2*50.
        let inputs = [vec![0, 1], vec![1, 2], vec![2, 3]];
        let steps = cheapest(
            &inputs,
            &[0, 3],
            &[50, 50, 2, 50],
            Minimize::MultiplyAdds,
            &Plain,
        );
        assert_eq!(steps, vec![(0, 1), (2, 3)]);
    }

    #[test]
    fn the_layout_cost_can_change_the_order() {
        /// A step that reads operand 0 costs a million more.
        struct AvoidFirst;
        impl Layout for AvoidFirst {
            fn step_cost(&self, step: &Step<'_>) -> u128 {
                let touches = (step.operands.0 | step.operands.1) & 1 != 0;
                step.multiply_adds + if touches && !step.last { 1_000_000 } else { 0 }
            }
        }
        let inputs = [vec![0, 1], vec![1, 2], vec![2, 3]];
        let extents = [50, 50, 2, 50];
        let steps = cheapest(
            &inputs,
            &[0, 3],
            &extents,
            Minimize::MultiplyAdds,
            &AvoidFirst,
        );
        assert_eq!(steps, vec![(1, 2), (0, 3)]);
    }

    #[test]
    fn the_layout_gives_results_their_axis_order() {
        /// Results with their axes reversed; records the axes of each last step's second
        /// tensor, which is always the result of the first step.
        struct Reversed(std::cell::RefCell<Vec<Vec<usize>>>);
        impl Layout for Reversed {
            fn result_axes(&self, _: &[usize], _: &[usize], kept: &[usize]) -> Vec<usize> {
                kept.iter().rev().copied().collect()
            }
            fn step_cost(&self, step: &Step<'_>) -> u128 {
                if step.last {
                    self.0.borrow_mut().push(step.right.to_vec());
                }
                step.multiply_adds
            }
        }
        let layout = Reversed(Default::default());
        let inputs = [vec![0, 1], vec![1, 2], vec![2, 3]];
        cheapest(&inputs, &[0, 3], &[2; 4], Minimize::MultiplyAdds, &layout);
        let seen = layout.0.into_inner();
        assert_eq!(seen, vec![vec![2, 0], vec![3, 2, 1, 0], vec![3, 1]]);
    }
}
