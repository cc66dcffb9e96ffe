//! The run-time einsum: a spec known only when the program runs.

use crate::engine::explain::Explanation;
use crate::{engine, EinsumError, Element};
use einsum_spec::Spec;
use ndarray::{ArrayD, ArrayViewD};

/// Evaluates the einsum `spec` on `operands`, with numpy.einsum semantics, checking the spec
/// and the shapes at run time.
///
/// The spec is parsed first, so an invalid spec is reported whatever the operands; then the
/// number of operands and their ranks are checked against the terms, then the extents. The
/// result is an owned array in standard layout; operands may have any layout. The computation
/// is the one `einsum!` uses for ndarray operands: operands are contracted pairwise in the
/// cheapest order, each step a (batched) matrix product; [`explain`] shows the plan.
///
/// # Errors
///
/// [`EinsumError`] with [`EinsumErrorKind::Spec`](crate::EinsumErrorKind::Spec) for an
/// invalid spec (every problem in it) and [`EinsumErrorKind::Shape`](crate::EinsumErrorKind::Shape)
/// when the operands do not fit it, or when the output or an intermediate result is too
/// large to allocate ([`ShapeError::TooLarge`](crate::spec::ShapeError::TooLarge): more
/// elements than `usize` counts or more than `isize::MAX` bytes, found from the shapes before
/// anything is allocated; [`ShapeError::AllocationFailed`](crate::spec::ShapeError::AllocationFailed)
/// when the allocator refuses the memory). Operands that are broadcast views make such
/// shapes cheap to pass. This function does not panic on any spec or shapes.
///
/// # Special values and overflow
///
/// - **Zero-size axes** follow numpy: a sum over an empty range is zero, an output with a
///   zero extent is empty.
/// - **NaN and infinities** propagate as IEEE arithmetic says, on every path (no kernel skips
///   a product because a factor is zero, so `0 * inf` is NaN and reaches the sum).
/// - **Integer overflow**: integer einsums compute with the element type's own `+` and `*`,
///   as a hand-written loop would. In builds with overflow checks (debug builds, by default)
///   an overflow **panics**; in builds without them (release builds, by default) it **wraps**
///   modulo `2^bits`, silently. Use a wider type (`i64`, `i128`) or floats when sums can
///   exceed the element type's range; see [`Element`].
/// - **Rank**: there is no cap on rank (numpy's is 64); `...` may stand for any number of
///   axes, as long as the element counts fit.
///
/// ```
/// use einsum_runtime::einsum_dyn;
/// use ndarray::{array, ArrayD};
///
/// let empty = ArrayD::<f64>::zeros(vec![0, 3]);
/// assert_eq!(einsum_dyn("ij->j", &[empty.view()]).unwrap(), ArrayD::zeros(vec![3]));
/// let x = array![0.0, 1.0].into_dyn();
/// let y = array![f64::INFINITY, 1.0].into_dyn();
/// assert!(einsum_dyn("i,i->", &[x.view(), y.view()]).unwrap()[[]].is_nan());
///
/// // Too large to allocate: an error naming the shape, not an abort.
/// let one = [1.0f64];
/// let base = ndarray::ArrayView1::from(&one[..]);
/// let big = |n: usize| base.broadcast(n).unwrap().into_dyn();
/// let err = einsum_dyn("i,j->ij", &[big(1 << 40), big(1 << 30)]).unwrap_err();
/// assert!(err.to_string().starts_with("einsum `i,j->ij`: the output would have shape [1099511627776, 1073741824]"));
/// ```
///
/// # Examples
///
/// A matrix product, and the trace of a matrix:
///
/// ```
/// use einsum_runtime::einsum_dyn;
/// use ndarray::{array, arr0};
///
/// let a = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
/// let b = array![[5.0, 6.0], [7.0, 8.0]].into_dyn();
/// let product = einsum_dyn("ij,jk->ik", &[a.view(), b.view()]).unwrap();
/// assert_eq!(product, array![[19.0, 22.0], [43.0, 50.0]].into_dyn());
///
/// let trace = einsum_dyn("ii", &[a.view()]).unwrap(); // implicit output: a scalar
/// assert_eq!(trace, arr0(5.0).into_dyn());
/// ```
///
/// A batched matrix product over any number of leading `...` axes, which broadcast as in
/// numpy (here a batch of two matrices times one matrix):
///
/// ```
/// use einsum_runtime::einsum_dyn;
/// use ndarray::{Array, Array2};
///
/// let x = Array::from_iter(0..12).mapv(f64::from).into_shape_with_order((2, 2, 3)).unwrap();
/// let w = Array2::<f64>::eye(3);
/// let y = einsum_dyn("...ij,...jk->...ik", &[x.view().into_dyn(), w.view().into_dyn()]).unwrap();
/// assert_eq!(y.shape(), &[2, 2, 3]);
/// assert_eq!(y, x.into_dyn());
/// ```
///
/// Errors name the spec, and for shapes the label, the operands and both extents:
///
/// ```
/// use einsum_runtime::{einsum_dyn, EinsumErrorKind};
/// use ndarray::ArrayD;
///
/// let a = ArrayD::<f64>::zeros(vec![2, 3]);
/// let b = ArrayD::<f64>::zeros(vec![4, 5]);
/// let err = einsum_dyn("ij,jk->ik", &[a.view(), b.view()]).unwrap_err();
/// assert_eq!(err.to_string(), "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1");
///
/// let err = einsum_dyn("ij,jk->iz", &[a.view(), b.view()]).unwrap_err();
/// assert!(matches!(err.kind(), EinsumErrorKind::Spec(_)));
/// ```
pub fn einsum_dyn<T: Element>(
    spec: &str,
    operands: &[ArrayViewD<'_, T>],
) -> Result<ArrayD<T>, EinsumError> {
    let ranks: Vec<usize> = operands.iter().map(|operand| operand.ndim()).collect();
    let contraction = resolve(spec, &ranks)?;
    engine::contract(&contraction, operands)
        .map_err(|error| EinsumError::from_shape_error(spec, error))
}

/// What [`einsum_dyn`] (and `einsum!` on ndarray operands) does for `spec` on operands of
/// these shapes, without computing anything: the direct loop or the pairwise plan, each
/// step's kernel (GEMM, matrix-vector, outer product, loop), its multiply-adds and copies,
/// and the largest intermediate. The analogue of numpy's `einsum_path`; print it for a table.
///
/// Operands are taken to be in standard layout (a transposed operand may be copied where the
/// plan uses it in place).
///
/// # Errors
///
/// As [`einsum_dyn`]: an invalid spec, or shapes that do not fit it.
///
/// # Examples
///
/// ```
/// use einsum_runtime::explain;
/// use einsum_runtime::engine::explain::{Kernel, Method};
///
/// let plan = explain("ij,jk,kl->il", &[&[1000, 10], &[10, 1000], &[1000, 1000]]).unwrap();
/// println!("{plan}");
/// let Method::Pairwise { steps, .. } = plan.method() else { unreachable!() };
/// // B C first (10 x 1000 x 1000), then A times that: never the 1000 x 1000 product A B.
/// assert_eq!(steps[0].spec, "jk,kl->jl");
/// assert_eq!(steps[0].kernel, Kernel::Gemm);
/// assert_eq!(plan.multiply_adds(), 2 * 10 * 1000 * 1000);
/// ```
pub fn explain(spec: &str, shapes: &[&[usize]]) -> Result<Explanation, EinsumError> {
    let ranks: Vec<usize> = shapes.iter().map(|shape| shape.len()).collect();
    let contraction = resolve(spec, &ranks)?;
    engine::explain::explain_contraction(spec, &contraction, shapes)
        .map_err(|error| EinsumError::from_shape_error(spec, error))
}

/// The gradient of the einsum `spec` with respect to every operand, for an upstream gradient
/// `g` shaped like the output: one array per operand, each of that operand's shape. This is
/// the vector-Jacobian product of [`einsum_dyn`], itself computed as contractions (see
/// [`engine::vjp`]).
///
/// A label summed in the forward pass broadcasts the gradient back along it; a diagonal
/// receives the gradient on the diagonal and zeros elsewhere; an axis of extent 1 that
/// broadcast receives the sum over the positions it stood for; an operand passed twice gets
/// one gradient per position.
///
/// # Errors
///
/// As [`einsum_dyn`], and [`ShapeError::GradientShape`](crate::spec::ShapeError::GradientShape)
/// when `g` does not have the output's shape, and
/// [`ShapeError::TooLarge`](crate::spec::ShapeError::TooLarge) naming
/// [`Buffer::Gradient`](crate::spec::Buffer::Gradient) when an operand's gradient (shaped like
/// the operand, which may be a broadcast view) cannot be allocated. NaN and infinities
/// propagate into the gradients as IEEE arithmetic says.
///
/// ```
/// use einsum_runtime::einsum_vjp_dyn;
/// use ndarray::{array, arr0};
///
/// // d(trace A)/dA = I
/// let a = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
/// let g = arr0(1.0).into_dyn();
/// let grads = einsum_vjp_dyn("ii->", &[a.view()], g.view()).unwrap();
/// assert_eq!(grads[0], array![[1.0, 0.0], [0.0, 1.0]].into_dyn());
/// ```
pub fn einsum_vjp_dyn<T: Element>(
    spec: &str,
    operands: &[ArrayViewD<'_, T>],
    g: ArrayViewD<'_, T>,
) -> Result<Vec<ArrayD<T>>, EinsumError> {
    let ranks: Vec<usize> = operands.iter().map(|operand| operand.ndim()).collect();
    let contraction = resolve(spec, &ranks)?;
    engine::vjp::vjp(&contraction, operands, g)
        .map_err(|error| EinsumError::from_shape_error(spec, error))
}

/// The contraction `spec` describes for operands of these ranks.
pub(crate) fn resolve(
    spec: &str,
    ranks: &[usize],
) -> Result<einsum_spec::Contraction, EinsumError> {
    let parsed = Spec::parse(spec).map_err(|errors| EinsumError::from_spec_errors(spec, errors))?;
    parsed
        .resolve(ranks)
        .map_err(|error| EinsumError::from_shape_error(spec, error))
}
