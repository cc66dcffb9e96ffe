//! Einstein summation, compiled while your crate compiles.
//!
//! [`einsum!`] takes a spec such as `"ij,jk->ik"` and its operands. The spec is parsed and
//! checked at compile time — an invalid spec is a compile error that names the label and the
//! term — and the call expands into code specialised for that spec: a loop nest with constant
//! bounds for fixed-size arrays, a planned contraction (matrix products through a GEMM kernel)
//! for ndarray arrays. The semantics are numpy's `einsum`.
//!
//! ```
//! use einsum::einsum;
//! use ndarray::array;
//!
//! // Matrix product of ndarray operands: an `Array2<f64>`.
//! let a = array![[1.0, 2.0], [3.0, 4.0]];
//! let b = array![[5.0, 6.0], [7.0, 8.0]];
//! assert_eq!(einsum!("ij,jk->ik", &a, &b), a.dot(&b));
//!
//! // The cross product through the Levi-Civita tensor, on fixed-size arrays: a `[f64; 3]`,
//! // with every extent checked at compile time.
//! let mut eps = [[[0.0; 3]; 3]; 3];
//! for (i, j, k, s) in [(0, 1, 2, 1.0), (1, 2, 0, 1.0), (2, 0, 1, 1.0), (0, 2, 1, -1.0), (2, 1, 0, -1.0), (1, 0, 2, -1.0)] {
//!     eps[i][j][k] = s;
//! }
//! let x: [f64; 3] = einsum!("ijk,j,k->i", eps, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]);
//! assert_eq!(x, [0.0, 0.0, 1.0]);
//! ```
//!
//! # The spec language
//!
//! A spec is a comma-separated list of input terms, one per operand, optionally followed by
//! `->` and the output term. Whitespace is ignored.
//!
//! - Labels are the letters `a-z` and `A-Z`. Each letter names one index.
//! - A label in the output is kept; a label absent from the output is summed over, even when
//!   it occurs in one term only (`"ij->i"` sums each row).
//! - A label repeated within one term takes a diagonal (`"ii->i"`), summed when absent from
//!   the output (`"ii->"` is the trace).
//! - Without `->` the output is implicit, as in numpy: the labels that occur exactly once, in
//!   alphabetical order with upper case first (`"ij,jk"` means `"ij,jk->ik"`).
//! - `"->"` alone, or an output with no labels, gives a scalar; an empty input term is a
//!   scalar operand (`",ij->ij"` scales a matrix).
//! - `...` (at most once per term, anywhere in it) stands for any number of broadcast axes,
//!   aligned on the right and broadcast as numpy broadcasts (axes of extent 1 stretch). In an
//!   implicit output the `...` axes come first; when an explicit output omits `...`, those
//!   axes are summed.
//! - An axis of extent 1 also broadcasts against a named label's extent (`"ij,ij->ij"` with
//!   shapes `[1, 3]` and `[2, 3]`), as numpy allows.
//!
//! # Operands and results
//!
//! | operands | extents checked | result |
//! |---|---|---|
//! | fixed-size arrays `[[T; N]; M]` (any depth) and plain numbers, by value or reference | at compile time | a fixed-size array, or `T` for a scalar output |
//! | ndarray arrays of any storage (`Array`, `&Array`, views, `ArcArray`, `CowArray`), any layout | rank at compile time (`IxDyn`: at run time), extents at run time | `Array<T, IxK>` with `K` the output rank (`IxDyn` above 6) |
//! | slices and `Vec`s of fixed-size rows (`&[[T; N]]`, `Vec<[T; N]>`, `Vec<T>`) for the terms that start with the batch label, fixed-size arrays for the others | rows at compile time, batch lengths at run time | a `Vec` of rows, or a fixed-size array when the batch label is summed |
//! | any of the above, with `...` in the spec | at run time | `ArrayD<T>` |
//!
//! All operands have one element type `T`: any primitive number or
//! `num_complex::Complex<f32/f64>` (see [`Element`]). Operands are borrowed, never moved,
//! and each expression is evaluated exactly once, in order. Fixed-size and ndarray operands
//! cannot be mixed in one call (except in specs with `...`).
//!
//! A batch is a slice or `Vec` of fixed-size rows: its first label (the batch label) is the
//! slice's length, and the rows' extents are constants, so the row's loop nest is unrolled
//! and run over the batch with no per-row overhead. The batch label is the output's first
//! label, or else the first operand's, and must come first, once, in every term that has it:
//!
//! ```
//! use einsum::einsum;
//! let mut eps = [[[0.0; 3]; 3]; 3];
//! for (i, j, k, s) in [(0, 1, 2, 1.0), (1, 2, 0, 1.0), (2, 0, 1, 1.0), (0, 2, 1, -1.0), (2, 1, 0, -1.0), (1, 0, 2, -1.0)] {
//!     eps[i][j][k] = s;
//! }
//! let a: Vec<[f64; 3]> = vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
//! let b: Vec<[f64; 3]> = vec![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
//! let cross: Vec<[f64; 3]> = einsum!("ijk,bj,bk->bi", eps, &a, &b);
//! assert_eq!(cross, [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
//! let gram: [[f64; 3]; 3] = einsum!("bi,bj->ij", &a, &a); // the batch is summed
//! assert_eq!(gram[0][0] + gram[1][1], 2.0);
//! ```
//!
//! # Errors
//!
//! An invalid spec does not compile, and every problem of an invocation is reported at once:
//!
//! ```text
//! error: einsum `ij,jk->iz`: output label `z` at position 8 does not occur in any input term
//!  --> src/main.rs:4:29
//!   |
//! 4 |     let c = einsum::einsum!("ij,jk->iz", a, b);
//!   |                             ^^^^^^^^^^^
//! ```
//!
//! Fixed-size extents that disagree do not compile either
//! (``einsum `ij,jk->ik`: label `j` is 3 in operand 0 (`a`) but 2 in operand 1 (`b`)``). ndarray extents are checked when the call runs: [`einsum!`] panics with
//! the message, [`try_einsum!`] returns it as an [`EinsumError`]:
//!
//! ```
//! use ndarray::Array2;
//! let a = Array2::<f64>::zeros((2, 3));
//! let b = Array2::<f64>::zeros((4, 5));
//! let err = einsum::try_einsum!("ij,jk->ik", &a, &b).unwrap_err();
//! assert_eq!(err.to_string(), "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1");
//! ```
//!
//! For specs known only at run time, [`einsum_dyn`] applies the same rules and errors.
//!
//! # Seeing the plan
//!
//! [`explain`] shows what the engine does for a spec and operand shapes, as numpy's
//! `einsum_path` does: the direct loop or the pairwise order, each step's kernel (GEMM,
//! matrix-vector, outer product, loop), multiply-adds, copies and the largest intermediate.
//!
//! ```
//! let plan = einsum::explain("bi,bjik,bk->bj", &[&[256, 16], &[256, 16, 16, 16], &[256, 16]])
//!     .unwrap();
//! println!("{plan}");
//! assert_eq!(plan.largest_intermediate(), 256 * 16 * 16);
//! ```
//!
//! # Gradients
//!
//! Every einsum has an exact gradient generated from its spec: [`einsum_vjp!`] returns the
//! value and a `back` closure, [`einsum_fn!`] defines named functions and their gradients,
//! and [`einsum_vjp_dyn`] does the same for run-time specs.
//!
//! The [`autograd`] module records computations on [`autograd::Var`]s; `einsum!` on `Var`s
//! is one node whose backward is the contraction's own gradient. Gradients can be recorded
//! and differentiated again, so Jacobians and Hessians are exact:
//!
//! ```
//! use einsum::autograd::{hessian, jacobian, Var};
//! use einsum::einsum;
//! use ndarray::array;
//!
//! // z = x * y^5 at x = 3, y = 7.
//! let x = Var::new(ndarray::arr0(3.0));
//! let y = Var::new(ndarray::arr0(7.0));
//! let z = &x * &y.powi(5);
//! let grads = z.backward();
//! assert_eq!(grads.grad(&x).unwrap()[[]], 16807.0); // y^5
//! assert_eq!(grads.grad(&y).unwrap()[[]], 36015.0); // 5 x y^4
//!
//! // A contraction inside a model: one node.
//! let w = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
//! let v = Var::constant(array![1.0, -1.0]);
//! let loss = einsum!("ij,j->", &w, &v); // sum_ij w_ij v_j
//! assert_eq!(loss.backward().grad(&w).unwrap(), array![[1.0, -1.0], [1.0, -1.0]].into_dyn());
//!
//! // f(x) = (x C)^2 for one row x: Jacobian [j, i] = 2 (xC)_j C_ij, Hessian [j, i, k] = 2 C_ij C_kj.
//! let c = Var::constant(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]);
//! let f = |x: &Var<f64>| einsum!("i,ij->j", x, &c).powi(2);
//! let x0 = array![1.0, 1.0, 1.0];
//! let jac = jacobian(f, &x0);
//! assert_eq!(jac.shape(), &[3, 3]);
//! assert_eq!(jac[[0, 1]], 2.0 * 12.0 * 4.0); // (xC)_0 = 12, C_10 = 4
//! let hess = hessian(f, &x0);
//! assert_eq!(hess.shape(), &[3, 3, 3]);
//! assert_eq!(hess[[2, 0, 1]], 2.0 * 3.0 * 6.0); // 2 C_02 C_12
//! ```
#![forbid(unsafe_code)]

pub use einsum_runtime::autograd;
pub use einsum_runtime::network;
pub use einsum_runtime::operand;
pub use einsum_runtime::optim;
pub use einsum_runtime::{
    einsum_dyn, einsum_vjp_dyn, explain, EinsumError, EinsumErrorKind, Element, Float,
};
pub use einsum_runtime::{ndarray, spec};

/// Whether a result written into the caller's array replaces its elements or is added to
/// them: what `back` of [`einsum_vjp!`] with an output takes for its gradient buffers
/// (BLAS's `beta` of 0 or 1). [`einsum_into!`] spells the same choice `out` or `out +=`.
pub use einsum_runtime::engine::Write;

/// Evaluates an einsum spec on its operands; the spec is checked at compile time.
///
/// `einsum!(SPEC, a, b, …)`: `SPEC` is a string literal (see [the crate docs](crate) for the
/// language), followed by one operand per input term. The result is a fixed-size array (or a
/// number) when the operands are fixed-size arrays, an owned `ndarray::Array` of the output's
/// rank when they are ndarray arrays, and an `ArrayD` when the spec has `...`.
///
/// This call is equivalent to the loops that sum, for every output index, the product of the
/// operands' elements over every value of the summed labels:
///
/// ```
/// use einsum::einsum;
/// let a = [[1, 2, 3], [4, 5, 6]];
/// let b = [[1, 0], [0, 1], [1, 1]];
/// let c: [[i32; 2]; 2] = einsum!("ij,jk->ik", a, b);
///
/// let mut expected = [[0; 2]; 2];
/// for i in 0..2 {
///     for k in 0..2 {
///         for j in 0..3 {
///             expected[i][k] += a[i][j] * b[j][k];
///         }
///     }
/// }
/// assert_eq!(c, expected);
/// ```
///
/// More forms:
///
/// ```
/// use einsum::einsum;
/// use ndarray::{array, Array3};
///
/// let m = array![[1.0, 2.0], [3.0, 4.0]];
/// let trace: ndarray::Array0<f64> = einsum!("ii->", &m);
/// assert_eq!(trace.into_scalar(), 5.0);
/// assert_eq!(einsum!("ii->i", &m), array![1.0, 4.0]);
/// assert_eq!(einsum!("ij->ji", m.view()), m.t());
/// assert_eq!(einsum!("ij", &m), m);                      // implicit output
/// assert_eq!(einsum!("i,j->ij", [1, 2], [3, 4, 5])[1], [6, 8, 10]);
///
/// let batch = Array3::<f64>::ones((4, 2, 3));
/// let out = einsum!("...ij,jk->...ik", &batch, &array![[1.0], [1.0], [1.0]]);
/// assert_eq!(out.shape(), &[4, 2, 1]);
/// ```
///
/// # Panics
///
/// When ndarray operands' extents do not fit the spec (a label with two different extents, a
/// diagonal of a non-square pair of axes, `...` axes that do not broadcast, an `IxDyn`
/// operand of the wrong rank). The message names the spec, the label, the operands and the
/// extents, and the panic points at the `einsum!` call. Use [`try_einsum!`] to get an
/// [`EinsumError`] instead. Fixed-size operands never panic: their extents are checked at
/// compile time.
#[macro_export]
macro_rules! einsum {
    ($($input:tt)*) => {
        $crate::__private::einsum_impl!($crate, panic; $($input)*)
    };
}

/// Like [`einsum!`], but returns `Result<_, EinsumError>` instead of panicking when the
/// operands' extents do not fit the spec. The spec itself is still checked at compile time.
///
/// ```
/// use ndarray::{array, Array1};
/// let a = array![1.0, 2.0, 3.0];
/// let b = array![1.0, 2.0];
/// let err = einsum::try_einsum!("i,i->", &a, &b).unwrap_err();
/// assert_eq!(err.to_string(), "einsum `i,i->`: label `i` is 3 in operand 0 but 2 in operand 1");
/// let ok: Array1<f64> = einsum::try_einsum!("i,i->i", &a, &a)?;
/// assert_eq!(ok, array![1.0, 4.0, 9.0]);
/// # Ok::<(), einsum::EinsumError>(())
/// ```
#[macro_export]
macro_rules! try_einsum {
    ($($input:tt)*) => {
        $crate::__private::einsum_impl!($crate, result; $($input)*)
    };
}

/// Writes an einsum into an existing array, without allocating the result:
/// `einsum_into!(&mut out, "spec", operands…)` overwrites `out`, and
/// `einsum_into!(&mut out += "spec", operands…)` adds the result to it (BLAS's `beta = 1`: for
/// accumulating gradients and sums of contractions). The spec and operands are as for
/// [`einsum!`]; the call evaluates to `()`.
///
/// The output is a mutable reference to an array of the operands' kind, or a mutable view:
///
/// | operands | output | its shape is checked |
/// |---|---|---|
/// | ndarray arrays and views | `&mut Array`, `&mut ArrayViewMut` (any layout, including non-contiguous views), or an `ArrayViewMut` by value | rank at compile time (`IxDyn`: at run time), extents at run time |
/// | fixed-size arrays (and numbers) | `&mut [[T; N]; M]`, or `&mut T` for a scalar result | at compile time |
/// | slices or `Vec`s of rows, with a batched result | `&mut [[T; N]]` or `&mut Vec<[T; N]>` (its length is not changed) | rows at compile time, length at run time |
///
/// A shape mismatch at run time panics with a message naming the label, the operand and both
/// extents; [`try_einsum_into!`] returns it as an [`EinsumError`] instead, and writes nothing.
/// The output is written only after every check has passed.
///
/// ```
/// use einsum::einsum_into;
/// use einsum::ndarray::{array, Array2};
///
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[5.0, 6.0], [7.0, 8.0]];
/// let mut c = Array2::<f64>::zeros((2, 2));
/// einsum_into!(&mut c, "ij,jk->ik", &a, &b);
/// assert_eq!(c, a.dot(&b));
/// einsum_into!(&mut c += "ij,jk->ik", &a, &b); // c += a b
/// assert_eq!(c, 2.0 * a.dot(&b));
///
/// // Into a transposed view: the product's columns become `ct`'s rows.
/// let mut ct = Array2::<f64>::zeros((2, 2));
/// einsum_into!(ct.view_mut().reversed_axes(), "ij,jk->ik", &a, &b);
/// assert_eq!(ct, a.dot(&b).t());
///
/// // Fixed-size arrays: the output's extents are checked at compile time.
/// let m = [[1.0, 2.0], [3.0, 4.0]];
/// let mut v = [0.0; 2];
/// einsum_into!(&mut v, "ij,j->i", m, [1.0, 1.0]);
/// assert_eq!(v, [3.0, 7.0]);
///
/// // A batch of rows, written row by row into a preallocated `Vec`.
/// let points: Vec<[f64; 2]> = vec![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let mut moved = vec![[0.0; 2]; 3];
/// einsum_into!(&mut moved, "ij,bj->bi", m, &points);
/// assert_eq!(moved, [[1.0, 3.0], [2.0, 4.0], [3.0, 7.0]]);
/// ```
///
/// The output cannot also be an operand: numpy's `out=` aliasing an input silently computes
/// garbage, and here the borrow checker refuses it (`cannot borrow `c` as immutable because it
/// is also borrowed as mutable`):
///
/// ```compile_fail
/// # use einsum::ndarray::Array2;
/// let mut c = Array2::<f64>::eye(2);
/// einsum::einsum_into!(&mut c, "ij,jk->ik", &c, &c);
/// ```
///
/// Specs with `...` are not accepted (their output rank depends on the operands'): write the
/// labels out, or assign the result of [`einsum!`].
///
/// The output's element type must be known where the output is made
/// (`Array2::<f64>::zeros(…)`, or from earlier use): the output is taken as written, so that a
/// wrong element type is reported as such rather than inferred away.
#[macro_export]
macro_rules! einsum_into {
    ($($input:tt)*) => {
        $crate::__private::einsum_impl!($crate, into_panic; $($input)*)
    };
}

/// Like [`einsum_into!`], but returns `Result<(), EinsumError>` instead of panicking when the
/// operands' or the output's extents do not fit the spec; on an error nothing is written.
///
/// ```
/// use einsum::ndarray::{array, Array2};
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let mut c = Array2::<f64>::zeros((3, 2));
/// let err = einsum::try_einsum_into!(&mut c, "ij,jk->ik", &a, &a).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "einsum `ij,jk->ik`: label `i` is 2 in operand 0 but 3 in the output array"
/// );
/// assert_eq!(c, Array2::zeros((3, 2)));
/// ```
#[macro_export]
macro_rules! try_einsum_into {
    ($($input:tt)*) => {
        $crate::__private::einsum_impl!($crate, into_result; $($input)*)
    };
}

/// Evaluates an einsum and returns it with its gradient: `(y, back)`, where `y` is what
/// [`einsum!`] returns and `back(&g)`, for an upstream gradient `g` of the same type as `y`,
/// returns a tuple with one gradient per operand, each of its operand's shape and kind
/// (owned arrays for ndarray operands, fixed-size arrays for fixed-size operands, numbers for
/// numbers; a 1-tuple `(ga,)` for one operand).
///
/// The gradient is the vector-Jacobian product: for `y = einsum(a, b, …)`, `back(&g)` gives
/// `(dL/da, dL/db, …)` for `L = sum(g * y)`. The code for it is generated from the spec at
/// compile time, and is itself a contraction — of `g` with every other operand:
///
/// ```
/// use einsum::einsum_vjp;
/// use ndarray::array;
///
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[5.0, 6.0], [7.0, 8.0]];
/// let (y, back) = einsum_vjp!("ij,jk->ik", &a, &b);
/// assert_eq!(y, a.dot(&b));
/// let g = array![[1.0, 0.0], [0.0, 1.0]];
/// let (ga, gb) = back(&g);
/// assert_eq!(ga, g.dot(&b.t())); // dA = g B^T
/// assert_eq!(gb, a.t().dot(&g)); // dB = A^T g
/// ```
///
/// Every spec form works. A label summed in the forward pass spreads the gradient along it; a
/// diagonal receives it on the diagonal and zeros elsewhere; an operand passed twice gets one
/// gradient per position (their sum is the total); `...` axes of extent 1 that broadcast
/// receive the sum over the positions they stood for:
///
/// ```
/// use einsum::einsum_vjp;
///
/// let m = [[1.0, 2.0], [3.0, 4.0]];
/// let (trace, back) = einsum_vjp!("ii->", m);
/// assert_eq!(trace, 5.0);
/// assert_eq!(back(&1.0), ([[1.0, 0.0], [0.0, 1.0]],)); // d trace / dM = I
///
/// let x = [1.0, 2.0, 3.0];
/// let (norm2, back) = einsum_vjp!("i,i->", x, x);
/// assert_eq!(norm2, 14.0);
/// let (g1, g2) = back(&1.0);
/// assert_eq!(g1, [1.0, 2.0, 3.0]); // each position: the other factor
/// assert_eq!(g2, [1.0, 2.0, 3.0]); // together: 2x
/// ```
///
/// `back` borrows the operands and may be called any number of times. An operand that is a
/// temporary (such as `a.t()`) must be bound to a variable first when `back` is used after
/// the statement.
///
/// # Gradients of chosen operands: `wrt`
///
/// `; wrt = k` or `; wrt = (k, …)` after the operands (positions from 0, like JAX's
/// `argnums`) asks for those operands' gradients only, in the order listed; the others are
/// never computed, so data operands cost nothing. Fitting a rotation to 100,000 points, only
/// the rotation's gradient is wanted, and no 100,000-row gradient of the points is built:
///
/// ```
/// use einsum::einsum_vjp;
///
/// let r = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
/// let points = vec![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]];
/// let (rotated, back) = einsum_vjp!("ij,bj->bi", &r, &points; wrt = 0);
/// assert_eq!(rotated, vec![[0.0, 1.0, 0.0], [-2.0, 0.0, 0.0]]);
/// let (dr,): ([[f64; 3]; 3],) = back(&vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
/// assert_eq!(dr, [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]); // sum_b g_b x_b^T
/// ```
///
/// # Into the caller's buffers
///
/// Given an output first, as [`einsum_into!`] takes it (`&mut y` to overwrite, `&mut y +=
/// "spec"` to add), `einsum_vjp!` writes the value there and returns `back` alone, which
/// writes the gradients into buffers: `back(&g, (&mut ga, …), write)`, one buffer per
/// gradient (`wrt`'s, or every operand's), [`Write::Assign`] to overwrite them or
/// [`Write::Add`] to add to them (gradient accumulation). Buffers are `&mut` fixed-size arrays
/// or numbers for fixed-size operands, `&mut` slices or `Vec`s of rows for batch operands, and
/// `ArrayViewMut`s (`ga.view_mut()`, any layout) for ndarray operands. `g` has the type
/// [`einsum!`] would return. Warm calls allocate nothing, which makes this the form for
/// training loops:
///
/// ```
/// use einsum::{einsum_vjp, Write};
///
/// let r = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
/// let points = vec![[1.0, 2.0, 3.0]; 1000];
/// let targets = vec![[2.0, 2.0, 3.0]; 1000];
/// let (mut y, mut dr) = (vec![[0.0; 3]; 1000], [[0.0; 3]; 3]);
///
/// let back = einsum_vjp!(&mut y, "ij,bj->bi", &r, &points; wrt = 0);
/// for (yb, tb) in y.iter_mut().zip(&targets) {
///     for i in 0..3 {
///         yb[i] = 2.0 * (yb[i] - tb[i]); // d/dy of the squared distance, in place
///     }
/// }
/// back(&y, (&mut dr,), Write::Assign);
/// assert_eq!(dr[0], [-2000.0, -4000.0, -6000.0]);
/// ```
///
/// `_` in place of the output, `einsum_vjp!(_, "spec", …)`, returns the same `back` without
/// computing the value, for a loop that computes it otherwise (with [`einsum_into!`], say).
///
/// A buffer cannot be an operand `back` reads: the borrow checker refuses it.
///
/// # Panics
///
/// As [`einsum!`], when ndarray operands do not fit the spec; and `back` panics when `g` does
/// not have the shape of `y` (ndarray outputs only: a fixed-size `g` has it by its type), or a
/// gradient buffer not its operand's shape (then nothing is written). Misuse of `wrt` is a
/// compile error.
#[macro_export]
macro_rules! einsum_vjp {
    ($($input:tt)*) => {
        $crate::__private::einsum_impl!($crate, vjp; $($input)*)
    };
}

/// Defines named functions from specs, and optionally their gradients, as ordinary items:
/// make them `pub` and other crates call them with no macro of ours in sight.
///
/// Each definition is a function signature followed by `= "SPEC";`. The body is
/// [`einsum!`] on the parameters in order; the documentation you write is kept, and a section
/// stating the spec and each parameter's indices is added. `#[vjp(name)]` also defines
/// `name(params…, g: &Result) -> (gradients…)`, the gradient of every operand for an upstream
/// gradient `g` (as [`einsum_vjp!`]'s `back`), each shaped like its operand: fixed-size
/// arrays and numbers keep their type, ndarray arrays and views become owned arrays of the same
/// dimensionality. `#[vjp(name, wrt = a)]` or `#[vjp(name, wrt = (a, b))]` defines the
/// gradient of those parameters only, returned in that order (as [`einsum_vjp!`]'s `wrt`).
/// `#[vjp_into(name)]` (with the same `wrt`) defines `name(params…, g, da: …, db: …, write:
/// Write)`, which writes the gradients into the caller's buffers (`da` for parameter `a`):
/// `&mut` fixed-size arrays and numbers, `ArrayViewMut`s for ndarray parameters, overwritten
/// or added to as `write` says, with no allocation once warm (as [`einsum_vjp!`]'s `back` with
/// an output).
///
/// ```
/// use einsum::Write;
///
/// einsum::einsum_fn! {
///     /// The rotated rows.
///     #[vjp_into(rotate_grad, wrt = r)]
///     pub fn rotate(r: &[[f64; 3]; 3], x: &[[f64; 3]]) -> Vec<[f64; 3]> = "ij,bj->bi";
/// }
///
/// let r = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
/// let x = vec![[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]];
/// assert_eq!(rotate(&r, &x), x);
/// let mut dr = [[0.0; 3]; 3];
/// rotate_grad(&r, &x, &vec![[1.0, 0.0, 0.0]; 2], &mut dr, Write::Assign);
/// assert_eq!(dr[0], [1.0, 3.0, 3.0]); // sum_b g_b0 x_b
/// ```
///
/// ```
/// use ndarray::{array, Array2, ArrayView2};
///
/// einsum::einsum_fn! {
///     /// The product of two matrices.
///     #[vjp(matmul_vjp)]
///     pub fn matmul(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> = "ij,jk->ik";
///
///     /// The cross product of two 3-vectors through the Levi-Civita tensor `eps`, a
///     /// constant: its gradient is not wanted.
///     #[vjp(cross_vjp, wrt = (a, b))]
///     pub fn cross(eps: &[[[f64; 3]; 3]; 3], a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] = "ijk,j,k->i";
/// }
///
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// assert_eq!(matmul(a.view(), a.view()), a.dot(&a));
/// let (da, db) = matmul_vjp(a.view(), a.view(), &Array2::ones((2, 2)));
/// assert_eq!(da, Array2::ones((2, 2)).dot(&a.t()));
/// assert_eq!(db, a.t().dot(&Array2::ones((2, 2))));
///
/// let mut eps = [[[0.0; 3]; 3]; 3];
/// for (i, j, k) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
///     eps[i][j][k] = 1.0;
///     eps[i][k][j] = -1.0;
/// }
/// assert_eq!(cross(&eps, &[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]);
/// let (da, db) = cross_vjp(&eps, &[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0], &[0.0, 0.0, 1.0]);
/// assert_eq!(da, [1.0, 0.0, 0.0]); // d(a x b)_2 / da = (b_1, -b_0, 0)
/// assert_eq!(db, [0.0, 1.0, 0.0]); // d(a x b)_2 / db = (-a_1, a_0, 0)
/// ```
#[macro_export]
macro_rules! einsum_fn {
    ($($input:tt)*) => {
        $crate::__private::einsum_fn_impl!($crate; $($input)*);
    };
}

/// What code generated by [`einsum!`] names. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use einsum_macro::{einsum_fn_impl, einsum_impl};
    pub use einsum_runtime::autograd::Var;
    pub use einsum_runtime::engine::{Saved, Write};
    pub use einsum_runtime::ndarray;
    pub use einsum_runtime::operand::{AsOperand, DynOperand, IntoOutput};
    pub use einsum_runtime::spec::path::fixed;
    pub use einsum_runtime::support::{
        as_matrix, batch_extent, check_gradient_buffer_rows, check_gradient_rows,
        check_output_rows, contract_static, contract_static_into, contract_static_saving,
        into_dimension, matrix_chain, matrix_chain_into, matrix_product, matrix_product_into,
        panic_with, small_enough, vjp_dyn, vjp_static, vjp_static_into,
    };
    pub use einsum_runtime::{einsum_dyn, einsum_vjp_dyn, EinsumError, Element, Float};
    pub use num_traits::Zero;
}
