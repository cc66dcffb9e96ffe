//! The element types an einsum computes with.

use ndarray::{ArrayView2, ArrayViewMut2};
use num_complex::Complex;

/// A number an einsum can multiply and add: every primitive integer and float type, and
/// `num_complex::Complex<f32>` / `Complex<f64>`.
///
/// Fixed-size operands are told apart from their elements by this trait: in
/// `[[f64; 3]; 2]` the element is `f64` (an `Element`) and the rank is 2. Implement it for a
/// number type of your own to use that type in an einsum.
///
/// # Integer overflow
///
/// Integer einsums use the type's own `+` and `*`, exactly as the same loop written by hand
/// would: with overflow checks on (debug builds, by default) an overflowing product or sum
/// **panics**; with them off (release builds, by default) it **wraps** modulo `2^bits`
/// without any error. The order of the additions is the engine's, so an intermediate sum may
/// overflow where another order would not. Choose an element type wide enough for the sums
/// (`i64`, `i128`), or floats. (Checked arithmetic on every element would slow every integer
/// einsum down for a case the element type already defines; `Element` is implemented for
/// your own number types too, so a checked or saturating integer type can be used instead.)
///
/// ```
/// # use einsum_runtime::einsum_dyn;
/// let a = ndarray::array![100i64, 100].into_dyn();
/// // 100 * 100 + 100 * 100 = 20000: fits `i64`; with `i8` elements it would overflow.
/// assert_eq!(einsum_dyn("i,i->", &[a.view(), a.view()]).unwrap()[[]], 20000);
/// ```
///
/// ```
/// fn sum_all<T: einsum_runtime::Element>(xs: &[T]) -> T {
///     xs.iter().fold(T::zero(), |acc, &x| acc + x)
/// }
/// assert_eq!(sum_all(&[1u8, 2, 3]), 6);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an einsum element type",
    label = "not a number einsum can compute with",
    note = "einsum elements are the primitive integer and float types and \
            `num_complex::Complex<f32>` / `Complex<f64>`; for a fixed-size array operand this \
            also means the array has more axes than its term in the spec"
)]
pub trait Element: ndarray::LinalgScalar + core::fmt::Debug + Send + Sync {
    /// `c = a · b + beta c`: the engine's matrix product for this element type. The default
    /// is ndarray's `general_mat_mul`; `f32` and `f64` use the engine's own kernel, which
    /// allocates nothing once warm. Not part of the API: the engine calls it.
    #[doc(hidden)]
    fn __mat_mul(
        a: &ArrayView2<'_, Self>,
        b: &ArrayView2<'_, Self>,
        beta: Self,
        c: &mut ArrayViewMut2<'_, Self>,
    ) {
        ndarray::linalg::general_mat_mul(Self::one(), a, b, beta, c);
    }
}

/// `Element` for the floats, whose matrix products run the engine's own kernel.
macro_rules! impl_element_packed {
    ($($t:ty => $kernel:ident),* $(,)?) => {$(
        impl Element for $t {
            fn __mat_mul(
                a: &ArrayView2<'_, Self>,
                b: &ArrayView2<'_, Self>,
                beta: Self,
                c: &mut ArrayViewMut2<'_, Self>,
            ) {
                crate::engine::packed::$kernel(a, b, beta, c);
            }
        }
    )*};
}

impl_element_packed!(f64 => mat_mul_f64, f32 => mat_mul_f32);

macro_rules! impl_element {
    ($($t:ty),* $(,)?) => { $(impl Element for $t {})* };
}

impl_element!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
impl_element!(Complex<f32>, Complex<f64>);

/// The real element types that differentiate and train: `f32` and `f64`. What a
/// [`Var`](crate::autograd::Var) holds and what the optimizers update.
///
/// ```
/// use einsum_runtime::{autograd::Var, Float};
/// fn square<T: Float>(x: &Var<T>) -> Var<T> {
///     x * x
/// }
/// assert_eq!(square(&Var::scalar(3.0f32)).item(), 9.0);
/// ```
pub trait Float: Element + num_traits::Float + 'static {}

impl Float for f32 {}
impl Float for f64 {}
