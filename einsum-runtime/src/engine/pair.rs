//! One pairwise step: two tensors contracted as a batched matrix product.
//!
//! The slots of the two tensors fall into four groups:
//!
//! | group       | in left | in right | in result |
//! |-------------|---------|----------|-----------|
//! | batch       | yes     | yes      | yes       |
//! | contracted  | yes     | yes      | no        |
//! | left-free   | yes     | no       | yes       |
//! | right-free  | no      | yes      | yes       |
//!
//! The left tensor is viewed as `(batch, left-free, contracted)`, the right one as
//! `(batch, contracted, right-free)`, each group flattened to one axis (copying only when the
//! layout does not allow a view), and for each batch index `c[b] = a[b] · b[b]`.

use super::diagonal::Slots;
use super::plan::Groups;
use super::pool::{self, Pooled};
use super::{alloc, contiguous_runs, pooled_copy, sum_out, Tensor};
use crate::Element;
use einsum_spec::{Buffer, ShapeError};
use ndarray::linalg::general_mat_vec_mul;
use ndarray::{
    s, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut1, ArrayViewMut3, CowArray, Ix3,
    IxDyn, Zip,
};

/// Up to this many multiply-adds per batch, a plain loop beats the set-up cost of GEMM
/// (packing both operands).
const SMALL_PRODUCT: usize = 512;

/// When a step frees an operand it has copied into matrix layout, and whether the buffers it
/// allocates go back to the thread's pool (`pool.rs`) when they are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Release {
    /// As soon as it is copied, so that a step holds its operands and the larger of one copy
    /// and its result: for slices of a network planned under a memory limit. Its buffers are
    /// freed, not kept in the pool, so that nothing the plan did not count stays allocated.
    Early,
    /// When the step ends. Faster: freeing a large operand before the result is allocated
    /// lets the allocator hand its pages back to the system, and the result faults them in
    /// again.
    AfterStep,
}

/// Contracts `left` with `right`, keeping the slots in `result` and summing the others,
/// freeing operands it copies as `release` says.
pub(super) fn contract_pair<'r, T: Element>(
    left: Tensor<'_, T>,
    right: Tensor<'_, T>,
    result: &[usize],
    release: Release,
) -> Result<Tensor<'r, T>, ShapeError> {
    // A slot only one side has and the result does not keep is summed on that side first.
    // (The engine never produces one; this keeps the step correct on its own.)
    let left = sum_out(left, |s| result.contains(&s) || right.slots.contains(&s))?;
    let right = sum_out(right, |s| result.contains(&s) || left.slots.contains(&s))?;

    let Groups {
        batch,
        contracted,
        left_free,
        right_free,
    } = Groups::of(&left.slots, &right.slots, result);

    let extent = |slot: usize| match left.slots.iter().position(|&s| s == slot) {
        Some(axis) => left.data.shape()[axis],
        None => right
            .slots
            .iter()
            .position(|&s| s == slot)
            .map_or(1, |axis| right.data.shape()[axis]),
    };
    // The result's element count, checked: it bounds the products of the batch and free
    // groups below, and the contracted group is part of an operand that exists.
    let slots: Slots = (batch.iter().chain(&left_free).chain(&right_free))
        .copied()
        .collect();
    let shape: Slots = slots.iter().map(|&s| extent(s)).collect();
    alloc::elements::<T>(Buffer::Intermediate, &shape)?;
    let volume = |group: &[usize]| group.iter().map(|&s| extent(s)).product::<usize>();
    let (nb, m, k, n) = (
        volume(&batch),
        volume(&left_free),
        volume(&contracted),
        volume(&right_free),
    );

    // Each operand is copied into matrix layout only when its axes cannot be grouped.
    let a = Matrices::of(left, [&batch, &left_free, &contracted], release)?;
    let b = Matrices::of(right, [&batch, &contracted, &right_free], release)?;
    let (a_axes, b_axes) = (a.view(), b.view());
    let (a3, b3) = (three(&a_axes, (nb, m, k)), three(&b_axes, (nb, k, n)));
    let c = batched_mat_mul(&a3.view(), &b3.view(), &shape)?;
    let c = match release {
        Release::Early => c.freed(),
        Release::AfterStep => c,
    };
    Ok(Tensor {
        data: super::Data::from(c),
        slots,
    })
}

/// One operand of a step as a batch of matrices: the tensor itself when its axes group into
/// (batch, rows, columns) as a view, else a copy in that layout.
enum Matrices<'a, T: 'static> {
    /// The tensor and its axes in group order.
    Grouped(Tensor<'a, T>, Slots),
    /// A copy in standard layout, its axes in group order, and the tensor, held only until
    /// the step ends, unless released.
    Copied {
        copy: Pooled<T>,
        _held: Option<Tensor<'a, T>>,
    },
}

impl<'a, T: Element> Matrices<'a, T> {
    /// `tensor` with its axes in the order of `groups`: kept when the strides let each group
    /// be flattened into one axis as a view, else copied, and the tensor (possibly an
    /// intermediate the engine owns) freed at once when `release` is [`Release::Early`].
    fn of(
        tensor: Tensor<'a, T>,
        groups: [&[usize]; 3],
        release: Release,
    ) -> Result<Matrices<'a, T>, ShapeError> {
        let order = group_order(&tensor, groups);
        let view = tensor.data.view().permuted_axes(&order[..]);
        let lengths = groups.map(<[usize]>::len);
        if mergeable(&view, lengths) {
            return Ok(Matrices::Grouped(tensor, order));
        }
        let copy = pooled_copy(&view, Buffer::Intermediate)?;
        let (copy, held) = match release {
            Release::Early => (copy.freed(), None),
            Release::AfterStep => (copy, Some(tensor)),
        };
        Ok(Matrices::Copied { copy, _held: held })
    }

    /// The operand's axes in group order: a view of the tensor, or of the copy.
    fn view(&self) -> ArrayViewD<'_, T> {
        match self {
            Matrices::Grouped(tensor, order) => tensor.data.view().permuted_axes(&order[..]),
            Matrices::Copied { copy, .. } => copy.view(),
        }
    }
}

/// `view` (axes in group order, each group mergeable or in standard layout) as the batch of
/// matrices of `dims`, without copying.
fn three<'v, T: Element>(
    view: &'v ArrayViewD<'_, T>,
    dims: (usize, usize, usize),
) -> CowArray<'v, T, Ix3> {
    match view.to_shape(dims) {
        Ok(array) => array,
        Err(_) => unreachable!("the groups hold every axis, so the element count is unchanged"),
    }
}

/// The axes of `tensor` in the order of `groups`, concatenated.
fn group_order<T>(tensor: &Tensor<'_, T>, groups: [&[usize]; 3]) -> Slots {
    groups
        .iter()
        .flat_map(|group| group.iter())
        .filter_map(|slot| tensor.slots.iter().position(|s| s == slot))
        .collect()
}

/// Whether each of the consecutive groups of axes of `view` (`lengths` axes each) can be
/// flattened into one axis without copying: it is at most one contiguous run
/// ([`contiguous_runs`]).
fn mergeable<T>(view: &ArrayViewD<'_, T>, lengths: [usize; 3]) -> bool {
    let (shape, strides) = (view.shape(), view.strides());
    let mut start = 0;
    lengths.iter().all(|&len| {
        let group = start..start + len;
        start += len;
        contiguous_runs(&shape[group.clone()], &strides[group])
            .nth(1)
            .is_none()
    })
}

/// The kernel a pairwise step runs, chosen from the shape of its batched matrix product
/// `c[b] = a[b] · b[b]` with `a[b]` of `m x k` and `b[b]` of `k x n`.
///
/// ```
/// use einsum_runtime::engine::explain::Kernel;
/// assert_eq!(Kernel::for_product(1, 64, 64), Kernel::RowTimesMatrix);
/// assert_eq!(Kernel::for_product(256, 256, 256), Kernel::Gemm);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Nothing to sum (`k = 1`): each element of the result is one product, written once.
    /// Elementwise when `m = n = 1`.
    OuterProduct,
    /// At most a few hundred multiply-adds per batch index: a plain triple loop, cheaper than
    /// setting up a matrix product.
    Loop,
    /// `m = n = 1`: a dot product per batch index (`ndarray`'s unrolled `dot` on vectors).
    Dot,
    /// `m = 1`: a row times a matrix per batch index (whole rows accumulated when the matrix
    /// is stored by rows, a dot product per column otherwise).
    RowTimesMatrix,
    /// `n = 1`: a matrix times a column per batch index.
    MatrixTimesColumn,
    /// A general matrix product per batch index (the engine's packed kernel for `f32`/`f64`,
    /// `general_mat_mul` otherwise; large work split across threads).
    Gemm,
}

impl Kernel {
    /// The kernel for one batch index's `m x k` times `k x n` product.
    #[must_use]
    pub fn for_product(m: usize, k: usize, n: usize) -> Kernel {
        if k == 1 {
            Kernel::OuterProduct
        } else if m.saturating_mul(n).saturating_mul(k) <= SMALL_PRODUCT {
            Kernel::Loop
        } else if m == 1 && n == 1 {
            Kernel::Dot
        } else if m == 1 {
            Kernel::RowTimesMatrix
        } else if n == 1 {
            Kernel::MatrixTimesColumn
        } else {
            Kernel::Gemm
        }
    }
}

impl core::fmt::Display for Kernel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Kernel::OuterProduct => "outer product",
            Kernel::Loop => "loop",
            Kernel::Dot => "dot",
            Kernel::RowTimesMatrix => "row x matrix",
            Kernel::MatrixTimesColumn => "matrix x column",
            Kernel::Gemm => "GEMM",
        })
    }
}

/// `c[b] = a[b] · b[b]` for every batch index `b`, as an array of `shape` (the `nb x m x n`
/// result's axes, unflattened) in standard layout, by the [`Kernel`] for its shape. Its
/// buffer comes from the thread's pool when the pool has one. Matrix-vector products whose
/// matrix runs contiguously along the result accumulate whole rows (`c += a_k · b[k, ..]`),
/// which reads memory in order where a dot product per result element would stride across
/// it.
///
/// The caller has checked that `c`'s element count fits; its memory is reserved here.
fn batched_mat_mul<T: Element>(
    a: &ArrayView3<'_, T>,
    b: &ArrayView3<'_, T>,
    shape: &[usize],
) -> Result<Pooled<T>, ShapeError> {
    let (nb, m, k) = a.dim();
    let n = b.dim().2;
    let kernel = Kernel::for_product(m, k, n);
    if kernel == Kernel::OuterProduct {
        return batched_outer_product(a, b, shape);
    }
    let mut values = match pool::take::<T>(nb * m * n) {
        // GEMM overwrites its `c` (`beta` is 0); the other kernels add to it.
        Some(mut values) => {
            if kernel != Kernel::Gemm {
                values.fill(T::zero());
            }
            values
        }
        None => {
            alloc::reserve::<T>(Buffer::Intermediate, &[nb, m, n])?;
            if kernel == Kernel::Gemm && nb == 1 {
                if let Some(c) = super::gemm::single_product(a, b) {
                    match c.into_shape_with_order(IxDyn(shape)) {
                        Ok(c) => return Ok(Pooled::new(c)),
                        Err(_) => unreachable!("a product in standard layout reshapes"),
                    }
                }
            }
            // Zeroed pages from the allocator, not a zeroing pass.
            vec![T::zero(); nb * m * n]
        }
    };
    let Ok(mut c) = ArrayViewMut3::from_shape((nb, m, n), &mut values[..]) else {
        unreachable!("the buffer has one element per (batch, row, column)")
    };
    product_kernel(kernel, a, b, &mut c);
    Ok(Pooled::from_shape_vec(shape, values))
}

/// `c[b] = a[b] · b[b]` by `kernel` (any but [`Kernel::OuterProduct`]) into `c`, which holds
/// zeros for every kernel but [`Kernel::Gemm`] (which overwrites it).
fn product_kernel<T: Element>(
    kernel: Kernel,
    a: &ArrayView3<'_, T>,
    b: &ArrayView3<'_, T>,
    c: &mut ArrayViewMut3<'_, T>,
) {
    let (nb, m, k) = a.dim();
    let n = b.dim().2;
    let batches = a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut());
    match kernel {
        Kernel::OuterProduct => unreachable!("returned above"),
        Kernel::Loop if k > 0 && a.is_standard_layout() && b.is_standard_layout() => {
            drop(batches);
            small_products_in_order(a, b, c);
        }
        Kernel::Loop if nb >= m * n * k => {
            // More products than multiply-adds in each, in another layout: one pass along the
            // batch per (row, column, term), so the per-product work has no loop set-up.
            drop(batches);
            for r in 0..m {
                for column in 0..n {
                    let mut c_lane = c.slice_mut(s![.., r, column]);
                    for t in 0..k {
                        Zip::from(&mut c_lane)
                            .and(a.slice(s![.., r, t]))
                            .and(b.slice(s![.., t, column]))
                            .for_each(|c, &x, &y| *c = *c + x * y);
                    }
                }
            }
        }
        Kernel::Loop => {
            // Operands in another layout: indexed in place. (A view per row and column of each
            // product cost more than the product itself at these sizes.)
            for ((a, b), mut c) in batches {
                for r in 0..m {
                    for column in 0..n {
                        let mut sum = T::zero();
                        for t in 0..k {
                            sum = sum + a[[r, t]] * b[[t, column]];
                        }
                        c[[r, column]] = sum;
                    }
                }
            }
        }
        Kernel::Dot => {
            for ((a, b), mut c) in batches {
                c[[0, 0]] = a.row(0).dot(&b.column(0));
            }
        }
        Kernel::RowTimesMatrix => {
            for ((a, b), mut c) in batches {
                let (a, mut c) = (a.row(0), c.row_mut(0));
                if b.strides()[1] == 1 {
                    accumulate_rows(&a, &b, &mut c);
                } else {
                    // Columns of `b` are contiguous: one dot product per result element reads
                    // them in order. (No packing, which a matrix product would do once
                    // per batch index.)
                    general_mat_vec_mul(T::one(), &b.t(), &a, T::zero(), &mut c);
                }
            }
        }
        Kernel::MatrixTimesColumn => {
            for ((a, b), mut c) in batches {
                let (b, mut c) = (b.column(0), c.column_mut(0));
                if a.strides()[0] == 1 && a.strides()[1] != 1 {
                    accumulate_rows(&b, &a.t(), &mut c);
                } else {
                    general_mat_vec_mul(T::one(), &a, &b, T::zero(), &mut c);
                }
            }
        }
        Kernel::Gemm => {
            drop(batches);
            super::gemm::batched_mat_mul(a, b, c);
        }
    }
}

/// `c[i] = a[i] · b[i]` for many small products stored in order: the batches walked as
/// consecutive chunks of the three buffers, each product accumulated row by row
/// (`c[r, ..] += a[r, t] · b[t, ..]`). No view is built per batch index, which is what the
/// general loop spends most of its time on when there are thousands of 3x3 products.
fn small_products_in_order<T: Element>(
    a: &ArrayView3<'_, T>,
    b: &ArrayView3<'_, T>,
    c: &mut ArrayViewMut3<'_, T>,
) {
    let (_, m, k) = a.dim();
    let n = b.dim().2;
    let (Some(a), Some(b), Some(c)) = (a.as_slice(), b.as_slice(), c.as_slice_mut()) else {
        unreachable!("standard-layout views and a fresh array are contiguous")
    };
    let batches = a
        .chunks_exact(m * k)
        .zip(b.chunks_exact(k * n))
        .zip(c.chunks_exact_mut(m * n));
    if n == 1 {
        // A matrix times a column per batch: one dot product per row.
        for ((a, b), c) in batches {
            for (a_row, c) in a.chunks_exact(k).zip(c) {
                *c = a_row
                    .iter()
                    .zip(b)
                    .fold(T::zero(), |sum, (&x, &y)| sum + x * y);
            }
        }
        return;
    }
    for ((a, b), c) in batches {
        for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
            for (&x, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
                for (c, &y) in c_row.iter_mut().zip(b_row) {
                    *c = *c + x * y;
                }
            }
        }
    }
}

/// `c += sum_k x[k] · rows[k, ..]`: a vector times a matrix, whole rows at a time, so that
/// a matrix stored row by row is read in order and the inner loop vectorises. Four rows go
/// through `c` together when the memory is contiguous, so `c` is loaded and stored once per
/// four rows instead of once per row.
fn accumulate_rows<T: Element>(
    x: &ArrayView1<'_, T>,
    rows: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut1<'_, T>,
) {
    let n = rows.ncols();
    if let (Some(x), Some(all), Some(c)) = (x.as_slice(), rows.as_slice(), c.as_slice_mut()) {
        if n > 0 {
            let mut groups = x.chunks_exact(4).zip(all.chunks_exact(4 * n));
            for (w, block) in groups.by_ref() {
                let (r0, rest) = block.split_at(n);
                let (r1, rest) = rest.split_at(n);
                let (r2, r3) = rest.split_at(n);
                let lanes = c.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3);
                for ((((c, &y0), &y1), &y2), &y3) in lanes {
                    *c = *c + w[0] * y0 + w[1] * y1 + w[2] * y2 + w[3] * y3;
                }
            }
            let done = x.len() - x.len() % 4;
            for (&weight, row) in x[done..].iter().zip(all[done * n..].chunks_exact(n)) {
                for (c, &y) in c.iter_mut().zip(row) {
                    *c = *c + weight * y;
                }
            }
        }
        return;
    }
    for (&weight, row) in x.iter().zip(rows.outer_iter()) {
        match (c.as_slice_mut(), row.as_slice()) {
            (Some(c), Some(row)) => {
                for (c, &y) in c.iter_mut().zip(row) {
                    *c = *c + weight * y;
                }
            }
            _ => c.scaled_add(weight, &row),
        }
    }
}

/// `c[b, i, j] = a[b, i, 0] · b[b, 0, j]`: an outer product per batch index, each element
/// written once into a buffer from the pool or a fresh one (no zeroing pass over a possibly
/// large result), as an array of `shape`.
fn batched_outer_product<T: Element>(
    a: &ArrayView3<'_, T>,
    b: &ArrayView3<'_, T>,
    shape: &[usize],
) -> Result<Pooled<T>, ShapeError> {
    let (nb, m, _) = a.dim();
    let n = b.dim().2;
    let mut values = match pool::take::<T>(nb * m * n) {
        Some(mut values) => {
            values.clear();
            values
        }
        None => alloc::vec::<T>(Buffer::Intermediate, &[nb, m, n])?,
    };
    if let (Some(a), Some(b)) = (a.as_slice(), b.as_slice()) {
        // Both in order: consecutive chunks, with no view per batch index (which cost more
        // than the nine products of a 3x3 outer product).
        if m > 0 && n > 0 {
            for (column, row) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
                for &x in column {
                    values.extend(row.iter().map(|&y| x * y));
                }
            }
        }
    } else {
        for (a, b) in a.outer_iter().zip(b.outer_iter()) {
            let row = b.row(0);
            for &x in a.column(0) {
                match row.as_slice() {
                    Some(row) => values.extend(row.iter().map(|&y| x * y)),
                    None => values.extend(row.iter().map(|&y| x * y)),
                }
            }
        }
    }
    Ok(Pooled::from_shape_vec(shape, values))
}
