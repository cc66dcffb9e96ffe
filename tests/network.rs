//! Tensor networks through `einsum::network`: planned contractions against the naive
//! reference evaluator, with and without slicing, more labels than letters, and the errors.

mod common;
mod counting;

use common::reference::reference_einsum;
use common::{assert_close, random};
use einsum::ndarray::{Array2, ArrayD, ArrayViewD, IxDyn};
use einsum::network::{Method, Network, Plan, PlanOptions};
use einsum::EinsumErrorKind;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// A random network: each operand's labels, the output's, the shapes, and the letter spec.
type Random = (Vec<Vec<u32>>, Vec<u32>, Vec<Vec<usize>>, String);

/// A small random network in the manner of opt_einsum's `rand_equation`: each of
/// `operands * 3 / 2` bonds of extent 2 on two distinct operands, two output labels of
/// extent 3 on one operand each (small enough for the naive reference). Labels are numbered `1000 + 7 * l` (any `u32` will do). Returns the labels
/// of each operand, the output, the shapes, and the same network as a letter spec.
fn random_network(operands: usize, seed: u64) -> Random {
    let draws = common::values(4 * operands * 3, seed);
    let mut draw = draws.iter().map(|v| ((v + 1.0) / 2.0 * 1e6) as usize);
    let mut next = |n: usize| draw.next().unwrap_or(0) % n;
    let bonds = operands * 3 / 2;
    let labels = bonds + 2;
    let mut terms: Vec<Vec<usize>> = vec![Vec::new(); operands];
    for label in 0..bonds {
        let a = next(operands);
        let b = (a + 1 + next(operands - 1)) % operands;
        terms[a].push(label);
        terms[b].push(label);
    }
    for label in bonds..labels {
        terms[next(operands)].push(label);
    }
    let extents: Vec<usize> = (0..labels).map(|l| if l < bonds { 2 } else { 3 }).collect();
    let number = |l: usize| 1000 + 7 * l as u32;
    let letter = |l: usize| char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[l]);
    let inputs = terms
        .iter()
        .map(|t| t.iter().map(|&l| number(l)).collect())
        .collect();
    let shapes = terms
        .iter()
        .map(|t| t.iter().map(|&l| extents[l]).collect())
        .collect();
    let spec = format!(
        "{}->{}{}",
        terms
            .iter()
            .map(|t| t.iter().map(|&l| letter(l)).collect::<String>())
            .collect::<Vec<_>>()
            .join(","),
        letter(bonds),
        letter(bonds + 1)
    );
    (inputs, vec![number(bonds), number(bonds + 1)], shapes, spec)
}

fn operands_of(shapes: &[Vec<usize>], seed: u64) -> Vec<ArrayD<f64>> {
    shapes
        .iter()
        .enumerate()
        .map(|(k, shape)| random(shape, seed * 100 + k as u64))
        .collect()
}

/// The default plan of `net`, a memory limit of 1/16 of its largest intermediate (at least
/// 1), and the plan under that limit.
fn plans_to_a_sixteenth(net: &Network) -> (Plan, u128, Plan) {
    let whole = net.plan(&PlanOptions::default()).unwrap();
    let limit = (whole.largest_intermediate() / 16).max(1);
    let sliced = net
        .plan(&PlanOptions::default().memory_limit(limit))
        .unwrap();
    (whole, limit, sliced)
}

#[test]
fn planned_networks_match_the_reference() {
    for seed in 0..12 {
        let operands = 5 + seed as usize % 5;
        let (inputs, output, shapes, spec) = random_network(operands, seed);
        let net = Network::from_labels(&inputs, &output, &shapes).unwrap();
        let plan = net.plan(&PlanOptions::default()).unwrap();
        let optimal = [Method::Ordered, Method::Exact];
        assert!(optimal.contains(&plan.path().method()), "{spec}");
        let arrays = operands_of(&shapes, seed);
        let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
        let want = reference_einsum(&spec, &arrays);
        assert_close(&plan.contract(&views).unwrap(), &want, &spec);
        // The same network from its spec, and through `einsum_dyn`, agree.
        let from_spec = Network::from_spec(&spec, &shapes).unwrap();
        let again = from_spec.plan(&PlanOptions::default()).unwrap();
        assert_eq!(again.multiply_adds(), plan.multiply_adds(), "{spec}");
        assert_close(&einsum::einsum_dyn(&spec, &views).unwrap(), &want, &spec);
    }
}

#[test]
fn sliced_plans_fit_the_memory_limit_and_give_the_same_result() {
    for seed in 0..6 {
        let (inputs, output, shapes, spec) = random_network(8, 50 + seed);
        let net = Network::from_labels(&inputs, &output, &shapes).unwrap();
        let (unsliced, limit, sliced) = plans_to_a_sixteenth(&net);
        assert!(sliced.largest_intermediate() <= limit, "{spec}");
        assert!(sliced.slices() > 1, "{spec}");
        assert!(sliced.multiply_adds() >= unsliced.multiply_adds());
        assert!(sliced.to_string().contains("slices"), "{sliced}");
        // Under a limit the plan runs in memory order, whose bound is the path's.
        let bound = format!("at most {} held at once", sliced.path().peak());
        assert!(sliced.to_string().contains(&bound), "{sliced}");
        let arrays = operands_of(&shapes, seed);
        let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
        let want = reference_einsum(&spec, &arrays);
        assert_close(&sliced.contract(&views).unwrap(), &want, &spec);
    }
}

#[test]
fn operands_with_diagonals_broadcasting_and_lone_labels_slice_at_every_limit() {
    // `ii` is a diagonal, `m` is summed by operand 0 alone, `j` broadcasts in operand 2
    // (extent 1), and `k` joins four operands: every rule of the engine's first stage, with
    // any label sliced, including one read along a diagonal or broadcast.
    let spec = "iim,ijk,jk,k,kl,jl->il";
    let shapes = vec![
        vec![3, 3, 2],
        vec![3, 6, 5],
        vec![1, 5],
        vec![5],
        vec![5, 2],
        vec![6, 2],
    ];
    let net = Network::from_spec(spec, &shapes).unwrap();
    let arrays = operands_of(&shapes, 21);
    let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
    let want = reference_einsum(spec, &arrays);
    let whole = net.plan(&PlanOptions::default()).unwrap();
    assert_close(&whole.contract(&views).unwrap(), &want, spec);
    let mut sliced_plans = 0;
    for limit in 1..whole.largest_intermediate() {
        let plan = net
            .plan(&PlanOptions::default().memory_limit(limit))
            .unwrap();
        sliced_plans += usize::from(plan.slices() > 1);
        let context = format!("{spec} under {limit}: {plan}");
        assert_close(&plan.contract(&views).unwrap(), &want, &context);
    }
    assert!(sliced_plans > 0);
}

/// A closed L x M lattice: each site's tensor has a bond of `bond` to each neighbour.
fn lattice(rows: u32, cols: u32, bond: usize) -> (Vec<Vec<u32>>, Vec<Vec<usize>>) {
    let site = |r: u32, c: u32| r * cols + c;
    // The bond between two neighbouring sites, numbered from the first.
    let label = |a: u32, b: u32| a.min(b) * 4 + if b.abs_diff(a) == 1 { 0 } else { 1 };
    let mut inputs = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let here = site(r, c);
            let mut labels = Vec::new();
            if r > 0 {
                labels.push(label(here, site(r - 1, c)));
            }
            if c > 0 {
                labels.push(label(here, site(r, c - 1)));
            }
            if c + 1 < cols {
                labels.push(label(here, site(r, c + 1)));
            }
            if r + 1 < rows {
                labels.push(label(here, site(r + 1, c)));
            }
            inputs.push(labels);
        }
    }
    let shapes = inputs.iter().map(|t| vec![bond; t.len()]).collect();
    (inputs, shapes)
}

#[test]
fn a_sliced_contraction_holds_no_more_than_the_limit_beside_its_operands() {
    // (name, operand labels, output labels, shapes)
    type Named = (String, Vec<Vec<u32>>, Vec<u32>, Vec<Vec<usize>>);
    let mut networks: Vec<Named> = Vec::new();
    for (seed, operands) in (70..74).zip([8, 10, 12, 14]) {
        let (inputs, output, shapes, spec) = random_network(operands, seed);
        networks.push((spec, inputs, output, shapes));
    }
    for (rows, cols, bond) in [(3, 3, 4), (3, 4, 3)] {
        let (inputs, shapes) = lattice(rows, cols, bond);
        networks.push((format!("{rows}x{cols} lattice"), inputs, vec![], shapes));
    }
    let ring: Vec<Vec<u32>> = (0..12).map(|k| vec![k, (k + 1) % 12]).collect();
    networks.push(("ring of 12".into(), ring, vec![0, 6], vec![vec![4, 4]; 12]));
    for (seed, (name, inputs, output, shapes)) in networks.into_iter().enumerate() {
        let net = Network::from_labels(&inputs, &output, &shapes).unwrap();
        let (whole, limit, sliced) = plans_to_a_sixteenth(&net);
        assert!(sliced.slices() > 1, "{name}");
        let arrays = operands_of(&shapes, seed as u64);
        let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
        // On a thread of its own, so that nothing the engine keeps per thread is warm.
        let (peak, got) = std::thread::scope(|scope| {
            let contract = || counting::peak_growth(|| sliced.contract(&views).unwrap());
            scope.spawn(contract).join().unwrap()
        });
        assert_close(&got, &whole.contract(&views).unwrap(), &name);
        // The output is counted in the peak, not in the allowance.
        let operands: usize = arrays.iter().map(ArrayD::len).sum();
        let elements = limit as usize + operands;
        assert!(
            peak <= elements * std::mem::size_of::<f64>(),
            "{name}: {peak} bytes at the peak, for a limit of {limit} elements and operands of \
             {operands}"
        );
    }
}

#[test]
fn long_chains_of_matrices_plan_and_contract() {
    // The product of n shears [[1, 1], [0, 1]] is [[1, n], [0, 1]]: exact in f64. Ten
    // thousand unsliced, a hundred sliced to vectors (a thousand needs the slicer to re-plan
    // the tree, which a debug build does not finish within the default budget).
    for (n, limit) in [(10_000u32, None), (100, Some(2))] {
        let inputs: Vec<Vec<u32>> = (0..n).map(|k| vec![k, k + 1]).collect();
        let shapes = vec![vec![2, 2]; n as usize];
        let net = Network::from_labels(&inputs, &[0, n], &shapes).unwrap();
        let shear = Array2::from_shape_vec((2, 2), vec![1.0, 1.0, 0.0, 1.0]).unwrap();
        let views: Vec<ArrayViewD<'_, f64>> = vec![shear.view().into_dyn(); n as usize];
        let options = PlanOptions::default();
        let options = limit.map_or(options.clone(), |limit| options.memory_limit(limit));
        let plan = net.plan(&options).unwrap();
        assert_eq!(plan.slices() > 1, limit.is_some(), "{n}");
        let product = plan.contract(&views).unwrap();
        let want = [1.0, f64::from(n), 0.0, 1.0];
        assert_eq!(product.iter().copied().collect::<Vec<_>>(), want, "{n}");
    }
}

#[test]
fn more_labels_than_letters() {
    // The trace of a product of 120 matrices of 2x2: 120 labels.
    let n = 120u32;
    let inputs: Vec<Vec<u32>> = (0..n).map(|k| vec![k, (k + 1) % n]).collect();
    let shapes = vec![vec![2, 2]; n as usize];
    let matrices: Vec<ArrayD<f64>> = (0..n)
        .map(|k| random(&[2, 2], u64::from(k)).mapv(|v| 0.5 + v / 4.0))
        .collect();
    let mut product = Array2::<f64>::eye(2);
    for m in &matrices {
        let m: einsum::ndarray::ArrayView2<'_, f64> = m.view().into_dimensionality().unwrap();
        product = product.dot(&m);
    }
    let net = Network::from_labels(&inputs, &[], &shapes).unwrap();
    let plan = net.plan(&PlanOptions::default()).unwrap();
    let views: Vec<ArrayViewD<'_, f64>> = matrices.iter().map(|a| a.view()).collect();
    let got = plan.contract(&views).unwrap()[[]];
    let want = product[[0, 0]] + product[[1, 1]];
    assert!((got - want).abs() <= 1e-10 * want.abs(), "{got} vs {want}");
    // A chain is contracted along itself: 8 multiply-adds a step, 4 for the last.
    assert_eq!(plan.multiply_adds(), 8 * 118 + 4);
}

#[test]
fn gradients_of_a_plan_are_the_vjp() {
    // Reverse mode along the tree against `einsum_vjp_dyn`'s one contraction per operand.
    for (operands, seed) in [(6, 3), (12, 4), (9, 5)] {
        let (inputs, output, shapes, spec) = random_network(operands, seed);
        let plan = Network::from_labels(&inputs, &output, &shapes)
            .unwrap()
            .plan(&PlanOptions::default())
            .unwrap();
        let arrays = operands_of(&shapes, seed);
        let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
        let y = plan.contract(&views).unwrap();
        let g = random(y.shape(), 99);
        let got = plan.gradients(&views, g.view()).unwrap();
        let want = einsum::einsum_vjp_dyn(&spec, &views, g.view()).unwrap();
        for (got, want) in got.iter().zip(&want) {
            assert_close(got, want, &spec);
        }
    }
}

#[test]
fn gradients_of_networks_with_diagonals_and_broadcasting_fall_back_to_the_vjp() {
    // `ii` is a diagonal, `k` is summed by operand 2 alone, `j` broadcasts (extent 1).
    let spec = "ii,ij,jk,j->i";
    let shapes = vec![vec![3, 3], vec![3, 4], vec![4, 2], vec![1]];
    let plan = Network::from_spec(spec, &shapes)
        .unwrap()
        .plan(&PlanOptions::default())
        .unwrap();
    let arrays = operands_of(&shapes, 8);
    let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
    let g = random(&[3], 9);
    let got = plan.gradients(&views, g.view()).unwrap();
    let want = einsum::einsum_vjp_dyn(spec, &views, g.view()).unwrap();
    for (got, want) in got.iter().zip(&want) {
        assert_close(got, want, spec);
    }
    let wrong = random(&[4], 9);
    assert!(plan.gradients(&views, wrong.view()).is_err());
}

#[test]
fn bad_networks_are_clear_errors() {
    let message = |r: Result<Network, einsum::EinsumError>| r.unwrap_err().to_string();
    assert_eq!(
        message(Network::from_labels(&[vec![1, 2]], &[3], &[vec![2, 2]])),
        "einsum `network of 1 operand`: output label `3` is on no operand"
    );
    assert_eq!(
        message(Network::from_labels(&[vec![1, 2]], &[1, 1], &[vec![2, 2]])),
        "einsum `network of 1 operand`: output label `1` is listed twice: list it once"
    );
    assert_eq!(
        message(Network::from_labels(&[vec![1, 1]], &[], &[vec![2, 3]])),
        "einsum `network of 1 operand`: label `1` is repeated in operand 0 with unequal \
         extents 2 and 3: a diagonal needs equal extents"
    );
    assert_eq!(
        message(Network::from_labels(&[vec![1, 2]], &[], &[vec![2]])),
        "einsum `network of 1 operand`: operand 0 has rank 1 but its term `1 2` has 2 labels"
    );
    assert_eq!(
        message(Network::from_labels(&[vec![1], vec![1]], &[], &[vec![2]])),
        "einsum `network of 2 operands`: the spec has 2 input terms but 1 operand was given"
    );
    let ring: Vec<Vec<u32>> = (0..4).map(|k| vec![k, (k + 1) % 4]).collect();
    let net = Network::from_labels(&ring, &[], &vec![vec![2, 2]; 4]).unwrap();
    assert_eq!(
        net.plan(&PlanOptions::default().memory_limit(0))
            .unwrap_err()
            .to_string(),
        "einsum `network of 4 operands`: no plan keeps every intermediate within 0 elements: \
         the best sliced plan found holds 1; raise the limit"
    );
    // A ring of 40 matrices of 256 held to one element: at least every other bond sliced,
    // 256^20 = 2^160 slices.
    let ring: Vec<Vec<u32>> = (0..40).map(|k| vec![k, (k + 1) % 40]).collect();
    let net = Network::from_labels(&ring, &[], &vec![vec![256, 256]; 40]).unwrap();
    let options = PlanOptions::default()
        .memory_limit(1)
        .time_budget(Duration::from_millis(20));
    assert_eq!(
        net.plan(&options).unwrap_err().to_string(),
        "einsum `network of 40 operands`: no plan keeps every intermediate within 1 element: \
         the slices it needs would take more than 2^128 multiply-adds; raise the limit"
    );
    let plan = Network::from_spec("ij,jk->ik", &[vec![2, 3], vec![3, 4]])
        .unwrap()
        .plan(&PlanOptions::default())
        .unwrap();
    let a = ArrayD::<f64>::zeros(IxDyn(&[2, 3]));
    let b = ArrayD::<f64>::zeros(IxDyn(&[3, 5]));
    let err = plan.contract(&[a.view(), b.view()]).unwrap_err();
    assert!(matches!(err.kind(), EinsumErrorKind::Network(_)));
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk->ik`: operand 1 has shape [3, 5] but the plan was made for [3, 4]: plan \
         the network again for these shapes"
    );
}

#[test]
fn the_table_names_the_search_that_found_the_path() {
    let ring = |n: u32| -> Vec<Vec<u32>> { (0..n).map(|k| vec![k, (k + 1) % n]).collect() };
    let first_line = |n: u32| {
        let shapes = vec![vec![3, 3]; n as usize];
        let plan = Network::from_labels(&ring(n), &[], &shapes)
            .unwrap()
            .plan(&PlanOptions::default())
            .unwrap();
        plan.to_string().lines().next().unwrap().to_string()
    };
    assert!(first_line(4).ends_with("path: optimal (every order of steps)"));
    assert!(first_line(8).ends_with("path: optimal (dynamic programming)"));
    assert!(first_line(2).ends_with("path: nothing to search"));
}

/// The README's example, as written there.
#[test]
fn readme_example() -> Result<(), einsum::EinsumError> {
    // The trace of a product of 100 matrices of 4x4: labels 0..100 around a ring.
    let inputs: Vec<Vec<u32>> = (0..100).map(|k| vec![k, (k + 1) % 100]).collect();
    let shapes = vec![vec![4, 4]; 100];
    let plan = Network::from_labels(&inputs, &[], &shapes)?
        .plan(&PlanOptions::default().memory_limit(4))?;
    assert!(plan.to_string().contains("slices"));
    let identity = ArrayD::from_shape_fn(IxDyn(&[4, 4]), |i| f64::from(u8::from(i[0] == i[1])));
    let views: Vec<ArrayViewD<'_, f64>> = vec![identity.view(); 100];
    assert_eq!(plan.contract(&views)?[[]], 4.0);
    Ok(())
}

#[test]
fn slices_with_enough_work_run_on_threads_and_sum_to_the_same() {
    // The trace of a product of four 128x128 matrices, sliced just below its largest
    // intermediate: millions of multiply-adds in all, and room in the limit for several
    // slices at once, so the `threads` feature splits the slices.
    let inputs: Vec<Vec<u32>> = (0..4).map(|k| vec![k, (k + 1) % 4]).collect();
    let shapes = vec![vec![128, 128]; 4];
    let net = Network::from_labels(&inputs, &[], &shapes).unwrap();
    let whole = net.plan(&PlanOptions::default()).unwrap();
    let limit = whole.largest_intermediate() - 1;
    let sliced = net
        .plan(&PlanOptions::default().memory_limit(limit))
        .unwrap();
    assert!(sliced.slices() > 1);
    assert!(sliced.multiply_adds() >= 1 << 22);
    assert!(2 * (sliced.path().peak() + 1) <= limit, "{sliced}");
    let arrays = operands_of(&shapes, 12);
    let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
    let want = whole.contract(&views).unwrap();
    assert_close(&sliced.contract(&views).unwrap(), &want, "sliced ring");
}
