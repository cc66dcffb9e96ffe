//! Trees by recursive bisection: split the network in two parts that share few (and small)
//! labels, contract each part on its own the same way, then the two results together.
//!
//! A good split keeps both parts' results small, which is what makes the last steps cheap;
//! this is the divisive strategy that cotengra runs with hypergraph partitioners. The split
//! here grows one part from a random tensor along shared labels, then improves it with
//! Fiduccia–Mattheyses passes (move the tensor whose move cuts the least, best prefix kept)
//! under a random balance tolerance. Parts of at most `leaves` tensors are solved exactly.

use super::exact;
use super::graph::Graph;
use super::rng::Rng;
use super::tree::Objective;
use super::{Budget, Minimize};

/// Random splits tried for each part; the lightest cut is kept.
const SPLITS: usize = 3;

/// How a bisection tree is built: parts of at most `leaves` tensors are solved exactly, and
/// each split may leave one part up to `imbalance` of the tensors larger than half.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bisection {
    pub(crate) leaves: usize,
    pub(crate) imbalance: f64,
}

/// A tree for `graph` by recursive bisection, as steps; `None` when the budget runs out.
pub(crate) fn bisect(
    graph: &Graph,
    how: Bisection,
    minimize: Minimize,
    rng: &mut Rng,
    budget: &Budget,
) -> Option<Vec<(usize, usize)>> {
    let n = graph.inputs.len();
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); graph.extents.len()];
    for (k, legs) in graph.inputs.iter().enumerate() {
        for &l in legs {
            holders[l].push(k);
        }
    }
    let weight: Vec<f64> = graph
        .extents
        .iter()
        .map(|&e| (e.max(1) as f64).log2().max(0.01))
        .collect();
    let context = Context {
        graph,
        holders: &holders,
        weight: &weight,
        how,
        minimize,
        budget,
    };
    let mut steps = Vec::with_capacity(n.saturating_sub(1));
    let everything: Vec<usize> = (0..n).collect();
    context.build(&everything, &mut steps, rng)?;
    Some(steps)
}

struct Context<'a> {
    graph: &'a Graph,
    /// The tensors that hold each label.
    holders: &'a [Vec<usize>],
    /// Each label's weight when cut: the log of its extent.
    weight: &'a [f64],
    how: Bisection,
    minimize: Minimize,
    budget: &'a Budget,
}

impl Context<'_> {
    /// Appends the steps that contract the tensors of `part` into one and returns its node.
    fn build(
        &self,
        part: &[usize],
        steps: &mut Vec<(usize, usize)>,
        rng: &mut Rng,
    ) -> Option<usize> {
        if self.budget.exhausted() {
            return None;
        }
        let n = self.graph.inputs.len();
        if part.len() == 1 {
            return Some(part[0]);
        }
        if part.len() <= self.how.leaves {
            let items: Vec<Vec<usize>> =
                part.iter().map(|&k| self.graph.inputs[k].clone()).collect();
            let keep = self.open_labels(part);
            let (local, _) = exact::optimal(
                self.graph,
                &items,
                &keep,
                Objective::plain(self.minimize),
                None,
                self.budget,
            )?;
            let mut id: Vec<usize> = part.to_vec();
            for (x, y) in local {
                let (a, b) = (id[x], id[y]);
                steps.push((a.min(b), a.max(b)));
                id.push(n + steps.len() - 1);
            }
            return id.last().copied();
        }
        // The best of a few random splits: the one whose shared labels weigh least.
        let (left, right) = (0..SPLITS)
            .map(|_| self.split(part, rng))
            .min_by(|a, b| self.cut(&a.0, &a.1).total_cmp(&self.cut(&b.0, &b.1)))
            .unwrap_or_default();
        let a = self.build(&left, steps, rng)?;
        let b = self.build(&right, steps, rng)?;
        steps.push((a.min(b), a.max(b)));
        Some(n + steps.len() - 1)
    }

    /// The weight of the labels that tensors of `left` and of `right` share.
    fn cut(&self, left: &[usize], right: &[usize]) -> f64 {
        self.labels_of(left)
            .iter()
            .filter(|&&l| self.holders[l].iter().any(|h| right.contains(h)))
            .map(|&l| self.weight[l])
            .sum()
    }

    /// The labels of `part`'s tensors, sorted.
    fn labels_of(&self, part: &[usize]) -> Vec<usize> {
        let mut labels: Vec<usize> = part
            .iter()
            .flat_map(|&k| self.graph.inputs[k].iter().copied())
            .collect();
        labels.sort_unstable();
        labels.dedup();
        labels
    }

    /// The labels of `part`'s tensors that a tensor outside it or the output has, sorted.
    fn open_labels(&self, part: &[usize]) -> Vec<usize> {
        let mut labels = self.labels_of(part);
        labels
            .retain(|&l| self.graph.output[l] || self.holders[l].iter().any(|h| !part.contains(h)));
        labels
    }

    /// Two non-empty parts of `part`, sharing labels of small total weight.
    fn split(&self, part: &[usize], rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
        let m = part.len();
        let slack = ((self.how.imbalance * m as f64) as usize).min(m / 2 - 1);
        let (low, high) = (m / 2 - slack, m - (m / 2 - slack));
        // side[i]: whether part[i] is on the left.
        let mut position = vec![usize::MAX; self.graph.inputs.len()];
        for (i, &k) in part.iter().enumerate() {
            position[k] = i;
        }
        let local = |k: usize| Some(position[k]).filter(|&i| i != usize::MAX);
        let mut side = vec![false; m];
        // Grow the left part from a random tensor, breadth first along shared labels.
        let mut queue = std::collections::VecDeque::from([rng.next_u64() as usize % m]);
        let mut count = 0;
        while count < m / 2 {
            let Some(i) = queue.pop_front().or_else(|| side.iter().position(|&s| !s)) else {
                break;
            };
            if side[i] {
                continue;
            }
            side[i] = true;
            count += 1;
            for &l in &self.graph.inputs[part[i]] {
                for &h in &self.holders[l] {
                    if let Some(j) = local(h) {
                        if !side[j] {
                            queue.push_back(j);
                        }
                    }
                }
            }
        }
        // Labels inside the part, and how many of their holders each side has.
        let labels = self.labels_of(part);
        let index = |l: usize| labels.binary_search(&l).unwrap_or_default();
        let mut counts = vec![[0usize; 2]; labels.len()];
        for (i, &k) in part.iter().enumerate() {
            for &l in &self.graph.inputs[k] {
                counts[index(l)][usize::from(side[i])] += 1;
            }
        }
        let gain = |i: usize, side: &[bool], counts: &[[usize; 2]]| -> f64 {
            let (from, to) = (usize::from(side[i]), usize::from(!side[i]));
            self.graph.inputs[part[i]]
                .iter()
                .map(|&l| {
                    let c = counts[index(l)];
                    if c[from] == 1 && c[to] > 0 {
                        self.weight[l]
                    } else if c[to] == 0 && c[from] > 1 {
                        -self.weight[l]
                    } else {
                        0.0
                    }
                })
                .sum()
        };
        // Moves tensor `i` to the other side, keeping the counts.
        let flip = |i: usize, side: &mut [bool], counts: &mut [[usize; 2]]| {
            for &l in &self.graph.inputs[part[i]] {
                let c = &mut counts[index(l)];
                c[usize::from(side[i])] -= 1;
                c[usize::from(!side[i])] += 1;
            }
            side[i] = !side[i];
        };
        // Fiduccia–Mattheyses passes: move every tensor once, best gain first (within the
        // balance), and keep the best prefix of moves; stop when a pass gains nothing.
        for _ in 0..8 {
            let mut locked = vec![false; m];
            let mut left = count;
            let (mut total, mut best_total, mut best_len) = (0.0, 0.0, 0);
            let mut moves: Vec<usize> = Vec::new();
            // Each tensor's gain, updated only for the neighbours of a moved one.
            let mut gains: Vec<f64> = (0..m).map(|i| gain(i, &side, &counts)).collect();
            loop {
                let candidate = (0..m)
                    .filter(|&i| !locked[i])
                    .filter(|&i| {
                        let after = if side[i] { left - 1 } else { left + 1 };
                        (low..=high).contains(&after)
                    })
                    .map(|i| (gains[i], i))
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                let Some((g, i)) = candidate else { break };
                locked[i] = true;
                left = if side[i] { left - 1 } else { left + 1 };
                flip(i, &mut side, &mut counts);
                for &l in &self.graph.inputs[part[i]] {
                    for &h in &self.holders[l] {
                        if let Some(j) = local(h) {
                            gains[j] = gain(j, &side, &counts);
                        }
                    }
                }
                moves.push(i);
                total += g;
                if total > best_total + 1e-9 {
                    best_total = total;
                    best_len = moves.len();
                }
            }
            // Undo the moves after the best prefix.
            for &i in moves[best_len..].iter().rev() {
                flip(i, &mut side, &mut counts);
            }
            count = side.iter().filter(|&&s| s).count();
            if best_len == 0 {
                break;
            }
        }
        let left: Vec<usize> = (0..m).filter(|&i| side[i]).map(|i| part[i]).collect();
        let right: Vec<usize> = (0..m).filter(|&i| !side[i]).map(|i| part[i]).collect();
        if left.is_empty() || right.is_empty() {
            let (a, b) = part.split_at(m / 2);
            return (a.to_vec(), b.to_vec());
        }
        (left, right)
    }
}
