//! General matrix products on strided views, `c = a · b`, and the batched form.
//!
//! The kernel is the element type's [`Element`]`::__mat_mul`: for `f32` and `f64` the
//! engine's own blocked, packed kernel (`packed.rs`), whose packing buffers are kept per
//! thread so that a warm product allocates nothing; for the other types ndarray's
//! `general_mat_mul`. matrixmultiply (behind `general_mat_mul`) was the kernel before; it
//! allocates its packing buffer on every call, and on this project's AVX2 machine the packed
//! kernel is as fast (`benches/README.md`, "Matrix product kernel").
//!
//! With the `threads` feature (on by default), work of at least [`THREADED_MULTIPLY_ADDS`]
//! multiply-adds is split across rayon's pool (`RAYON_NUM_THREADS` caps it): by batch index
//! when there are several, else by blocks of rows of `c`. Smaller work never pays for threads.

use crate::Element;
use ndarray::{Array3, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3, Axis};

/// From this many multiply-adds on, a product may use several threads (with the `threads`
/// feature): about 160x160x160, where a product takes milliseconds on one core and handing
/// out work costs microseconds.
pub(super) const THREADED_MULTIPLY_ADDS: usize = 1 << 22;

/// `c = a · b`, overwriting `c`, for views of any strides.
///
/// # Panics
///
/// When the shapes do not chain: `a` is `m x k`, `b` must be `k x n` and `c` `m x n`.
pub(super) fn mat_mul<T: Element>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
) {
    mat_mul_beta(a, b, T::zero(), c);
}

/// `c = a · b + beta c` (BLAS's `beta`: 0 overwrites `c`, 1 adds to it), for views of any
/// strides.
///
/// # Panics
///
/// As [`mat_mul`].
pub(crate) fn mat_mul_beta<T: Element>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let blocks = thread_count(m.saturating_mul(n).saturating_mul(k)).min(m);
    if blocks <= 1 {
        T::__mat_mul(a, b, beta, c);
        return;
    }
    #[cfg(feature = "threads")]
    {
        let rows = m.div_ceil(blocks);
        rayon::scope(|scope| {
            for (a_rows, mut c_rows) in a
                .axis_chunks_iter(Axis(0), rows)
                .zip(c.axis_chunks_iter_mut(Axis(0), rows))
            {
                scope.spawn(move |_| T::__mat_mul(&a_rows, b, beta, &mut c_rows));
            }
        });
    }
}

/// `a[0] · b[0]` for one batch index, as a new `1 x m x n` array, when the product stays on
/// one thread: by `ndarray`'s `dot`, which writes its result without zeroing it first (a
/// zeroing pass over the result was a fifth of a 64x64 product's time). `None` when the
/// product is large enough for threads, or `dot` laid the result out column by column.
pub(super) fn single_product<T: Element>(
    a: &ArrayView3<'_, T>,
    b: &ArrayView3<'_, T>,
) -> Option<Array3<T>> {
    let (a, b) = (a.index_axis(Axis(0), 0), b.index_axis(Axis(0), 0));
    let (m, k) = a.dim();
    if thread_count(m.saturating_mul(k).saturating_mul(b.ncols())) > 1 {
        return None;
    }
    let c = a.dot(&b);
    c.is_standard_layout().then(|| c.insert_axis(Axis(0)))
}

/// `c[i] = a[i] · b[i]` for every batch index `i`, overwriting `c`.
pub(super) fn batched_mat_mul<T: Element>(
    a: &ArrayView3<'_, T>,
    b: &ArrayView3<'_, T>,
    c: &mut ArrayViewMut3<'_, T>,
) {
    let (batches, m, k) = a.dim();
    let work = batches
        .saturating_mul(m)
        .saturating_mul(k)
        .saturating_mul(b.dim().2);
    let threads = thread_count(work).min(batches);
    if threads <= 1 {
        for ((a, b), mut c) in a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut()) {
            mat_mul(&a, &b, &mut c);
        }
        return;
    }
    #[cfg(feature = "threads")]
    {
        let per_thread = batches.div_ceil(threads);
        rayon::scope(|scope| {
            let chunks = a
                .axis_chunks_iter(Axis(0), per_thread)
                .zip(b.axis_chunks_iter(Axis(0), per_thread))
                .zip(c.axis_chunks_iter_mut(Axis(0), per_thread));
            for ((a, b), mut c) in chunks {
                scope.spawn(move |_| {
                    for ((a, b), mut c) in
                        a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut())
                    {
                        T::__mat_mul(&a, &b, T::zero(), &mut c);
                    }
                });
            }
        });
    }
}

/// How many threads `work` multiply-adds should use: rayon's pool size for large work with
/// the `threads` feature, 1 otherwise.
pub(crate) fn thread_count(work: usize) -> usize {
    let large = work >= THREADED_MULTIPLY_ADDS;
    #[cfg(feature = "threads")]
    if large {
        return rayon::current_num_threads();
    }
    let _ = large; // without threads, everything runs on the calling thread
    1
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use ndarray::{s, Array2, Array3};

    /// Integer values, so that every product and sum is exact in any order and rounding
    /// (also the matrices of `packed.rs`'s tests).
    pub(in crate::engine) fn values(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0
        })
    }

    /// The product by its definition, one sum per element.
    pub(in crate::engine) fn naive(
        a: &ArrayView2<'_, f64>,
        b: &ArrayView2<'_, f64>,
    ) -> Array2<f64> {
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
    }

    #[test]
    fn single_products_are_standard_layout_or_declined() {
        let a = values(30, 20, 7);
        let b = values(20, 25, 8);
        fn three(x: &Array2<f64>) -> ArrayView3<'_, f64> {
            x.view().insert_axis(Axis(0))
        }
        let c = single_product(&three(&a), &three(&b)).expect("row-major operands");
        assert!(c.is_standard_layout());
        assert_eq!(c.index_axis(Axis(0), 0), naive(&a.view(), &b.view()));
        // Both operands column-major: `dot` answers column-major, which the engine declines
        // (its caller then computes into a standard-layout result).
        let (at, bt) = (
            a.t().to_owned().reversed_axes(),
            b.t().to_owned().reversed_axes(),
        );
        if let Some(c) = single_product(&three(&at), &three(&bt)) {
            assert!(c.is_standard_layout());
            assert_eq!(c.index_axis(Axis(0), 0), naive(&a.view(), &b.view()));
        }
    }

    #[test]
    fn large_products_split_by_rows_agree_with_the_naive_sum() {
        // Above the threading threshold: with the `threads` feature the rows are split.
        let a = values(201, 160, 5);
        let b = values(160, 140, 6);
        const { assert!(201 * 160 * 140 >= THREADED_MULTIPLY_ADDS) };
        let mut c = Array2::<f64>::zeros((201, 140));
        mat_mul(&a.view(), &b.view(), &mut c.view_mut());
        assert_eq!(c, naive(&a.view(), &b.view()));
    }

    #[test]
    fn large_batches_split_by_batch_agree_with_each_product() {
        let a = Array3::from_shape_fn((7, 90, 80), |(t, i, j)| ((t + 3 * i + j) % 13) as f64);
        let b = Array3::from_shape_fn((7, 80, 100), |(t, i, j)| ((2 * t + i + 5 * j) % 11) as f64);
        const { assert!(7 * 90 * 80 * 100 >= THREADED_MULTIPLY_ADDS) };
        let mut c = Array3::<f64>::zeros((7, 90, 100));
        batched_mat_mul(&a.view(), &b.view(), &mut c.view_mut());
        for t in 0..7 {
            let want = naive(&a.slice(s![t, .., ..]), &b.slice(s![t, .., ..]));
            assert_eq!(c.slice(s![t, .., ..]), want, "batch {t}");
        }
    }
}
