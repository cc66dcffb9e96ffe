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

use super::{standard_copy, sum_out, Tensor};
use crate::Element;
use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{s, Array3, ArrayView3, ArrayViewD, Axis, CowArray, Ix3, IxDyn, Zip};

/// Below this many multiply-adds per batch, a plain loop beats the set-up cost of GEMM
/// (packing buffers are allocated on every call).
const SMALL_PRODUCT: usize = 512;

/// Contracts `left` with `right`, keeping the slots in `result` and summing the others.
pub(super) fn contract_pair<'r, T: Element>(
    left: Tensor<'_, T>,
    right: Tensor<'_, T>,
    result: &[usize],
) -> Tensor<'r, T> {
    // A slot only one side has and the result does not keep is summed on that side first.
    // (The engine never produces one; this keeps the step correct on its own.)
    let left = sum_out(left, |s| result.contains(&s) || right.slots.contains(&s));
    let right = sum_out(right, |s| result.contains(&s) || left.slots.contains(&s));

    let in_right = |s: &usize| right.slots.contains(s);
    let batch: Vec<usize> = left
        .slots
        .iter()
        .copied()
        .filter(|s| in_right(s) && result.contains(s))
        .collect();
    let contracted: Vec<usize> = left
        .slots
        .iter()
        .copied()
        .filter(|s| in_right(s) && !result.contains(s))
        .collect();
    let left_free: Vec<usize> = left
        .slots
        .iter()
        .copied()
        .filter(|s| !in_right(s))
        .collect();
    let right_free: Vec<usize> = right
        .slots
        .iter()
        .copied()
        .filter(|s| !left.slots.contains(s))
        .collect();

    let extent = |slot: usize| match left.slots.iter().position(|&s| s == slot) {
        Some(axis) => left.data.shape()[axis],
        None => right
            .slots
            .iter()
            .position(|&s| s == slot)
            .map_or(1, |axis| right.data.shape()[axis]),
    };
    let volume = |group: &[usize]| group.iter().map(|&s| extent(s)).product::<usize>();
    let (nb, m, k, n) = (
        volume(&batch),
        volume(&left_free),
        volume(&contracted),
        volume(&right_free),
    );

    let a = grouped(&left, [&batch, &left_free, &contracted]);
    let b = grouped(&right, [&batch, &contracted, &right_free]);
    let a = to_3d(
        &a,
        [batch.len(), left_free.len(), contracted.len()],
        (nb, m, k),
    );
    let b = to_3d(
        &b,
        [batch.len(), contracted.len(), right_free.len()],
        (nb, k, n),
    );
    let mut c = Array3::<T>::zeros((nb, m, n));
    batched_mat_mul(&a.view(), &b.view(), &mut c);

    let slots: Vec<usize> = [batch, left_free, right_free].concat();
    let shape: Vec<usize> = slots.iter().map(|&s| extent(s)).collect();
    match c.into_shape_with_order(IxDyn(&shape)) {
        Ok(data) => Tensor {
            data: CowArray::from(data),
            slots,
        },
        Err(_) => {
            unreachable!("a fresh array in standard layout reshapes to the same number of elements")
        }
    }
}

/// The slot order of [`contract_pair`]'s result for operands with these slots: batch slots
/// (in `left`'s order), then `left`'s free slots, then `right`'s, keeping only `result`'s.
pub(super) fn result_order(left: &[usize], right: &[usize], result: &[usize]) -> Vec<usize> {
    let batch = left
        .iter()
        .filter(|s| right.contains(s) && result.contains(s));
    let left_free = left
        .iter()
        .filter(|s| !right.contains(s) && result.contains(s));
    let right_free = right
        .iter()
        .filter(|s| !left.contains(s) && result.contains(s));
    batch.chain(left_free).chain(right_free).copied().collect()
}

/// A view of `tensor` with its axes permuted into the order of `groups`, concatenated.
fn grouped<'v, T>(tensor: &'v Tensor<'_, T>, groups: [&[usize]; 3]) -> ArrayViewD<'v, T> {
    let order: Vec<usize> = groups
        .iter()
        .flat_map(|group| group.iter())
        .filter_map(|slot| tensor.slots.iter().position(|s| s == slot))
        .collect();
    tensor.data.view().permuted_axes(order)
}

/// `view` with each group of axes flattened: a view when the strides allow it, else a copy
/// in standard layout. `groups` holds the number of axes in each group.
fn to_3d<'v, T: Element>(
    view: &'v ArrayViewD<'_, T>,
    groups: [usize; 3],
    dims: (usize, usize, usize),
) -> CowArray<'v, T, Ix3> {
    let mergeable = {
        let (mut start, shape, strides) = (0, view.shape(), view.strides());
        groups.iter().all(|&len| {
            let axes: Vec<usize> = (start..start + len).filter(|&a| shape[a] != 1).collect();
            start += len;
            axes.windows(2)
                .all(|w| strides[w[0]] == strides[w[1]] * shape[w[1]] as isize)
        })
    };
    let reshaped = if mergeable {
        view.to_shape(dims)
    } else {
        standard_copy(view)
            .into_shape_with_order(dims)
            .map(CowArray::from)
    };
    match reshaped {
        Ok(array) => array,
        Err(_) => unreachable!("the groups hold every axis, so the element count is unchanged"),
    }
}

/// `c[b] = a[b] · b[b]` for every batch index `b`.
fn batched_mat_mul<T: Element>(a: &ArrayView3<'_, T>, b: &ArrayView3<'_, T>, c: &mut Array3<T>) {
    let (nb, m, k) = a.dim();
    let n = b.dim().2;
    if k == 0 {
        // Every product is an empty sum: `c` is already zero.
    } else if m == 1 && n == 1 && k == 1 {
        // Elementwise: one product per batch index.
        let (a, b) = (a.slice(s![.., 0, 0]), b.slice(s![.., 0, 0]));
        Zip::from(c.slice_mut(s![.., 0, 0]))
            .and(a)
            .and(b)
            .for_each(|c, &x, &y| *c = x * y);
    } else if k == 1 {
        // Nothing to sum: an outer product per batch, elementwise when m = n = 1.
        let (a, b) = (a.slice(s![.., .., 0..1]), b.slice(s![.., 0..1, ..]));
        let (Some(a), Some(b)) = (a.broadcast((nb, m, n)), b.broadcast((nb, m, n))) else {
            unreachable!("axes of extent 1 broadcast")
        };
        Zip::from(c)
            .and(&a)
            .and(&b)
            .for_each(|c, &x, &y| *c = x * y);
    } else if m.saturating_mul(n).saturating_mul(k) <= SMALL_PRODUCT {
        for ((a, b), mut c) in a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut()) {
            for (row, mut c_row) in a.outer_iter().zip(c.outer_iter_mut()) {
                for (column, c) in b.axis_iter(Axis(1)).zip(c_row.iter_mut()) {
                    *c = row
                        .iter()
                        .zip(column.iter())
                        .fold(T::zero(), |sum, (&x, &y)| sum + x * y);
                }
            }
        }
    } else if m == 1 {
        // A row times a matrix per batch: a matrix-vector product needs no packing buffers,
        // which general_mat_mul would set up once per batch index.
        for ((a, b), mut c) in a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut()) {
            general_mat_vec_mul(T::one(), &b.t(), &a.row(0), T::zero(), &mut c.row_mut(0));
        }
    } else if n == 1 {
        for ((a, b), mut c) in a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut()) {
            general_mat_vec_mul(T::one(), &a, &b.column(0), T::zero(), &mut c.column_mut(0));
        }
    } else {
        for ((a, b), mut c) in a.outer_iter().zip(b.outer_iter()).zip(c.outer_iter_mut()) {
            general_mat_mul(T::one(), &a, &b, T::zero(), &mut c);
        }
    }
}
