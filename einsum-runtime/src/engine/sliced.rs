//! A planned network's execution: along its tree, once per slice.

use super::explain::prepared_slots;
use super::{alloc, drop_broadcast_axes, pairwise, plan, run_steps, sum_out_in_place};
use super::{take_diagonals, write_last, Operands, Order, Release, Tensor, Write};
use crate::Element;
use einsum_spec::{Buffer, Contraction, ShapeError};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

/// What a planned network runs, derived once from the planned shapes: the contraction of one
/// slice (the network's without the sliced slots; the network's own when nothing is sliced),
/// the slots each operand keeps after the engine's first stage, the tree's steps as the
/// pairwise loop takes them, and how many slices may run at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SlicedPlan {
    slice: Contraction,
    sliced: Vec<usize>,
    prepared: Vec<Vec<usize>>,
    steps: Vec<plan::Step>,
    at_once: u128,
}

impl SlicedPlan {
    /// The execution of `contraction` on operands of `shapes` (whose slots' `extents` are
    /// bound) along the tree at `positions`, once for each combination of values of the
    /// `sliced` slots. Under a memory limit (`memory`: the limit, and the most elements one
    /// slice holds at once), only as many slices run at the same time as the limit holds.
    pub(crate) fn new(
        contraction: &Contraction,
        shapes: &[Vec<usize>],
        extents: &[usize],
        positions: &[(usize, usize)],
        sliced: &[usize],
        memory: Option<(u128, u128)>,
    ) -> SlicedPlan {
        let without = |slots: &[usize]| -> Vec<usize> {
            slots
                .iter()
                .copied()
                .filter(|s| !sliced.contains(s))
                .collect()
        };
        let inputs = contraction.inputs();
        let Some(slice) = Contraction::from_parts(
            inputs.iter().map(|t| without(t)).collect(),
            without(contraction.output()),
            contraction.slots().to_vec(),
        ) else {
            unreachable!("removing slots from every term keeps a contraction valid")
        };
        // Each operand's shape in a slice: without the axes of sliced slots.
        let shapes: Vec<Vec<usize>> = shapes
            .iter()
            .zip(inputs)
            .map(|(shape, slots)| {
                let kept = shape.iter().zip(slots).filter(|(_, s)| !sliced.contains(s));
                kept.map(|(&extent, _)| extent).collect()
            })
            .collect();
        let shapes: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let prepared = prepared_slots(&slice, &shapes, extents);
        let steps = plan::steps_at(&prepared, slice.output(), extents, positions);
        // Each slice running at once holds its intermediates and an output of its own.
        let output = plan::size(contraction.output(), extents);
        let at_once = memory.map_or(u128::MAX, |(limit, peak)| {
            limit / peak.saturating_add(output).max(1)
        });
        SlicedPlan {
            slice,
            sliced: sliced.to_vec(),
            prepared,
            steps,
            at_once,
        }
    }

    /// Contracts `operands` (of the planned shapes) of `contraction`: each slice sees the
    /// operands indexed at its values of the sliced slots, and its result is added into the
    /// output (at those values, for sliced output slots). An operand is prepared only when a
    /// step takes it, and only one slice's intermediates exist at a time on each thread; with
    /// the `threads` feature, at least `gemm::THREADED_MULTIPLY_ADDS` of `work` (all slices'
    /// multiply-adds) and room for more than one slice at once, slices run on rayon's threads.
    pub(crate) fn contract<T: Element>(
        &self,
        contraction: &Contraction,
        operands: &[ArrayViewD<'_, T>],
        extents: &[usize],
        work: u128,
    ) -> Result<ArrayD<T>, ShapeError> {
        let output = contraction.output();
        let output_shape: Vec<usize> = output.iter().map(|&s| extents[s]).collect();
        alloc::reserve::<T>(Buffer::Output, &output_shape)?;
        if extents.contains(&0) {
            // Some index ranges over nothing: the output is empty or all zeros.
            return Ok(ArrayD::zeros(IxDyn(&output_shape)));
        }
        let sliced = self.sliced.as_slice();
        let untracked = || smallvec::smallvec![0; operands.len()];
        if sliced.is_empty() {
            let order = Order::Given(&self.steps);
            return run_steps(
                self.operands(contraction, operands, extents, &[]),
                untracked(),
                &order,
                output,
                extents,
                None,
            );
        }
        let counts: Vec<usize> = sliced.iter().map(|&s| extents[s]).collect();
        let count = counts.iter().fold(1usize, |n, &e| n.saturating_mul(e));
        // Slices are independent: with the `threads` feature, enough work in all and room in
        // memory, each thread sums every `threads`-th slice into an output of its own, and the
        // outputs are added. (Rayon's pool is not asked, nor started, without room.)
        let work = usize::try_from(work).unwrap_or(usize::MAX);
        let threads = match usize::try_from(self.at_once).unwrap_or(usize::MAX) {
            0 | 1 => 1,
            room => super::gemm::thread_count(work).min(count).min(room),
        };
        let run = |first: usize, step: usize| -> Result<ArrayD<T>, ShapeError> {
            let mut result = ArrayD::zeros(IxDyn(&output_shape));
            let mut at = vec![0usize; sliced.len()];
            let order = Order::Given(&self.steps);
            for index in (first..count).step_by(step) {
                // The slice's value of each sliced slot, the last fastest.
                let mut rest = index;
                for (value, &extent) in at.iter_mut().zip(&counts).rev() {
                    *value = rest % extent;
                    rest /= extent;
                }
                let slice_output = self.slice.output();
                let last = pairwise(
                    self.operands(contraction, operands, extents, &at),
                    untracked(),
                    &order,
                    slice_output,
                    extents,
                    None,
                    Release::Early,
                    None,
                )?;
                let target = index_slices(result.view_mut(), output, sliced, &at);
                write_last(last, slice_output, target, Write::Add)?;
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

    /// The operands of the slice at `at`, prepared as steps take them.
    fn operands<'s, 'a, 'v, T>(
        &'s self,
        contraction: &'s Contraction,
        operands: &'s [ArrayViewD<'a, T>],
        extents: &'s [usize],
        at: &'v [usize],
    ) -> SliceOperands<'s, 'a, 'v, T> {
        SliceOperands {
            plan: self,
            inputs: contraction.inputs(),
            operands,
            extents,
            at,
        }
    }
}

/// One slice's operands, each prepared (the engine's first stage) when the step that
/// contracts it takes it, so that a network of many tensors holds a tensor only for the
/// results waiting for a step, not one per operand.
struct SliceOperands<'s, 'a, 'v, T> {
    plan: &'s SlicedPlan,
    /// The network's slots of each operand's axes.
    inputs: &'s [Vec<usize>],
    operands: &'s [ArrayViewD<'a, T>],
    extents: &'s [usize],
    /// The slice's value of each sliced slot.
    at: &'v [usize],
}

impl<'s, T: Element> Operands<'s, T> for SliceOperands<'s, '_, '_, T> {
    fn count(&self) -> usize {
        self.operands.len()
    }

    fn take(&mut self, k: usize) -> Result<Tensor<'s, T>, ShapeError> {
        let plan = self.plan;
        let view = index_slices(
            self.operands[k].view(),
            &self.inputs[k],
            &plan.sliced,
            self.at,
        );
        let (view, slots) = drop_broadcast_axes(view, &plan.slice.inputs()[k], self.extents);
        let mut tensor = take_diagonals(view, &slots)?;
        let kept = &plan.prepared[k];
        sum_out_in_place(&mut tensor, |s| kept.contains(&s))?;
        Ok(tensor)
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
