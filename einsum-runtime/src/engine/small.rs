//! Contractions too small for pairwise planning to pay off: one loop nest over every
//! combination of slot values, the operands read through precomputed strides.
//!
//! Planning, grouping and matrix set-up cost microseconds per call; a 3x3x3 contraction has 27
//! products. Below [`SMALL_PRODUCTS`] index combinations the engine runs this direct loop
//! instead, which allocates only the output (its index tables live on the stack; written into
//! the caller's array, [`accumulate`], not even that) and, for operands not already in
//! standard layout, one contiguous copy.
//!
//! The longest slot is the innermost loop. Operands that do not depend on it are one factor
//! per run of that loop; the others are read by running indices, or as zipped slices when all
//! of them have stride 1 along it. When the output does not depend on the innermost slot, a
//! run sums into a local. The other slots advance by an odometer once per run.

use super::diagonal::Slots;
use crate::Element;
use einsum_spec::Contraction;
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use smallvec::SmallVec;

/// Up to this many combinations of slot values, [`contract_small`] is used. Where the direct
/// loop and the pairwise steps cost the same, measured on a three-matrix chain, `ijk,kl->il`
/// and `ijk,j,k->i` (the direct loop's cost grows with the combinations, the steps' is mostly
/// a fixed cost per call).
pub(super) const SMALL_PRODUCTS: usize = 2048;

/// Whether a contraction with these slot extents has at most [`SMALL_PRODUCTS`] index
/// combinations: small enough for one loop nest.
pub(crate) fn small_enough(extents: &[usize]) -> bool {
    combinations(extents).is_some_and(|n| n <= SMALL_PRODUCTS)
}

/// A short list of indices or strides, on the stack unless unusually long. (A heap allocation
/// and its release cost about as much as a hundred iterations of the innermost loop.)
type Table = SmallVec<[usize; 24]>;

/// The number of combinations of slot values, if it does not overflow.
pub(super) fn combinations(extents: &[usize]) -> Option<usize> {
    extents
        .iter()
        .try_fold(1usize, |acc, &e| acc.checked_mul(e))
}

/// Computes the contraction by iterating over every combination of slot values, summing the
/// products of the operands' elements into the output. `extents` are the bound extents, none
/// of them zero.
pub(super) fn contract_small<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
) -> ArrayD<T> {
    let shape: Slots = contraction.output().iter().map(|&s| extents[s]).collect();
    let mut out = vec![T::zero(); shape.iter().product()];
    accumulate(contraction, operands, extents, &mut out);
    match ArrayD::from_shape_vec(IxDyn(&shape), out) {
        Ok(array) => array,
        Err(_) => unreachable!("the output has one element per combination of output slots"),
    }
}

/// [`contract_small`] added into `out`, the output's elements in standard layout (one per
/// combination of output slot values, the last slot fastest).
pub(super) fn accumulate<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
    out: &mut [T],
) {
    let slots = extents.len();
    let n = operands.len();
    // Every operand as a contiguous slice.
    let contiguous: SmallVec<[_; 4]> = operands.iter().map(|a| a.as_standard_layout()).collect();
    let mut data: SmallVec<[&[T]; 4]> = SmallVec::with_capacity(n);
    for array in &contiguous {
        match array.as_slice() {
            Some(slice) => data.push(slice),
            None => unreachable!("an array in standard layout is contiguous"),
        }
    }
    // One row per slot: each operand's stride along it, then the output's (column `n`). An
    // operand's stride is the sum of the standard strides of its axes with that slot (a
    // diagonal), 0 where the axis broadcasts.
    let width = n + 1;
    let mut strides: Table = smallvec::smallvec![0; slots * width];
    for (k, (axes, operand)) in contraction.inputs().iter().zip(operands).enumerate() {
        let shape = operand.shape();
        let mut stride = 1usize;
        for axis in (0..axes.len()).rev() {
            if shape[axis] == extents[axes[axis]] {
                strides[axes[axis] * width + k] += stride;
            }
            stride *= shape[axis];
        }
    }
    let mut stride = 1usize;
    for &slot in contraction.output().iter().rev() {
        strides[slot * width + n] = stride;
        stride *= extents[slot];
    }

    // The innermost loop runs along the longest slot (the last of equals: it tends to have the
    // smallest strides). A contraction without slots (every term a scalar) is one product.
    let Some(inner) = (0..slots).max_by_key(|&s| (extents[s], s)) else {
        let product = data
            .iter()
            .fold(T::one(), |product, values| product * values[0]);
        out[0] = out[0] + product;
        return;
    };
    // Plain slices from here on: indexing a SmallVec checks where its data lives every time.
    let strides: &[usize] = &strides;
    let line = Line::new(extents[inner], &strides[inner * width..(inner + 1) * width]);

    // An odometer over the other slots, the last fastest, with every offset (the output's
    // last) kept up to date.
    let outer = || (0..slots).rev().filter(|&s| s != inner);
    let runs: usize = outer().map(|s| extents[s]).product();
    let mut index_table: Table = smallvec::smallvec![0; slots];
    let mut offset_table: Table = smallvec::smallvec![0; width];
    let (index, offsets) = (&mut index_table[..], &mut offset_table[..]);
    let data: &[&[T]] = &data;
    for _ in 0..runs {
        line.run(data, offsets, out);
        for s in outer() {
            let row = &strides[s * width..(s + 1) * width];
            index[s] += 1;
            if index[s] < extents[s] {
                for (offset, stride) in offsets.iter_mut().zip(row) {
                    *offset += stride;
                }
                break;
            }
            let back = extents[s] - 1;
            for (offset, stride) in offsets.iter_mut().zip(row) {
                *offset -= back * stride;
            }
            index[s] = 0;
        }
    }
}

/// The innermost loop: `len` steps along one slot, each operand advancing by its stride and
/// the output by its own (0 when the output does not depend on the slot). Operands that do
/// not move along the slot (stride 0) are one factor per run, multiplied in once.
struct Line<'a> {
    len: usize,
    /// Each operand's stride along the line, then the output's.
    strides: &'a [usize],
    /// The operands that move along the line.
    moving: Table,
    /// Whether every moving operand, and the output if it moves, has stride 1.
    contiguous: bool,
}

impl<'a> Line<'a> {
    fn new(len: usize, strides: &'a [usize]) -> Line<'a> {
        let (out_stride, operands) = strides.split_last().unwrap_or((&0, &[]));
        let moving: Table = (0..operands.len()).filter(|&k| operands[k] != 0).collect();
        let contiguous = *out_stride <= 1 && moving.iter().all(|&k| operands[k] == 1);
        Line {
            len,
            strides,
            moving,
            contiguous,
        }
    }

    /// Adds `len` products to the output, starting at `offsets` (the operands', then the
    /// output's).
    fn run<T: Element>(&self, data: &[&[T]], offsets: &[usize], out: &mut [T]) {
        let start = offsets[data.len()];
        let moving: &[usize] = &self.moving;
        let factor = (0..data.len())
            .filter(|&k| self.strides[k] == 0)
            .fold(T::one(), |acc, k| acc * data[k][offsets[k]]);
        if self.contiguous {
            // Zipped slices: no bounds check or index arithmetic per element.
            let lane = |k: usize| &data[k][offsets[k]..offsets[k] + self.len];
            match *moving {
                [a] => return self.accumulate(out, start, lane(a).iter().map(|&x| factor * x)),
                [a, b] => {
                    let terms = lane(a).iter().zip(lane(b)).map(|(&x, &y)| factor * x * y);
                    return self.accumulate(out, start, terms);
                }
                [a, b, c] => {
                    let terms = (lane(a).iter().zip(lane(b)).zip(lane(c)))
                        .map(|((&x, &y), &z)| factor * x * y * z);
                    return self.accumulate(out, start, terms);
                }
                _ => {}
            }
        }
        // Running indices: one predictable bounds check per element, no multiplication.
        let lane = |k: usize| (data[k], offsets[k], self.strides[k]);
        match *moving {
            [] => self.accumulate(out, start, core::iter::repeat_n(factor, self.len)),
            [a] => {
                let (da, mut ia, sa) = lane(a);
                self.accumulate(
                    out,
                    start,
                    (0..self.len).map(move |_| {
                        let term = factor * da[ia];
                        ia += sa;
                        term
                    }),
                );
            }
            [a, b] => {
                let ((da, mut ia, sa), (db, mut ib, sb)) = (lane(a), lane(b));
                self.accumulate(
                    out,
                    start,
                    (0..self.len).map(move |_| {
                        let term = factor * da[ia] * db[ib];
                        (ia, ib) = (ia + sa, ib + sb);
                        term
                    }),
                );
            }
            [a, b, c] => {
                let ((da, mut ia, sa), (db, mut ib, sb)) = (lane(a), lane(b));
                let (dc, mut ic, sc) = lane(c);
                self.accumulate(
                    out,
                    start,
                    (0..self.len).map(move |_| {
                        let term = factor * da[ia] * db[ib] * dc[ic];
                        (ia, ib, ic) = (ia + sa, ib + sb, ic + sc);
                        term
                    }),
                );
            }
            ref moving => self.accumulate(
                out,
                start,
                (0..self.len).map(|t| {
                    moving.iter().fold(factor, |acc, &k| {
                        acc * data[k][offsets[k] + t * self.strides[k]]
                    })
                }),
            ),
        }
    }

    /// Adds the `len` terms to the output from `start`: into one element through a local sum
    /// when the output does not move along the line, element by element otherwise.
    #[inline(always)]
    fn accumulate<T: Element>(&self, out: &mut [T], start: usize, terms: impl Iterator<Item = T>) {
        match self.strides[self.strides.len() - 1] {
            0 => {
                let sum = terms.fold(T::zero(), |sum, term| sum + term);
                out[start] = out[start] + sum;
            }
            1 => {
                for (target, term) in out[start..start + self.len].iter_mut().zip(terms) {
                    *target = *target + term;
                }
            }
            stride => {
                let mut index = start;
                for term in terms {
                    out[index] = out[index] + term;
                    index += stride;
                }
            }
        }
    }
}
