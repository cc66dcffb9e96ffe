//! The gradient checks shared by the autograd tests (built on the project's one central-difference
//! checker, `tests/common/fd.rs`), included by each
//! `autograd_*.rs` test file with `#[path = "autograd_common.rs"] mod common;`.
//!
//! Cargo also builds this file as a test crate of its own; it has no tests.
#![allow(dead_code)]

#[path = "../../tests/common/fd.rs"]
mod fd;
#[path = "support/random.rs"]
mod random;

pub use random::random;

use einsum_runtime::autograd::{grad_vars, no_grad, Var};
use ndarray::{ArrayD, IxDyn};

/// Step of the central differences. With values and derivatives of order 1, the truncation
/// error `h^2 f''' / 6` and the rounding error `eps |f| / h` are both around 1e-10.
const STEP: f64 = 1e-5;

/// Deterministic values in `[low, high)`.
pub fn random_in(shape: &[usize], seed: u64, low: f64, high: f64) -> ArrayD<f64> {
    random(shape, seed).mapv(|u| low + (u + 1.0) / 2.0 * (high - low))
}

/// Deterministic values whose magnitude is in `[0.5, 1.5)`, with random signs: away from the
/// kink of `abs` at 0.
pub fn random_away_from_zero(shape: &[usize], seed: u64) -> ArrayD<f64> {
    random(shape, seed).mapv(|u| u.signum() * (0.5 + u.abs()))
}

/// Asserts `got` and `want` have the same shape and agree within `tol * max(1, |want|)`.
#[track_caller]
pub fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, tol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    for (index, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: element {index} is {g}, expected {w}\n got: {got}\nwant: {want}"
        );
    }
}

/// `f` on constants: a plain function of arrays.
fn evaluate(f: &dyn Fn(&[Var<f64>]) -> Var<f64>, inputs: &[ArrayD<f64>]) -> Var<f64> {
    no_grad(|| {
        f(&inputs
            .iter()
            .cloned()
            .map(Var::constant)
            .collect::<Vec<_>>())
    })
}

/// The loss `sum(f(inputs) * w)`: its gradient is the vector-Jacobian product of `f` with `w`.
fn loss(f: &dyn Fn(&[Var<f64>]) -> Var<f64>, vars: &[Var<f64>], w: &ArrayD<f64>) -> Var<f64> {
    (&f(vars) * &Var::constant(w.clone())).sum()
}

/// Gradients of `sum(f(inputs) * w)` with respect to each input, as plain arrays.
fn gradients(
    f: &dyn Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[ArrayD<f64>],
    w: &ArrayD<f64>,
) -> Vec<ArrayD<f64>> {
    let vars: Vec<Var<f64>> = inputs.iter().cloned().map(Var::new).collect();
    let grads = loss(f, &vars, w).backward();
    vars.iter()
        .map(|v| {
            grads
                .grad(v)
                .unwrap_or_else(|| ArrayD::zeros(IxDyn(v.shape())))
        })
        .collect()
}

/// Checks the first and second derivatives of `f` at `inputs` against central differences.
///
/// First order: for the loss `L = sum(f(inputs) * w)` with a random `w` shaped like the
/// output, the gradient from `backward` (and from `backward_with_graph`, which must agree)
/// against `(L(x + h e) - L(x - h e)) / 2h` for every element of every input.
///
/// Second order: the recorded gradient `g = grad_vars(L, inputs)` is differentiated again
/// along a random direction `v`: `d(sum_k g_k . v_k)/dx = H v`, against
/// `(g(x + h v) - g(x - h v)) / 2h` with `g` computed by `backward` at the shifted points.
#[track_caller]
pub fn check_gradients(name: &str, f: impl Fn(&[Var<f64>]) -> Var<f64>, inputs: &[ArrayD<f64>]) {
    let f: &dyn Fn(&[Var<f64>]) -> Var<f64> = &f;
    let output = evaluate(f, inputs);
    let w = random(output.shape(), 7_919);

    // First order, recorded and not.
    let vars: Vec<Var<f64>> = inputs.iter().cloned().map(Var::new).collect();
    let l = loss(f, &vars, &w);
    assert_close(
        &l.value().clone(),
        &ndarray::arr0((output.value() * &w).sum()).into_dyn(),
        1e-12,
        &format!("{name}: the forward pass depends on grad mode"),
    );
    let plain = gradients(f, inputs, &w);
    let recorded = grad_vars(&l, &vars.iter().collect::<Vec<_>>());
    for (k, input) in inputs.iter().enumerate() {
        assert_close(
            recorded[k].value(),
            &plain[k],
            1e-12,
            &format!("{name}: operand {k}: backward_with_graph disagrees with backward"),
        );
        let numeric = fd::central_difference(
            |x| {
                let mut moved = inputs.to_vec();
                moved[k] = x.clone();
                (evaluate(f, &moved).value() * &w).sum()
            },
            input,
            STEP,
        );
        assert_close(
            &plain[k],
            &numeric,
            1e-6,
            &format!("{name}: gradient of operand {k} against central differences"),
        );
    }

    // Second order: the Hessian-vector product of L.
    let directions: Vec<ArrayD<f64>> = inputs
        .iter()
        .enumerate()
        .map(|(k, x)| random(x.shape(), 31 + k as u64))
        .collect();
    let along = recorded
        .iter()
        .zip(&directions)
        .map(|(g, v)| (g * &Var::constant(v.clone())).sum())
        .reduce(|a, b| &a + &b)
        .expect("at least one input");
    let hv = along.backward();
    let moved = |sign: f64| -> Vec<ArrayD<f64>> {
        let shifted: Vec<ArrayD<f64>> = inputs
            .iter()
            .zip(&directions)
            .map(|(x, v)| x + &(v * (sign * STEP)))
            .collect();
        gradients(f, &shifted, &w)
    };
    let (plus, minus) = (moved(1.0), moved(-1.0));
    for (k, var) in vars.iter().enumerate() {
        let analytic = hv
            .grad(var)
            .unwrap_or_else(|| ArrayD::zeros(IxDyn(var.shape())));
        let numeric = (&plus[k] - &minus[k]) / (2.0 * STEP);
        assert_close(
            &analytic,
            &numeric,
            1e-5,
            &format!("{name}: Hessian-vector product for operand {k} against central differences"),
        );
    }
}

/// [`check_gradients`] for a function of one input.
#[track_caller]
pub fn check_unary(name: &str, f: impl Fn(&Var<f64>) -> Var<f64>, input: ArrayD<f64>) {
    check_gradients(name, |v| f(&v[0]), &[input]);
}
