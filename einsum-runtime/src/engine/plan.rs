//! The contraction order: which two operands to contract next, chosen by cost.
//!
//! The search is `einsum_spec::path`'s, the one the macro's order for fixed-size operands and
//! planned networks use; this module adds what the engine's execution costs beyond
//! multiply-adds (an `EngineLayout`) and turns the path into the engine's steps.

use super::diagonal::Slots;
use einsum_spec::path::{Layout, Step as PathStep};

/// One pairwise step of a contraction order.
///
/// The engine keeps a list of operands. A step removes the operands at positions `left` and
/// `right` and pushes their contraction at the end of the list.
///
/// ```
/// use einsum_runtime::engine::plan::{contraction_order, Step};
/// // `ij,jk->ik` with i = 2, j = 3, k = 4: one step, a matrix product of 2 * 3 * 4 multiply-adds.
/// let steps = contraction_order(&[vec![0, 1], vec![1, 2]], &[0, 2], &[2, 3, 4]);
/// assert_eq!(steps, vec![Step { left: 0, right: 1, result: vec![0, 2], cost: 24 }]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Position of the first operand in the current list.
    pub left: usize,
    /// Position of the second operand in the current list; always greater than `left`.
    pub right: usize,
    /// The slots the result keeps, in order of first appearance in `left` then `right`: those
    /// that the output or another remaining operand needs. The other shared slots are summed.
    pub result: Vec<usize>,
    /// The step's multiply-adds: the product of the extents of every slot either operand has
    /// (saturating, so it never overflows).
    pub cost: u128,
}

/// Chooses a pairwise contraction order by cost, with [`einsum_spec::path::search_with`]: for
/// up to five operands the cheapest of all orders, beyond that the path search's tree (optimal
/// up to 20 operands). Ties go to the order with the smaller largest intermediate, then to the
/// earliest pairs.
///
/// Up to five operands, a step's cost is its multiply-adds plus the size of each operand that
/// the step must copy because the slots it groups into batch, free and contracted axes are not
/// adjacent in that operand's axis order (the engine flattens each group into one axis of a
/// batched matrix product; see `pair.rs`), and, for the last step, the size of the result when
/// it must be permuted into the output's order. The planner thus prefers orders that feed
/// matrix products without transposing large operands.
///
/// `operands[k]` lists the slots of operand `k`'s axes, `output` the output's slots, and
/// `extents[s]` is the extent of slot `s`. The order has one step fewer than there are operands
/// (none for zero or one operand). Each step's [`Step::cost`] is its multiply-adds.
///
/// ```
/// use einsum_runtime::engine::plan::contraction_order;
/// // `i,ij,j->`: contracting the two vectors first would be an outer product; the order
/// // contracts the matrix with a vector, then the two vectors that remain.
/// let steps = contraction_order(&[vec![0], vec![0, 1], vec![1]], &[], &[10, 10]);
/// assert_eq!((steps[0].left, steps[0].right), (0, 1));
/// assert_eq!(steps[0].result, vec![1]);
/// assert_eq!(steps.len(), 2);
/// ```
#[must_use]
pub fn contraction_order(
    operands: &[Vec<usize>],
    output: &[usize],
    extents: &[usize],
) -> Vec<Step> {
    let untracked = vec![0; operands.len()];
    order_reusing(operands, &untracked, output, extents, &|_, _| false)
}

/// As [`contraction_order`], when some intermediates are already computed: `origins[k]` says which
/// pool operands operand `k` stands for (one bit each; 0 when untracked), and
/// `known(origin, slots)` whether the contraction of those pool operands keeping `slots` (in
/// that axis order) is stored. Such a step costs nothing (the stored array is shared, not
/// copied), so orders that reuse what an earlier contraction computed win (see `shared.rs`).
/// A last step is never taken from the store.
pub(super) fn order_reusing(
    operands: &[Vec<usize>],
    origins: &[u64],
    output: &[usize],
    extents: &[usize],
    known: &dyn Fn(u64, &[usize]) -> bool,
) -> Vec<Step> {
    let layout = EngineLayout {
        output,
        extents,
        origins,
        known,
    };
    let options = einsum_spec::path::PlanOptions::default().time_budget(ENGINE_BUDGET);
    let path = einsum_spec::path::search_with(operands, output, extents, &options, &layout);
    steps_at(operands, output, extents, &path.tree().positions())
}

/// What the engine adds to a step's multiply-adds (see [`contraction_order`]): copies into matrix
/// layout, the last step's permutation into the output's order, and nothing at all for a step
/// whose result is stored.
struct EngineLayout<'a> {
    output: &'a [usize],
    extents: &'a [usize],
    origins: &'a [u64],
    known: &'a dyn Fn(u64, &[usize]) -> bool,
}

impl EngineLayout<'_> {
    /// The pool operands that the operands in `operands` (one bit each) stand for, or 0 when
    /// one of them is untracked.
    fn origin(&self, operands: u64) -> u64 {
        let mut origin = 0;
        for (k, &o) in self.origins.iter().enumerate() {
            if operands & (1 << k) != 0 {
                if o == 0 {
                    return 0;
                }
                origin |= o;
            }
        }
        origin
    }
}

impl Layout for EngineLayout<'_> {
    fn result_axes(&self, left: &[usize], right: &[usize], kept: &[usize]) -> Vec<usize> {
        result_order(left, right, kept).to_vec()
    }

    fn step_cost(&self, step: &PathStep<'_>) -> u128 {
        let (l, r) = (self.origin(step.operands.0), self.origin(step.operands.1));
        let stored = !step.last
            && l != 0
            && r != 0
            && (self.known)(l | r, &result_order(step.left, step.right, step.kept));
        if stored {
            // Taken from the store, shared rather than copied: free.
            return 0;
        }
        let cost = step.multiply_adds.saturating_add(copy_cost(
            step.left,
            step.right,
            step.kept,
            self.extents,
        ));
        if step.last {
            cost.saturating_add(final_copy_cost(
                step.left,
                step.right,
                step.kept,
                self.output,
                self.extents,
            ))
        } else {
            cost
        }
    }
}

/// The engine's own budget for a path search: `einsum_dyn` and `einsum!` plan implicitly, and
/// the gradients of a contraction of `n` operands plan `n` contractions of as many, so a
/// search here must stay short. Up to 20 operands the search is exact and far quicker than
/// this; beyond, [`crate::network::Network::plan`] takes the time its options give.
const ENGINE_BUDGET: std::time::Duration = std::time::Duration::from_millis(50);

/// The engine steps that contract the tensors at `positions` in turn (each pair removed from
/// the list, its result appended), with each step's kept slots computed from `operands` and
/// its cost its multiply-adds.
pub(crate) fn steps_at(
    operands: &[Vec<usize>],
    output: &[usize],
    extents: &[usize],
    positions: &[(usize, usize)],
) -> Vec<Step> {
    // How many current tensors hold each slot, the output counting as one: a step keeps the
    // slots still held once its operands are gone. Kept up to date step by step, so that a
    // network of many operands is not a quadratic pass.
    let slots = operands
        .iter()
        .flatten()
        .chain(output)
        .max()
        .map_or(0, |&s| s + 1);
    fn hold(holders: &mut [usize], tensor: &[usize], change: isize) {
        for &s in &distinct(tensor) {
            holders[s] = holders[s].saturating_add_signed(change);
        }
    }
    let mut holders = vec![0usize; slots];
    operands.iter().for_each(|t| hold(&mut holders, t, 1));
    hold(&mut holders, output, 1);
    let mut current: Vec<Vec<usize>> = operands.to_vec();
    let mut steps = Vec::with_capacity(positions.len());
    for &(left, right) in positions {
        let r = current.remove(right);
        let l = current.remove(left);
        hold(&mut holders, &l, -1);
        hold(&mut holders, &r, -1);
        let union = distinct(&[l.as_slice(), r.as_slice()].concat());
        let result: Vec<usize> = union.iter().copied().filter(|&s| holders[s] > 0).collect();
        let ordered = result_order(&l, &r, &result).to_vec();
        hold(&mut holders, &ordered, 1);
        current.push(ordered);
        steps.push(Step {
            left,
            right,
            result,
            cost: size(&union, extents),
        });
    }
    steps
}

/// The slots kept by the one step that contracts two operands (slots `left` and `right`) into
/// `output`: the `result` of the step [`contraction_order`] returns for two operands, which
/// only ranks orders and needs a dozen small allocations to compute. The engine takes it when
/// there is nothing to choose; on the stack for the usual ranks.
pub(super) fn only_result(left: &[usize], right: &[usize], output: &[usize]) -> Slots {
    let mut result = Slots::new();
    for &s in left.iter().chain(right) {
        if output.contains(&s) && !result.contains(&s) {
            result.push(s);
        }
    }
    result
}

/// The cost of permuting the last step's result into the output's axis order: its size when
/// neither role order of the pair lays the result out as the output wants, else nothing.
/// (Orders that end on a matching layout win ties, which saves copying the largest array of
/// the whole contraction.)
fn final_copy_cost(
    left: &[usize],
    right: &[usize],
    result: &[usize],
    output: &[usize],
    extents: &[usize],
) -> u128 {
    let kept: Vec<usize> = output
        .iter()
        .copied()
        .filter(|&s| extents[s] != 1)
        .collect();
    let lays_out = |first: &[usize], second: &[usize]| {
        let order: Vec<usize> = result_order(first, second, result)
            .into_iter()
            .filter(|&s| extents[s] != 1)
            .collect();
        order == kept
    };
    if lays_out(left, right) || lays_out(right, left) {
        0
    } else {
        size(result, extents)
    }
}

/// Whether the last pairwise step should take `right` as its left operand: when only that
/// role order lays the result out in the output's order (saving a final permuting copy), or
/// when both do and only the swapped one reads both operands in their stored axis order
/// (which lets small batched products run over contiguous chunks).
pub(super) fn last_step_swaps(
    left: &[usize],
    right: &[usize],
    result: &[usize],
    output: &[usize],
) -> bool {
    let as_output = |l: &[usize], r: &[usize]| result_order(l, r, result).as_slice() == output;
    match (as_output(left, right), as_output(right, left)) {
        (false, true) => true,
        (true, true) => !reads_in_order(left, right, result) && reads_in_order(right, left, result),
        _ => false,
    }
}

/// Whether grouping `left` as (batch, free, contracted) and `right` as (batch, contracted,
/// free) keeps each operand's stored axis order.
fn reads_in_order(left: &[usize], right: &[usize], result: &[usize]) -> bool {
    let groups = Groups::of(left, right, result);
    let left_order = (groups.batch.iter())
        .chain(&groups.left_free)
        .chain(&groups.contracted);
    let right_order = (groups.batch.iter())
        .chain(&groups.contracted)
        .chain(&groups.right_free);
    left_order.eq(left) && right_order.eq(right)
}

/// The slot order of a pairwise step's result (`pair::contract_pair`) for operands with these slots: batch slots
/// (in `left`'s order), then `left`'s free slots, then `right`'s, keeping only `result`'s.
pub(super) fn result_order(left: &[usize], right: &[usize], result: &[usize]) -> Slots {
    let batch = left
        .iter()
        .filter(|s| right.contains(s) && result.contains(s));
    let left_free = left
        .iter()
        .filter(|s| !right.contains(s) && result.contains(s));
    let right_free = right
        .iter()
        .filter(|s| !left.contains(s) && result.contains(s));
    batch.chain(left_free).chain(right_free).copied().collect()
}

/// The number of elements of an operand with these slots (saturating).
pub(super) fn size(slots: &[usize], extents: &[usize]) -> u128 {
    slots
        .iter()
        .fold(1u128, |acc, &s| acc.saturating_mul(extents[s] as u128))
}

/// The elements the engine copies to lay the two operands out as batched matrices (see
/// [`copies`]).
fn copy_cost(left: &[usize], right: &[usize], result: &[usize], extents: &[usize]) -> u128 {
    let (copy_left, copy_right) = copies(left, right, result, extents);
    let mut cost = 0u128;
    if copy_left {
        cost = cost.saturating_add(size(left, extents));
    }
    if copy_right {
        cost = cost.saturating_add(size(right, extents));
    }
    cost
}

/// The slots of a pairwise step by role, as the engine groups them (`pair.rs`): batch and
/// contracted slots in `left`'s order.
pub(super) struct Groups {
    /// In both operands and in the result.
    pub(super) batch: Slots,
    /// In both operands, summed.
    pub(super) contracted: Slots,
    /// Only in `left`.
    pub(super) left_free: Slots,
    /// Only in `right`.
    pub(super) right_free: Slots,
}

impl Groups {
    /// Groups the slots of a step from `left` and `right` keeping `result`.
    pub(super) fn of(left: &[usize], right: &[usize], result: &[usize]) -> Groups {
        // One pass over each side, pushing (collecting filtered iterators into small
        // vectors showed in the profile of networks of many small steps).
        let mut groups = Groups {
            batch: Slots::new(),
            contracted: Slots::new(),
            left_free: Slots::new(),
            right_free: Slots::new(),
        };
        for &s in left {
            if !right.contains(&s) {
                groups.left_free.push(s);
            } else if result.contains(&s) {
                groups.batch.push(s);
            } else {
                groups.contracted.push(s);
            }
        }
        for &s in right {
            if !left.contains(&s) {
                groups.right_free.push(s);
            }
        }
        groups
    }
}

/// Whether the engine copies each operand (stored in standard layout with axes `left`,
/// `right`) to lay it out as a batched matrix: it does when one of its groups (batch, free,
/// contracted) is not a run of adjacent axes in increasing order. Axes of extent 1 are
/// ignored, as the engine ignores them.
pub(super) fn copies(
    left: &[usize],
    right: &[usize],
    result: &[usize],
    extents: &[usize],
) -> (bool, bool) {
    let groups = Groups::of(left, right, result);
    (
        !groupable(
            left,
            &[&groups.batch, &groups.left_free, &groups.contracted],
            extents,
        ),
        !groupable(
            right,
            &[&groups.batch, &groups.contracted, &groups.right_free],
            extents,
        ),
    )
}

/// Whether every group's slots sit at consecutive, increasing axes of `axes`.
fn groupable(axes: &[usize], groups: &[&Slots], extents: &[usize]) -> bool {
    groups.iter().all(|group| {
        let positions: Vec<usize> = group
            .iter()
            .filter(|&&s| extents[s] != 1)
            .filter_map(|s| axes.iter().position(|a| a == s))
            .collect();
        let kept_axes: Vec<usize> = (0..axes.len()).filter(|&a| extents[axes[a]] != 1).collect();
        positions.windows(2).all(|w| {
            let (i, j) = (
                kept_axes.iter().position(|&a| a == w[0]),
                kept_axes.iter().position(|&a| a == w[1]),
            );
            matches!((i, j), (Some(i), Some(j)) if j == i + 1)
        })
    })
}

/// The slots of `slots` without repeats, in order of first appearance.
pub(super) fn distinct(slots: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(slots.len());
    for &s in slots {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_of_matrices_contracts_neighbours_first() {
        // ij,jk,kl->il, all extents 10: the two neighbouring products cost 1000 each, the
        // outer product of the first and last 10_000.
        let steps = contraction_order(&[vec![0, 1], vec![1, 2], vec![2, 3]], &[0, 3], &[10; 4]);
        assert_eq!(steps.len(), 2);
        assert_eq!((steps[0].left, steps[0].right), (0, 1));
        assert_eq!(steps[0].result, vec![0, 2]);
        // The list is now [kl, ik]: contracting k leaves l then i.
        assert_eq!(steps[1].result, vec![3, 0]);
    }

    #[test]
    fn cheaper_pair_wins_over_earlier_pair() {
        // ij,jk,k->i with a large j: contracting jk with k first (j * k) beats ij with jk
        // (i * j * k).
        let steps = contraction_order(&[vec![0, 1], vec![1, 2], vec![2]], &[0], &[50, 100, 50]);
        assert_eq!((steps[0].left, steps[0].right), (1, 2));
        assert_eq!(steps[0].result, vec![1]);
        assert_eq!(steps[0].cost, 5000);
    }

    #[test]
    fn ties_go_to_the_smaller_result() {
        // i,j,ij->: both first steps cost i * j, but contracting `i` with `ij` leaves a
        // vector, whereas `i` with `j` leaves a matrix.
        let steps = contraction_order(&[vec![0], vec![1], vec![0, 1]], &[], &[4, 4]);
        assert_eq!((steps[0].left, steps[0].right), (0, 2));
    }

    #[test]
    fn orders_that_would_transpose_a_large_operand_lose_ties() {
        // The gradient of `bi,bjik,bk->bj` for the first `x`: `bj,bjik,bk->bi`. Contracting
        // the two small operands first costs the same multiply-adds, but then `bjik` must be
        // copied to group `j` and `k`; contracting `bj` with `bjik` first needs no copy.
        let (b, i, j, k) = (0, 1, 2, 3);
        let steps = contraction_order(
            &[vec![b, j], vec![b, j, i, k], vec![b, k]],
            &[b, i],
            &[256, 16, 16, 16],
        );
        assert_eq!((steps[0].left, steps[0].right), (0, 1));
        assert_eq!(steps[0].result, vec![b, i, k]);
    }

    #[test]
    fn orders_that_end_on_the_output_layout_win_ties() {
        // `bi,bj,bk->bjik`: every order costs the same multiply-adds, but only pairing the two
        // `x` first lets the last step write `b, j, (i k)` directly.
        let (b, i, j, k) = (0, 1, 2, 3);
        let steps = contraction_order(
            &[vec![b, i], vec![b, j], vec![b, k]],
            &[b, j, i, k],
            &[256, 16, 16, 16],
        );
        assert_eq!((steps[0].left, steps[0].right), (0, 2));
    }

    #[test]
    fn stored_intermediates_are_reused() {
        // The second `x` gradient of `bi,bjik,bk->bj`: `bj,bi,bjik->bk`. Alone, it pairs
        // `g` with `x` first (a tie); when `g · h` keeping `b, i, k` is stored, it takes that.
        let (b, i, j, k) = (0, 1, 2, 3);
        let operands = [vec![b, j], vec![b, i], vec![b, j, i, k]];
        let extents = [256, 16, 16, 16];
        let alone = contraction_order(&operands, &[b, k], &extents);
        assert_eq!((alone[0].left, alone[0].right), (0, 1));
        let known = |origin: u64, slots: &[usize]| origin == 0b101 && slots == [b, i, k];
        let origins = [0b001, 0b010, 0b100];
        let reusing = order_reusing(&operands, &origins, &[b, k], &extents, &known);
        assert_eq!((reusing[0].left, reusing[0].right), (0, 2));
        // A stored result is shared, not recomputed: the layout charges nothing for it.
        let layout = EngineLayout {
            output: &[b, k],
            extents: &extents,
            origins: &origins,
            known: &known,
        };
        let stored = PathStep {
            left: &operands[0],
            right: &operands[2],
            kept: &[b, i, k],
            operands: (0b001, 0b100),
            multiply_adds: 256 * 16 * 16 * 16,
            last: false,
        };
        assert_eq!(layout.step_cost(&stored), 0);
    }

    #[test]
    fn a_stored_result_beats_an_equally_cheap_fresh_one() {
        // The `y` gradient of `ijk,bj,bk->bi`: `bi,ijk,bj->bk`. Pairing `g` with `x` then
        // `eps`, or `g` with `eps` then `x`, costs the same; when `g x` is stored (the `eps`
        // gradient computed it), reusing it must win, though the other pair comes first.
        let (i, j, k, b) = (0, 1, 2, 3);
        let operands = [vec![b, i], vec![i, j, k], vec![b, j]];
        let extents = [3, 3, 3, 100_000];
        let known = |origin: u64, slots: &[usize]| origin == 0b101 && slots == [b, i, j];
        let reusing = order_reusing(&operands, &[0b001, 0b010, 0b100], &[b, k], &extents, &known);
        assert_eq!((reusing[0].left, reusing[0].right), (0, 2));
    }

    #[test]
    fn only_result_is_the_contraction_order_of_two_operands() {
        let cases: [(&[usize], &[usize], &[usize]); 5] = [
            (&[0, 1], &[1, 2], &[0, 2]),
            (&[0, 1], &[1, 2], &[2, 0]),
            (&[0, 1, 2, 3], &[2, 3, 4, 5], &[0, 1, 4, 5]),
            (&[0, 1], &[0, 1], &[]),
            (&[0, 1, 0], &[2, 1], &[1, 2, 0]),
        ];
        for (left, right, output) in cases {
            let order = contraction_order(&[left.to_vec(), right.to_vec()], output, &[3; 6]);
            assert_eq!(order.len(), 1);
            assert_eq!((order[0].left, order[0].right), (0, 1));
            assert_eq!(
                only_result(left, right, output).as_slice(),
                order[0].result,
                "{left:?},{right:?}"
            );
        }
    }

    #[test]
    fn six_operands_are_ordered_by_the_path_search() {
        let chain: Vec<Vec<usize>> = (0..6).map(|n| vec![n, n + 1]).collect();
        let steps = contraction_order(&chain, &[0, 6], &[3; 7]);
        assert_eq!(steps.len(), 5);
    }

    #[test]
    fn one_or_no_operand_needs_no_step() {
        assert!(contraction_order(&[vec![0, 1]], &[1], &[2, 3]).is_empty());
        assert!(contraction_order(&[], &[], &[]).is_empty());
    }

    #[test]
    fn huge_extents_saturate_instead_of_overflowing() {
        let big = usize::MAX;
        let steps = contraction_order(&[vec![0, 1, 2], vec![2, 3, 4]], &[], &[big; 5]);
        assert_eq!(steps[0].cost, u128::MAX);
    }
}
