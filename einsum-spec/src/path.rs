//! Contraction paths: in which order to contract a network of tensors two at a time.
//!
//! [`search`] is a pure function of the network (each operand's labels, the output's labels,
//! every label's extent) and [`PlanOptions`]. It finds:
//!
//! - up to five operands, the optimal order of steps, by trying every one: the executor's
//!   costs can take part ([`search_with`] and a [`Layout`]);
//! - up to [`PlanOptions::exact_up_to`] operands, the optimal tree (least multiply-adds, ties
//!   to the smaller largest intermediate), by dynamic programming over connected sub-networks,
//!   with outer products only between disconnected parts;
//! - beyond, the best of a plain greedy tree (opt_einsum's rule: the pair whose result frees
//!   the most memory), of [`PlanOptions::trials`] greedy trees sampled with Boltzmann noise
//!   and of a quarter as many trees by recursive bisection, the best of them improved by
//!   re-solving subtrees of up to [`PlanOptions::subtree`] tensors exactly (and then, while
//!   the budget lasts, the best tree with subtrees of up to four more). The result is never
//!   worse than the plain greedy tree.
//!
//! With a [`PlanOptions::memory_limit`], labels are then sliced until every intermediate fits
//! (see [`Path::sliced`]).
//!
//! The order of fixed-size operands, which `einsum!` chooses while the user's crate compiles,
//! comes from [`fixed`]: its candidates and a `const fn` that ranks them by the same rule of
//! what a step costs.
//!
//! ```
//! use einsum_spec::path::{search, PlanOptions};
//! // A chain of matrices `ab,bc,cd,de->ae` with a thin middle: the best tree contracts
//! // through the thin bonds first.
//! let inputs = vec![vec![0, 1], vec![1, 2], vec![2, 3], vec![3, 4]];
//! let path = search(&inputs, &[0, 4], &[50, 50, 2, 50, 50], &PlanOptions::default());
//! assert_eq!(path.tree().steps().len(), 3);
//! assert_eq!(path.cost().multiply_adds, 50 * 50 * 2 * 2 + 50 * 2 * 50);
//! ```

mod bisect;
mod exact;
pub mod fixed;
mod graph;
mod greedy;
mod ordered;
mod reconfigure;
mod rng;
mod slicing;
mod tree;

pub use ordered::{Layout, Step};
pub use tree::{Cost, StepCost, Tree};

use tree::Objective;

use graph::Graph;
use greedy::Scoring;
use rng::Rng;
use std::time::{Duration, Instant};

/// What a path search minimises. Every choice breaks ties by the other measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Minimize {
    /// The total multiply-adds (then the largest intermediate).
    #[default]
    MultiplyAdds,
    /// The largest intermediate, in elements (then the multiply-adds).
    LargestIntermediate,
    /// Multiply-adds plus `write_weight` times the elements all steps write (cotengra's
    /// "combo"), which favours paths with less memory traffic.
    Combined {
        /// What writing one element costs, in multiply-adds.
        write_weight: u32,
    },
}

/// How [`search`] looks for a path. The defaults plan a network of 20 operands exactly and
/// one of a few hundred in well under a second.
///
/// ```
/// use einsum_spec::path::{Minimize, PlanOptions};
/// use std::time::Duration;
/// let options = PlanOptions::default()
///     .minimize(Minimize::LargestIntermediate)
///     .time_budget(Duration::from_millis(100))
///     .seed(7)
///     .memory_limit(1 << 20);
/// assert_eq!(options.memory_limit, Some(1 << 20));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PlanOptions {
    /// What to minimise.
    pub minimize: Minimize,
    /// Networks of at most this many operands (after dropping what no step sees) are planned
    /// exactly, by dynamic programming. Default 20; at most 64. (Up to five operands every
    /// order of steps is tried, whatever this says.)
    pub exact_up_to: usize,
    /// Randomised greedy trees tried beyond the exact limit. Default 256.
    pub trials: usize,
    /// Subtrees of up to this many tensors are re-solved exactly to improve the best tree
    /// (0 or 1 turns this off). Default 8.
    pub subtree: usize,
    /// The time the search may take at most; when it runs out, the best tree found so far is
    /// returned (never worse than the plain greedy tree, which is always computed). With a
    /// memory limit, slicing may take as long again. Default 750 ms (the budget is checked
    /// between pieces of work, so a search ends a little after it).
    pub time_budget: Duration,
    /// Seed of the randomised trials: the same seed gives the same path (unless the time
    /// budget cuts the search short). Default 0.
    pub seed: u64,
    /// The most elements any intermediate may have: labels are sliced until every step's
    /// result fits. (What one slice holds at once is more, see [`Path::peak`]; the runtime's
    /// planned contraction runs slices side by side only as far as the limit holds them.)
    /// Default none.
    pub memory_limit: Option<u128>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            minimize: Minimize::MultiplyAdds,
            exact_up_to: 20,
            trials: 256,
            subtree: 8,
            time_budget: Duration::from_millis(750),
            seed: 0,
            memory_limit: None,
        }
    }
}

impl PlanOptions {
    /// With `minimize` as the objective.
    #[must_use]
    pub fn minimize(mut self, minimize: Minimize) -> Self {
        self.minimize = minimize;
        self
    }

    /// With at most `budget` of search time.
    #[must_use]
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = budget;
        self
    }

    /// With `seed` for the randomised trials.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// With every intermediate limited to `elements`, by slicing.
    #[must_use]
    pub fn memory_limit(mut self, elements: u128) -> Self {
        self.memory_limit = Some(elements);
        self
    }

    /// Exact planning up to `operands` operands (capped at 64).
    #[must_use]
    pub fn exact_up_to(mut self, operands: usize) -> Self {
        self.exact_up_to = operands.min(exact::MAX_TENSORS);
        self
    }

    /// With `trials` randomised greedy trees.
    #[must_use]
    pub fn trials(mut self, trials: usize) -> Self {
        self.trials = trials;
        self
    }

    /// Re-solving subtrees of up to `tensors` tensors (0 turns it off).
    #[must_use]
    pub fn subtree(mut self, tensors: usize) -> Self {
        self.subtree = tensors;
        self
    }
}

/// A contraction path: the tree, what it costs, and the labels sliced to meet a memory limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    tree: Tree,
    steps: Vec<StepCost>,
    peak: u128,
    sliced: Vec<usize>,
    slices: u128,
    per_slice: Cost,
    unsliced: Cost,
    method: Method,
}

/// Which search found a [`Path`]'s tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// Nothing to search: fewer than three operands.
    Trivial,
    /// Dynamic programming: optimal.
    Exact,
    /// Every order of steps tried (up to five operands): optimal, by the [`Layout`]'s costs.
    Ordered,
    /// The plain greedy rule.
    Greedy,
    /// A randomised greedy trial, possibly improved by subtree reconfiguration.
    Sampled,
}

impl Path {
    /// The contraction tree.
    #[must_use]
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The whole contraction's cost: all slices together (multiply-adds and elements written
    /// add up over slices; the largest intermediate is one slice's).
    #[must_use]
    pub fn cost(&self) -> Cost {
        Cost {
            multiply_adds: self.per_slice.multiply_adds.saturating_mul(self.slices),
            largest: self.per_slice.largest,
            written: self.per_slice.written.saturating_mul(self.slices),
        }
    }

    /// Each step's cost, in the tree's order (one slice's, when sliced).
    #[must_use]
    pub fn step_costs(&self) -> &[StepCost] {
        &self.steps
    }

    /// The cost of the same tree without slicing.
    #[must_use]
    pub fn unsliced_cost(&self) -> Cost {
        self.unsliced
    }

    /// The sliced labels, in the order they were chosen: the contraction runs once per
    /// combination of their values.
    #[must_use]
    pub fn sliced(&self) -> &[usize] {
        &self.sliced
    }

    /// The number of slices: the product of the sliced labels' extents (1 when unsliced).
    #[must_use]
    pub fn slices(&self) -> u128 {
        self.slices
    }

    /// The most elements one slice holds at once, as a bound: the intermediates waiting for
    /// their sibling subtree, a step's result, and copies of its intermediate operands into
    /// matrix layout (the engine makes them when the operand's axes are not grouped). The
    /// network's operands and copies of them are not counted.
    #[must_use]
    pub fn peak(&self) -> u128 {
        self.peak
    }

    /// Which search found the tree.
    #[must_use]
    pub fn method(&self) -> Method {
        self.method
    }
}

/// When a search must stop.
pub(crate) struct Budget {
    deadline: Option<Instant>,
}

impl Budget {
    fn until(deadline: Instant) -> Budget {
        Budget {
            deadline: Some(deadline),
        }
    }

    #[cfg(test)]
    pub(crate) fn unlimited() -> Budget {
        Budget { deadline: None }
    }

    /// Whether the time is up.
    pub(crate) fn exhausted(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// The best path found for contracting operands with labels `inputs[k]` into `output`, where
/// label `l` has extent `extents[l]`, searched as `options` say (see the module docs).
///
/// Labels repeated within an operand count once (a diagonal), and labels that one operand
/// alone has and the output lacks are summed within that operand before any step, so no step
/// sees them. Labels beyond `extents` have extent 1.
///
/// ```
/// use einsum_spec::path::{search, Method, PlanOptions};
/// // A ring of six matrices of 10: the trace of their product.
/// let ring: Vec<Vec<usize>> = (0..6).map(|n| vec![n, (n + 1) % 6]).collect();
/// let path = search(&ring, &[], &[10; 6], &PlanOptions::default());
/// assert_eq!(path.method(), Method::Exact);
/// assert_eq!(path.cost().multiply_adds, 4 * 1_000 + 100);
/// ```
#[must_use]
pub fn search(
    inputs: &[Vec<usize>],
    output: &[usize],
    extents: &[usize],
    options: &PlanOptions,
) -> Path {
    search_with(inputs, output, extents, options, &ordered::Plain)
}

/// As [`search`], for an executor whose `layout` adds to the cost of steps: up to five
/// operands (where every order of steps is tried) each step is ranked by what
/// [`Layout::step_cost`] says; beyond, by multiply-adds alone, which then dominate what an
/// executor adds. The path's costs are multiply-adds either way.
#[must_use]
pub fn search_with(
    inputs: &[Vec<usize>],
    output: &[usize],
    extents: &[usize],
    options: &PlanOptions,
    layout: &dyn Layout,
) -> Path {
    let start = Instant::now();
    let graph = Graph::new(inputs, output, extents);
    let best = if (3..=ordered::ORDERED_UP_TO).contains(&graph.inputs.len()) {
        let steps = ordered::cheapest(
            &laid_out(inputs, &graph),
            output,
            &graph.extents,
            options.minimize,
            layout,
        );
        Best {
            cost: tree::evaluate(&graph, &steps).1,
            steps,
            method: Method::Ordered,
            minimize: options.minimize,
        }
    } else {
        searched(&graph, options, start)
    };
    let (sliced, steps, per_slice) = match options.memory_limit {
        Some(limit) if best.cost.largest > limit => {
            // Slicing has a budget of its own.
            let budget = Budget::until(Instant::now() + options.time_budget);
            slicing::slice(&graph, best.steps, limit, options, &budget)
        }
        _ => (Vec::new(), best.steps, best.cost),
    };
    let slices = sliced
        .iter()
        .fold(1u128, |acc, &l| acc.saturating_mul(graph.extents[l]));
    let mut sliced_graph = graph;
    for &label in &sliced {
        sliced_graph.extents[label] = 1;
    }
    let costs = tree::step_costs(&sliced_graph, &steps);
    Path {
        peak: tree::peak(inputs.len(), &steps, &costs),
        steps: costs,
        tree: Tree::from_steps(inputs.len(), steps),
        sliced,
        slices,
        per_slice,
        unsliced: best.cost,
        method: best.method,
    }
}

/// The plain greedy tree, and beyond two operands the exact tree (up to
/// [`PlanOptions::exact_up_to`] operands) or the sampled search, whichever is best, within
/// the budget counted from `start`.
fn searched(graph: &Graph, options: &PlanOptions, start: Instant) -> Best {
    let n = graph.inputs.len();
    let mut rng = Rng::new(options.seed);
    let plain = greedy::greedy(graph, Scoring::PLAIN, &mut rng);
    let mut best = Best {
        cost: tree::evaluate(graph, &plain).1,
        steps: plain,
        method: if n < 3 {
            Method::Trivial
        } else {
            Method::Greedy
        },
        minimize: options.minimize,
    };
    if n < 3 {
        return best;
    }
    let budget = Budget::until(start + options.time_budget);
    let objective = Objective::plain(options.minimize);
    let exact = (n <= options.exact_up_to.min(exact::MAX_TENSORS))
        .then(|| {
            let upper = objective.key(best.cost).0;
            let output = output_labels(graph);
            exact::optimal(
                graph,
                &graph.inputs,
                &output,
                objective,
                Some(upper),
                &budget,
            )
        })
        .flatten();
    match exact {
        // The optimum: it wins ties with the greedy tree too.
        Some((steps, cost)) if objective.key(cost) <= objective.key(best.cost) => Best {
            steps,
            cost,
            method: Method::Exact,
            ..best
        },
        Some(_) => best,
        None => {
            sampled(graph, options, &mut rng, &budget, &mut best);
            best
        }
    }
}

/// Each operand's labels in its own axis order, each once, without those no step sees (see
/// [`Graph::new`]).
fn laid_out(inputs: &[Vec<usize>], graph: &Graph) -> Vec<Vec<usize>> {
    inputs
        .iter()
        .zip(&graph.inputs)
        .map(|(axes, seen)| {
            let mut labels: Vec<usize> = Vec::with_capacity(seen.len());
            for &l in axes {
                if seen.binary_search(&l).is_ok() && !labels.contains(&l) {
                    labels.push(l);
                }
            }
            labels
        })
        .collect()
}

/// The best tree found so far, its cost, and which search found it.
struct Best {
    steps: Vec<(usize, usize)>,
    cost: Cost,
    method: Method,
    minimize: Minimize,
}

impl Best {
    /// Keeps `steps` when they cost less than the best so far.
    fn offer(&mut self, steps: Vec<(usize, usize)>, cost: Cost, method: Method) {
        if cost.key(self.minimize) < self.cost.key(self.minimize) {
            self.steps = steps;
            self.cost = cost;
            self.method = method;
        }
    }
}

/// The search beyond the exact limit: sampled greedy and bisection trees; the best
/// [`RECONFIGURED`] of them and the plain greedy tree improved by subtree reconfiguration;
/// then the best tree again with subtrees of up to four more tensors, while the budget lasts.
fn sampled(graph: &Graph, options: &PlanOptions, rng: &mut Rng, budget: &Budget, best: &mut Best) {
    let objective = Objective::plain(options.minimize);
    let reconfigured = |steps: Vec<(usize, usize)>, leaves: usize| {
        let steps = reconfigure::reconfigure(graph, steps, objective, leaves, budget);
        let cost = tree::evaluate(graph, &steps).1;
        (steps, cost)
    };
    let mut candidates = sample(graph, options, rng, budget);
    candidates.extend(bisections(graph, options, rng, budget));
    candidates.push((best.steps.clone(), best.cost));
    candidates.sort_by_key(|c| objective.key(c.1));
    candidates.dedup_by(|a, b| a.1 == b.1);
    let reconfigure = options.subtree > 2;
    for (steps, cost) in candidates.into_iter().take(RECONFIGURED) {
        let (steps, cost) = if reconfigure && !budget.exhausted() {
            reconfigured(steps, options.subtree)
        } else {
            (steps, cost)
        };
        best.offer(steps, cost, Method::Sampled);
    }
    let mut leaves = options.subtree + 2;
    while reconfigure && leaves <= options.subtree + 4 && !budget.exhausted() {
        let (steps, cost) = reconfigured(best.steps.clone(), leaves);
        best.offer(steps, cost, Method::Sampled);
        leaves += 2;
    }
}

/// The output's labels, sorted.
fn output_labels(graph: &Graph) -> Vec<usize> {
    (0..graph.output.len())
        .filter(|&l| graph.output[l])
        .collect()
}

/// Up to this many tensors, trees by recursive bisection are among the candidates (a split
/// costs time quadratic in the part's size).
const BISECTED_UP_TO: usize = 2_000;

/// `options.trials / 4` trees by recursive bisection, with random part sizes solved exactly
/// and random balance tolerances (fewer if the budget runs out), with their costs.
fn bisections(
    graph: &Graph,
    options: &PlanOptions,
    rng: &mut Rng,
    budget: &Budget,
) -> Vec<(Vec<(usize, usize)>, Cost)> {
    if graph.inputs.len() > BISECTED_UP_TO {
        return Vec::new();
    }
    let mut trees = Vec::new();
    for _ in 0..options.trials / 4 {
        let how = bisect::Bisection {
            leaves: 4 + rng.next_u64() as usize % 6,
            imbalance: 0.3 * rng.unit(),
        };
        let Some(steps) = bisect::bisect(graph, how, options.minimize, rng, budget) else {
            break;
        };
        let cost = tree::evaluate(graph, &steps).1;
        trees.push((steps, cost));
    }
    trees
}

/// How many of the best distinct trees subtree reconfiguration improves.
const RECONFIGURED: usize = 4;

/// `options.trials` greedy trees with random scoring parameters (fewer if the budget runs
/// out), with their costs.
fn sample(
    graph: &Graph,
    options: &PlanOptions,
    rng: &mut Rng,
    budget: &Budget,
) -> Vec<(Vec<(usize, usize)>, Cost)> {
    let mut trees = Vec::with_capacity(options.trials);
    for _ in 0..options.trials {
        if budget.exhausted() {
            break;
        }
        let scoring = Scoring {
            costmod: 0.5 + 1.5 * rng.unit(),
            temperature: rng.log_uniform(0.01, 1.0),
        };
        let steps = greedy::greedy(graph, scoring, rng);
        let cost = tree::evaluate(graph, &steps).1;
        trees.push((steps, cost));
    }
    trees
}
