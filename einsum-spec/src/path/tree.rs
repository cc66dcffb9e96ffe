//! A contraction tree: which tensors each pairwise step contracts, and what it costs.

use super::graph::{Graph, Holders};
use super::Minimize;

/// A contraction order as a binary tree, written as its steps: operands are nodes
/// `0..operands`, and step `k` contracts nodes `left` and `right` into node `operands + k`
/// (opt_einsum calls this an SSA path). Every node but the root is contracted exactly once.
///
/// ```
/// use einsum_spec::path::Tree;
/// // `ij,jk,kl->il`: (0 1) first, then that with 2.
/// let tree = Tree::new(3, vec![(0, 1), (3, 2)]).unwrap();
/// assert_eq!(tree.steps().len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tree {
    operands: usize,
    steps: Vec<(usize, usize)>,
}

impl Tree {
    /// The tree of these steps over `operands` operands, or `None` unless every node but the
    /// last is contracted exactly once, each after it exists, and one node remains (no step
    /// for zero or one operand).
    #[must_use]
    pub fn new(operands: usize, steps: Vec<(usize, usize)>) -> Option<Tree> {
        if steps.len() != operands.saturating_sub(1) {
            return None;
        }
        let mut used = vec![false; operands + steps.len()];
        for (k, &(a, b)) in steps.iter().enumerate() {
            let exists = operands + k;
            if a == b || a >= exists || b >= exists || used[a] || used[b] {
                return None;
            }
            used[a] = true;
            used[b] = true;
        }
        Some(Tree { operands, steps })
    }

    /// Built by the searches, which produce valid trees by construction.
    pub(crate) fn from_steps(operands: usize, steps: Vec<(usize, usize)>) -> Tree {
        debug_assert!(Tree::new(operands, steps.clone()).is_some(), "{steps:?}");
        Tree { operands, steps }
    }

    /// The number of operands (leaves).
    #[must_use]
    pub fn operands(&self) -> usize {
        self.operands
    }

    /// The steps, in order: step `k` contracts its two nodes into node `operands + k`.
    #[must_use]
    pub fn steps(&self) -> &[(usize, usize)] {
        &self.steps
    }

    /// The steps as positions in a list of current tensors, as the engine runs them: each
    /// step removes the tensors at `(left, right)` (`left < right`) and appends its result.
    ///
    /// ```
    /// use einsum_spec::path::Tree;
    /// let tree = Tree::new(3, vec![(0, 2), (1, 3)]).unwrap();
    /// assert_eq!(tree.positions(), vec![(0, 2), (0, 1)]);
    /// ```
    #[must_use]
    pub fn positions(&self) -> Vec<(usize, usize)> {
        let mut current: Vec<usize> = (0..self.operands).collect();
        let mut out = Vec::with_capacity(self.steps.len());
        for (k, &(a, b)) in self.steps.iter().enumerate() {
            let pa = current.iter().position(|&n| n == a).unwrap_or_default();
            let pb = current.iter().position(|&n| n == b).unwrap_or_default();
            let (left, right) = (pa.min(pb), pa.max(pb));
            current.remove(right);
            current.remove(left);
            current.push(self.operands + k);
            out.push((left, right));
        }
        out
    }
}

/// What a tree costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cost {
    /// Multiply-adds of all steps: each step's is the product of the extents of every label
    /// either of its tensors has (saturating).
    pub multiply_adds: u128,
    /// Elements of the largest result of a step (the output included).
    pub largest: u128,
    /// Elements written by all steps together.
    pub written: u128,
}

impl Cost {
    /// The cost with one more step of `multiply_adds` writing `size` elements.
    pub(crate) fn and(self, multiply_adds: u128, size: u128) -> Cost {
        Cost {
            multiply_adds: self.multiply_adds.saturating_add(multiply_adds),
            largest: self.largest.max(size),
            written: self.written.saturating_add(size),
        }
    }

    /// Two independent subtrees' costs together.
    pub(crate) fn plus(self, other: Cost) -> Cost {
        Cost {
            multiply_adds: self.multiply_adds.saturating_add(other.multiply_adds),
            largest: self.largest.max(other.largest),
            written: self.written.saturating_add(other.written),
        }
    }

    /// The key that ranks costs for `minimize`: smaller is better.
    pub(crate) fn key(self, minimize: Minimize) -> (u128, u128) {
        match minimize {
            Minimize::MultiplyAdds => (self.multiply_adds, self.largest),
            Minimize::LargestIntermediate => (self.largest, self.multiply_adds),
            Minimize::Combined { write_weight } => (
                self.multiply_adds
                    .saturating_add(self.written.saturating_mul(u128::from(write_weight))),
                self.largest,
            ),
        }
    }
}

/// What a search ranks trees by, and the most elements a step's result may have (the memory
/// limit, once slicing has made it reachable).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Objective {
    pub(crate) minimize: Minimize,
    pub(crate) limit: Option<u128>,
}

impl Objective {
    /// Ranking by `minimize`, without a limit.
    pub(crate) fn plain(minimize: Minimize) -> Objective {
        Objective {
            minimize,
            limit: None,
        }
    }

    /// The key that ranks `cost`: smaller is better.
    pub(crate) fn key(self, cost: Cost) -> (u128, u128) {
        cost.key(self.minimize)
    }

    /// Whether a step's result of `size` elements is allowed.
    pub(crate) fn fits(self, size: u128) -> bool {
        self.limit.is_none_or(|limit| size <= limit)
    }
}

/// What one step costs: its multiply-adds and its result's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StepCost {
    /// The product of the extents of every label either operand has.
    pub multiply_adds: u128,
    /// The number of elements of the step's result.
    pub size: u128,
}

/// Every node's labels and each step's cost, stepping through the tree as the engine would.
pub(crate) fn walk(graph: &Graph, steps: &[(usize, usize)]) -> (Vec<Vec<usize>>, Vec<StepCost>) {
    let mut legs: Vec<Vec<usize>> = graph.inputs.clone();
    let mut holders = Holders::of(graph);
    let mut costs = Vec::with_capacity(steps.len());
    for &(a, b) in steps {
        let (result, multiply_adds) = holders.contract(graph, &legs[a], &legs[b]);
        costs.push(StepCost {
            multiply_adds,
            size: graph.size(&result),
        });
        legs.push(result);
    }
    (legs, costs)
}

/// Each step's cost.
pub(crate) fn step_costs(graph: &Graph, steps: &[(usize, usize)]) -> Vec<StepCost> {
    walk(graph, steps).1
}

/// The most elements held at once while the tree runs, as a bound: before each step, the
/// intermediates computed and not yet used; during it, also its result and a copy of each
/// operand that is an intermediate (the engine copies an operand into matrix layout when its
/// axes are not grouped; the bound assumes it always does). The network's operands, and
/// copies of them, are not counted.
pub(crate) fn peak(graph: &Graph, steps: &[(usize, usize)]) -> u128 {
    let n = graph.inputs.len();
    let costs = step_costs(graph, steps);
    // The size of node `node` when it is an intermediate, else 0.
    let intermediate = |node: usize| node.checked_sub(n).map_or(0, |k| costs[k].size);
    let (mut live, mut peak) = (0u128, 0u128);
    for (&(a, b), cost) in steps.iter().zip(&costs) {
        let operands = intermediate(a).saturating_add(intermediate(b));
        peak = peak.max(live.saturating_add(cost.size).saturating_add(operands));
        live = live.saturating_sub(operands).saturating_add(cost.size);
    }
    peak.max(live)
}

/// Every node's labels and the tree's cost, stepping through it as the engine would.
pub(crate) fn evaluate(graph: &Graph, steps: &[(usize, usize)]) -> (Vec<Vec<usize>>, Cost) {
    let (legs, costs) = walk(graph, steps);
    let cost = costs.iter().fold(Cost::default(), |cost, step| {
        cost.and(step.multiply_adds, step.size)
    });
    (legs, cost)
}
