//! A network as the path search sees it: each operand a sorted list of distinct labels, the
//! labels the output keeps, and every label's extent; and the one rule of a pairwise step.

/// The network a path is searched for. Labels are `0..extents.len()`.
///
/// Built by [`Graph::new`], which drops what no pairwise step sees: repeated labels within
/// an operand (a diagonal is one label) and labels that only one operand has and the output
/// lacks (that operand sums them on its own before any step).
#[derive(Clone, Debug)]
pub(crate) struct Graph {
    /// Each operand's labels, sorted, distinct.
    pub(crate) inputs: Vec<Vec<usize>>,
    /// Whether the output keeps each label.
    pub(crate) output: Vec<bool>,
    /// Each label's extent.
    pub(crate) extents: Vec<u128>,
}

impl Graph {
    /// The graph of `inputs` (each operand's labels) contracted into `output`, with
    /// `extents[label]`. Labels out of range of `extents` are taken as extent 1.
    pub(crate) fn new(inputs: &[Vec<usize>], output: &[usize], extents: &[usize]) -> Graph {
        let labels = inputs
            .iter()
            .flatten()
            .chain(output)
            .map(|&l| l + 1)
            .max()
            .unwrap_or(0)
            .max(extents.len());
        let mut is_output = vec![false; labels];
        for &l in output {
            is_output[l] = true;
        }
        let mut holders = vec![0usize; labels];
        let mut sorted: Vec<Vec<usize>> = Vec::with_capacity(inputs.len());
        for input in inputs {
            let mut legs = input.clone();
            legs.sort_unstable();
            legs.dedup();
            for &l in &legs {
                holders[l] += 1;
            }
            sorted.push(legs);
        }
        for legs in &mut sorted {
            legs.retain(|&l| holders[l] > 1 || is_output[l]);
        }
        Graph {
            inputs: sorted,
            output: is_output,
            extents: (0..labels)
                .map(|l| extents.get(l).map_or(1, |&e| e as u128))
                .collect(),
        }
    }

    /// The number of elements of a tensor with these labels (saturating).
    pub(crate) fn size(&self, legs: &[usize]) -> u128 {
        elements(&self.extents, legs)
    }
}

/// The number of elements of a tensor with these labels, and the multiply-adds of a step
/// over them: the product of their extents, saturating. A `const fn`, so that the order of
/// fixed-size operands is chosen with it while the user's crate compiles ([`super::fixed`]).
pub(crate) const fn elements(extents: &[u128], labels: &[usize]) -> u128 {
    let mut product: u128 = 1;
    let mut i = 0;
    while i < labels.len() {
        product = product.saturating_mul(extents[labels[i]]);
        i += 1;
    }
    product
}

/// One pairwise step: the labels of the result of contracting tensors with labels `a` and
/// `b` (both sorted), and the step's multiply-adds, the [`elements`] of every label either
/// has. A label both have is summed when `closes(label)` says no other tensor and not
/// the output needs it; every other label is kept.
///
/// This is the one statement of what a step computes and costs; every search calls it.
pub(crate) fn merge(
    graph: &Graph,
    a: &[usize],
    b: &[usize],
    mut closes: impl FnMut(usize) -> bool,
) -> (Vec<usize>, u128) {
    let mut result = Vec::with_capacity(a.len() + b.len());
    let mut cost = 1u128;
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let (label, shared) = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x == y => {
                i += 1;
                j += 1;
                (x, true)
            }
            (Some(&x), Some(&y)) if x < y => {
                i += 1;
                (x, false)
            }
            (Some(&x), None) => {
                i += 1;
                (x, false)
            }
            (_, Some(&y)) => {
                j += 1;
                (y, false)
            }
            (None, None) => break,
        };
        cost = cost.saturating_mul(graph.extents[label]);
        if !(shared && !graph.output[label] && closes(label)) {
            result.push(label);
        }
    }
    (result, cost)
}

/// Contracting tensors one step at a time: how many current tensors hold each label, which
/// decides when a shared label is summed.
pub(crate) struct Holders {
    count: Vec<u32>,
}

impl Holders {
    /// Every operand of `graph` current.
    pub(crate) fn of(graph: &Graph) -> Holders {
        let mut count = vec![0u32; graph.extents.len()];
        for legs in &graph.inputs {
            for &l in legs {
                count[l] += 1;
            }
        }
        Holders { count }
    }

    /// The result of contracting current tensors `a` and `b`, and its cost, without
    /// recording it.
    pub(crate) fn peek(&self, graph: &Graph, a: &[usize], b: &[usize]) -> (Vec<usize>, u128) {
        merge(graph, a, b, |l| self.count[l] == 2)
    }

    /// Contracts current tensors `a` and `b`: their result replaces them.
    pub(crate) fn contract(
        &mut self,
        graph: &Graph,
        a: &[usize],
        b: &[usize],
    ) -> (Vec<usize>, u128) {
        let (result, cost) = self.peek(graph, a, b);
        for &l in a.iter().filter(|l| b.binary_search(l).is_ok()) {
            self.count[l] -= 1;
            if self.count[l] == 1 && result.binary_search(&l).is_err() {
                self.count[l] = 0;
            }
        }
        (result, cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_labels_and_repeats_are_dropped() {
        // `iij,jk->k` with `i` private: operand 0 keeps only `j`.
        let graph = Graph::new(&[vec![0, 0, 1], vec![1, 2]], &[2], &[2, 3, 4]);
        assert_eq!(graph.inputs, vec![vec![1], vec![1, 2]]);
    }

    #[test]
    fn a_step_sums_only_what_nothing_else_needs() {
        // `ij,jk,jl->ikl`: the first step keeps `j`, which the third operand still needs.
        let graph = Graph::new(&[vec![0, 1], vec![1, 2], vec![1, 3]], &[0, 2, 3], &[2; 4]);
        let mut holders = Holders::of(&graph);
        let (first, cost) = holders.contract(&graph, &[0, 1], &[1, 2]);
        assert_eq!((first.as_slice(), cost), (&[0, 1, 2][..], 8));
        let (second, _) = holders.contract(&graph, &first, &[1, 3]);
        assert_eq!(second, vec![0, 2, 3]);
    }
}
