//! Helpers shared by the integration tests: deterministic operands and comparisons against
//! the naive reference evaluator in `reference.rs`.
#![allow(dead_code)]

pub mod fd;
pub mod fixed_check;
pub mod reference;

use ndarray::{ArrayD, IxDyn};

/// Deterministic values in `[-1, 1)` from a small linear congruential generator, so that a
/// failing case reproduces exactly.
pub fn values(count: usize, seed: u64) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // The top 53 bits as a fraction in [0, 1), mapped to [-1, 1).
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

mod levi_civita;
#[allow(unused_imports)] // each test or bench uses some of the helpers
pub use levi_civita::levi_civita;

/// A dynamic-rank array of `shape` filled with [`values`].
pub fn random(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let count = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), values(count, seed)).expect("shape and values agree")
}

/// Asserts equal shapes and elementwise agreement to a relative tolerance of 1e-10.
#[track_caller]
pub fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (index, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        let tolerance = 1e-10 * w.abs().max(1.0);
        assert!(
            (g - w).abs() <= tolerance,
            "{what}: element {index} is {g}, reference says {w}"
        );
    }
}

/// A fixed-size array's elements and shape as a dynamic-rank array, written independently of
/// the crate's own adapters: `shape` and the flattened `elements` in row-major order.
pub fn fixed_to_dyn(shape: &[usize], elements: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(shape), elements.to_vec()).expect("shape and elements agree")
}

/// `dL/d ops[k]` by central differences of the reference evaluator, for
/// `L = sum(g * reference(spec, ops))`: what an einsum's gradient for operand `k` must be.
pub fn reference_gradient(
    spec: &str,
    ops: &[ArrayD<f64>],
    g: &ArrayD<f64>,
    k: usize,
) -> ArrayD<f64> {
    fd::central_difference(
        |x| {
            let mut probe = ops.to_vec();
            probe[k] = x.clone();
            (&reference::reference_einsum(spec, &probe) * g).sum()
        },
        &ops[k],
        1e-3,
    )
}
