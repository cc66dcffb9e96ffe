//! The optimal tree, by dynamic programming over connected sub-networks (Pfeifer, Haegeman and
//! Verstraete, "Faster identification of optimal contraction sequences for tensor networks",
//! 2014).
//!
//! The best tree of every connected subset of tensors is built from the best trees of two
//! disjoint connected subsets that share a label, by increasing subset size. Outer products
//! are considered only between connected components, which are contracted on their own and
//! then combined smallest first. A cost cap prunes every subtree dearer than it; the cap grows
//! geometrically until the whole network fits under it, and never beyond a known upper bound
//! (a greedy tree's cost), so the last pass is bounded by what the greedy search found.

use super::graph::Graph;
use super::tree::{Cost, Objective};
use super::Budget;
use std::collections::HashMap;

/// At most this many tensors: subsets are bit masks of a `u64`.
pub(crate) const MAX_TENSORS: usize = 64;
/// At most this many distinct labels among them: label sets are bit masks of a `u128`.
const MAX_LABELS: usize = 128;

/// One sub-network's best tree found so far.
#[derive(Clone, Copy)]
struct Entry {
    legs: u128,
    /// The number of elements of the sub-network's result.
    size: u128,
    cost: Cost,
    split: (u64, u64),
}

/// A network of `items` (each a sorted label list of `graph`) that ends keeping the labels
/// `keep` (sorted), renumbered so that labels and tensors are bits.
struct Local {
    items: Vec<u128>,
    extents: Vec<u128>,
    keep: u128,
    /// For each local label, the items that hold it.
    holders: Vec<u64>,
    /// For each item, the items that share a label with it.
    neighbours: Vec<u64>,
}

impl Local {
    fn new(graph: &Graph, items: &[Vec<usize>], keep: &[usize]) -> Option<Local> {
        let mut labels: Vec<usize> = items.iter().flatten().copied().collect();
        labels.sort_unstable();
        labels.dedup();
        if labels.len() > MAX_LABELS || items.len() > MAX_TENSORS {
            return None;
        }
        let bit = |l: usize| labels.binary_search(&l).ok().map(|i| 1u128 << i);
        let mut holders = vec![0u64; labels.len()];
        let items: Vec<u128> = items
            .iter()
            .enumerate()
            .map(|(k, legs)| {
                legs.iter().fold(0u128, |mask, &l| {
                    let i = labels.binary_search(&l).unwrap_or_default();
                    holders[i] |= 1 << k;
                    mask | (1 << i)
                })
            })
            .collect();
        let neighbours = items
            .iter()
            .map(|&legs| {
                (0..labels.len())
                    .filter(|&i| legs & (1 << i) != 0)
                    .fold(0u64, |m, i| m | holders[i])
            })
            .collect();
        Some(Local {
            neighbours,
            items,
            extents: labels.iter().map(|&l| graph.extents[l]).collect(),
            keep: keep.iter().filter_map(|&l| bit(l)).fold(0, |m, b| m | b),
            holders,
        })
    }

    /// The items that share a label with some item of `set`.
    fn neighbours_of(&self, mut set: u64) -> u64 {
        let mut around = 0;
        while set != 0 {
            around |= self.neighbours[set.trailing_zeros() as usize];
            set &= set - 1;
        }
        around
    }

    fn size(&self, mut legs: u128) -> u128 {
        let mut size = 1u128;
        while legs != 0 {
            let i = legs.trailing_zeros() as usize;
            size = size.saturating_mul(self.extents[i]);
            legs &= legs - 1;
        }
        size
    }

    /// The labels of the contraction of sub-networks `a` and `b`, the step's multiply-adds
    /// and its result's size: a shared label is summed when every tensor that holds it is in
    /// `a` or `b` and the end result does not keep it. Only the shared labels are visited;
    /// the sizes follow from the two results' sizes.
    fn merged(&self, a: u64, ea: &Entry, b: u64, eb: &Entry) -> (u128, u128, u128) {
        let shared = ea.legs & eb.legs;
        let mut result = ea.legs | eb.legs;
        let inside = a | b;
        let (mut shared_size, mut closed_size) = (1u128, 1u128);
        let mut bits = shared;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let extent = self.extents[i];
            shared_size = shared_size.saturating_mul(extent);
            if self.keep & (1 << i) == 0 && self.holders[i] & !inside == 0 {
                result &= !(1u128 << i);
                closed_size = closed_size.saturating_mul(extent);
            }
        }
        match ea.size.checked_mul(eb.size) {
            Some(product) if shared_size > 0 && closed_size > 0 => {
                let step = product / shared_size;
                (result, step, step / closed_size)
            }
            // Beyond `u128` (or an extent of 0): count label by label, saturating.
            _ => (result, self.size(ea.legs | eb.legs), self.size(result)),
        }
    }

    /// The connected components of the items, each a mask, in order of their first item.
    fn components(&self) -> Vec<u64> {
        let mut components: Vec<(u64, u128)> = Vec::new();
        for (k, &legs) in self.items.iter().enumerate() {
            let mut mask = 1u64 << k;
            let mut labels = legs;
            components.retain(|&(m, l)| {
                if l & labels != 0 {
                    mask |= m;
                    labels |= l;
                    false
                } else {
                    true
                }
            });
            components.push((mask, labels));
        }
        components.sort_by_key(|&(m, _)| m.trailing_zeros());
        components.into_iter().map(|(m, _)| m).collect()
    }
}

/// The optimal tree contracting `items` (sorted label lists of `graph`) into a tensor that
/// keeps `keep`, as steps over the items' positions, and its cost; `None` when the network is
/// too large for bit masks, no tree keeps every result within the objective's limit, or the
/// budget runs out first. `upper` bounds the answer's key (from another tree), so the cap
/// never grows past it.
pub(crate) fn optimal(
    graph: &Graph,
    items: &[Vec<usize>],
    keep: &[usize],
    objective: Objective,
    upper: Option<u128>,
    budget: &Budget,
) -> Option<(Vec<(usize, usize)>, Cost)> {
    let local = Local::new(graph, items, keep)?;
    let n = local.items.len();
    let mut steps: Vec<(usize, usize)> = Vec::with_capacity(n.saturating_sub(1));
    // Each component's root node and its labels, size and cost.
    let mut roots: Vec<(usize, u128, Cost)> = Vec::new();
    for component in local.components() {
        let entries = solve_component(&local, component, objective, upper, budget)?;
        let root = emit(&entries, component, n, &mut steps);
        let entry = entries[&component];
        roots.push((root, entry.legs, entry.cost));
    }
    // Components share no label: outer products, the two smallest first.
    let mut cost = roots.iter().fold(Cost::default(), |c, r| c.plus(r.2));
    while roots.len() > 1 {
        roots.sort_by_key(|&(_, legs, _)| core::cmp::Reverse(local.size(legs)));
        let (Some(a), Some(b)) = (roots.pop(), roots.pop()) else {
            break;
        };
        let legs = a.1 | b.1;
        let size = local.size(legs);
        cost = cost.and(size, size);
        steps.push((a.0.min(b.0), a.0.max(b.0)));
        roots.push((n + steps.len() - 1, legs, Cost::default()));
    }
    Some((steps, cost))
}

/// The best tree of every connected subset of `component` that the final cap admits.
fn solve_component(
    local: &Local,
    component: u64,
    objective: Objective,
    upper: Option<u128>,
    budget: &Budget,
) -> Option<HashMap<u64, Entry>> {
    let members: Vec<usize> = (0..local.items.len())
        .filter(|&k| component & (1 << k) != 0)
        .collect();
    let m = members.len();
    let n = local.items.len();
    let leaf = |k: usize| Entry {
        legs: local.items[k],
        size: local.size(local.items[k]),
        cost: Cost::default(),
        split: (0, 0),
    };
    if m == 1 {
        return Some(HashMap::from([(component, leaf(members[0]))]));
    }
    let largest_item = members
        .iter()
        .map(|&k| local.size(local.items[k]))
        .max()
        .unwrap_or(1);
    let mut cap = largest_item.max(1);
    loop {
        if let Some(upper) = upper {
            cap = cap.min(upper);
        }
        let mut best: HashMap<u64, Entry> = HashMap::new();
        // layers[s]: the subsets of s + 1 tensors found under the cap.
        let mut layers: Vec<Vec<(u64, Entry)>> =
            vec![members.iter().map(|&k| (1u64 << k, leaf(k))).collect()];
        // by_item[s][i]: the subsets of layer s that hold item i, so that each subset meets
        // only the subsets that hold one of its neighbours, not every subset of a layer.
        let mut by_item: Vec<Vec<Vec<u32>>> = vec![index_by_item(&layers[0], n)];
        for size in 2..=m {
            let mut found: HashMap<u64, Entry> = HashMap::new();
            for k in 1..=size / 2 {
                let (small, large) = (&layers[k - 1], &layers[size - k - 1]);
                for &(a, ea) in small {
                    if budget.exhausted() {
                        return None;
                    }
                    let around = local.neighbours_of(a) & component & !a;
                    let mut items = around;
                    while items != 0 {
                        let item = items.trailing_zeros() as usize;
                        items &= items - 1;
                        for &at in &by_item[size - k - 1][item] {
                            let (b, eb) = large[at as usize];
                            // Each `b` once: through the first neighbour of `a` it holds.
                            if a & b != 0
                                || (b & around).trailing_zeros() as usize != item
                                || (k == size - k && a >= b)
                            {
                                continue;
                            }
                            let below = ea.cost.plus(eb.cost);
                            if objective.key(below).0 > cap {
                                continue;
                            }
                            let (legs, step, size) = local.merged(a, &ea, b, &eb);
                            let cost = below.and(step, size);
                            let key = objective.key(cost);
                            if key.0 > cap || !objective.fits(size) {
                                continue;
                            }
                            let better = found
                                .get(&(a | b))
                                .is_none_or(|e| key < objective.key(e.cost));
                            if better {
                                found.insert(
                                    a | b,
                                    Entry {
                                        legs,
                                        size,
                                        cost,
                                        split: (a, b),
                                    },
                                );
                            }
                        }
                    }
                }
            }
            let mut layer: Vec<(u64, Entry)> = found.into_iter().collect();
            layer.sort_unstable_by_key(|&(mask, _)| mask);
            by_item.push(index_by_item(&layer, n));
            layers.push(layer);
        }
        if layers[m - 1].iter().any(|&(mask, _)| mask == component) {
            for layer in layers {
                best.extend(layer);
            }
            return Some(best);
        }
        if upper.is_some_and(|u| cap >= u) {
            // The bound was not reachable within connected subsets (it came from a tree
            // with outer products, or broke the limit): search without it.
            return solve_component(local, component, objective, None, budget);
        }
        if cap == u128::MAX {
            // No tree within the limit.
            return None;
        }
        cap = cap.saturating_mul(8);
    }
}

/// For each item, the positions in `layer` of the subsets that hold it.
fn index_by_item(layer: &[(u64, Entry)], items: usize) -> Vec<Vec<u32>> {
    let mut index = vec![Vec::new(); items];
    for (at, &(mask, _)) in layer.iter().enumerate() {
        let mut bits = mask;
        while bits != 0 {
            index[bits.trailing_zeros() as usize].push(at as u32);
            bits &= bits - 1;
        }
    }
    index
}

/// Appends the steps of `mask`'s tree (post-order) and returns its node number.
fn emit(
    entries: &HashMap<u64, Entry>,
    mask: u64,
    items: usize,
    steps: &mut Vec<(usize, usize)>,
) -> usize {
    if mask.count_ones() == 1 {
        return mask.trailing_zeros() as usize;
    }
    let (a, b) = entries[&mask].split;
    let na = emit(entries, a, items, steps);
    let nb = emit(entries, b, items, steps);
    steps.push((na.min(nb), na.max(nb)));
    items + steps.len() - 1
}

#[cfg(test)]
mod tests {
    use super::super::tree::evaluate;
    use super::super::Minimize;
    use super::*;

    /// Every tree over `n` tensors, as steps, by brute force.
    fn all_trees(graph: &Graph) -> Vec<Vec<(usize, usize)>> {
        fn go(
            current: Vec<usize>,
            next: usize,
            steps: Vec<(usize, usize)>,
            out: &mut Vec<Vec<(usize, usize)>>,
        ) {
            if current.len() <= 1 {
                out.push(steps);
                return;
            }
            for i in 0..current.len() {
                for j in i + 1..current.len() {
                    let mut rest = current.clone();
                    let (a, b) = (rest[i], rest[j]);
                    rest.remove(j);
                    rest.remove(i);
                    rest.push(next);
                    let mut s = steps.clone();
                    s.push((a.min(b), a.max(b)));
                    go(rest, next + 1, s, out);
                }
            }
        }
        let n = graph.inputs.len();
        let mut out = Vec::new();
        go((0..n).collect(), n, Vec::new(), &mut out);
        out
    }

    #[test]
    fn matches_brute_force_on_small_networks() {
        // A ring of five with a chord, uneven extents, an output label.
        let inputs = vec![
            vec![0, 1],
            vec![1, 2, 5],
            vec![2, 3],
            vec![3, 4],
            vec![4, 0, 5],
        ];
        let extents = [3, 7, 2, 5, 4, 6];
        let graph = Graph::new(&inputs, &[1], &extents);
        let budget = Budget::unlimited();
        let (steps, cost) = optimal(
            &graph,
            &graph.inputs,
            &[1],
            Objective::plain(Minimize::MultiplyAdds),
            None,
            &budget,
        )
        .unwrap();
        assert_eq!(evaluate(&graph, &steps).1, cost);
        let best = all_trees(&graph)
            .iter()
            .map(|t| evaluate(&graph, t).1.multiply_adds)
            .min()
            .unwrap();
        assert_eq!(cost.multiply_adds, best);
    }
}
