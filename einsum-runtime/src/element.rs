//! The element types an einsum computes with.

use num_complex::Complex;

/// A number an einsum can multiply and add: every primitive integer and float type, and
/// `num_complex::Complex<f32>` / `Complex<f64>`.
///
/// Fixed-size operands are told apart from their elements by this trait: in
/// `[[f64; 3]; 2]` the element is `f64` (an `Element`) and the rank is 2. Implement it for a
/// number type of your own to use that type in an einsum.
///
/// Integer einsums use the type's own `+` and `*`: they panic on overflow in debug builds and
/// wrap in release builds, exactly as the same loop written by hand would.
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
pub trait Element: ndarray::LinalgScalar + core::fmt::Debug + Send + Sync {}

macro_rules! impl_element {
    ($($t:ty),* $(,)?) => { $(impl Element for $t {})* };
}

impl_element!(f32, f64, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
impl_element!(Complex<f32>, Complex<f64>);
