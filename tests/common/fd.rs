//! The project's one finite-difference checker: central differences in f64.
#![allow(dead_code)]

use ndarray::ArrayD;

/// The gradient of `f` at `x` by central differences with step `h` in every element.
pub fn central_difference(f: impl Fn(&ArrayD<f64>) -> f64, x: &ArrayD<f64>, h: f64) -> ArrayD<f64> {
    let mut probe = x.clone();
    let mut gradient = ArrayD::zeros(x.raw_dim());
    for (index, slot) in gradient.indexed_iter_mut() {
        let original = probe[&index];
        probe[&index] = original + h;
        let up = f(&probe);
        probe[&index] = original - h;
        let down = f(&probe);
        probe[&index] = original;
        *slot = (up - down) / (2.0 * h);
    }
    gradient
}

/// Asserts `analytic` and `numeric` agree to `tolerance`, relative to the larger of 1 and the
/// numeric value, naming `what` and the first index that disagrees.
#[track_caller]
pub fn assert_gradient_close(
    analytic: &ArrayD<f64>,
    numeric: &ArrayD<f64>,
    tolerance: f64,
    what: &str,
) {
    assert_eq!(analytic.shape(), numeric.shape(), "{what}: gradient shape");
    for ((index, a), n) in analytic.indexed_iter().zip(numeric.iter()) {
        assert!(
            (a - n).abs() <= tolerance * n.abs().max(1.0),
            "{what}: gradient at {index:?} is {a}, central differences say {n}"
        );
    }
}
