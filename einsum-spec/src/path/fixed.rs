//! The contraction order of fixed-size operands, chosen while the user's crate compiles.
//!
//! The extents of fixed-size operands are const generic parameters of the code `einsum!`
//! generates: the macro cannot see their values, but after monomorphisation they are
//! constants. So the macro generates one loop nest per candidate step, and a constant,
//! computed by [`choose`] from the const generics, says which candidates run. This module
//! is both halves of that choice:
//!
//! - at expansion time, [`Candidates::new`] lists the candidates: the direct nest over
//!   every label, and pairwise trees of the leaves (operands, or in gradients the output
//!   gradient and the other operands), as subsets of leaves with the ways to split each;
//! - at compile time of the user's crate, [`choose`] (a `const fn`) reads them as a
//!   [`Table`] and picks the cheapest tree by dynamic programming over the subsets.
//!
//! Which trees are candidates depends on the number of leaves `n`, since each is code:
//! every tree up to [`EVERY_TREE_UP_TO`] leaves (a caller may ask for fewer), every tree
//! over contiguous runs of leaves in the order written up to [`CONTIGUOUS_UP_TO`] (the
//! matrix-chain search), left to right beyond, and no planning past [`MAX_LEAVES`].
//!
//! **Cost.** The rule of the run-time search ([`super::search`]) extended to the nests only
//! fixed-size code has: a nest over labels with extents `e_1 … e_m` that multiplies `f`
//! factors costs `f * e_1 * … * e_m` scalar operations (`f - 1` multiplications and one
//! addition per iteration). A pairwise step is a nest of two factors, so its operations are
//! twice the multiply-adds the run-time search counts for the same step; a leaf whose
//! private labels are summed first is a nest of one factor; the direct nest reads all `n`.
//! Products saturate. A tree is chosen only when strictly cheaper than the direct nest, and
//! among trees the first of the cheapest in the order listed.
//!
//! **Stack.** Intermediates are fixed-size arrays on the stack. A subset whose intermediate
//! would exceed [`STACK_ALLOWANCE`] bytes, or the result's size when that is larger, is not
//! a candidate.
//!
//! ```
//! use einsum_spec::path::fixed::{choose, Candidates, Operand};
//! // `ij,jk,kl->il` with i, j, k, l = labels 0, 1, 2, 3.
//! let candidates = Candidates::new(&[vec![0, 1], vec![1, 2], vec![2, 3]], &[0, 3], 4).unwrap();
//! // A thin k: first `ab` (the subset of leaves 0 and 1, an i x k matrix), then `c`.
//! let plan: [usize; 4] = candidates.with_table(|table| choose(table, &[100, 100, 2, 100], 8));
//! let root = candidates.subsets().last().unwrap();
//! let last = &root.steps[plan[root.choice.unwrap()] - 1];
//! assert_eq!(last.parts, (0b011, 0b100));
//! assert_eq!((last.left, last.right), (Operand::Subset(0), Operand::Leaf(2)));
//! ```

use super::graph::elements;

/// Up to this many leaves, every tree is a candidate.
pub const EVERY_TREE_UP_TO: usize = 4;
/// Up to this many leaves, every tree over contiguous runs of leaves is a candidate.
pub const CONTIGUOUS_UP_TO: usize = 6;
/// Beyond this many leaves there is no planning (subsets are bit masks in a `u64`).
pub const MAX_LEAVES: usize = 32;
/// The size in bytes an intermediate may always have; larger ones are allowed up to the
/// result's size.
pub const STACK_ALLOWANCE: u128 = 64 * 1024;
/// The most subsets a [`Table`] may have (left to right over [`MAX_LEAVES`] leaves makes
/// one fewer).
const MAX_SUBSETS: usize = MAX_LEAVES;

/// A set of leaves, one bit per leaf.
pub type Mask = u64;

/// A tensor a pairwise step reads: a leaf, or the intermediate of an earlier subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// Leaf `k`, read in place or after summing its private labels.
    Leaf(usize),
    /// The intermediate of subset `i` of the table, listed before the step's own.
    Subset(usize),
}

/// One candidate step: the contraction of two tensors into a subset's intermediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// One tensor it reads.
    pub left: Operand,
    /// The other.
    pub right: Operand,
    /// Every label its nest loops over (what either tensor has).
    pub labels: &'a [usize],
}

/// One subset of leaves that an intermediate is made of, as [`choose`] reads it.
#[derive(Clone, Copy, Debug)]
pub struct Subset<'a> {
    /// The labels its intermediate keeps (for the last subset, the result's).
    pub labels: &'a [usize],
    /// The candidate steps that make it, in order of preference among equal costs.
    pub steps: &'a [Step<'a>],
    /// Its entry in the plan [`choose`] returns, if it has a choice to make (more than one
    /// step, or the last subset, where the direct nest is one more candidate).
    pub choice: Option<usize>,
}

/// The candidates of one contraction, as the generated code spells them for [`choose`].
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    /// For each leaf, the labels of the nest that sums its private labels before any step
    /// (every label it has), or nothing when it is read in place.
    pub reduced: &'a [&'a [usize]],
    /// Every subset, each after the subsets its steps read; the last is every leaf.
    pub subsets: &'a [Subset<'a>],
    /// The labels of the direct nest: every label of every leaf.
    pub direct: &'a [usize],
    /// The result's labels.
    pub result: &'a [usize],
}

/// The scalar operations of a nest that multiplies `factors` tensors over `labels`.
const fn nest(extents: &[u128], labels: &[usize], factors: u128) -> u128 {
    elements(extents, labels).saturating_mul(factors)
}

/// The plan of `table` for these label extents and an element of `element_bytes` bytes:
/// for each subset with a [`Subset::choice`], the step to run (its index among the subset's
/// steps; for the last subset, 0 for the direct nest and `i + 1` for step `i`). `N` is the
/// number of such entries.
///
/// A `const fn`, evaluated where the extents are constants. Panics (a compile error there)
/// on a table with more than 32 subsets or an entry out of range, which
/// [`Candidates::new`] never lists.
pub const fn choose<const N: usize>(
    table: &Table<'_>,
    extents: &[u128],
    element_bytes: u128,
) -> [usize; N] {
    let result = elements(extents, table.result).saturating_mul(element_bytes);
    let limit = if result > STACK_ALLOWANCE {
        result
    } else {
        STACK_ALLOWANCE
    };
    let mut plan = [0; N];
    let mut costs = [0u128; MAX_SUBSETS];
    let last = table.subsets.len() - 1;
    let mut i = 0;
    while i < table.subsets.len() {
        let subset = &table.subsets[i];
        let fits = elements(extents, subset.labels).saturating_mul(element_bytes) <= limit;
        let mut best = if i == last {
            nest(extents, table.direct, table.reduced.len() as u128)
        } else {
            u128::MAX
        };
        if fits || i == last {
            let mut s = 0;
            while s < subset.steps.len() {
                let step = &subset.steps[s];
                let cost = read_cost(table, &costs, extents, step.left)
                    .saturating_add(read_cost(table, &costs, extents, step.right))
                    .saturating_add(nest(extents, step.labels, 2));
                if cost < best {
                    best = cost;
                    if let Some(entry) = subset.choice {
                        plan[entry] = if i == last { s + 1 } else { s };
                    }
                }
                s += 1;
            }
        }
        costs[i] = best;
        i += 1;
    }
    plan
}

/// What making `operand` costs before the step that reads it: a subset's best tree, a leaf's
/// own sum, or nothing for a leaf read in place.
const fn read_cost(
    table: &Table<'_>,
    costs: &[u128; MAX_SUBSETS],
    extents: &[u128],
    operand: Operand,
) -> u128 {
    match operand {
        Operand::Subset(i) => costs[i],
        Operand::Leaf(k) => nest(extents, table.reduced[k], 1),
    }
}

/// One subset of leaves and its candidate steps, as [`Candidates::new`] lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateSubset {
    /// The leaves it combines.
    pub mask: Mask,
    /// The labels its intermediate keeps: those in the result or in a leaf outside it,
    /// sorted; for every leaf, the result's labels in the result's order.
    pub labels: Vec<usize>,
    /// The candidate steps that make it, in order of preference among equal costs.
    pub steps: Vec<CandidateStep>,
    /// Its entry in the plan, as [`Subset::choice`].
    pub choice: Option<usize>,
}

/// One candidate step, as [`Candidates::new`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateStep {
    /// The leaves of the two tensors it reads: a split of its subset.
    pub parts: (Mask, Mask),
    /// The first tensor, as [`Step::left`].
    pub left: Operand,
    /// The second.
    pub right: Operand,
    /// Every label its nest loops over, sorted.
    pub labels: Vec<usize>,
}

/// The candidate trees of one contraction of fixed-size leaves.
#[derive(Clone, Debug)]
pub struct Candidates {
    /// Each leaf's distinct labels, sorted.
    leaves: Vec<Vec<usize>>,
    /// The result's labels.
    result: Vec<usize>,
    /// Every leaf.
    all: Mask,
    /// The labels each leaf's own sum loops over, or nothing.
    reduced: Vec<Vec<usize>>,
    /// The subsets, each after those its splits use; the last is every leaf.
    subsets: Vec<CandidateSubset>,
    /// Every label of every leaf, sorted.
    direct: Vec<usize>,
    /// The number of plan entries.
    choices: usize,
}

/// The leaves in `mask`, in order.
fn members(mask: Mask) -> impl Iterator<Item = usize> {
    (0..Mask::BITS as usize).filter(move |&k| mask & (1 << k) != 0)
}

/// The mask of the contiguous leaves `from..to`.
fn run(from: usize, to: usize) -> Mask {
    (from..to).fold(0, |mask, k| mask | 1 << k)
}

/// `a ∪ b`, sorted, each label once.
fn union(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut all: Vec<usize> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

impl Candidates {
    /// The candidates for contracting `leaves` (each leaf's labels by axis; a label may
    /// repeat, a diagonal) into `result` (distinct labels, each in some leaf), with every
    /// tree listed up to `every_tree_up_to` leaves (at most [`EVERY_TREE_UP_TO`]). `None`
    /// when there is nothing to choose: one leaf, more than [`MAX_LEAVES`], or two leaves
    /// neither of which has labels of its own to sum first.
    pub fn new(
        leaves: &[Vec<usize>],
        result: &[usize],
        every_tree_up_to: usize,
    ) -> Option<Candidates> {
        let n = leaves.len();
        if !(2..=MAX_LEAVES).contains(&n) {
            return None;
        }
        let mut candidates = Candidates {
            leaves: leaves.iter().map(|l| union(l, &[])).collect(),
            result: result.to_vec(),
            all: run(0, n),
            reduced: Vec::new(),
            subsets: Vec::new(),
            direct: leaves.iter().fold(Vec::new(), |all, l| union(&all, l)),
            choices: 0,
        };
        // A leaf keeping fewer labels than it has sums the others on its own first.
        candidates.reduced = (0..n)
            .map(|k| {
                let labels = &candidates.leaves[k];
                if candidates.kept(1 << k).len() < labels.len() {
                    labels.clone()
                } else {
                    Vec::new()
                }
            })
            .collect();
        if n == 2 && candidates.reduced.iter().all(Vec::is_empty) {
            return None;
        }
        candidates.list(every_tree_up_to.min(EVERY_TREE_UP_TO));
        Some(candidates)
    }

    /// Lists the subsets and their splits, and numbers the plan's entries.
    fn list(&mut self, every_tree_up_to: usize) {
        let n = self.leaves.len();
        let mut splits_of: Vec<(Mask, Vec<(Mask, Mask)>)> = Vec::new();
        if n <= every_tree_up_to {
            for size in 2..=n {
                for mask in (1..=self.all).filter(|m| m.count_ones() as usize == size) {
                    let lowest = mask & mask.wrapping_neg();
                    let mut splits = Vec::new();
                    let mut left = (mask - 1) & mask;
                    while left > 0 {
                        if left & lowest != 0 {
                            splits.push((left, mask ^ left));
                        }
                        left = (left - 1) & mask;
                    }
                    splits.reverse();
                    splits_of.push((mask, splits));
                }
            }
        } else if n <= CONTIGUOUS_UP_TO {
            for size in 2..=n {
                for from in 0..=n - size {
                    let to = from + size;
                    let splits = (from + 1..to)
                        .map(|middle| (run(from, middle), run(middle, to)))
                        .collect();
                    splits_of.push((run(from, to), splits));
                }
            }
        } else {
            for to in 2..=n {
                splits_of.push((run(0, to), vec![(run(0, to - 1), run(to - 1, to))]));
            }
        }
        for (mask, splits) in splits_of {
            let choice = (mask == self.all || splits.len() > 1).then_some(self.choices);
            self.choices += usize::from(choice.is_some());
            let steps = splits
                .into_iter()
                .map(|(left, right)| CandidateStep {
                    parts: (left, right),
                    left: self.operand(left),
                    right: self.operand(right),
                    labels: union(&self.tensor_labels(left), &self.tensor_labels(right)),
                })
                .collect();
            let subset = CandidateSubset {
                mask,
                labels: self.kept(mask),
                steps,
                choice,
            };
            self.subsets.push(subset);
        }
    }

    /// Moves to the front of the last subset's steps those that pair the leaves in `pair`
    /// (the first of equally cheap candidates wins).
    pub fn prefer_first(&mut self, pair: Mask) {
        if let Some(root) = self.subsets.last_mut() {
            root.steps
                .sort_by_key(|step| step.parts.0 != pair && step.parts.1 != pair);
        }
    }

    /// Calls `f` with the candidates as the [`Table`] that [`choose`] reads (generated code
    /// spells the same table as a constant).
    pub fn with_table<R>(&self, f: impl FnOnce(&Table<'_>) -> R) -> R {
        let reduced: Vec<&[usize]> = self.reduced.iter().map(Vec::as_slice).collect();
        let steps: Vec<Vec<Step<'_>>> = self
            .subsets
            .iter()
            .map(|subset| {
                subset
                    .steps
                    .iter()
                    .map(|step| Step {
                        left: step.left,
                        right: step.right,
                        labels: &step.labels,
                    })
                    .collect()
            })
            .collect();
        let subsets: Vec<Subset<'_>> = self
            .subsets
            .iter()
            .zip(&steps)
            .map(|(subset, steps)| Subset {
                labels: &subset.labels,
                steps,
                choice: subset.choice,
            })
            .collect();
        f(&Table {
            reduced: &reduced,
            subsets: &subsets,
            direct: &self.direct,
            result: &self.result,
        })
    }

    /// The operand a step reads for `mask`.
    fn operand(&self, mask: Mask) -> Operand {
        match self.single_leaf(mask) {
            Some(k) => Operand::Leaf(k),
            None => Operand::Subset(
                self.subsets
                    .iter()
                    .position(|s| s.mask == mask)
                    .expect("a split's part is an earlier subset"),
            ),
        }
    }

    /// The subsets, each after those its splits use; the last is every leaf.
    pub fn subsets(&self) -> &[CandidateSubset] {
        &self.subsets
    }

    /// The number of entries of the plan [`choose`] returns.
    pub fn choices(&self) -> usize {
        self.choices
    }

    /// For each leaf, the labels its own sum loops over, or nothing when it is read in
    /// place.
    pub fn reduced(&self) -> &[Vec<usize>] {
        &self.reduced
    }

    /// Every label of every leaf, sorted.
    pub fn direct(&self) -> &[usize] {
        &self.direct
    }

    /// The result's labels.
    pub fn result(&self) -> &[usize] {
        &self.result
    }

    /// Every leaf.
    pub fn all(&self) -> Mask {
        self.all
    }

    /// The distinct labels of leaf `k`, sorted.
    pub fn leaf_labels(&self, k: usize) -> &[usize] {
        &self.leaves[k]
    }

    /// The distinct labels of the leaves in `mask`, sorted.
    fn labels_of(&self, mask: Mask) -> Vec<usize> {
        members(mask).fold(Vec::new(), |all, k| union(&all, &self.leaves[k]))
    }

    /// The labels an intermediate of `mask` keeps: in the result or in a leaf outside
    /// `mask`, sorted. Every leaf keeps the result's, in the result's order.
    pub fn kept(&self, mask: Mask) -> Vec<usize> {
        if mask == self.all {
            return self.result.clone();
        }
        let outside = self.labels_of(self.all & !mask);
        self.labels_of(mask)
            .into_iter()
            .filter(|s| self.result.contains(s) || outside.contains(s))
            .collect()
    }

    /// Whether leaf `k` is first summed on its own over the labels only it has.
    pub fn reduced_first(&self, k: usize) -> bool {
        !self.reduced[k].is_empty()
    }

    /// The leaf `mask` consists of, if it is one leaf.
    fn single_leaf(&self, mask: Mask) -> Option<usize> {
        (mask.count_ones() == 1).then(|| mask.trailing_zeros() as usize)
    }

    /// The distinct labels of the tensor that stands for `mask` in a step, sorted: the leaf
    /// itself, or an intermediate (a leaf summed first keeps what [`Self::kept`] says).
    fn tensor_labels(&self, mask: Mask) -> Vec<usize> {
        match self.single_leaf(mask) {
            Some(k) if !self.reduced_first(k) => self.leaves[k].clone(),
            _ => self.kept(mask),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::graph::Graph;
    use super::super::tree::evaluate;
    use super::*;

    /// `choose` over `candidates`: the plan's entries.
    fn plan(candidates: &Candidates, extents: &[u128]) -> Vec<usize> {
        let plan: [usize; 32] = candidates.with_table(|table| choose(table, extents, 8));
        plan[..candidates.choices()].to_vec()
    }

    /// The chosen tree as the run-time search's steps over the leaves (`None`: the direct
    /// nest), from the plan's choices.
    fn chosen_tree(candidates: &Candidates, plan: &[usize]) -> Option<Vec<(usize, usize)>> {
        let subsets = candidates.subsets();
        let root = subsets.len() - 1;
        let pick = |i: usize| match (subsets[i].choice, i == root) {
            (Some(entry), true) => plan[entry].checked_sub(1),
            (Some(entry), false) => Some(plan[entry]),
            (None, _) => Some(0),
        };
        // Post-order: each subset's node after its parts'; leaves are nodes 0..n.
        fn build(
            subsets: &[CandidateSubset],
            pick: &dyn Fn(usize) -> Option<usize>,
            operand: Operand,
            n: usize,
            steps: &mut Vec<(usize, usize)>,
        ) -> usize {
            match operand {
                Operand::Leaf(k) => k,
                Operand::Subset(i) => {
                    let step = &subsets[i].steps[pick(i).expect("not the root")];
                    let a = build(subsets, pick, step.left, n, steps);
                    let b = build(subsets, pick, step.right, n, steps);
                    steps.push((a, b));
                    n + steps.len() - 1
                }
            }
        }
        let n = candidates.leaves.len();
        let step = &subsets[root].steps[pick(root)?];
        let mut steps = Vec::new();
        let a = build(subsets, &pick, step.left, n, &mut steps);
        let b = build(subsets, &pick, step.right, n, &mut steps);
        steps.push((a, b));
        Some(steps)
    }

    /// Every tree over `n` leaves, as steps.
    fn every_tree(n: usize) -> Vec<Vec<(usize, usize)>> {
        fn grow(
            nodes: Vec<usize>,
            next: usize,
            steps: Vec<(usize, usize)>,
            out: &mut Vec<Vec<(usize, usize)>>,
        ) {
            if nodes.len() == 1 {
                out.push(steps);
                return;
            }
            for i in 0..nodes.len() {
                for j in i + 1..nodes.len() {
                    let mut rest: Vec<usize> = nodes
                        .iter()
                        .enumerate()
                        .filter(|&(k, _)| k != i && k != j)
                        .map(|(_, &x)| x)
                        .collect();
                    rest.push(next);
                    let mut steps = steps.clone();
                    steps.push((nodes[i], nodes[j]));
                    grow(rest, next + 1, steps, out);
                }
            }
        }
        let mut out = Vec::new();
        grow((0..n).collect(), n, Vec::new(), &mut out);
        out
    }

    /// A small random network: `n` leaves over `labels` labels, extents 1–9.
    fn random_network(seed: u64, n: usize) -> (Vec<Vec<usize>>, Vec<usize>, Vec<u128>) {
        let mut rng = super::super::rng::Rng::new(seed);
        let mut below = |n: usize| (rng.next_u64() % n as u64) as usize;
        let labels = 2 + below(5);
        let leaves: Vec<Vec<usize>> = (0..n)
            .map(|_| (0..1 + below(3)).map(|_| below(labels)).collect())
            .collect();
        let mut result: Vec<usize> = (0..labels).filter(|_| below(3) == 0).collect();
        result.retain(|l| leaves.iter().any(|leaf| leaf.contains(l)));
        let extents = (0..labels).map(|_| 1 + below(9) as u128).collect();
        (leaves, result, extents)
    }

    #[test]
    fn the_choice_is_the_cheapest_tree_by_the_run_time_cost_rule() {
        // Up to four leaves every tree is a candidate: the chosen tree's operations are
        // those of the best tree by `tree::evaluate` (the run-time search's rule, twice its
        // multiply-adds, plus the leaves' own sums), or the direct nest when cheaper.
        let (mut trees, mut directs) = (0, 0);
        for seed in 0..400 {
            let n = 2 + (seed as usize % 3);
            let (leaves, result, extents) = random_network(seed, n);
            let Some(candidates) = Candidates::new(&leaves, &result, EVERY_TREE_UP_TO) else {
                continue;
            };
            let sizes: Vec<usize> = extents.iter().map(|&e| e as usize).collect();
            let graph = Graph::new(&leaves, &result, &sizes);
            let reductions: u128 = candidates
                .reduced()
                .iter()
                .map(|l| elements(&extents, l))
                .sum();
            let operations =
                |steps: &[(usize, usize)]| 2 * evaluate(&graph, steps).1.multiply_adds + reductions;
            let best = every_tree(n).iter().map(|t| operations(t)).min().unwrap();
            let direct = nest(&extents, candidates.direct(), n as u128);
            let plan = plan(&candidates, &extents);
            match chosen_tree(&candidates, &plan) {
                Some(tree) => {
                    assert_eq!(
                        operations(&tree),
                        best,
                        "seed {seed}: {leaves:?} -> {result:?}"
                    );
                    assert!(best < direct, "seed {seed}");
                    trees += 1;
                }
                None => {
                    assert!(
                        direct <= best,
                        "seed {seed}: direct {direct}, best tree {best}"
                    );
                    directs += 1;
                }
            }
        }
        assert!(
            trees > 100 && directs > 10,
            "{trees} trees, {directs} direct nests"
        );
    }

    #[test]
    fn a_chain_goes_through_its_thin_bond_first() {
        // ij,jk,kl->il with thin j: a(bc), whose intermediate is j x l. With thin k: (ab)c.
        let candidates =
            Candidates::new(&[vec![0, 1], vec![1, 2], vec![2, 3]], &[0, 3], 4).unwrap();
        let thin_j = chosen_tree(&candidates, &plan(&candidates, &[50, 2, 50, 50])).unwrap();
        assert_eq!(thin_j, vec![(1, 2), (0, 3)]);
        let thin_k = chosen_tree(&candidates, &plan(&candidates, &[50, 50, 2, 50])).unwrap();
        assert_eq!(thin_k, vec![(0, 1), (3, 2)]);
    }

    #[test]
    fn an_intermediate_too_large_for_the_stack_is_not_a_candidate() {
        // ij,jk,kl,li-> : every tree makes a matrix of two extents or more. At 64 (32 KiB of
        // f64) a tree is chosen; at 128 (128 KiB, more than the allowance and the scalar
        // result) only the direct nest is left.
        let cycle = [vec![0, 1], vec![1, 2], vec![2, 3], vec![3, 0]];
        let candidates = Candidates::new(&cycle, &[], 4).unwrap();
        assert!(chosen_tree(&candidates, &plan(&candidates, &[64; 4])).is_some());
        assert!(chosen_tree(&candidates, &plan(&candidates, &[128; 4])).is_none());
    }

    #[test]
    fn every_tree_of_four_leaves_shares_25_steps() {
        let c = Candidates::new(
            &[vec![0, 1], vec![1, 2], vec![2, 3], vec![3, 4]],
            &[0, 4],
            4,
        )
        .unwrap();
        let steps: usize = c.subsets().iter().map(|s| s.steps.len()).sum();
        assert_eq!(c.subsets().len(), 6 + 4 + 1);
        assert_eq!(steps, 6 + 12 + 7);
        assert_eq!(c.subsets().last().unwrap().mask, 0b1111);
    }

    #[test]
    fn five_and_six_leaves_search_contiguous_runs_and_more_go_left_to_right() {
        let count = |n: usize| {
            let leaves: Vec<Vec<usize>> = (0..n).map(|k| vec![k, k + 1]).collect();
            let c = Candidates::new(&leaves, &[0, n], 4).unwrap();
            c.subsets().iter().map(|s| s.steps.len()).sum::<usize>()
        };
        assert_eq!(count(5), 20);
        assert_eq!(count(6), 35);
        assert_eq!(count(7), 6);
        assert_eq!(count(MAX_LEAVES), MAX_LEAVES - 1);
        let leaves: Vec<Vec<usize>> = (0..=MAX_LEAVES).map(|k| vec![k, k + 1]).collect();
        assert!(Candidates::new(&leaves, &[0], 4).is_none());
    }

    #[test]
    fn kept_labels_are_those_needed_later() {
        // ij,jk,kl->il: ab keeps i,k; bc keeps j,l; a leaf with a private label is reduced.
        let c = Candidates::new(&[vec![0, 1], vec![1, 2], vec![2, 3]], &[0, 3], 4).unwrap();
        assert_eq!(c.kept(0b011), vec![0, 2]);
        assert_eq!(c.kept(0b110), vec![1, 3]);
        assert_eq!(c.kept(0b111), vec![0, 3]);
        assert!(!c.reduced_first(0));
        let c = Candidates::new(&[vec![0, 1], vec![1, 2]], &[0], 4).unwrap();
        assert!(c.reduced_first(1));
        assert_eq!(c.kept(0b10), vec![1]);
    }

    #[test]
    fn two_leaves_without_private_labels_and_one_leaf_have_nothing_to_choose() {
        assert!(Candidates::new(&[vec![0, 1], vec![1, 2]], &[0, 2], 4).is_none());
        assert!(Candidates::new(&[vec![0, 1]], &[], 4).is_none());
        assert!(Candidates::new(&[vec![0, 0]], &[0], 4).is_none());
    }

    #[test]
    fn a_preferred_pair_is_tried_first() {
        let mut c = Candidates::new(&[vec![0, 1, 2], vec![1], vec![2]], &[0], 3).unwrap();
        assert_eq!(c.subsets().last().unwrap().steps[0].parts, (0b001, 0b110));
        c.prefer_first(0b011);
        let step = &c.subsets().last().unwrap().steps[0];
        assert_eq!(step.parts, (0b011, 0b100));
        assert_eq!(step.left, Operand::Subset(0));
    }
}
