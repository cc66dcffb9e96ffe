//! A planned network's execution: along a given tree, once per slice.

use super::{alloc, contract_along};
use crate::Element;
use einsum_spec::{Buffer, Contraction, ShapeError};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};

/// Contracts `operands` (whose slots' `extents` are bound) along the tree at `positions`, once
/// for each combination of values of the `sliced` slots: each slice sees the operands indexed
/// at those values, its result is added into the output (at those values, for sliced output
/// slots). Only one slice's intermediates exist at a time.
pub(crate) fn contract_sliced<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
    positions: &[(usize, usize)],
    sliced: &[usize],
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
    let mut result = ArrayD::zeros(IxDyn(&output_shape));
    let mut at = vec![0usize; sliced.len()];
    loop {
        let views: Vec<ArrayViewD<'_, T>> = operands
            .iter()
            .zip(contraction.inputs())
            .map(|(operand, slots)| index_slices(operand.view(), slots, sliced, &at))
            .collect();
        let part = contract_along(&slice, &views, extents, positions)?;
        let target = index_slices(result.view_mut(), output, sliced, &at);
        Zip::from(target).and(&part).for_each(|t, &p| *t = *t + p);
        // The next combination, the last sliced slot fastest.
        let mut axis = sliced.len();
        loop {
            if axis == 0 {
                return Ok(result);
            }
            axis -= 1;
            at[axis] += 1;
            if at[axis] < extents[sliced[axis]] {
                break;
            }
            at[axis] = 0;
        }
    }
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
