//! The contraction engine: evaluates a resolved [`Contraction`] on ndarray operands of any
//! memory layout, with numpy.einsum semantics.
//!
//! A contraction is computed in three stages:
//!
//! 1. Each operand on its own (`prepare`): axes of extent 1 whose slot is longer are
//!    dropped (the operand does not depend on that index, it broadcasts), repeated slots
//!    become diagonals, and slots that no other operand and not the output has are summed.
//! 2. Operands are contracted two at a time, in the order [`plan::greedy_order`] picks (the
//!    cheapest of all orders up to five operands). Each step groups slots into batch,
//!    left-free, contracted and right-free, and computes a batched matrix product by the
//!    kernel its shape calls for ([`explain::Kernel`]): outer product, small loop, dot,
//!    matrix-vector, or GEMM (matrixmultiply, split across threads when large).
//! 3. The one operand left is permuted to output order and broadcast along the output slots
//!    it dropped in stage 1.
//!
//! Contractions with at most a few thousand index combinations skip all this and run one
//! loop nest (`small.rs`). [`explain::explain_contraction`] reports which path and plan a
//! contraction gets; the gradients of one contraction share intermediates through
//! [`contract_sharing`].

pub mod explain;
mod gemm;
mod pair;
pub mod plan;
mod shared;
mod small;
pub mod vjp;

pub use shared::Intermediates;

use crate::Element;
use einsum_spec::{Contraction, ShapeError};
use ndarray::{ArrayD, ArrayViewD, Axis, CowArray, IxDyn};

/// An operand or intermediate result in the engine: an array whose axes are distinct slots,
/// each axis as long as its slot's extent.
struct Tensor<'a, T> {
    data: CowArray<'a, T, IxDyn>,
    slots: Vec<usize>,
}

/// Computes `contraction` on `operands`, with numpy.einsum semantics: the output's axes are
/// `contraction.output()` in order, every other slot is summed, a slot repeated within one
/// operand is a diagonal, and an axis of extent 1 broadcasts. Operands may have any layout
/// (transposed, sliced with steps, negative strides, broadcast views). The result is an owned
/// array in standard layout.
///
/// Sums over empty ranges are zero. Integer elements use their own `+` and `*`, so they
/// overflow as hand-written loops would.
///
/// # Errors
///
/// The [`ShapeError`] of [`Contraction::bind_extents`] when the shapes do not fit.
///
/// ```
/// use einsum_runtime::{engine, spec::Spec};
/// use ndarray::array;
///
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[5.0, 6.0], [7.0, 8.0]];
/// let product = engine::contract(&c, &[a.view().into_dyn(), b.t().into_dyn()]).unwrap();
/// assert_eq!(product, a.dot(&b.t()).into_dyn());
///
/// let trace = Spec::parse("ii->").unwrap().resolve(&[2]).unwrap();
/// assert_eq!(engine::contract(&trace, &[a.view().into_dyn()]).unwrap()[[]], 5.0);
/// ```
pub fn contract<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
) -> Result<ArrayD<T>, ShapeError> {
    contract_with(contraction, operands, Strategy::Auto)
}

/// How [`contract_with`] evaluates a contraction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// The direct loop for tiny contractions, the pairwise plan otherwise.
    Auto,
    /// Always the pairwise plan.
    Pairwise,
}

/// As [`contract`], for one of several contractions over a common pool of arrays whose
/// pairwise intermediates may coincide (the gradients of one contraction are such a family):
/// operand `n` is `pool[pool_indices[n]]`, and every intermediate step is looked up in, or
/// added to, `shared` (see [`Intermediates`]). The final step is never stored.
///
/// Every contraction evaluated with the same `shared` must label each pool index the same
/// way (the same labels, in the same order, for the same array); that is what makes a stored
/// intermediate valid for the next contraction.
///
/// # Errors
///
/// As [`contract`].
///
/// # Panics
///
/// When `pool_indices` does not have one index into `pool` per operand.
///
/// ```
/// use einsum_runtime::engine::{self, Intermediates};
/// use einsum_runtime::spec::Spec;
/// use ndarray::Array1;
/// let v = Array1::<f64>::linspace(0.0, 1.0, 100);
/// let c = Spec::parse("i,i,i->").unwrap().resolve(&[1, 1, 1]).unwrap();
/// let pool = [v.view().into_dyn()];
/// let mut shared = Intermediates::new();
/// let cube = engine::contract_sharing(&c, &pool, &[0, 0, 0], &mut shared).unwrap();
/// assert!((cube[[]] - v.iter().map(|x| x * x * x).sum::<f64>()).abs() < 1e-12);
/// ```
pub fn contract_sharing<T: Element>(
    contraction: &Contraction,
    pool: &[ArrayViewD<'_, T>],
    pool_indices: &[usize],
    shared: &mut Intermediates<T>,
) -> Result<ArrayD<T>, ShapeError> {
    let operands: Vec<ArrayViewD<'_, T>> = pool_indices.iter().map(|&p| pool[p].view()).collect();
    let origins: Vec<u64> = pool_indices
        .iter()
        .map(|&p| if p < 64 { 1 << p } else { 0 })
        .collect();
    let sharing = Sharing {
        origins: &origins,
        intermediates: shared,
    };
    evaluate(contraction, &operands, Strategy::Auto, Some(sharing))
}

/// The pool origin of each operand (one bit per pool index; 0 when it cannot be tracked) and
/// the store of intermediates, for [`contract_sharing`].
struct Sharing<'s, T> {
    origins: &'s [u64],
    intermediates: &'s mut Intermediates<T>,
}

/// Binds extents, then evaluates by `strategy`.
fn contract_with<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    strategy: Strategy,
) -> Result<ArrayD<T>, ShapeError> {
    evaluate(contraction, operands, strategy, None)
}

/// Binds extents, then evaluates by `strategy`, sharing intermediates when asked.
fn evaluate<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    strategy: Strategy,
    sharing: Option<Sharing<'_, T>>,
) -> Result<ArrayD<T>, ShapeError> {
    let shapes: Vec<&[usize]> = operands.iter().map(|a| a.shape()).collect();
    let extents = contraction.bind_extents(&shapes)?;
    if extents.contains(&0) {
        // Some index ranges over nothing: either the output is empty, or every output element
        // is a sum over an empty range.
        let output_shape: Vec<usize> = contraction.output().iter().map(|&s| extents[s]).collect();
        return Ok(ArrayD::zeros(IxDyn(&output_shape)));
    }
    let small = small::combinations(&extents).is_some_and(|n| n <= small::SMALL_PRODUCTS);
    if strategy == Strategy::Auto && small {
        return Ok(small::contract_small(contraction, operands, &extents));
    }
    Ok(contract_pairwise(contraction, operands, &extents, sharing))
}

/// As [`contract`], but always by the pairwise plan, however small the operands: what
/// [`contract`] does above a few thousand index combinations. Exposed so that tests can check
/// both strategies on the same small cases.
///
/// # Errors
///
/// As [`contract`].
///
/// ```
/// use einsum_runtime::{engine, spec::Spec};
/// use ndarray::array;
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let a = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
/// let planned = engine::contract_planned(&c, &[a.view(), a.view()]).unwrap();
/// assert_eq!(planned, engine::contract(&c, &[a.view(), a.view()]).unwrap());
/// ```
pub fn contract_planned<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
) -> Result<ArrayD<T>, ShapeError> {
    contract_with(contraction, operands, Strategy::Pairwise)
}

/// Stages 1 to 3 on operands whose `extents` are bound and non-zero.
fn contract_pairwise<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
    mut sharing: Option<Sharing<'_, T>>,
) -> ArrayD<T> {
    let output = contraction.output();
    let output_shape: Vec<usize> = output.iter().map(|&s| extents[s]).collect();
    let mut tensors = prepare(contraction, operands, extents);
    // Which pool operands each tensor combines, when sharing (0: not tracked).
    let mut origins: Vec<u64> = match &sharing {
        Some(sharing) => sharing.origins.to_vec(),
        None => vec![0; tensors.len()],
    };
    let slot_lists: Vec<Vec<usize>> = tensors.iter().map(|t| t.slots.clone()).collect();
    let order = match &sharing {
        Some(sharing) => {
            let known = |operands: u64, slots: &[usize]| {
                let key = shared::Key::new(operands, slots.to_vec(), extents);
                sharing.intermediates.contains(&key)
            };
            plan::order_reusing(&slot_lists, &origins, output, extents, &known)
        }
        None => plan::greedy_order(&slot_lists, output, extents),
    };
    for step in order {
        let right = tensors.remove(step.right);
        let left = tensors.remove(step.left);
        let (right_origin, left_origin) = (origins.remove(step.right), origins.remove(step.left));
        let last = tensors.is_empty();
        // The last step may take its operands in the other role order (see `last_step_swaps`).
        let swap = last && plan::last_step_swaps(&left.slots, &right.slots, &step.result, output);
        let (left, right) = if swap { (right, left) } else { (left, right) };
        let origin = left_origin | right_origin;
        let tracked = left_origin != 0 && right_origin != 0 && !last;
        let store = sharing.as_mut().filter(|_| tracked);
        let result = match store {
            Some(sharing) => {
                let slots = plan::result_order(&left.slots, &right.slots, &step.result);
                let key = shared::Key::new(origin, slots, extents);
                match sharing.intermediates.get(&key) {
                    Some(data) => Tensor {
                        data: CowArray::from(data),
                        slots: key.slots,
                    },
                    None => {
                        let result = pair::contract_pair(left, right, &step.result);
                        debug_assert_eq!(result.slots, key.slots);
                        sharing.intermediates.insert(key, result.data.to_owned());
                        result
                    }
                }
            }
            None => pair::contract_pair(left, right, &step.result),
        };
        tensors.push(result);
        origins.push(if tracked { origin } else { 0 });
    }
    match tensors.pop() {
        Some(last) => finish(last, output, &output_shape),
        // Only a hand-built contraction has no operands; its output is the empty product.
        None => ArrayD::from_elem(IxDyn(&output_shape), T::one()),
    }
}

/// Stage 1: each operand as a [`Tensor`] with broadcast axes dropped, diagonals taken and the
/// slots only it needs summed out.
fn prepare<'a, T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'a, T>],
    extents: &[usize],
) -> Vec<Tensor<'a, T>> {
    let tensors: Vec<Tensor<'a, T>> = operands
        .iter()
        .zip(contraction.inputs())
        .map(|(operand, slots)| {
            take_diagonals(drop_broadcast_axes(operand.clone(), slots, extents))
        })
        .collect();
    // Counted after dropping broadcast axes: an operand that only broadcasts along a slot does
    // not depend on it, so the operands that do can sum it out on their own.
    let slot_lists: Vec<Vec<usize>> = tensors.iter().map(|t| t.slots.clone()).collect();
    tensors
        .into_iter()
        .enumerate()
        .map(|(k, tensor)| {
            let needed = |s: usize| {
                contraction.output().contains(&s)
                    || slot_lists
                        .iter()
                        .enumerate()
                        .any(|(other, slots)| other != k && slots.contains(&s))
            };
            sum_out(tensor, needed)
        })
        .collect()
}

/// Drops the axes of extent 1 whose slot is longer: the operand's value does not depend on
/// that index. Works on the view, without copying.
fn drop_broadcast_axes<'a, T>(
    mut view: ArrayViewD<'a, T>,
    slots: &[usize],
    extents: &[usize],
) -> Tensor<'a, T> {
    let mut slots = slots.to_vec();
    for axis in (0..slots.len()).rev() {
        if view.shape()[axis] == 1 && extents[slots[axis]] != 1 {
            view = view.index_axis_move(Axis(axis), 0);
            slots.remove(axis);
        }
    }
    Tensor {
        data: CowArray::from(view),
        slots,
    }
}

/// Replaces each group of axes with the same slot by their diagonal, kept at the position of
/// the group's first axis. Copies only when some slot repeats.
fn take_diagonals<T: Element>(tensor: Tensor<'_, T>) -> Tensor<'_, T> {
    let mut distinct: Vec<usize> = Vec::with_capacity(tensor.slots.len());
    // For each axis, the position of its slot in `distinct`.
    let mut position = Vec::with_capacity(tensor.slots.len());
    for &slot in &tensor.slots {
        match distinct.iter().position(|&s| s == slot) {
            Some(p) => position.push(p),
            None => {
                position.push(distinct.len());
                distinct.push(slot);
            }
        }
    }
    if distinct.len() == tensor.slots.len() {
        return tensor;
    }
    let shape: Vec<usize> = (0..distinct.len())
        .map(|p| tensor.data.shape()[position.iter().position(|&q| q == p).unwrap_or_default()])
        .collect();
    let mut source = vec![0; tensor.slots.len()];
    let data = ArrayD::from_shape_fn(IxDyn(&shape), |index| {
        for (axis, &p) in position.iter().enumerate() {
            source[axis] = index[p];
        }
        tensor.data[&source[..]]
    });
    Tensor {
        data: CowArray::from(data),
        slots: distinct,
    }
}

/// Sums over the axes whose slot `needed` rejects.
fn sum_out<T: Element>(tensor: Tensor<'_, T>, needed: impl Fn(usize) -> bool) -> Tensor<'_, T> {
    let Tensor {
        mut data,
        mut slots,
    } = tensor;
    for axis in (0..slots.len()).rev() {
        if !needed(slots[axis]) {
            data = CowArray::from(sum_axis(&data.view(), Axis(axis)));
            slots.remove(axis);
        }
    }
    Tensor { data, slots }
}

/// The sum along `axis`, computed with the view's static dimensionality up to rank 6
/// (`sum_axis` through `IxDyn` was 30 % slower than through `Ix2` on a 1000x1000 `ij->j`).
fn sum_axis<T: Element>(view: &ArrayViewD<'_, T>, axis: Axis) -> ArrayD<T> {
    fn with_static<T: Element, D: ndarray::Dimension + ndarray::RemoveAxis>(
        view: &ArrayViewD<'_, T>,
        axis: Axis,
    ) -> Option<ArrayD<T>> {
        let view = view.view().into_dimensionality::<D>().ok()?;
        Some(view.sum_axis(axis).into_dyn())
    }
    let summed = match view.ndim() {
        1 => with_static::<T, ndarray::Ix1>(view, axis),
        2 => with_static::<T, ndarray::Ix2>(view, axis),
        3 => with_static::<T, ndarray::Ix3>(view, axis),
        4 => with_static::<T, ndarray::Ix4>(view, axis),
        5 => with_static::<T, ndarray::Ix5>(view, axis),
        6 => with_static::<T, ndarray::Ix6>(view, axis),
        _ => None,
    };
    summed.unwrap_or_else(|| view.sum_axis(axis))
}

/// Stage 3: sums what the output does not need (nothing, after a full contraction), permutes
/// to output order and broadcasts along the output slots the tensor lacks.
fn finish<T: Element>(
    tensor: Tensor<'_, T>,
    output: &[usize],
    output_shape: &[usize],
) -> ArrayD<T> {
    let tensor = sum_out(tensor, |s| output.contains(&s));
    let order: Vec<usize> = output
        .iter()
        .filter_map(|s| tensor.slots.iter().position(|t| t == s))
        .collect();
    let in_order = order.iter().enumerate().all(|(n, &axis)| n == axis);
    if in_order && order.len() == output.len() && tensor.data.is_standard_layout() {
        return tensor.data.into_owned();
    }
    let mut view = tensor.data.view().permuted_axes(order);
    for (axis, slot) in output.iter().enumerate() {
        if !tensor.slots.contains(slot) {
            view.insert_axis_inplace(Axis(axis));
        }
    }
    match view.broadcast(IxDyn(output_shape)) {
        Some(broadcast) => standard_copy(&broadcast),
        None => unreachable!("every axis is 1 or its slot's extent"),
    }
}

/// An owned copy of `view` in standard layout. (`as_standard_layout` would copy element by
/// element through dynamic indices; `assign` copies along the innermost axis.) Views of rank
/// up to 6 are copied with their static dimensionality, whose index arithmetic is far cheaper
/// than `IxDyn`'s when the layout is permuted.
pub(super) fn standard_copy<T: Element>(view: &ArrayViewD<'_, T>) -> ArrayD<T> {
    fn copy_static<T: Element, D: ndarray::Dimension>(
        view: &ArrayViewD<'_, T>,
    ) -> Option<ArrayD<T>> {
        let view = view.view().into_dimensionality::<D>().ok()?;
        let mut copy = ndarray::Array::<T, D>::zeros(view.raw_dim());
        copy.assign(&view);
        Some(copy.into_dyn())
    }
    let copied = match view.ndim() {
        0 => copy_static::<T, ndarray::Ix0>(view),
        1 => copy_static::<T, ndarray::Ix1>(view),
        2 => copy_static::<T, ndarray::Ix2>(view),
        3 => copy_static::<T, ndarray::Ix3>(view),
        4 => copy_static::<T, ndarray::Ix4>(view),
        5 => copy_static::<T, ndarray::Ix5>(view),
        6 => copy_static::<T, ndarray::Ix6>(view),
        _ => None,
    };
    copied.unwrap_or_else(|| {
        let mut copy = ArrayD::zeros(view.raw_dim());
        copy.assign(view);
        copy
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array3};

    #[test]
    fn broadcast_axes_are_dropped_without_copying() {
        let a = array![[1.0, 2.0, 3.0]].into_dyn(); // i = 1 stretches to 2; j = 3
        let tensor = drop_broadcast_axes(a.view(), &[0, 1], &[2, 3]);
        assert_eq!(tensor.slots, vec![1]);
        assert!(tensor.data.is_view());
        // An axis of extent 1 whose slot is 1 too is a real axis and stays.
        let tensor = drop_broadcast_axes(a.view(), &[0, 1], &[1, 3]);
        assert_eq!(tensor.slots, vec![0, 1]);
    }

    #[test]
    fn diagonal_sits_where_its_slot_first_occurs() {
        let a = Array3::from_shape_fn((2, 3, 2), |(i, j, k)| (100 * i + 10 * j + k) as f64);
        let tensor = Tensor {
            data: CowArray::from(a.view().into_dyn()),
            slots: vec![0, 1, 0],
        };
        let tensor = take_diagonals(tensor);
        assert_eq!(tensor.slots, vec![0, 1]);
        let want = ndarray::Array2::from_shape_fn((2, 3), |(i, j)| a[[i, j, i]]).into_dyn();
        assert_eq!(tensor.data.into_owned(), want);
    }

    #[test]
    fn contraction_without_operands_is_the_empty_product() {
        let c = Contraction::from_labels(&[], &[], &[]).unwrap();
        assert_eq!(
            contract::<i32>(&c, &[]).unwrap(),
            ndarray::arr0(1).into_dyn()
        );
    }

    #[test]
    fn size_one_axis_broadcasts_against_the_other_operand() {
        // `i` is 1 in operand 0 and 2 in operand 1: operand 0 is dropped along `i` and the
        // product stretches it.
        let c = einsum_spec::Spec::parse("ij,ij->ij")
            .unwrap()
            .resolve(&[2, 2])
            .unwrap();
        let a = array![[1, 2, 3]].into_dyn();
        let b = array![[1, 1, 1], [2, 2, 2]].into_dyn();
        let got = contract(&c, &[a.view(), b.view()]).unwrap();
        assert_eq!(got, array![[1, 2, 3], [2, 4, 6]].into_dyn());
    }
}
