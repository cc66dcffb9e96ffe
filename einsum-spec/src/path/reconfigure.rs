//! Subtree reconfiguration: improves a tree by re-solving small subtrees exactly.
//!
//! For each step, dearest first, the subtree below it is cut at up to `leaves` nodes (always
//! opening the dearest step inside); the tensors at the cut and the labels the step's result
//! keeps make a small network, which [`exact::optimal`] solves. When its tree is cheaper, it
//! replaces the subtree (as does any tree within the memory limit, when the old one broke it):
//! the result and everything above it are unchanged. Passes repeat
//! until one improves nothing or the budget runs out.

use super::exact;
use super::graph::Graph;
use super::tree::{walk, Cost, Objective};
use super::Budget;

/// A tree being edited: each node's children (`None` for an operand), labels and own step.
struct Nodes {
    children: Vec<Option<(usize, usize)>>,
    legs: Vec<Vec<usize>>,
    /// The step's multiply-adds, and the size of its result.
    step: Vec<(u128, u128)>,
    root: usize,
    operands: usize,
}

impl Nodes {
    fn of(graph: &Graph, steps: &[(usize, usize)]) -> Nodes {
        let operands = graph.inputs.len();
        let (legs, costs) = walk(graph, steps);
        let mut children = vec![None; operands];
        children.extend(steps.iter().copied().map(Some));
        let mut step: Vec<(u128, u128)> = legs[..operands]
            .iter()
            .map(|l| (0, graph.size(l)))
            .collect();
        step.extend(costs.iter().map(|c| (c.multiply_adds, c.size)));
        Nodes {
            root: legs.len() - 1,
            children,
            legs,
            step,
            operands,
        }
    }

    /// The steps of the tree below `root`, in post-order, numbered afresh.
    fn steps(&self) -> Vec<(usize, usize)> {
        let mut steps = Vec::with_capacity(self.operands.saturating_sub(1));
        let mut number = vec![usize::MAX; self.children.len()];
        // Iterative post-order: deep trees (a chain of 10,000) must not overflow the stack.
        let mut stack = vec![(self.root, false)];
        while let Some((node, expanded)) = stack.pop() {
            match self.children[node] {
                None => number[node] = node,
                Some((a, b)) if expanded => {
                    steps.push((number[a].min(number[b]), number[a].max(number[b])));
                    number[node] = self.operands + steps.len() - 1;
                }
                Some((a, b)) => {
                    stack.push((node, true));
                    stack.push((b, false));
                    stack.push((a, false));
                }
            }
        }
        steps
    }
}

/// The multiply-adds of one step: the product of the extents of all labels of both tensors.
fn graph_step(graph: &Graph, a: &[usize], b: &[usize]) -> (Vec<usize>, u128) {
    super::graph::merge(graph, a, b, |_| false)
}

/// `steps` improved by subtree reconfiguration with subtrees of up to `leaves` tensors.
pub(crate) fn reconfigure(
    graph: &Graph,
    steps: Vec<(usize, usize)>,
    objective: Objective,
    leaves: usize,
    budget: &Budget,
) -> Vec<(usize, usize)> {
    if steps.len() < 2 || leaves < 3 {
        return steps;
    }
    let mut nodes = Nodes::of(graph, &steps);
    loop {
        let mut improved = false;
        let mut order: Vec<usize> = (nodes.operands..nodes.children.len())
            .filter(|&v| nodes.children[v].is_some())
            .collect();
        order.sort_by_key(|&v| core::cmp::Reverse(nodes.step[v].0));
        let mut live = reachable(&nodes);
        for v in order {
            if budget.exhausted() {
                return nodes.steps();
            }
            if !live[v] {
                continue;
            }
            if replace_below(graph, &mut nodes, v, objective, leaves, budget) {
                improved = true;
                // The replaced subtree's inner nodes are gone.
                live = reachable(&nodes);
            }
        }
        // Re-number so that nodes replaced in this pass are gone.
        nodes = Nodes::of(graph, &nodes.steps());
        if !improved {
            return nodes.steps();
        }
    }
}

/// Which nodes the root reaches (a replaced subtree's old nodes it no longer does).
fn reachable(nodes: &Nodes) -> Vec<bool> {
    let mut seen = vec![false; nodes.children.len()];
    let mut stack = vec![nodes.root];
    while let Some(v) = stack.pop() {
        seen[v] = true;
        if let Some((a, b)) = nodes.children[v] {
            stack.push(a);
            stack.push(b);
        }
    }
    seen
}

/// Re-solves the subtree below `v` cut at up to `leaves` tensors; whether it changed.
fn replace_below(
    graph: &Graph,
    nodes: &mut Nodes,
    v: usize,
    objective: Objective,
    leaves: usize,
    budget: &Budget,
) -> bool {
    let Some((a, b)) = nodes.children[v] else {
        return false;
    };
    let mut frontier = vec![a, b];
    let mut inside = vec![v];
    while frontier.len() < leaves {
        let dearest = frontier
            .iter()
            .enumerate()
            .filter(|&(_, &u)| nodes.children[u].is_some())
            .max_by_key(|&(_, &u)| nodes.step[u].0);
        let Some((at, &u)) = dearest else { break };
        let Some((c, d)) = nodes.children[u] else {
            break;
        };
        frontier.swap_remove(at);
        frontier.push(c);
        frontier.push(d);
        inside.push(u);
    }
    if inside.len() < 2 {
        return false;
    }
    let old = inside.iter().fold(Cost::default(), |c, &u| {
        c.and(nodes.step[u].0, nodes.step[u].1)
    });
    let items: Vec<Vec<usize>> = frontier.iter().map(|&u| nodes.legs[u].clone()).collect();
    let keep = nodes.legs[v].clone();
    // A subtree with a result over the limit is replaced by any that keeps within it.
    let over = !objective.fits(old.largest);
    let upper = (!over).then(|| objective.key(old).0);
    let Some((steps, new)) = exact::optimal(graph, &items, &keep, objective, upper, budget) else {
        return false;
    };
    if !over && objective.key(new) >= objective.key(old) {
        return false;
    }
    // Splice: the new steps' nodes are appended, and the last one's children become `v`'s.
    let mut id: Vec<usize> = frontier.clone();
    let last = steps.len() - 1;
    for (k, &(x, y)) in steps.iter().enumerate() {
        let (x, y) = (id[x], id[y]);
        let (_, cost) = graph_step(graph, &nodes.legs[x], &nodes.legs[y]);
        if k == last {
            nodes.children[v] = Some((x, y));
            nodes.step[v] = (cost, graph.size(&keep));
        } else {
            let legs = sub_legs(&items, &keep, &steps, k);
            nodes.step.push((cost, graph.size(&legs)));
            nodes.children.push(Some((x, y)));
            nodes.legs.push(legs);
            id.push(nodes.children.len() - 1);
        }
    }
    true
}

/// The labels of node `k` of a small network's steps: those of its items that some item
/// outside it holds, or that `keep` keeps.
fn sub_legs(
    items: &[Vec<usize>],
    keep: &[usize],
    steps: &[(usize, usize)],
    k: usize,
) -> Vec<usize> {
    // The items below node `items.len() + k`.
    let mut below = vec![false; items.len()];
    let mut stack = vec![items.len() + k];
    while let Some(u) = stack.pop() {
        if u < items.len() {
            below[u] = true;
        } else {
            let (x, y) = steps[u - items.len()];
            stack.push(x);
            stack.push(y);
        }
    }
    let mut legs: Vec<usize> = Vec::new();
    for item in (0..items.len()).filter(|&i| below[i]).map(|i| &items[i]) {
        for &l in item {
            let outside = items
                .iter()
                .enumerate()
                .any(|(j, other)| !below[j] && other.binary_search(&l).is_ok());
            if outside || keep.binary_search(&l).is_ok() {
                legs.push(l);
            }
        }
    }
    legs.sort_unstable();
    legs.dedup();
    legs
}
