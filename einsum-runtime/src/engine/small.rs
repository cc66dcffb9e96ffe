//! Contractions too small for pairwise planning to pay off: one loop over every combination
//! of slot values, the operands read through precomputed strides.
//!
//! Planning, grouping and matrix set-up cost microseconds per call; a 3x3x3 contraction has 27
//! products. Below [`SMALL_PRODUCTS`] index combinations the engine runs this direct loop
//! instead, which allocates only the output and, for operands not already in standard layout,
//! one contiguous copy.

use crate::Element;
use einsum_spec::Contraction;
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// Up to this many combinations of slot values, [`contract_small`] is used.
pub(super) const SMALL_PRODUCTS: usize = 4096;

/// The number of combinations of slot values, if it does not overflow.
pub(super) fn combinations(extents: &[usize]) -> Option<usize> {
    extents
        .iter()
        .try_fold(1usize, |acc, &e| acc.checked_mul(e))
}

/// Computes the contraction by iterating over every combination of slot values, summing the
/// products of the operands' elements into the output. `extents` are the bound extents.
pub(super) fn contract_small<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
) -> ArrayD<T> {
    let slots = extents.len();
    // Every operand as a contiguous slice, and its stride along each slot: the sum of the
    // standard strides of its axes with that slot (a diagonal), 0 where the axis broadcasts.
    let contiguous: Vec<_> = operands.iter().map(|a| a.as_standard_layout()).collect();
    let mut data: Vec<&[T]> = Vec::with_capacity(operands.len());
    for array in &contiguous {
        match array.as_slice() {
            Some(slice) => data.push(slice),
            None => unreachable!("an array in standard layout is contiguous"),
        }
    }
    let slot_strides: Vec<Vec<isize>> = contraction
        .inputs()
        .iter()
        .zip(operands)
        .map(|(axes, operand)| {
            let mut strides = vec![0isize; slots];
            let shape = operand.shape();
            let mut stride = 1isize;
            for axis in (0..axes.len()).rev() {
                if shape[axis] == extents[axes[axis]] {
                    strides[axes[axis]] += stride;
                }
                stride *= shape[axis] as isize;
            }
            strides
        })
        .collect();
    let output_shape: Vec<usize> = contraction.output().iter().map(|&s| extents[s]).collect();
    let mut output_strides = vec![0isize; slots];
    let mut stride = 1isize;
    for (axis, &slot) in contraction.output().iter().enumerate().rev() {
        output_strides[slot] = stride;
        stride *= output_shape[axis] as isize;
    }
    let mut out = vec![T::zero(); output_shape.iter().product()];

    // An odometer over the slots, the last slot fastest, with every offset kept up to date.
    let mut index = vec![0usize; slots];
    let mut offsets = vec![0isize; operands.len()];
    let mut out_offset = 0isize;
    let total = combinations(extents).unwrap_or(0);
    for _ in 0..total {
        let product = data
            .iter()
            .zip(&offsets)
            .fold(T::one(), |acc, (d, &o)| acc * d[o as usize]);
        let target = &mut out[out_offset as usize];
        *target = *target + product;
        for s in (0..slots).rev() {
            index[s] += 1;
            if index[s] < extents[s] {
                for (offset, strides) in offsets.iter_mut().zip(&slot_strides) {
                    *offset += strides[s];
                }
                out_offset += output_strides[s];
                break;
            }
            let back = (extents[s] - 1) as isize;
            for (offset, strides) in offsets.iter_mut().zip(&slot_strides) {
                *offset -= back * strides[s];
            }
            out_offset -= back * output_strides[s];
            index[s] = 0;
        }
    }
    match ArrayD::from_shape_vec(IxDyn(&output_shape), out) {
        Ok(array) => array,
        Err(_) => unreachable!("the output has one element per combination of output slots"),
    }
}
