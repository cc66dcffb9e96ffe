//! The path search against brute force on small random networks, and its guarantees on large
//! and hostile ones.

use einsum_spec::path::{search, Cost, Method, PlanOptions, Tree};

/// SplitMix64, for reproducible networks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random network in the manner of opt_einsum's `rand_equation`: `n * regularity / 2`
/// labels each on two distinct operands, `outputs` labels on one operand and the output,
/// extents in `2..=8`. Returns (inputs, output, extents).
fn random_network(
    n: usize,
    regularity: usize,
    outputs: usize,
    seed: u64,
) -> (Vec<Vec<usize>>, Vec<usize>, Vec<usize>) {
    let mut rng = Rng(seed);
    let bonds = n * regularity / 2;
    let mut inputs = vec![Vec::new(); n];
    for label in 0..bonds {
        let a = rng.below(n);
        let mut b = rng.below(n - 1);
        if b >= a {
            b += 1;
        }
        inputs[a].push(label);
        inputs[b].push(label);
    }
    let output: Vec<usize> = (bonds..bonds + outputs).collect();
    for &label in &output {
        inputs[rng.below(n)].push(label);
    }
    let extents = (0..bonds + outputs).map(|_| 2 + rng.below(7)).collect();
    (inputs, output, extents)
}

/// The multiply-adds of `tree`, stepping as the engine does: a step costs the product of the
/// extents of all labels of both tensors; its result keeps those the output or another
/// current tensor holds.
fn cost_of(tree: &Tree, inputs: &[Vec<usize>], output: &[usize], extents: &[usize]) -> u128 {
    let mut legs: Vec<Vec<usize>> = inputs.to_vec();
    let mut alive: Vec<bool> = vec![true; inputs.len()];
    let mut total = 0u128;
    for &(a, b) in tree.steps() {
        let mut union: Vec<usize> = legs[a].iter().chain(&legs[b]).copied().collect();
        union.sort_unstable();
        union.dedup();
        total += union.iter().map(|&l| extents[l] as u128).product::<u128>();
        alive[a] = false;
        alive[b] = false;
        let needed = |l: &usize| {
            output.contains(l) || (0..legs.len()).any(|k| alive[k] && legs[k].contains(l))
        };
        let result: Vec<usize> = union.iter().copied().filter(needed).collect();
        legs.push(result);
        alive.push(true);
    }
    total
}

/// The least multiply-adds over every order in which each step contracts two tensors that
/// share a label (any two when none do, or always with `outer`), by brute force.
fn brute_force(inputs: &[Vec<usize>], output: &[usize], extents: &[usize], outer: bool) -> u128 {
    fn go(current: &[Vec<usize>], output: &[usize], extents: &[usize], outer: bool) -> u128 {
        if current.len() < 2 {
            return 0;
        }
        let mut pairs = Vec::new();
        for i in 0..current.len() {
            for j in i + 1..current.len() {
                if outer || current[i].iter().any(|l| current[j].contains(l)) {
                    pairs.push((i, j));
                }
            }
        }
        if pairs.is_empty() {
            for i in 0..current.len() {
                for j in i + 1..current.len() {
                    pairs.push((i, j));
                }
            }
        }
        let mut best = u128::MAX;
        for (i, j) in pairs {
            let mut union: Vec<usize> = current[i].iter().chain(&current[j]).copied().collect();
            union.sort_unstable();
            union.dedup();
            let cost: u128 = union.iter().map(|&l| extents[l] as u128).product();
            let rest: Vec<Vec<usize>> = (0..current.len())
                .filter(|&k| k != i && k != j)
                .map(|k| current[k].clone())
                .collect();
            let needed = |l: &usize| output.contains(l) || rest.iter().any(|t| t.contains(l));
            let mut next = rest.clone();
            next.push(union.iter().copied().filter(needed).collect());
            best = best.min(cost.saturating_add(go(&next, output, extents, outer)));
        }
        best
    }
    go(inputs, output, extents, outer)
}

#[test]
fn exact_search_matches_brute_force_on_random_networks() {
    for seed in 0..40 {
        let n = 4 + (seed as usize % 4);
        let (inputs, output, extents) = random_network(n, 3, 2, seed);
        let path = search(&inputs, &output, &extents, &PlanOptions::default());
        // Up to five operands every order is tried, outer products included; beyond, the
        // dynamic programme takes outer products only between disconnected parts.
        let ordered = n <= 5;
        let want = brute_force(&inputs, &output, &extents, ordered);
        let method = if ordered {
            Method::Ordered
        } else {
            Method::Exact
        };
        assert_eq!(path.method(), method, "seed {seed}");
        assert_eq!(
            cost_of(path.tree(), &inputs, &output, &extents),
            path.cost().multiply_adds,
            "seed {seed}: the reported cost is the tree's"
        );
        assert_eq!(path.cost().multiply_adds, want, "seed {seed}: {inputs:?}");
    }
}

#[test]
fn sampled_search_is_never_worse_than_plain_greedy() {
    for seed in 0..6 {
        let (inputs, output, extents) = random_network(40, 3, 2, 100 + seed);
        let full = search(&inputs, &output, &extents, &PlanOptions::default());
        let plain = search(
            &inputs,
            &output,
            &extents,
            &PlanOptions::default().trials(0).subtree(0),
        );
        assert_eq!(plain.method(), Method::Greedy);
        assert!(full.cost().multiply_adds <= plain.cost().multiply_adds);
        assert_eq!(
            cost_of(full.tree(), &inputs, &output, &extents),
            full.cost().multiply_adds
        );
    }
}

#[test]
fn a_memory_limit_is_met_by_slicing() {
    let (inputs, output, extents) = random_network(16, 3, 2, 5);
    let unsliced = search(&inputs, &output, &extents, &PlanOptions::default());
    let limit = (unsliced.cost().largest / 16).max(1);
    let sliced = search(
        &inputs,
        &output,
        &extents,
        &PlanOptions::default().memory_limit(limit),
    );
    assert!(sliced.cost().largest <= limit, "{:?}", sliced.cost());
    assert!(!sliced.sliced().is_empty());
    assert_eq!(
        sliced.slices(),
        sliced
            .sliced()
            .iter()
            .map(|&l| extents[l] as u128)
            .product::<u128>()
    );
    assert!(sliced.cost().multiply_adds >= unsliced.cost().multiply_adds);
}

#[test]
fn hostile_networks_plan_within_the_budget() {
    use std::time::{Duration, Instant};
    let options = PlanOptions::default().time_budget(Duration::from_millis(200));
    // 10,000 tensors in a chain, each with a private label of extent 1 and a scalar.
    let mut inputs: Vec<Vec<usize>> = (0..10_000).map(|n| vec![n, n + 1, 20_000 + n]).collect();
    inputs.push(Vec::new());
    let extents: Vec<usize> = (0..30_000)
        .map(|l| if l >= 20_000 { 1 } else { 2 })
        .collect();
    let start = Instant::now();
    let path = search(&inputs, &[0], &extents, &options);
    assert_eq!(path.tree().steps().len(), 10_000);
    assert!(start.elapsed() < Duration::from_secs(20));
    // One label on every one of 2,000 tensors (a hyperedge), and disconnected pairs.
    let mut inputs: Vec<Vec<usize>> = (0..2_000).map(|n| vec![0, n + 1]).collect();
    inputs.extend((0..100).map(|n| vec![5_000 + n]));
    let path = search(&inputs, &[], &[2; 6_000], &options);
    assert_eq!(path.tree().steps().len(), 2_099);
    // The chain again under a memory limit: slicing stays within its budget too.
    let mut inputs: Vec<Vec<usize>> = (0..10_000).map(|n| vec![n, n + 1]).collect();
    inputs.push(vec![0, 10_000]);
    let start = Instant::now();
    let sliced = search(&inputs, &[], &extents, &options.clone().memory_limit(2));
    assert!(sliced.cost().largest <= 2);
    assert!(start.elapsed() < Duration::from_secs(30));
    // Nothing, one operand, a repeated label.
    assert!(search(&[], &[], &[], &options).tree().steps().is_empty());
    assert!(search(&[vec![0, 0]], &[], &[3], &options)
        .tree()
        .steps()
        .is_empty());
    assert_eq!(Cost::default().multiply_adds, 0);
}
