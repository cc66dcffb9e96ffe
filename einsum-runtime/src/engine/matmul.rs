//! The matrix product of two matrices (`ij,jk->ik` and its transposes), straight to `dot`.
//!
//! A two-operand contraction goes through the same stages as any other: slot tables, bound
//! extents, a prepared tensor per operand, the grouping of labels, a three-dimensional view
//! of each operand, the kernel. For a 64x64 product that set-up was about 1.5 µs against
//! `dot`'s 6 µs. When both operands are matrices and the spec is a matrix product of them
//! (possibly transposed), the product is already a call to `dot` on two views, with no
//! table and no intermediate. That holds at every size up to the threads' threshold: even a
//! 2x2 product is faster through `dot` than through the direct loop (0.59 against 0.87 µs
//! for the whole `einsum_dyn` call, 0.77 against 3.4 µs at 16x16). Products large enough for
//! threads keep the engine's split.

use super::alloc;
use super::gemm::thread_count;
use crate::Element;
use einsum_spec::Buffer;
use ndarray::{ArrayD, ArrayView2, ArrayViewD, Ix2};

/// `a · b` for a contraction whose operands have the slots `a_axes` and `b_axes` and whose
/// output has the slots `output`, when it is a product of two matrices: each operand has two
/// distinct slots, exactly one of them shared, and the output is the two others in either
/// order. The result is an owned array in standard layout.
///
/// `None` (the caller takes the general path, which also reports errors) for any other
/// contraction, for extents that do not match (including extent-1 broadcasting), for empty
/// products, and for products large enough for several threads.
///
/// ```
/// use einsum_runtime::engine::matrix_product;
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((20, 30), |(i, j)| (i + j) as f64);
/// let b = Array2::from_shape_fn((30, 40), |(j, k)| (j * k) as f64);
/// let (a_dyn, b_dyn) = (a.view().into_dyn(), b.view().into_dyn());
/// // ij,jk->ki: the transposed product.
/// let c = matrix_product(&[0, 1], &[1, 2], &[2, 0], &a_dyn, &b_dyn).unwrap();
/// assert_eq!(c, b.t().dot(&a.t()).into_dyn());
/// // ij,jk->ijk is not a matrix product.
/// assert!(matrix_product(&[0, 1], &[1, 2], &[0, 1, 2], &a_dyn, &b_dyn).is_none());
/// ```
#[must_use]
pub fn matrix_product<T: Element>(
    a_axes: &[usize],
    b_axes: &[usize],
    output: &[usize],
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
) -> Option<ArrayD<T>> {
    let spelling = Spelling::of(a_axes, b_axes, output)?;
    let a = matrix(a, spelling.a_transposed)?;
    let b = matrix(b, spelling.b_transposed)?;
    let (m, shared, n) = (a.nrows(), a.ncols(), b.ncols());
    if b.nrows() != shared {
        return None;
    }
    let work = m.saturating_mul(shared).saturating_mul(n);
    if work == 0 || thread_count(work) > 1 {
        return None;
    }
    let shape = match spelling.order {
        Order::RowsOfA => [m, n],
        Order::RowsOfB => [n, m],
    };
    alloc::reserve::<T>(Buffer::Output, &shape).ok()?;
    let c = match spelling.order {
        Order::RowsOfA => a.dot(&b),
        Order::RowsOfB => b.t().dot(&a.t()),
    };
    let c = if c.is_standard_layout() {
        c
    } else {
        c.as_standard_layout().into_owned()
    };
    Some(c.into_dyn())
}

/// Whether [`matrix_product`] takes a contraction with these slot tables on operands of
/// these shapes (assumed in a layout `dot` accepts), however small: the engine's direct loop
/// does not, and `explain` reports the product as its one pairwise step.
pub(super) fn is_matrix_product(
    a_axes: &[usize],
    b_axes: &[usize],
    output: &[usize],
    a_shape: &[usize],
    b_shape: &[usize],
) -> bool {
    let Some(spelling) = Spelling::of(a_axes, b_axes, output) else {
        return false;
    };
    let (&[a0, a1], &[b0, b1]) = (a_shape, b_shape) else {
        return false;
    };
    let shared_in_a = if spelling.a_transposed { a0 } else { a1 };
    let shared_in_b = if spelling.b_transposed { b1 } else { b0 };
    shared_in_a == shared_in_b && a0 * a1 > 0 && b0 * b1 > 0
}

/// How a spec spells a product of two matrices: which operand is transposed, and in which
/// order the output keeps the two free labels.
struct Spelling {
    a_transposed: bool,
    b_transposed: bool,
    order: Order,
}

impl Spelling {
    /// The spelling, when each operand has two distinct slots, exactly one of them shared,
    /// and the output is the two others in either order; `None` otherwise.
    fn of(a_axes: &[usize], b_axes: &[usize], output: &[usize]) -> Option<Spelling> {
        let (&[a0, a1], &[b0, b1], &[o0, o1]) = (a_axes, b_axes, output) else {
            return None;
        };
        // `a` as `i x j` and `b` as `j x k`, `j` the shared slot.
        let (i, j, a_transposed) = if a1 == b0 || a1 == b1 {
            (a0, a1, false)
        } else {
            (a1, a0, true)
        };
        let (k, b_transposed) = if b0 == j { (b1, false) } else { (b0, true) };
        let distinct = i != j && j != k && i != k && (b0 == j || b1 == j);
        let order = match (o0 == i && o1 == k, o0 == k && o1 == i) {
            (true, _) => Order::RowsOfA,
            (_, true) => Order::RowsOfB,
            _ => return None,
        };
        distinct.then_some(Spelling {
            a_transposed,
            b_transposed,
            order,
        })
    }
}

/// Which product the output's axis order asks for.
enum Order {
    /// `ik`: `a · b`.
    RowsOfA,
    /// `ki`: `b^T · a^T`.
    RowsOfB,
}

/// `view` as a matrix, transposed when asked; `None` unless it has two axes.
fn matrix<'v, T>(view: &'v ArrayViewD<'_, T>, transposed: bool) -> Option<ArrayView2<'v, T>> {
    let matrix = view.view().into_dimensionality::<Ix2>().ok()?;
    Some(if transposed {
        matrix.reversed_axes()
    } else {
        matrix
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2, ArrayD, Axis};

    fn values(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0
        })
    }

    /// An array over `labels` (extents `i` 20, `j` 24, `k` 30) in one of four layouts:
    /// standard, stored transposed, reversed along its first axis, or every other row of a
    /// twice longer array.
    fn operand(labels: &str, layout: usize, seed: usize) -> ArrayD<f64> {
        let extent = |l: char| match l {
            'i' => 20,
            'j' => 24,
            _ => 30,
        };
        let shape: Vec<usize> = labels.chars().map(extent).collect();
        let (rows, cols) = (shape[0], shape[1]);
        let array = match layout {
            0 => values(rows, cols, seed),
            1 => values(cols, rows, seed).reversed_axes(),
            2 => {
                let mut v = values(rows, cols, seed);
                v.invert_axis(Axis(0));
                v
            }
            _ => values(2 * rows, cols, seed).slice_move(s![..;2, ..]),
        };
        array.into_dyn()
    }

    /// Every way to write a product of two matrices (each operand as stored or transposed,
    /// the output as `ik` or `ki`), on operands in four layouts each, against the reference
    /// evaluator. (The arrays keep their layouts: [`operand`] returns views' owners as built.)
    #[test]
    fn every_spelling_and_layout_of_a_matrix_product() {
        let specs = [
            "ij,jk->ik",
            "ij,jk->ki",
            "ji,jk->ik",
            "ij,kj->ik",
            "ji,kj->ki",
            "ji,kj->ik",
        ];
        for spec in specs {
            let (terms, _) = spec.split_once("->").unwrap();
            let (a_labels, b_labels) = terms.split_once(',').unwrap();
            let c = einsum_spec::Spec::parse(spec)
                .unwrap()
                .resolve(&[2, 2])
                .unwrap();
            for (layout_a, layout_b) in (0..4).flat_map(|x| (0..4).map(move |y| (x, y))) {
                let a = operand(a_labels, layout_a, 1);
                let b = operand(b_labels, layout_b, 2);
                let want = super::super::reference::reference_einsum(spec, &[a.clone(), b.clone()]);
                let got = matrix_product(
                    &c.inputs()[0],
                    &c.inputs()[1],
                    c.output(),
                    &a.view(),
                    &b.view(),
                )
                .unwrap_or_else(|| panic!("{spec}: declined"));
                assert!(got.is_standard_layout(), "{spec}");
                assert_eq!(got, want, "{spec}, layouts {layout_a} and {layout_b}");
            }
        }
    }

    #[test]
    fn declines_what_is_not_a_plain_matrix_product() {
        let a = values(40, 40, 1).into_dyn();
        let b = values(40, 40, 2).into_dyn();
        let tiny = values(8, 8, 3).into_dyn();
        let column = values(40, 1, 4).into_dyn();
        let (a, b) = (a.view(), b.view());
        let declines = |spec: &str, x: &ArrayViewD<'_, f64>, y: &ArrayViewD<'_, f64>| {
            let c = einsum_spec::Spec::parse(spec)
                .unwrap()
                .resolve(&[2, 2])
                .unwrap();
            matrix_product(&c.inputs()[0], &c.inputs()[1], c.output(), x, y).is_none()
        };
        assert!(declines("ij,ij->ij", &a, &b)); // elementwise
        assert!(declines("ij,jk->ij", &a, &b)); // `k` summed
        assert!(declines("ii,ij->ij", &a, &b)); // a diagonal
        assert!(declines("ij,ji->ij", &a, &b)); // two shared labels
        assert!(!declines("ij,jk->ik", &tiny.view(), &tiny.view())); // small is no exception
        assert!(declines("ij,jk->ik", &a, &column.view().reversed_axes())); // 1 broadcasts
        assert!(!declines("ij,jk->ik", &a, &b));
    }
}
