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

impl Tree {
    /// The same tree (the same pairs, so the same multiply-adds) with its steps in the order
    /// that holds the fewest elements at once, given each step's cost in `steps` (as
    /// [`Path::step_costs`](super::Path::step_costs) gives them), and each step's cost in
    /// the new order: at each step, the subtree that needs more memory beyond what it leaves
    /// is run first where that lowers what the step needs, so the result that waits for its
    /// sibling is the smaller one (Liu's order for trees); elsewhere the step's operands keep
    /// the roles they have in the tree's own order. [`Path::peak`](super::Path::peak) is the
    /// bound for this order.
    ///
    /// ```
    /// use einsum_spec::path::{StepCost, Tree};
    /// // (3 4) first leaves 10 elements waiting while (0 1), of 100, and its step with 2 run.
    /// let tree = Tree::new(5, vec![(3, 4), (0, 1), (6, 2), (5, 7)]).unwrap();
    /// let size = |size| StepCost { multiply_adds: 0, size };
    /// let (ordered, costs) = tree.in_memory_order(&[size(10), size(100), size(1), size(1)]);
    /// assert_eq!(ordered.steps(), &[(0, 1), (5, 2), (3, 4), (7, 6)]);
    /// assert_eq!(costs, [size(100), size(1), size(10), size(1)]);
    /// ```
    #[must_use]
    pub fn in_memory_order(&self, steps: &[StepCost]) -> (Tree, Vec<StepCost>) {
        let sizes: Vec<u128> = steps.iter().map(|step| step.size).collect();
        let (order, from) = memory_order(self.operands, &self.steps, &sizes);
        let costs = from.iter().map(|&k| steps[k]).collect();
        (Tree::from_steps(self.operands, order), costs)
    }

    /// The most elements held at once while the steps run in this order, given each step's
    /// cost in `steps`, as a bound: before each step, the intermediates computed and not yet
    /// used; during it, also copies of its intermediate operands into matrix layout or its
    /// result (the engine frees an operand once copied; the bound assumes it copies every
    /// intermediate operand). The network's operands, and copies of them, are not counted. In
    /// [`Tree::in_memory_order`] it is [`Path::peak`](super::Path::peak).
    ///
    /// ```
    /// use einsum_spec::path::{StepCost, Tree};
    /// let tree = Tree::new(5, vec![(3, 4), (0, 1), (6, 2), (5, 7)]).unwrap();
    /// let size = |size| StepCost { multiply_adds: 0, size };
    /// let steps = [size(10), size(100), size(1), size(1)];
    /// // (6 2) holds (0 1)'s result of 100 and a copy of it, with (3 4)'s 10 waiting.
    /// assert_eq!(tree.peak(&steps), 210);
    /// let (ordered, costs) = tree.in_memory_order(&steps);
    /// assert_eq!(ordered.peak(&costs), 200);
    /// ```
    #[must_use]
    pub fn peak(&self, steps: &[StepCost]) -> u128 {
        let n = self.operands;
        let size = |node: usize| node.checked_sub(n).map_or(0, |k| steps[k].size);
        let (mut live, mut most) = (0u128, 0u128);
        for (&(a, b), step) in self.steps.iter().zip(steps) {
            let waiting = live.saturating_sub(size(a)).saturating_sub(size(b));
            let holds = step_holds(size(a), size(b), step.size);
            most = most.max(waiting.saturating_add(holds));
            live = waiting.saturating_add(step.size);
        }
        most
    }
}

/// The elements a step holds at its height beside what waits for it: its operands
/// `left` and `right` (intermediates; 0 for the network's), and then the larger of a copy of
/// one of them into matrix layout (the engine frees an operand once copied) and its result.
fn step_holds(left: u128, right: u128, result: u128) -> u128 {
    left.saturating_add(right)
        .saturating_add(left.max(right).max(result))
}

/// Each node's memory need when its subtree runs in the order [`memory_order`] gives: the
/// most elements held at once, its own result included (0 for the operands).
fn needs(operands: usize, steps: &[(usize, usize)], sizes: &[u128]) -> Vec<u128> {
    let size = |node: usize| node.checked_sub(operands).map_or(0, |k| sizes[k]);
    let mut need = vec![0u128; operands + steps.len()];
    for (k, &(a, b)) in steps.iter().enumerate() {
        let holds = step_holds(size(a), size(b), sizes[k]);
        let (first, second) = first_and_second(a, b, holds, &need, size);
        need[operands + k] = holds.max(need_in_turn(first, second, &need, size));
    }
    need
}

/// The most elements held while the subtree of `first` runs, then that of `second` with
/// `first`'s result waiting.
fn need_in_turn(first: usize, second: usize, need: &[u128], size: impl Fn(usize) -> u128) -> u128 {
    need[first].max(size(first).saturating_add(need[second]))
}

/// Of the two children `a` and `b` of a step that itself `holds` so many elements, the one
/// to run first: the smaller node, as the engine's list of tensors would run them, unless
/// running the other first lowers the step's need (Liu's rule: the child whose need exceeds
/// what it leaves behind by more). The child run first is the step's left operand, so a step
/// whose need the order does not change keeps its operands' roles.
fn first_and_second(
    a: usize,
    b: usize,
    holds: u128,
    need: &[u128],
    size: impl Fn(usize) -> u128 + Copy,
) -> (usize, usize) {
    let (low, high) = (a.min(b), a.max(b));
    let in_turn = need_in_turn(low, high, need, size).max(holds);
    let swapped = need_in_turn(high, low, need, size).max(holds);
    if swapped < in_turn {
        (high, low)
    } else {
        (low, high)
    }
}

/// The steps of the tree rooted at the last step, renumbered in the order that runs, at each
/// step, the child subtree [`first_and_second`] picks first (each step keeps its pair, in its
/// order), and for each, its index in `steps`.
fn memory_order(
    operands: usize,
    steps: &[(usize, usize)],
    sizes: &[u128],
) -> (Vec<(usize, usize)>, Vec<usize>) {
    let need = needs(operands, steps, sizes);
    let size = |node: usize| node.checked_sub(operands).map_or(0, |k| sizes[k]);
    let mut renumbered: Vec<usize> = (0..operands + steps.len()).collect();
    let mut order = Vec::with_capacity(steps.len());
    let mut from = Vec::with_capacity(steps.len());
    // Depth first without recursion: a node is pushed unvisited, then visited once both
    // children have been emitted.
    let mut stack: Vec<(usize, bool)> = match steps.len() {
        0 => Vec::new(),
        len => vec![(operands + len - 1, false)],
    };
    while let Some((node, visited)) = stack.pop() {
        let Some(k) = node.checked_sub(operands) else {
            continue;
        };
        let (a, b) = steps[k];
        if visited {
            renumbered[node] = operands + order.len();
            order.push((renumbered[a], renumbered[b]));
            from.push(k);
        } else {
            let holds = step_holds(size(a), size(b), sizes[k]);
            let (first, second) = first_and_second(a, b, holds, &need, size);
            stack.extend([(node, true), (second, false), (first, false)]);
        }
    }
    (order, from)
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

/// The most elements held at once while the tree of `steps` over `operands` runs in
/// [`memory_order`], given each step's `costs`, as a bound:
/// before each step, the intermediates computed and not yet used; during it, also its
/// operands' copies into matrix layout or its result ([`step_holds`]; the bound assumes the
/// engine copies every intermediate operand). The network's operands, and copies of them,
/// are not counted.
pub(crate) fn peak(operands: usize, steps: &[(usize, usize)], costs: &[StepCost]) -> u128 {
    let sizes: Vec<u128> = costs.iter().map(|c| c.size).collect();
    needs(operands, steps, &sizes)
        .last()
        .copied()
        .unwrap_or_default()
}

/// The cost of a tree whose steps cost `costs`.
pub(crate) fn total(costs: &[StepCost]) -> Cost {
    costs.iter().fold(Cost::default(), |cost, step| {
        cost.and(step.multiply_adds, step.size)
    })
}

/// Every node's labels and the tree's cost, stepping through it as the engine would.
pub(crate) fn evaluate(graph: &Graph, steps: &[(usize, usize)]) -> (Vec<Vec<usize>>, Cost) {
    let (legs, costs) = walk(graph, steps);
    (legs, total(&costs))
}

#[cfg(test)]
mod tests {
    use super::super::rng::Rng;
    use super::*;

    /// A tree over `operands` nodes contracting two random current nodes at each step.
    fn random_tree(operands: usize, rng: &mut Rng) -> Vec<(usize, usize)> {
        let mut current: Vec<usize> = (0..operands).collect();
        let mut steps = Vec::new();
        while current.len() > 1 {
            let a = current.swap_remove(rng.next_u64() as usize % current.len());
            let b = current.swap_remove(rng.next_u64() as usize % current.len());
            steps.push((a, b));
            current.push(operands + steps.len() - 1);
        }
        steps
    }

    /// What `steps` hold at once in their own order ([`Tree::peak`]).
    fn held_in_order(graph: &Graph, steps: &[(usize, usize)]) -> u128 {
        let tree = Tree::from_steps(graph.inputs.len(), steps.to_vec());
        tree.peak(&step_costs(graph, steps))
    }

    /// The leaves under each step, sorted: the same pairs whatever the order.
    fn pairs_of_leaves(operands: usize, steps: &[(usize, usize)]) -> Vec<Vec<usize>> {
        let mut leaves: Vec<Vec<usize>> = (0..operands).map(|n| vec![n]).collect();
        for &(a, b) in steps {
            let mut both = [leaves[a].clone(), leaves[b].clone()].concat();
            both.sort_unstable();
            leaves.push(both);
        }
        let mut steps = leaves.split_off(operands);
        steps.sort();
        steps
    }

    #[test]
    fn memory_order_keeps_the_pairs_and_holds_no_more_than_the_order_given() {
        // A 4x4 grid of tensors with bonds of extents 2 to 5, under random trees.
        let mut rng = Rng::new(7);
        let mut inputs: Vec<Vec<usize>> = vec![Vec::new(); 16];
        let mut extents = Vec::new();
        for node in 0..16 {
            for other in [node + 1, node + 4] {
                if other < 16 && (other != node + 1 || other % 4 != 0) {
                    inputs[node].push(extents.len());
                    inputs[other].push(extents.len());
                    extents.push(2 + rng.next_u64() as usize % 4);
                }
            }
        }
        let graph = Graph::new(&inputs, &[], &extents);
        let mut lower = 0;
        for _ in 0..50 {
            let steps = random_tree(16, &mut rng);
            let sizes: Vec<u128> = step_costs(&graph, &steps).iter().map(|c| c.size).collect();
            let (ordered, _) = memory_order(16, &steps, &sizes);
            assert!(Tree::new(16, ordered.clone()).is_some());
            assert_eq!(pairs_of_leaves(16, &ordered), pairs_of_leaves(16, &steps));
            assert_eq!(evaluate(&graph, &ordered).1, evaluate(&graph, &steps).1);
            let peak = peak(16, &steps, &step_costs(&graph, &steps));
            assert_eq!(peak, held_in_order(&graph, &ordered));
            assert!(peak <= held_in_order(&graph, &steps));
            lower += usize::from(peak < held_in_order(&graph, &steps));
        }
        assert!(lower > 0, "some random tree holds less in memory order");
    }
}
