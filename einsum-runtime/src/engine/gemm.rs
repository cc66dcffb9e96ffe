//! General matrix products on strided views: `c = a · b`.
//!
//! For `f32`, `f64` and their complex counterparts the product runs in the `gemm` crate
//! (the kernels of faer), which measured 10–30 % faster than `matrixmultiply` (what
//! `ndarray::linalg::general_mat_mul` uses) on this project's machine from 16x16 to 1024x1024,
//! single-threaded; see `benches/README.md`. Other element types (integers) go to
//! `general_mat_mul`. With the `threads` feature (on by default), products of at least
//! [`THREADED_MULTIPLY_ADDS`] multiply-adds use rayon's pool (`RAYON_NUM_THREADS` caps it);
//! smaller ones never pay for threads.
//!
//! `gemm::gemm` takes raw pointers and strides, so this is the one module of the engine with
//! `unsafe` code; the argument for it is written at the call.
#![allow(unsafe_code)]

use crate::Element;
use core::any::TypeId;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use num_complex::Complex;

/// From this many multiply-adds on, a product may use several threads (with the `threads`
/// feature): about 160x160x160, where one product takes a few milliseconds on one core and
/// splitting it costs microseconds.
pub(super) const THREADED_MULTIPLY_ADDS: usize = 1 << 22;

/// Whether `gemm::gemm` supports `T` (it panics on other types).
fn gemm_supports<T: 'static>() -> bool {
    let t = TypeId::of::<T>();
    t == TypeId::of::<f64>()
        || t == TypeId::of::<f32>()
        || t == TypeId::of::<Complex<f64>>()
        || t == TypeId::of::<Complex<f32>>()
}

/// `c = a · b`, overwriting `c`, for views of any strides (negative included).
///
/// # Panics
///
/// When the shapes do not chain: `a` is `m x k`, `b` must be `k x n` and `c` `m x n`.
pub(super) fn mat_mul<T: Element>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "einsum engine: {m}x{k} times {k2}x{n} into {:?}",
        c.dim()
    );
    if !gemm_supports::<T>() {
        general_mat_mul(T::one(), a, b, T::zero(), c);
        return;
    }
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(T::zero());
        return;
    }
    let (a_rows, a_cols) = (a.strides()[0], a.strides()[1]);
    let (b_rows, b_cols) = (b.strides()[0], b.strides()[1]);
    let (c_rows, c_cols) = (c.strides()[0], c.strides()[1]);
    let parallelism = parallelism(m.saturating_mul(n).saturating_mul(k));
    // SAFETY:
    // - `T` is f32, f64, Complex<f32> or Complex<f64> (checked above), the types `gemm`
    //   accepts; `gemm::c32`/`c64` are `num_complex::Complex<f32/f64>`, the same types.
    // - Each pointer is the address of element [0, 0] of a live view, and with the view's own
    //   strides (in elements, possibly negative or zero) every address `gemm` forms,
    //   `ptr + i * rows + j * cols` for `i < m` (or `k`), `j < n` (or `k`), is an element of
    //   that view: ndarray guarantees it for every in-bounds index, and the dimensions passed
    //   are the views' own (asserted above), none of them zero.
    // - `c` is borrowed mutably for the call, so no other reference reads or writes its
    //   elements meanwhile; `a` and `b` are shared borrows, and a mutable view cannot alias
    //   them. With `read_dst = false`, `gemm` only writes `c`, never reads it, so its previous
    //   contents (any initialised values) do not matter.
    // - `c` has no zero stride along an axis longer than 1 (ndarray forbids mutable views
    //   with overlapping elements), so the writes of different (i, j) never collide.
    unsafe {
        gemm::gemm::<T>(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cols,
            c_rows,
            false,
            a.as_ptr(),
            a_cols,
            a_rows,
            b.as_ptr(),
            b_cols,
            b_rows,
            T::zero(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Several threads for large products when the `threads` feature is on, one otherwise.
fn parallelism(multiply_adds: usize) -> gemm::Parallelism {
    let large = multiply_adds >= THREADED_MULTIPLY_ADDS;
    #[cfg(feature = "threads")]
    if large {
        return gemm::Parallelism::Rayon(0);
    }
    let _ = large; // without threads, every product runs on the calling thread
    gemm::Parallelism::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    fn values(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0
        })
    }

    fn naive(a: &ArrayView2<'_, f64>, b: &ArrayView2<'_, f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|t| a[[i, t]] * b[[t, j]]).sum()
        })
    }

    #[test]
    fn transposed_stepped_and_reversed_operands() {
        let a = values(40, 30, 1);
        let b = values(30, 50, 2);
        let cases: Vec<(ArrayView2<'_, f64>, ArrayView2<'_, f64>)> = vec![
            (a.view(), b.view()),
            (a.slice(s![.., ..;2]), b.slice(s![..;2, ..])),
            (a.slice(s![..;-1, ..]), b.slice(s![.., ..;-1])),
        ];
        for (x, y) in cases {
            let mut c = Array2::from_elem((x.nrows(), y.ncols()), f64::NAN);
            mat_mul(&x, &y, &mut c.view_mut());
            assert_eq!(
                c,
                naive(&x, &y),
                "previous contents are overwritten, NaN included"
            );
        }
        // A transposed product into a transposed (column-major) destination.
        let (x, y) = (b.t(), a.t());
        let mut c = Array2::<f64>::zeros((y.ncols(), x.nrows()));
        mat_mul(&x, &y, &mut c.view_mut().reversed_axes());
        assert_eq!(c.t(), naive(&x, &y));
    }

    #[test]
    fn empty_and_zero_length_products() {
        let a = Array2::<f64>::zeros((3, 0));
        let b = Array2::<f64>::zeros((0, 4));
        let mut c = Array2::from_elem((3, 4), 7.0);
        mat_mul(&a.view(), &b.view(), &mut c.view_mut());
        assert_eq!(c, Array2::zeros((3, 4)), "a sum over nothing is zero");
        let empty = Array2::<f64>::zeros((0, 5));
        let mut none = Array2::<f64>::zeros((0, 4));
        mat_mul(&empty.view(), &values(5, 4, 3).view(), &mut none.view_mut());
    }

    #[test]
    fn broadcast_operands_with_zero_strides() {
        let row = ndarray::Array1::from_vec(vec![1.0, 2.0, 3.0]);
        let a = row.broadcast((4, 3)).unwrap(); // every row the same: stride 0 along rows
        let b = values(3, 5, 4);
        let mut c = Array2::<f64>::zeros((4, 5));
        mat_mul(&a, &b.view(), &mut c.view_mut());
        assert_eq!(c, naive(&a, &b.view()));
    }

    #[test]
    fn integers_and_single_precision() {
        let a = Array2::from_shape_fn((20, 30), |(i, j)| (i + 2 * j) as i64 - 20);
        let b = Array2::from_shape_fn((30, 10), |(i, j)| (3 * i + j) as i64 % 7);
        let mut c = Array2::<i64>::zeros((20, 10));
        mat_mul(&a.view(), &b.view(), &mut c.view_mut());
        assert_eq!(c, a.dot(&b));
        let (x, y) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
        let mut z = Array2::<f32>::zeros((20, 10));
        mat_mul(&x.view(), &y.view(), &mut z.view_mut());
        assert_eq!(z, x.dot(&y), "small integers are exact in f32");
    }

    #[test]
    fn complex_products() {
        let a = Array2::from_shape_fn((9, 7), |(i, j)| Complex::new(i as f64, j as f64 - 3.0));
        let b = Array2::from_shape_fn((7, 8), |(i, j)| Complex::new(j as f64, 1.0 - i as f64));
        let mut c = Array2::<Complex<f64>>::zeros((9, 8));
        mat_mul(&a.view(), &b.view(), &mut c.view_mut());
        assert_eq!(c, a.dot(&b));
    }

    #[test]
    fn large_products_agree_with_the_naive_sum() {
        // Above the threading threshold when the `threads` feature is on.
        let a = values(200, 160, 5);
        let b = values(160, 140, 6);
        const { assert!(200 * 160 * 140 >= THREADED_MULTIPLY_ADDS) };
        let mut c = Array2::<f64>::zeros((200, 140));
        mat_mul(&a.view(), &b.view(), &mut c.view_mut());
        assert_eq!(c, naive(&a.view(), &b.view()));
    }
}
