//! Properties that hostile input must not break, shared by the cargo-fuzz targets (fuzz/) and
//! their bounded proptest versions (`proptest_hostile_input.rs`, run by `cargo test`). Each
//! function panics only when a property fails, never on input the library is meant to
//! reject. Include with `#[path]` next to `reference` (tests/common/reference.rs).

use super::reference;
use einsum_runtime::engine;
use einsum_runtime::spec::Spec;
use einsum_runtime::{einsum_dyn, einsum_vjp_dyn};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// Index combinations above which the reference evaluator is too slow to call per input.
const REFERENCE_LIMIT: usize = 50_000;
/// Elements above which an operand is not built (the fuzzer would spend its time allocating).
const OPERAND_LIMIT: usize = 4_096;

/// A deterministic operand of `shape` with small integer values, so sums are exact.
pub fn operand(shape: &[usize], seed: usize) -> Option<ArrayD<f64>> {
    let len = shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))?;
    if len > OPERAND_LIMIT {
        return None;
    }
    let values = (0..len)
        .map(|i| ((i * 7 + seed * 13) % 9) as f64 - 4.0)
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).ok()
}

/// One [`operand`] per shape (operand `k` from seed `k`), or `None` when one is too large.
fn operands(shapes: &[Vec<usize>]) -> Option<Vec<ArrayD<f64>>> {
    shapes
        .iter()
        .enumerate()
        .map(|(k, shape)| operand(shape, k))
        .collect()
}

/// The number of index combinations the reference would visit, if the spec resolves.
fn combinations(spec: &str, shapes: &[&[usize]]) -> Option<usize> {
    let parsed = Spec::parse(spec).ok()?;
    let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
    let contraction = parsed.resolve(&ranks).ok()?;
    let extents = contraction.bind_extents(shapes).ok()?;
    extents
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n.max(1)))
}

/// Panics unless `got` equals `want` in shape and, to rounding, in every element.
fn assert_equal(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    for (g, w) in got.iter().zip(want) {
        let scale = 1.0 + w.abs();
        assert!(
            (g - w).abs() <= 1e-9 * scale,
            "{what}: {g} != {w}\n got {got}\nwant {want}"
        );
    }
}

/// Any text as a spec: parsing never panics, an error names at least one problem, and a
/// valid spec run on operands of matching ranks gives an error or the reference's answer.
pub fn check_spec_text(text: &str) {
    match Spec::parse(text) {
        Err(errors) => {
            assert!(!errors.is_empty(), "{text:?}: an error without a problem");
            for error in &errors {
                assert!(!error.to_string().is_empty());
            }
            let error = einsum_dyn::<f64>(text, &[]).expect_err("an invalid spec must fail");
            assert!(error.to_string().contains("einsum `"));
        }
        Ok(spec) => {
            // Every term's named labels get extent 2 and a `...` one axis of extent 3.
            let shapes: Vec<Vec<usize>> = spec
                .inputs()
                .iter()
                .map(|term| {
                    let text = term.to_string();
                    let mut shape = vec![2; term.named_rank()];
                    if text.contains("...") {
                        shape.push(3);
                    }
                    shape
                })
                .collect();
            check_einsum(text, &shapes);
        }
    }
}

/// `spec` on operands of `shapes`: never a panic; when it succeeds, the reference's answer,
/// and gradients of the operands' shapes.
pub fn check_einsum(spec: &str, shapes: &[Vec<usize>]) {
    let Some(operands) = operands(shapes) else {
        return;
    };
    let views: Vec<ArrayViewD<'_, f64>> = operands.iter().map(|a| a.view()).collect();
    let Ok(result) = einsum_dyn(spec, &views) else {
        return;
    };
    let shape_refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
    if combinations(spec, &shape_refs).is_some_and(|n| n <= REFERENCE_LIMIT) {
        let want = reference::reference_einsum(spec, &operands);
        assert_equal(&result, &want, spec);
    }
    let Some(g) = operand(result.shape(), 99) else {
        return;
    };
    let grads = einsum_vjp_dyn(spec, &views, g.view()).expect("the forward pass succeeded");
    assert_eq!(
        grads.len(),
        operands.len(),
        "{spec}: one gradient per operand"
    );
    for (grad, operand) in grads.iter().zip(&operands) {
        assert_eq!(grad.shape(), operand.shape(), "{spec}: gradient shape");
    }
}

/// A valid contraction built from structure rather than text: `terms` index into eight
/// labels, `output` picks among the labels used, `extents` size them. The pairwise plan, the
/// automatic strategy and the reference must agree.
pub fn check_planner(terms: &[Vec<u8>], output: &[u8], extents: [u8; 8]) {
    let Some((spec, terms, _)) = valid_spec(terms, output) else {
        return;
    };
    let extent = |label: u8| 1 + usize::from(extents[usize::from(label)] % 4);
    let shapes: Vec<Vec<usize>> = terms
        .iter()
        .map(|t| t.iter().map(|&l| extent(l)).collect())
        .collect();
    let Some(operands) = operands(&shapes) else {
        return;
    };
    let views: Vec<ArrayViewD<'_, f64>> = operands.iter().map(|a| a.view()).collect();
    let ranks: Vec<usize> = shapes.iter().map(Vec::len).collect();
    let contraction = Spec::parse(&spec)
        .expect("built specs are valid")
        .resolve(&ranks)
        .expect("ranks match the terms");
    let planned = engine::contract_planned(&contraction, &views).expect("extents agree");
    let auto = engine::contract(&contraction, &views).expect("extents agree");
    let shape_refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
    assert_equal(&planned, &auto, &spec);
    if combinations(&spec, &shape_refs).is_some_and(|n| n <= REFERENCE_LIMIT) {
        let want = reference::reference_einsum(&spec, &operands);
        assert_equal(&planned, &want, &spec);
    }
}

/// Extents for [`check_huge_extents`]: small ones, zero, and ones no memory can hold.
const HOSTILE_EXTENTS: [usize; 8] = [0, 1, 2, 3, 1 << 20, 1 << 40, 1 << 50, 1 << 62];

/// Extents at or above this are huge: summing over one is real work, not a hostile input.
const HUGE: usize = 1 << 20;

/// Valid contractions, built as [`check_planner`] builds them, on operands that are broadcast
/// views of one element, so their extents can be far beyond memory. When no huge label is
/// summed, the call must return promptly: an error (an output or intermediate too large to
/// allocate) or a result, never a panic or an abort; when the output alone would need more
/// than 2^44 bytes, it must be the error.
pub fn check_huge_extents(terms: &[Vec<u8>], output: &[u8], extents: [u8; 8]) {
    let Some((spec, terms, out)) = valid_spec(terms, output) else {
        return;
    };
    let extent = |label: u8| HOSTILE_EXTENTS[usize::from(extents[usize::from(label)] % 8)];
    let summed_huge = terms
        .iter()
        .flatten()
        .any(|&l| extent(l) >= HUGE && !out.contains(&l));
    if summed_huge {
        return;
    }
    let one = [1.0f64];
    let base = ndarray::ArrayView1::from(&one[..]);
    let Some(views) = terms
        .iter()
        .map(|t| {
            let shape: Vec<usize> = t.iter().map(|&l| extent(l)).collect();
            base.broadcast(IxDyn(&shape))
        })
        .collect::<Option<Vec<ArrayViewD<'_, f64>>>>()
    else {
        return;
    };
    let output_bytes = out
        .iter()
        .fold(8u128, |bytes, &l| bytes.saturating_mul(extent(l) as u128));
    let result = einsum_dyn(&spec, &views);
    if output_bytes > 1 << 44 {
        assert!(
            result.is_err(),
            "{spec}: an output of {output_bytes} bytes was computed"
        );
    }
}

/// The spec text for structural terms over eight labels (at most five terms of four labels)
/// and an output picked among the labels used: `(spec, terms, output)`.
fn valid_spec(terms: &[Vec<u8>], output: &[u8]) -> Option<(String, Vec<Vec<u8>>, Vec<u8>)> {
    const LABELS: &[u8; 8] = b"abcdefgh";
    let terms: Vec<Vec<u8>> = terms
        .iter()
        .take(5)
        .map(|t| t.iter().take(4).map(|&l| l % 8).collect())
        .collect();
    if terms.is_empty() {
        return None;
    }
    let mut used: Vec<u8> = terms.iter().flatten().copied().collect();
    used.sort_unstable();
    used.dedup();
    let mut out: Vec<u8> = Vec::new();
    for &o in output.iter().take(4) {
        if let Some(&label) = used.get(usize::from(o) % used.len().max(1)) {
            if !out.contains(&label) {
                out.push(label);
            }
        }
    }
    let text = |labels: &[u8]| -> String {
        labels
            .iter()
            .map(|&l| LABELS[usize::from(l)] as char)
            .collect()
    };
    let spec = format!(
        "{}->{}",
        terms.iter().map(|t| text(t)).collect::<Vec<_>>().join(","),
        text(&out)
    );
    Some((spec, terms, out))
}

/// Any network: `terms` are operands' labels (any `u8`, so labels repeat within operands and
/// networks fall apart into components), `output` picks labels (repeats and unknown labels
/// included), `extents` size labels 1 to 3 (labels beyond the table have extent 2), and
/// `limit` is a memory limit (0: none). Building, planning and contracting must give an
/// error or, within the limit when there is one, the answer of the same network's unplanned
/// contraction; never a panic.
pub fn check_network(terms: &[Vec<u8>], output: &[u8], extents: &[u8], limit: u8) {
    use einsum_runtime::network::{Network, PlanOptions};
    use std::time::Duration;
    let extent = |label: u8| {
        extents
            .get(usize::from(label))
            .map_or(2, |&e| 1 + usize::from(e % 3))
    };
    let inputs: Vec<Vec<u32>> = terms
        .iter()
        .map(|t| t.iter().map(|&l| u32::from(l)).collect())
        .collect();
    let output: Vec<u32> = output.iter().map(|&l| u32::from(l)).collect();
    let shapes: Vec<Vec<usize>> = terms
        .iter()
        .map(|t| t.iter().map(|&l| extent(l)).collect())
        .collect();
    let Ok(network) = Network::from_labels(&inputs, &output, &shapes) else {
        return;
    };
    let mut options = PlanOptions::default().time_budget(Duration::from_millis(50));
    if limit > 0 {
        options = options.memory_limit(u128::from(limit));
    }
    let Ok(plan) = network.plan(&options) else {
        assert!(limit > 0, "only a memory limit can make planning fail");
        return;
    };
    if limit > 0 {
        assert!(plan.largest_intermediate() <= u128::from(limit));
    }
    assert_eq!(
        plan.path().tree().steps().len(),
        terms.len().saturating_sub(1)
    );
    let Some(operands) = operands(&shapes) else {
        return;
    };
    if plan.multiply_adds() > 1 << 16 {
        return;
    }
    let views: Vec<ArrayViewD<'_, f64>> = operands.iter().map(|a| a.view()).collect();
    let planned = plan.contract(&views).expect("the plan fits its operands");
    let unplanned = Network::from_labels(&inputs, &output, &shapes)
        .and_then(|n| n.plan(&PlanOptions::default().exact_up_to(0).trials(0).subtree(0)))
        .and_then(|p| p.contract(&views))
        .expect("the plain greedy plan contracts too");
    assert_equal(&planned, &unplanned, "a network");
}
