//! The contraction order: which two operands to contract next, chosen greedily by cost.
//!
//! This module is a pure function of slot lists and extents, with no ndarray in sight, so that
//! it can move to `einsum-spec` and serve the macro as well.

/// One pairwise step of a contraction order.
///
/// The engine keeps a list of operands. A step removes the operands at positions `left` and
/// `right` and pushes their contraction at the end of the list.
///
/// ```
/// use einsum_runtime::engine::plan::{greedy_order, Step};
/// // `ij,jk->ik` with i = 2, j = 3, k = 4: one step, a matrix product of 2 * 3 * 4 multiply-adds.
/// let steps = greedy_order(&[vec![0, 1], vec![1, 2]], &[0, 2], &[2, 3, 4]);
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
    /// Multiply-adds of the step: the product of the extents of every slot either operand has
    /// (saturating, so it never overflows).
    pub cost: u128,
}

/// Chooses a pairwise contraction order greedily: at each step, the pair with the fewest
/// multiply-adds, ties broken by the smallest result, then by the earliest pair.
///
/// `operands[k]` lists the slots of operand `k`'s axes, `output` the output's slots, and
/// `extents[s]` is the extent of slot `s`. The order has one step fewer than there are operands
/// (none for zero or one operand).
///
/// ```
/// use einsum_runtime::engine::plan::greedy_order;
/// // `i,ij,j->`: contracting the two vectors first would be an outer product; the greedy
/// // order contracts the matrix with a vector, then the two vectors that remain.
/// let steps = greedy_order(&[vec![0], vec![0, 1], vec![1]], &[], &[10, 10]);
/// assert_eq!((steps[0].left, steps[0].right), (0, 1));
/// assert_eq!(steps[0].result, vec![1]);
/// assert_eq!(steps.len(), 2);
/// ```
#[must_use]
pub fn greedy_order(operands: &[Vec<usize>], output: &[usize], extents: &[usize]) -> Vec<Step> {
    let mut current: Vec<Vec<usize>> = operands.to_vec();
    let mut steps = Vec::with_capacity(current.len().saturating_sub(1));
    let size = |slots: &[usize]| {
        slots
            .iter()
            .fold(1u128, |acc, &s| acc.saturating_mul(extents[s] as u128))
    };
    while current.len() > 1 {
        // (cost, result size, left, right, result slots) of the best pair so far.
        let mut best: Option<(u128, u128, usize, usize, Vec<usize>)> = None;
        for left in 0..current.len() {
            for right in left + 1..current.len() {
                let union =
                    distinct(&[current[left].as_slice(), current[right].as_slice()].concat());
                let needed = |s: &usize| {
                    output.contains(s)
                        || current
                            .iter()
                            .enumerate()
                            .any(|(k, t)| k != left && k != right && t.contains(s))
                };
                let result: Vec<usize> = union.iter().copied().filter(needed).collect();
                let (cost, result_size) = (size(&union), size(&result));
                if best
                    .as_ref()
                    .is_none_or(|b| (cost, result_size) < (b.0, b.1))
                {
                    best = Some((cost, result_size, left, right, result));
                }
            }
        }
        let Some((cost, _, left, right, result)) = best else {
            break;
        };
        current.remove(right);
        current.remove(left);
        current.push(result.clone());
        steps.push(Step {
            left,
            right,
            result,
            cost,
        });
    }
    steps
}

/// The slots of `slots` without repeats, in order of first appearance.
fn distinct(slots: &[usize]) -> Vec<usize> {
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
        let steps = greedy_order(&[vec![0, 1], vec![1, 2], vec![2, 3]], &[0, 3], &[10; 4]);
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
        let steps = greedy_order(&[vec![0, 1], vec![1, 2], vec![2]], &[0], &[50, 100, 50]);
        assert_eq!((steps[0].left, steps[0].right), (1, 2));
        assert_eq!(steps[0].result, vec![1]);
        assert_eq!(steps[0].cost, 5000);
    }

    #[test]
    fn ties_go_to_the_smaller_result() {
        // i,j,ij->: both first steps cost i * j, but contracting `i` with `ij` leaves a
        // vector, whereas `i` with `j` leaves a matrix.
        let steps = greedy_order(&[vec![0], vec![1], vec![0, 1]], &[], &[4, 4]);
        assert_eq!((steps[0].left, steps[0].right), (0, 2));
    }

    #[test]
    fn one_or_no_operand_needs_no_step() {
        assert!(greedy_order(&[vec![0, 1]], &[1], &[2, 3]).is_empty());
        assert!(greedy_order(&[], &[], &[]).is_empty());
    }

    #[test]
    fn huge_extents_saturate_instead_of_overflowing() {
        let big = usize::MAX;
        let steps = greedy_order(&[vec![0, 1, 2], vec![2, 3, 4]], &[], &[big; 5]);
        assert_eq!(steps[0].cost, u128::MAX);
    }
}
