//! A planned network's execution: along a given tree, once per slice.

use super::explain::prepared_slots;
use super::{add_along, alloc, contract_along, plan};
use crate::Element;
use einsum_spec::{Buffer, Contraction, ShapeError};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

/// Contracts `operands` (whose slots' `extents` are bound) along the tree at `positions`, once
/// for each combination of values of the `sliced` slots: each slice sees the operands indexed
/// at those values, its result is added into the output (at those values, for sliced output
/// slots). Only one slice's intermediates exist at a time on each thread; with the `threads`
/// feature and at least `gemm::THREADED_MULTIPLY_ADDS` of `work` (all slices' multiply-adds),
/// slices run on rayon's threads.
pub(crate) fn contract_sliced<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
    positions: &[(usize, usize)],
    sliced: &[usize],
    work: u128,
) -> Result<ArrayD<T>, ShapeError> {
    let output = contraction.output();
    let output_shape: Vec<usize> = output.iter().map(|&s| extents[s]).collect();
    alloc::reserve::<T>(Buffer::Output, &output_shape)?;
    if extents.contains(&0) {
        // Some index ranges over nothing: the output is empty or all zeros.
        return Ok(ArrayD::zeros(IxDyn(&output_shape)));
    }
    let without = |slots: &[usize]| -> Vec<usize> {
        slots
            .iter()
            .copied()
            .filter(|s| !sliced.contains(s))
            .collect()
    };
    let slice = Contraction::from_parts(
        contraction.inputs().iter().map(|t| without(t)).collect(),
        without(output),
        contraction.slots().to_vec(),
    );
    let Some(slice) = slice.filter(|_| !sliced.is_empty()) else {
        return contract_along(contraction, operands, extents, positions);
    };
    let counts: Vec<usize> = sliced.iter().map(|&s| extents[s]).collect();
    // Every slice's operands have the same shapes, so the steps are derived once, from the
    // slots the engine's first stage leaves them (without running it).
    let order = {
        let first = slice_views(contraction, operands, sliced, &vec![0; sliced.len()]);
        let shapes: Vec<&[usize]> = first.iter().map(ArrayViewD::shape).collect();
        let prepared = prepared_slots(&slice, &shapes, extents);
        plan::steps_at(&prepared, slice.output(), extents, positions)
    };
    let count = counts.iter().fold(1usize, |n, &e| n.saturating_mul(e));
    // Slices are independent: with the `threads` feature and enough work in all, each thread
    // sums every `threads`-th slice into an output of its own, and the outputs are added.
    let work = usize::try_from(work).unwrap_or(usize::MAX);
    let threads = super::gemm::thread_count(work).min(count);
    let run = |first: usize, step: usize| -> Result<ArrayD<T>, ShapeError> {
        let mut result = ArrayD::zeros(IxDyn(&output_shape));
        let mut at = vec![0usize; sliced.len()];
        for index in (first..count).step_by(step) {
            // The slice's value of each sliced slot, the last fastest.
            let mut rest = index;
            for (value, &extent) in at.iter_mut().zip(&counts).rev() {
                *value = rest % extent;
                rest /= extent;
            }
            let views = slice_views(contraction, operands, sliced, &at);
            let target = index_slices(result.view_mut(), output, sliced, &at);
            add_along(&slice, views, extents, &order, target)?;
        }
        Ok(result)
    };
    if threads <= 1 {
        return run(0, 1);
    }
    #[cfg(feature = "threads")]
    let total = {
        use rayon::prelude::*;
        let parts: Vec<ArrayD<T>> = (0..threads)
            .into_par_iter()
            .map(|first| run(first, threads))
            .collect::<Result<_, _>>()?;
        let mut parts = parts.into_iter();
        let mut total = parts
            .next()
            .unwrap_or_else(|| ArrayD::zeros(IxDyn(&output_shape)));
        for part in parts {
            ndarray::Zip::from(&mut total)
                .and(&part)
                .for_each(|t, &p| *t = *t + p);
        }
        Ok(total)
    };
    #[cfg(not(feature = "threads"))]
    let total = run(0, 1);
    total
}

/// Each operand of `contraction` at the values `at` of the `sliced` slots (see
/// [`index_slices`]).
fn slice_views<'v, T>(
    contraction: &Contraction,
    operands: &'v [ArrayViewD<'_, T>],
    sliced: &[usize],
    at: &[usize],
) -> Vec<ArrayViewD<'v, T>> {
    operands
        .iter()
        .zip(contraction.inputs())
        .map(|(operand, slots)| index_slices(operand.view(), slots, sliced, at))
        .collect()
}

/// `array` (axes labelled `slots`) at the values `at` of the `sliced` slots: every axis of a
/// sliced slot removed (an axis of extent 1 that broadcasts, at 0).
fn index_slices<S: ndarray::RawData>(
    mut array: ndarray::ArrayBase<S, IxDyn>,
    slots: &[usize],
    sliced: &[usize],
    at: &[usize],
) -> ndarray::ArrayBase<S, IxDyn> {
    for axis in (0..slots.len()).rev() {
        if let Some(p) = sliced.iter().position(|&s| s == slots[axis]) {
            let index = if array.shape()[axis] == 1 { 0 } else { at[p] };
            array = array.index_axis_move(Axis(axis), index);
        }
    }
    array
}
