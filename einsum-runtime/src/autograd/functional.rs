//! Derivatives of functions of `Var`s: gradient, Jacobian, Hessian, and their per-sample
//! (batched) forms. Hessians are exact: they differentiate the recorded gradient.

use super::grad_mode::with_grad_mode;
use super::{Float, Var};
use ndarray::{s, Array3, Array4, ArrayBase, ArrayD, Data, Dimension, Ix2, IxDyn};

/// A `shape`-shaped array that is 1 at flat (row-major) position `n` and 0 elsewhere.
fn one_hot<T: Float>(shape: &[usize], n: usize) -> ArrayD<T> {
    let mut seed = ArrayD::zeros(IxDyn(shape));
    if let Some(slot) = seed.iter_mut().nth(n) {
        *slot = T::one();
    }
    seed
}

/// Appends `grad` (or `len` zeros when there is none: the output does not depend on `x`) in
/// row-major order.
fn push_grad<T: Float>(data: &mut Vec<T>, grad: Option<ArrayD<T>>, len: usize) {
    match grad {
        Some(grad) => data.extend(grad.iter().copied()),
        None => data.extend(std::iter::repeat_n(T::zero(), len)),
    }
}

/// `x` as a leaf, and `f(x)` recorded (even inside [`no_grad`](super::no_grad)).
fn record<T: Float>(f: impl FnOnce(&Var<T>) -> Var<T>, x: ArrayD<T>) -> (Var<T>, Var<T>) {
    let x = Var::new(x);
    let y = with_grad_mode(true, || f(&x));
    (x, y)
}

fn concat(a: &[usize], b: &[usize]) -> Vec<usize> {
    [a, b].concat()
}

/// The gradient of a function with a one-element output, at `x`: shaped like `x`,
/// `grad[i] = df/dx_i`.
///
/// # Panics
///
/// When `f`'s output does not have exactly one element.
///
/// ```
/// use einsum_runtime::autograd::grad;
/// use ndarray::array;
/// // f(x) = sum(x^2): gradient 2x
/// let g = grad(|x| x.powi(2).sum(), &array![1.0, -2.0]);
/// assert_eq!(g, array![2.0, -4.0].into_dyn());
/// ```
#[must_use]
#[track_caller]
pub fn grad<T, S, D>(f: impl FnOnce(&Var<T>) -> Var<T>, x: &ArrayBase<S, D>) -> ArrayD<T>
where
    T: Float,
    S: Data<Elem = T>,
    D: Dimension,
{
    let (x, y) = record(f, x.to_owned().into_dyn());
    y.backward()
        .grad(&x)
        .unwrap_or_else(|| ArrayD::zeros(IxDyn(x.shape())))
}

/// The Jacobian of `f` at `x`, of shape `out ++ in` (`f`'s output shape followed by `x`'s):
/// `jacobian[j ++ i] = d f(x)[j] / d x[i]`. One backward pass per output element.
///
/// ```
/// use einsum_runtime::autograd::{jacobian, Var};
/// use ndarray::array;
/// // f(x) = A x: the Jacobian is A.
/// let a = Var::constant(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
/// let j = jacobian(|x| Var::einsum("ij,j->i", &[&a, x]).unwrap(), &array![1.0, 1.0]);
/// assert_eq!(j, a.value().clone());
/// ```
#[must_use]
pub fn jacobian<T, S, D>(f: impl FnOnce(&Var<T>) -> Var<T>, x: &ArrayBase<S, D>) -> ArrayD<T>
where
    T: Float,
    S: Data<Elem = T>,
    D: Dimension,
{
    let (x, y) = record(f, x.to_owned().into_dyn());
    let mut data = Vec::with_capacity(y.len() * x.len());
    for j in 0..y.len() {
        let grads = y.backward_with(one_hot(y.shape(), j), false);
        push_grad(&mut data, grads.grad(&x), x.len());
    }
    ArrayD::from_shape_vec(IxDyn(&concat(y.shape(), x.shape())), data)
        .expect("one gradient of x's shape per output element")
}

/// The Hessian of `f` at `x`, of shape `out ++ in ++ in`:
/// `hessian[j ++ i ++ k] = d^2 f(x)[j] / (d x[i] d x[k])`. For a scalar `f` it is the usual
/// `in ++ in` Hessian.
///
/// Exact: for each output element the gradient is computed with its backward pass recorded,
/// and that gradient is differentiated again (one backward pass per element of `x`); no
/// finite differences.
///
/// ```
/// use einsum_runtime::autograd::hessian;
/// use ndarray::array;
/// // f(x, y) = x^2 y: H = [[2y, 2x], [2x, 0]]
/// let h = hessian(|v| &v.row(0).powi(2) * &v.row(1), &array![3.0, 5.0]);
/// assert_eq!(h, array![[10.0, 6.0], [6.0, 0.0]].into_dyn());
/// ```
#[must_use]
pub fn hessian<T, S, D>(f: impl FnOnce(&Var<T>) -> Var<T>, x: &ArrayBase<S, D>) -> ArrayD<T>
where
    T: Float,
    S: Data<Elem = T>,
    D: Dimension,
{
    let (x, y) = record(f, x.to_owned().into_dyn());
    let n_in = x.len();
    let mut data = Vec::with_capacity(y.len() * n_in * n_in);
    for j in 0..y.len() {
        let gradient = y.backward_with(one_hot(y.shape(), j), true).grad_var(&x);
        for i in 0..n_in {
            let second = gradient
                .as_ref()
                .and_then(|g| g.backward_with(one_hot(x.shape(), i), false).grad(&x));
            push_grad(&mut data, second, n_in);
        }
    }
    let shape = concat(&concat(y.shape(), x.shape()), x.shape());
    ArrayD::from_shape_vec(IxDyn(&shape), data).expect("one row of x's shape per (j, i)")
}

/// `x` as a leaf and `f(x)` recorded, checking that `f` maps `[b, in]` to `[b, out]`.
#[track_caller]
fn record_batch<T, S>(
    f: impl FnOnce(&Var<T>) -> Var<T>,
    x: &ArrayBase<S, Ix2>,
) -> (Var<T>, Var<T>, usize)
where
    T: Float,
    S: Data<Elem = T>,
{
    let (x, y) = record(f, x.to_owned().into_dyn());
    assert!(
        y.ndim() == 2 && y.shape()[0] == x.shape()[0],
        "autograd: a batched function must map shape [b, in] = {:?} to [b, out], not {:?}",
        x.shape(),
        y.shape()
    );
    let out = y.shape()[1];
    (x, y, out)
}

/// A `[b, n]` seed that is 1 in column `j`: the gradient of `sum_b y[b, j]`.
fn column_seed<T: Float>(b: usize, n: usize, j: usize) -> ArrayD<T> {
    let mut seed = ArrayD::zeros(IxDyn(&[b, n]));
    seed.slice_mut(s![.., j]).fill(T::one());
    seed
}

/// Per-sample Jacobians of a function applied to a batch: `result[b, j, i] = d y[b, j] / d x[b, i]`
/// for `y = f(x)`, shape `[b, out, in]`.
///
/// `f` receives the whole batch `x` of shape `[b, in]` and returns `[b, out]`, and **its rows
/// must be independent**: row `b` of the output depends on row `b` of the input only (true of
/// any network applied sample by sample; false of batch normalisation or a loss averaged over
/// the batch). Then `d (sum_b y[b, j]) / d x[b, i] = d y[b, j] / d x[b, i]`, so one backward
/// pass per output column gives every sample's row at once: the cost is `out` backward passes,
/// whatever `b`. For a function whose rows interact, call [`jacobian`] on each row instead.
///
/// # Panics
///
/// When `f`'s output is not of shape `[b, out]`.
///
/// ```
/// use einsum_runtime::autograd::{batch_jacobian, Var};
/// use ndarray::array;
/// // y_bj = (sum_i x_bi c_ij)^2: dy_bj/dx_bi = 2 (x_b c)_j c_ij
/// let c = Var::constant(array![[1.0, 2.0], [3.0, 4.0]]);
/// let f = |x: &Var<f64>| Var::einsum("bi,ij->bj", &[x, &c]).unwrap().powi(2);
/// let j = batch_jacobian(f, &array![[1.0, 0.0], [0.0, 1.0]]);
/// assert_eq!(j.shape(), &[2, 2, 2]);
/// assert_eq!(j.slice(ndarray::s![0, .., ..]), array![[2.0, 6.0], [8.0, 16.0]]);
/// ```
#[must_use]
#[track_caller]
pub fn batch_jacobian<T, S>(f: impl FnOnce(&Var<T>) -> Var<T>, x: &ArrayBase<S, Ix2>) -> Array3<T>
where
    T: Float,
    S: Data<Elem = T>,
{
    let (b, n_in) = x.dim();
    let (x, y, n_out) = record_batch(f, x);
    let mut result = Array3::zeros((b, n_out, n_in));
    for j in 0..n_out {
        if let Some(g) = y.backward_with(column_seed(b, n_out, j), false).grad(&x) {
            result.slice_mut(s![.., j, ..]).assign(&g);
        }
    }
    result
}

/// Per-sample Hessians of a function applied to a batch:
/// `result[b, j, i, k] = d^2 y[b, j] / (d x[b, i] d x[b, k])` for `y = f(x)`, shape
/// `[b, out, in, in]` (the output index second, after the sample).
///
/// `f` is as for [`batch_jacobian`]: the whole batch `[b, in] -> [b, out]`, rows independent.
/// Exact (the recorded gradient is differentiated again), with `out * (in + 1)` backward
/// passes whatever `b`.
///
/// With this layout, the per-sample quadratic form `r[b, j] = x_b^T H_bj x_b` is the einsum
/// `bi,bjik,bk->bj` (`einsum!("bi,bjik,bk->bj", x, h, x)` with the macro). Note the order of
/// `h`'s labels: `bijk` would contract the output index `j` with `x` and give a different,
/// wrong answer.
///
/// # Panics
///
/// When `f`'s output is not of shape `[b, out]`.
///
/// ```
/// use einsum_runtime::{autograd::{batch_hessian, Var}, einsum_dyn};
/// use ndarray::{array, Array2};
///
/// // f(x) = (x C)^2 row by row, whose Hessian is H_bjik = 2 C_ij C_kj for every x.
/// let c = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
/// let cv = Var::constant(c.clone());
/// let f = |x: &Var<f64>| Var::einsum("bi,ij->bj", &[x, &cv]).unwrap().powi(2);
/// let x = array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
/// let h = batch_hessian(f, &x);
/// assert_eq!(h.shape(), &[2, 3, 3, 3]);
/// assert_eq!(h[[1, 2, 0, 1]], 2.0 * c[[0, 2]] * c[[1, 2]]);
///
/// let (x, h) = (x.into_dyn(), h.into_dyn());
/// let r = einsum_dyn("bi,bjik,bk->bj", &[x.view(), h.view(), x.view()]).unwrap();
/// assert_eq!(r, array![[288.0, 450.0, 648.0], [1152.0, 1800.0, 2592.0]].into_dyn());
/// ```
#[must_use]
#[track_caller]
pub fn batch_hessian<T, S>(f: impl FnOnce(&Var<T>) -> Var<T>, x: &ArrayBase<S, Ix2>) -> Array4<T>
where
    T: Float,
    S: Data<Elem = T>,
{
    let (b, n_in) = x.dim();
    let (x, y, n_out) = record_batch(f, x);
    let mut result = Array4::zeros((b, n_out, n_in, n_in));
    for j in 0..n_out {
        // gradient[b, i] = d y[b, j] / d x[b, i], recorded.
        let Some(gradient) = y.backward_with(column_seed(b, n_out, j), true).grad_var(&x) else {
            continue;
        };
        for i in 0..n_in {
            if let Some(h) = gradient
                .backward_with(column_seed(b, n_in, i), false)
                .grad(&x)
            {
                result.slice_mut(s![.., j, i, ..]).assign(&h);
            }
        }
    }
    result
}
