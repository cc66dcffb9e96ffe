//! Helpers for tests on fixed-size arrays of any depth: deterministic filling, conversion to
//! dynamic-rank arrays for the reference evaluator, and the forward and gradient checks.
#![allow(dead_code)]

use super::fd::assert_gradient_close;
use super::reference::reference_einsum;
use super::{assert_close, reference_gradient, values};
use einsum::operand::FixedArray;
use ndarray::{ArrayD, IxDyn};

/// A fixed-size array (or a number) filled with deterministic values in `[-1, 1)`.
pub fn fill<A: FixedArray<Elem = f64>>(seed: u64) -> A {
    let mut shape = Vec::new();
    A::push_shape(&mut shape);
    let mut elements = values(shape.iter().product(), seed).into_iter();
    A::from_elements(&mut elements)
}

/// A fixed-size array (or a number) as a dynamic-rank array of the same shape and elements.
pub fn to_dyn<A: FixedArray<Elem = f64>>(array: &A) -> ArrayD<f64> {
    let mut shape = Vec::new();
    A::push_shape(&mut shape);
    let elements = A::flatten(core::slice::from_ref(array)).to_vec();
    ArrayD::from_shape_vec(IxDyn(&shape), elements).expect("shape and elements agree")
}

/// Checks `y = einsum(spec, ops)` against the reference, and each of `grads` against central
/// differences of `L = sum(g * reference(spec, ops))`.
#[track_caller]
pub fn check(
    spec: &str,
    ops: &[ArrayD<f64>],
    y: &ArrayD<f64>,
    g: &ArrayD<f64>,
    grads: &[ArrayD<f64>],
) {
    assert_close(y, &reference_einsum(spec, ops), spec);
    for (k, grad) in grads.iter().enumerate() {
        let numeric = reference_gradient(spec, ops, g, k);
        assert_gradient_close(grad, &numeric, 1e-8, &format!("{spec}: operand {k}"));
    }
}
