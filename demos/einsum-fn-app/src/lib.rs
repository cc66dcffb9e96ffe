//! A crate that uses contractions defined in `einsum-fn-lib` as plain functions: it depends
//! on that library and on ndarray only, not on `einsum`.

use einsum_fn_lib::{matmul, matmul_vjp};
use ndarray::Array2;

/// One gradient-descent step on `w` for the loss `|x w - y|^2 / 2`, using the library's
/// `matmul` and its gradient `matmul_vjp`.
///
/// ```
/// let x = ndarray::Array2::<f64>::eye(2);
/// let y = ndarray::array![[1.0], [2.0]];
/// let mut w = ndarray::Array2::<f64>::zeros((2, 1));
/// for _ in 0..100 {
///     w = einsum_fn_app::descend(&x, &y, &w, 0.5);
/// }
/// assert!((&w - &y).iter().all(|d| d.abs() < 1e-9));
/// ```
#[must_use]
pub fn descend(x: &Array2<f64>, y: &Array2<f64>, w: &Array2<f64>, rate: f64) -> Array2<f64> {
    let residual = matmul(x.view(), w.view()) - y;
    let (_, dw) = matmul_vjp(x.view(), w.view(), &residual);
    w - &(dw * rate)
}
