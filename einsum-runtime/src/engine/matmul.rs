//! Two operands whose contraction is one matrix product, straight to `dot`.
//!
//! A two-operand contraction goes through the same stages as any other: slot tables, bound
//! extents, a prepared tensor per operand, the grouping of labels, a three-dimensional view
//! of each operand, the kernel. For a 64x64 product that set-up was a quarter of `dot`'s
//! time (`benches/README.md`, "Figures from code comments"). When the labels fall into three groups, those of the first operand only,
//! the summed ones, and those of the second operand only (`ij,jk->ik` and its transposes,
//! `bij,jk->bik`, `nmkd,kdef->nmef`), and the output lists the first group before the second,
//! the contraction is one call to `dot` on the operands viewed as matrices: no table, no
//! plan, no intermediate. That holds at every size up to the threads' threshold: even a 2x2
//! product was faster through `dot` than through the direct loop, and a 16x16 one four times
//! faster. Products large enough for
//! threads keep the engine's split. The gradients of such a contraction are two more calls
//! to `dot` on the same views ([`matrix_product_gradients`]), or two GEMM calls straight into
//! the caller's buffers ([`matrix_product_gradients_into`]).

use super::alloc;
use super::gemm::{mat_mul_beta, thread_count};
use super::standard_copy;
use super::Write;
use crate::Element;
use einsum_spec::Buffer;
use ndarray::{ArrayD, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, CowArray, Ix2, IxDyn};
use smallvec::SmallVec;

/// `a · b` for a contraction whose operands have the slots `a_axes` and `b_axes` and whose
/// output has the slots `output`, when it is one matrix product: every slot occurs once in
/// its operand; each is either in both operands and not in the output (summed), or in one
/// operand and the output; at least one slot is of each kind on each side; and the output
/// lists all slots of one operand before all slots of the other. The operands are viewed as
/// matrices (rows: their output slots in output order; columns: the summed slots), copied
/// only when their strides do not allow such a view. The result is an owned array in
/// standard layout.
///
/// `None` (the caller takes the general path, which also reports errors) for any other
/// contraction, for extents that do not match (including extent-1 broadcasting), for empty
/// products, and for products large enough for several threads.
///
/// ```
/// use einsum_runtime::engine::matrix_product;
/// use ndarray::{Array2, Array3};
/// let a = Array2::from_shape_fn((20, 30), |(i, j)| (i + j) as f64);
/// let b = Array2::from_shape_fn((30, 40), |(j, k)| (j * k) as f64);
/// let (a_dyn, b_dyn) = (a.view().into_dyn(), b.view().into_dyn());
/// // ij,jk->ki: the transposed product.
/// let c = matrix_product(&[0, 1], &[1, 2], &[2, 0], &a_dyn, &b_dyn).unwrap();
/// assert_eq!(c, b.t().dot(&a.t()).into_dyn());
/// // ij,jk->ijk is not a matrix product.
/// assert!(matrix_product(&[0, 1], &[1, 2], &[0, 1, 2], &a_dyn, &b_dyn).is_none());
/// // bij,jk->bik is one: `b` and `i` together are the rows.
/// let x = Array3::from_shape_fn((5, 4, 30), |(b, i, j)| (b + i * j) as f64);
/// let c = matrix_product(&[3, 0, 1], &[1, 2], &[3, 0, 2], &x.view().into_dyn(), &b_dyn).unwrap();
/// let rows = x.to_shape((20, 30)).unwrap();
/// assert_eq!(c, rows.dot(&b).into_shape_with_order((5, 4, 40)).unwrap().into_dyn());
/// ```
#[must_use]
pub fn matrix_product<T: Element>(
    a_axes: &[usize],
    b_axes: &[usize],
    output: &[usize],
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
) -> Option<ArrayD<T>> {
    let grouping = Grouping::of(a_axes, b_axes, output)?;
    let (first, second) = if grouping.swapped { (b, a) } else { (a, b) };
    let ranks = [first.ndim(), second.ndim()];
    if ranks == [2, 2] && [&grouping.first_axes, &grouping.second_axes].map(|a| a.len()) == ranks {
        // Two matrices: no axes to merge. (Permuting and reshaping dynamic views shows on
        // small products.)
        let first = matrix_in_order(first, &grouping.first_axes)?;
        let second = matrix_in_order(second, &grouping.second_axes)?;
        let shape = [first.nrows(), second.ncols()];
        return product(&first, &second, &shape);
    }
    let arranged = Arranged::new(grouping, first, second)?;
    let (first, second) = arranged.matrices()?;
    product(&first.view(), &second.view(), &arranged.output_shape())
}

/// The two operands of a matrix product (see [`matrix_product`]), each permuted into matrix
/// order: the first's kept axes (in output order) then its summed axes, the second's summed
/// axes (in the same order) then its kept axes.
pub(super) struct Arranged<'v, T> {
    grouping: Grouping,
    first: ArrayViewD<'v, T>,
    second: ArrayViewD<'v, T>,
    /// The product's `m x k` times `k x n`.
    dims: (usize, usize, usize),
}

impl<'v, T: Element> Arranged<'v, T> {
    /// The operands of a contraction that is one matrix product (see [`matrix_product`])
    /// arranged for it; `None` where [`matrix_product`] declines.
    pub(super) fn of(
        a_axes: &[usize],
        b_axes: &[usize],
        output: &[usize],
        a: &ArrayViewD<'v, T>,
        b: &ArrayViewD<'v, T>,
    ) -> Option<Self> {
        let grouping = Grouping::of(a_axes, b_axes, output)?;
        let (first, second) = if grouping.swapped { (b, a) } else { (a, b) };
        Arranged::new(grouping, first, second)
    }

    /// `first` and `second` (already swapped as `grouping` says) arranged; `None` when their
    /// ranks or summed extents do not fit, or the product is empty or large enough for
    /// threads.
    fn new(
        grouping: Grouping,
        first: &ArrayViewD<'v, T>,
        second: &ArrayViewD<'v, T>,
    ) -> Option<Self> {
        if first.ndim() != grouping.first_axes.len() || second.ndim() != grouping.second_axes.len()
        {
            return None;
        }
        let first = first.clone().permuted_axes(IxDyn(&grouping.first_axes));
        let second = second.clone().permuted_axes(IxDyn(&grouping.second_axes));
        let (rows, summed) = (grouping.rows, grouping.first_axes.len() - grouping.rows);
        if first.shape()[rows..] != second.shape()[..summed] {
            return None;
        }
        let volume = |extents: &[usize]| extents.iter().product::<usize>();
        let dims = (
            volume(&first.shape()[..rows]),
            volume(&second.shape()[..summed]),
            volume(&second.shape()[summed..]),
        );
        let work = dims.0.saturating_mul(dims.1).saturating_mul(dims.2);
        if work == 0 || thread_count(work) > 1 {
            return None;
        }
        Some(Arranged {
            grouping,
            first,
            second,
            dims,
        })
    }

    /// The output's shape: the first operand's kept extents, then the second's.
    fn output_shape(&self) -> Axes {
        let summed = self.grouping.first_axes.len() - self.grouping.rows;
        self.first.shape()[..self.grouping.rows]
            .iter()
            .chain(&self.second.shape()[summed..])
            .copied()
            .collect()
    }

    /// Both operands as matrices: views when their strides allow, else copies.
    pub(super) fn matrices(&self) -> Option<(CowArray<'_, T, Ix2>, CowArray<'_, T, Ix2>)> {
        let (m, k, n) = self.dims;
        Some((
            self.first.to_shape((m, k)).ok()?,
            self.second.to_shape((k, n)).ok()?,
        ))
    }
}

/// `first · second` reshaped to `shape`, in standard layout; `None` when the matrices do not
/// chain, the product is empty or large enough for threads, or the result cannot be
/// allocated. Matrices whose strides allow it are read in place.
fn product<T: Element>(
    first: &ArrayView2<'_, T>,
    second: &ArrayView2<'_, T>,
    shape: &[usize],
) -> Option<ArrayD<T>> {
    let ((m, k), n) = (first.dim(), second.ncols());
    let work = m.saturating_mul(k).saturating_mul(n);
    if second.nrows() != k || work == 0 || thread_count(work) > 1 {
        return None;
    }
    alloc::reserve::<T>(Buffer::Output, shape).ok()?;
    let c = first.dot(second);
    let c = if c.is_standard_layout() {
        c
    } else {
        c.as_standard_layout().into_owned()
    };
    if shape.len() == 2 {
        return Some(c.into_dyn());
    }
    c.into_shape_with_order(IxDyn(shape)).ok()
}

/// The gradients of a contraction that [`matrix_product`] evaluates, for the upstream
/// gradient `g` (shaped like the output), of the operands `wanted` marks (`[a, b]`): with
/// the operands as the matrices `A` and `B` of `C = A · B`, `dA = G · B^T` and `dB = A^T · G`,
/// one call to `dot` per wanted gradient on the same views, each result laid back out in its
/// operand's axis order (standard layout); an unwanted gradient is `None` and costs nothing.
/// `None` where [`matrix_product`] declines, or `g` does not have the output's shape; the
/// caller then takes the general path, which also reports errors.
pub(super) fn matrix_product_gradients<T: Element>(
    a_axes: &[usize],
    b_axes: &[usize],
    output: &[usize],
    [a, b]: [&ArrayViewD<'_, T>; 2],
    g: &ArrayViewD<'_, T>,
    wanted: [bool; 2],
) -> Option<[Option<ArrayD<T>>; 2]> {
    let grouping = Grouping::of(a_axes, b_axes, output)?;
    let (first, second) = if grouping.swapped { (b, a) } else { (a, b) };
    let arranged = Arranged::new(grouping, first, second)?;
    if g.shape() != arranged.output_shape().as_slice() {
        return None;
    }
    for (operand, shape) in [a.shape(), b.shape()].into_iter().enumerate() {
        if wanted[operand] {
            alloc::reserve::<T>(Buffer::Gradient { operand }, shape).ok()?;
        }
    }
    let (first_matrix, second_matrix) = arranged.matrices()?;
    let (m, _, n) = arranged.dims;
    let g = g.to_shape((m, n)).ok()?;
    let grouping = &arranged.grouping;
    let (first_operand, second_operand) = if grouping.swapped { (1, 0) } else { (0, 1) };
    let d_first = if wanted[first_operand] {
        let matrix = g.dot(&second_matrix.t());
        let what = Buffer::Gradient {
            operand: first_operand,
        };
        let shape = arranged.first.shape();
        Some(laid_out(matrix, shape, &grouping.first_axes, what)?)
    } else {
        None
    };
    let d_second = if wanted[second_operand] {
        let matrix = first_matrix.t().dot(&g);
        let what = Buffer::Gradient {
            operand: second_operand,
        };
        let shape = arranged.second.shape();
        Some(laid_out(matrix, shape, &grouping.second_axes, what)?)
    } else {
        None
    };
    Some(if grouping.swapped {
        [d_second, d_first]
    } else {
        [d_first, d_second]
    })
}

/// [`matrix_product_gradients`] written into the caller's buffers: each `(operand, buffer)`
/// of `grads` (operand 0 or 1, a buffer of that operand's shape) receives that operand's
/// gradient as `write` says, by one GEMM with the buffer, viewed as the gradient's matrix, as
/// its `c` (BLAS's `beta` 0 or 1). Nothing else is allocated, except copies of operands (or of
/// `g`) whose strides allow no matrix view.
///
/// `false`, with nothing written, where [`matrix_product_gradients`] declines or a buffer has
/// no matrix view: one of more than two axes whose axes, put in matrix order, are not in
/// standard layout.
pub(super) fn matrix_product_gradients_into<T: Element>(
    a_axes: &[usize],
    b_axes: &[usize],
    output: &[usize],
    [a, b]: [&ArrayViewD<'_, T>; 2],
    g: &ArrayViewD<'_, T>,
    grads: &mut [(usize, ArrayViewMutD<'_, T>)],
    write: Write,
) -> bool {
    let Some(grouping) = Grouping::of(a_axes, b_axes, output) else {
        return false;
    };
    let (first, second) = if grouping.swapped { (b, a) } else { (a, b) };
    let Some(arranged) = Arranged::new(grouping, first, second) else {
        return false;
    };
    if g.shape() != arranged.output_shape().as_slice() {
        return false;
    }
    let (m, k, n) = arranged.dims;
    let grouping = &arranged.grouping;
    let first_operand = usize::from(grouping.swapped);
    // Every buffer as its gradient's matrix (`m x k` for the first operand's, `k x n` for the
    // second's) before anything is written, so that a buffer without one declines the lot.
    let mut targets: SmallVec<[(bool, ArrayViewMut2<'_, T>); 2]> = SmallVec::new();
    for (operand, buffer) in grads.iter_mut() {
        let is_first = *operand == first_operand;
        let (axes, dims) = if is_first {
            (&grouping.first_axes, (m, k))
        } else {
            (&grouping.second_axes, (k, n))
        };
        let permuted = buffer.view_mut().permuted_axes(&axes[..]);
        let matrix = if permuted.ndim() == 2 {
            permuted.into_dimensionality::<Ix2>().ok()
        } else {
            permuted.into_shape_with_order(dims).ok()
        };
        match matrix {
            Some(matrix) if matrix.dim() == dims => targets.push((is_first, matrix)),
            _ => return false,
        }
    }
    let Some((first_matrix, second_matrix)) = arranged.matrices() else {
        return false;
    };
    let Ok(g) = g.to_shape((m, n)) else {
        return false;
    };
    for (is_first, mut c) in targets {
        if is_first {
            mat_mul_beta(&g.view(), &second_matrix.t(), write.beta(), &mut c);
        } else {
            mat_mul_beta(&first_matrix.t(), &g.view(), write.beta(), &mut c);
        }
    }
    true
}

/// A gradient computed as a matrix over an operand's permuted axes (`permuted_shape`, the
/// operand's axes in the order `axes`), as an array in the operand's own axis order and in
/// standard layout. A permuted result is copied by the engine's [`standard_copy`] (`what`
/// names the gradient if it cannot be allocated).
fn laid_out<T: Element>(
    matrix: ndarray::Array2<T>,
    permuted_shape: &[usize],
    axes: &[usize],
    what: Buffer,
) -> Option<ArrayD<T>> {
    let matrix = if matrix.is_standard_layout() {
        matrix
    } else {
        matrix.as_standard_layout().into_owned()
    };
    let permuted = matrix.into_shape_with_order(IxDyn(permuted_shape)).ok()?;
    let mut inverse: Axes = SmallVec::from_elem(0, axes.len());
    for (position, &axis) in axes.iter().enumerate() {
        inverse[axis] = position;
    }
    let array = permuted.permuted_axes(IxDyn(&inverse));
    if array.is_standard_layout() {
        Some(array)
    } else {
        standard_copy(&array.view(), what).ok()
    }
}

/// Whether [`matrix_product`] takes a contraction with these slot tables on operands of
/// these shapes, however small: the engine's direct loop does not, and `explain` reports the
/// product as its one pairwise step.
pub(super) fn is_matrix_product(
    a_axes: &[usize],
    b_axes: &[usize],
    output: &[usize],
    a_shape: &[usize],
    b_shape: &[usize],
) -> bool {
    let Some(grouping) = Grouping::of(a_axes, b_axes, output) else {
        return false;
    };
    let (first, second) = if grouping.swapped {
        (b_shape, a_shape)
    } else {
        (a_shape, b_shape)
    };
    if first.len() != grouping.first_axes.len() || second.len() != grouping.second_axes.len() {
        return false;
    }
    let summed = grouping.first_axes.len() - grouping.rows;
    let first_summed = grouping.first_axes[grouping.rows..].iter();
    let second_summed = grouping.second_axes[..summed].iter();
    first_summed
        .map(|&axis| first[axis])
        .eq(second_summed.map(|&axis| second[axis]))
        && !first.contains(&0)
        && !second.contains(&0)
}

/// A short list of axes or extents, on the stack.
type Axes = SmallVec<[usize; 8]>;

/// How a matrix product's slots group: the operand whose slots the output lists first
/// (`swapped` when that is `b`), and for each operand the axis order that puts its groups in
/// matrix order: the first operand's output axes (in output order) then its summed axes; the
/// second operand's summed axes (in the first operand's order) then its output axes.
struct Grouping {
    swapped: bool,
    first_axes: Axes,
    second_axes: Axes,
    /// How many of `first_axes` are output axes (the matrix's rows).
    rows: usize,
}

impl Grouping {
    /// The grouping, when the tables describe one matrix product (see [`matrix_product`]);
    /// `None` otherwise.
    fn of(a_axes: &[usize], b_axes: &[usize], output: &[usize]) -> Option<Grouping> {
        // Each term's slots as a set (one bit per slot), with none repeated.
        let set = |axes: &[usize]| {
            axes.iter().try_fold(0u128, |set, &s| {
                let bit = 1u128.checked_shl(u32::try_from(s).ok()?)?;
                (set & bit == 0).then_some(set | bit)
            })
        };
        let (a, b, out) = (set(a_axes)?, set(b_axes)?, set(output)?);
        // Every slot is either summed (both operands, not the output) or kept (one operand
        // and the output); the output holds nothing else.
        let summed = a & b & !out;
        let kept = (a ^ b) & out;
        let (a_rows, b_columns) = ((a & out).count_ones(), (b & out).count_ones());
        if (a | b) != (summed | kept) || out != kept || summed == 0 || a_rows == 0 || b_columns == 0
        {
            return None;
        }
        let summed = |s: &usize| summed & (1u128 << s) != 0;
        let (a_rows, b_columns) = (a_rows as usize, b_columns as usize);
        let swapped = b_axes.contains(output.first()?);
        let (first, second) = if swapped {
            (b_axes, a_axes)
        } else {
            (a_axes, b_axes)
        };
        let rows = output.len() - if swapped { a_rows } else { b_columns };
        if !output[..rows].iter().all(|s| first.contains(s)) {
            return None;
        }
        let position = |axes: &[usize], slot: usize| axes.iter().position(|&s| s == slot);
        let summed_slots: Axes = first.iter().copied().filter(|s| summed(s)).collect();
        let first_axes: Axes = output[..rows]
            .iter()
            .chain(&summed_slots)
            .map(|&s| position(first, s))
            .collect::<Option<_>>()?;
        let second_axes: Axes = summed_slots
            .iter()
            .chain(&output[rows..])
            .map(|&s| position(second, s))
            .collect::<Option<_>>()?;
        Some(Grouping {
            swapped,
            first_axes,
            second_axes,
            rows,
        })
    }
}

/// A matrix `view` with its axes in the order `axes` (`[0, 1]` or `[1, 0]`).
fn matrix_in_order<'v, T>(
    view: &'v ArrayViewD<'_, T>,
    axes: &[usize],
) -> Option<ArrayView2<'v, T>> {
    let matrix = view.view().into_dimensionality::<Ix2>().ok()?;
    Some(if axes == [1, 0] {
        matrix.reversed_axes()
    } else {
        matrix
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD, Axis};

    fn values(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0
        })
    }

    /// An array of `shape` in one of four layouts: standard, stored with its axes reversed,
    /// reversed along its first axis, or every other element along its first axis.
    fn tensor(shape: &[usize], layout: usize, seed: usize) -> ArrayD<f64> {
        let fill = |shape: &[usize]| {
            let mut n = seed;
            ArrayD::from_shape_fn(IxDyn(shape), |_| {
                n += 7;
                (n % 23) as f64 - 11.0
            })
        };
        match layout {
            0 => fill(shape),
            1 => {
                let reversed: Vec<usize> = shape.iter().rev().copied().collect();
                fill(&reversed).reversed_axes()
            }
            2 => {
                let mut a = fill(shape);
                a.invert_axis(Axis(0));
                a
            }
            _ => {
                let mut longer = shape.to_vec();
                longer[0] *= 2;
                fill(&longer).slice_axis_move(Axis(0), ndarray::Slice::new(0, None, 2))
            }
        }
    }

    /// Every way to write a product of two matrices, and matrix products over several axes
    /// per group (in both output orders, the summed labels in different orders in the two
    /// operands), on four layouts of each operand, against the reference evaluator: the
    /// product and both gradients.
    #[test]
    fn matrix_products_in_every_layout() {
        let extent = |label: char| 2 + (label as usize - 'a' as usize) % 3;
        let specs = [
            // two matrices: each operand as stored or transposed, the output `ik` or `ki`
            "ij,jk->ik",
            "ij,jk->ki",
            "ji,jk->ik",
            "ij,kj->ik",
            "ji,kj->ki",
            "ji,kj->ik",
            // several axes per group
            "nmkd,kdef->nmef",
            "nmkd,dkef->efnm",
            "bij,jk->bik",
            "bij,jk->kbi",
            "jk,bij->bik",
            "ijk,kjl->li",
            "ab,cbd->acd",
        ];
        for spec in specs {
            let (terms, _) = spec.split_once("->").unwrap();
            let (a_labels, b_labels) = terms.split_once(',').unwrap();
            let shape = |labels: &str| labels.chars().map(extent).collect::<Vec<usize>>();
            let ranks = [a_labels.len(), b_labels.len()];
            let c = einsum_spec::Spec::parse(spec)
                .unwrap()
                .resolve(&ranks)
                .unwrap();
            for (layout_a, layout_b) in (0..4).flat_map(|x| (0..4).map(move |y| (x, y))) {
                let a = tensor(&shape(a_labels), layout_a, 1);
                let b = tensor(&shape(b_labels), layout_b, 2);
                let want = super::super::reference::reference_einsum(spec, &[a.clone(), b.clone()]);
                let (a_axes, b_axes) = (&c.inputs()[0], &c.inputs()[1]);
                assert!(
                    is_matrix_product(a_axes, b_axes, c.output(), a.shape(), b.shape()),
                    "{spec}"
                );
                let got = matrix_product(a_axes, b_axes, c.output(), &a.view(), &b.view())
                    .unwrap_or_else(|| panic!("{spec}: declined"));
                assert!(got.is_standard_layout(), "{spec}");
                assert_eq!(got, want, "{spec}, layouts {layout_a} and {layout_b}");
                // Gradients: g contracted with the other operand into each operand's labels.
                let out_labels = spec.split_once("->").unwrap().1;
                let g = tensor(want.shape(), layout_a, 3);
                let [Some(da), Some(db)] = matrix_product_gradients(
                    a_axes,
                    b_axes,
                    c.output(),
                    [&a.view(), &b.view()],
                    &g.view(),
                    [true, true],
                )
                .unwrap_or_else(|| panic!("{spec}: gradients declined")) else {
                    panic!("{spec}: a wanted gradient is missing")
                };
                let reference = super::super::reference::reference_einsum;
                let want_da = reference(
                    &format!("{out_labels},{b_labels}->{a_labels}"),
                    &[g.clone(), b.clone()],
                );
                let want_db = reference(
                    &format!("{a_labels},{out_labels}->{b_labels}"),
                    &[a.clone(), g.clone()],
                );
                assert!(da.is_standard_layout() && db.is_standard_layout(), "{spec}");
                assert_eq!(da, want_da, "{spec} dA, layouts {layout_a} and {layout_b}");
                assert_eq!(db, want_db, "{spec} dB, layouts {layout_a} and {layout_b}");
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
                .resolve(&[x.ndim(), y.ndim()])
                .unwrap();
            matrix_product(&c.inputs()[0], &c.inputs()[1], c.output(), x, y).is_none()
        };
        assert!(declines("ij,ij->ij", &a, &b)); // elementwise
        assert!(declines("ij,jk->ij", &a, &b)); // `k` summed
        assert!(declines("ii,ij->ij", &a, &b)); // a diagonal
        assert!(declines("ij,ji->ij", &a, &b)); // two shared labels
        assert!(!declines("ij,jk->ik", &tiny.view(), &tiny.view())); // small is no exception
        assert!(declines("ij,jk->ik", &a, &column.view().reversed_axes())); // 1 broadcasts
        let (x, y) = (values(6, 4, 5).into_dyn(), values(4, 6, 6).into_dyn());
        let cube = ndarray::Array3::<f64>::zeros((6, 4, 6)).into_dyn();
        assert!(declines("ij,jk->ij", &x.view(), &y.view())); // `k` summed on one side
        let slab = ndarray::Array3::<f64>::zeros((4, 6, 6)).into_dyn();
        assert!(declines("ij,jkl->kil", &x.view(), &slab.view())); // output mixes the sides
        assert!(!declines("ij,jkl->ikl", &x.view(), &slab.view()));
        assert!(declines("ijk,kji->", &cube.view(), &cube.view())); // nothing kept
        assert!(declines(
            "ij,j->i",
            &x.view(),
            &values(4, 1, 7).column(0).into_dyn()
        )); // no columns
        assert!(declines("bij,bjk->bik", &cube.view(), &cube.view())); // `b` is a batch
        assert!(!declines("ij,jk->ik", &a, &b));
    }
}
