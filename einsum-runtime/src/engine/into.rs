//! Contractions written into the caller's array (`einsum_into!`): the result replaces the
//! output's elements, or is added to them, and is never allocated on its own.
//!
//! The routes are the engine's, decided by [`Route`]: one operand is summed into the output
//! in place; a matrix product runs the GEMM kernel with the output as its `c` (BLAS's `beta`
//! is 0 to replace, 1 to add); a tiny contraction runs its loop nest adding into the output;
//! everything else runs the planned pairwise steps and writes the last one into the output
//! through a permuted, broadcast view of it.
//!
//! Repeated calls with the same tables and shapes on one thread allocate nothing of the
//! engine's own once warm: the [`Contraction`] is built once per thread and tables
//! ([`memo::contraction`]), extents are bound on the stack, the plan comes from the thread's memo,
//! and intermediates take their buffers from the thread's pool (`pool.rs`). What may still
//! allocate: products large enough for threads (rayon's jobs), `IxDyn` shapes and strides of more than four axes (ndarray keeps up to four
//! inline), more than eight slots or four operands (the stack lists spill), intermediates
//! larger than the pool keeps, and the rarer paths (an operand summed over a label only it
//! has, a partial diagonal of a strided view, an operand not in standard layout on the loop
//! nest).

use super::diagonal::Slots;
use super::pool::{self, Pooled};
use super::route::Route;
use super::{diagonal, gemm, matmul, memo, small};
use crate::Element;
use einsum_spec::{Contraction, Label, ShapeError, Slot};
use ndarray::{ArrayView2, ArrayViewD, ArrayViewMutD, Axis, Ix2, Zip};

/// What a contraction into an output does with the output's elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Write {
    /// The result replaces them (`out = …`).
    Assign,
    /// The result is added to them (`out += …`).
    Add,
}

impl Write {
    /// `c ← value` or `c ← c + value`.
    ///
    /// ```
    /// use einsum_runtime::engine::Write;
    /// let mut c = 1.0;
    /// Write::Add.apply(&mut c, 2.0);
    /// assert_eq!(c, 3.0);
    /// Write::Assign.apply(&mut c, 5.0);
    /// assert_eq!(c, 5.0);
    /// ```
    #[inline(always)]
    pub fn apply<T: Element>(self, c: &mut T, value: T) {
        *c = match self {
            Write::Assign => value,
            Write::Add => *c + value,
        };
    }

    /// BLAS's `beta` for a product written this way: 0 replaces `c`, 1 adds to it.
    pub(crate) fn beta<T: Element>(self) -> T {
        match self {
            Write::Assign => T::zero(),
            Write::Add => T::one(),
        }
    }
}

/// Writes the contraction that the slot tables describe (as for
/// [`contract_static`](crate::support::contract_static)) into `out`, as `write` says.
///
/// # Errors
///
/// The operands' [`ShapeError`] as [`contract`](super::contract) reports it; then
/// [`ShapeError::OutputRank`] or [`ShapeError::OutputExtent`] when `out` does not have the
/// output's shape. Nothing is written when there is an error.
pub(crate) fn contract_into<T: Element>(
    inputs: &[&[usize]],
    output: &[usize],
    labels: &[char],
    operands: &[ArrayViewD<'_, T>],
    mut out: ArrayViewMutD<'_, T>,
    write: Write,
) -> Result<(), ShapeError> {
    let shapes: smallvec::SmallVec<[&[usize]; 4]> = operands.iter().map(|a| a.shape()).collect();
    match (
        Route::without_tables(inputs, output, &shapes),
        inputs,
        operands,
    ) {
        (Some(Route::Trace | Route::Single), [axes], [operand]) => {
            if let Some((view, slots)) = single_view(axes, output, operand) {
                check_output(output, out.shape(), |s| {
                    unbroadcast(inputs, labels, operands, s)
                })?;
                sum_into(&view, &slots, output, &mut out, write);
                return Ok(());
            }
        }
        (Some(Route::MatrixProduct), [a_axes, b_axes], [a, b]) => {
            if let Some(arranged) = matmul::Arranged::of(a_axes, b_axes, output, a, b) {
                check_output(output, out.shape(), |s| {
                    unbroadcast(inputs, labels, operands, s)
                })?;
                if let Some((first, second)) = arranged.matrices() {
                    if product_into(&first.view(), &second.view(), &mut out, write) {
                        return Ok(());
                    }
                }
            }
        }
        _ => {}
    }
    let Some(contraction) = memo::contraction(inputs, output, labels) else {
        unreachable!("the macro's tables are consistent")
    };
    general(&contraction, operands, out, write)
}

/// Any contraction into `out`: extents bound (reporting the operands' errors first), the
/// output's shape checked, then the route for those extents. Also the gradients' contractions
/// into the caller's buffers (`vjp::vjp_into`).
pub(super) fn general<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    mut out: ArrayViewMutD<'_, T>,
    write: Write,
) -> Result<(), ShapeError> {
    let extents = super::bind_extents(contraction, operands)?;
    check_output(contraction.output(), out.shape(), |s| {
        bound(contraction, operands, &extents, s)
    })?;
    match Route::with_extents(contraction, &extents) {
        Route::Empty => {
            if write == Write::Assign {
                out.fill(T::zero());
            }
            Ok(())
        }
        Route::DirectLoop => {
            small_into(contraction, operands, &extents, out, write);
            Ok(())
        }
        _ => super::pairwise_into(contraction, operands, &extents, out, write),
    }
}

/// The loop nest ([`small::accumulate`]) into `out`: adding to its elements in place when it
/// is in standard layout, else through a buffer from the thread's pool.
fn small_into<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
    mut out: ArrayViewMutD<'_, T>,
    write: Write,
) {
    if let Some(values) = out.as_slice_mut() {
        if write == Write::Assign {
            values.fill(T::zero());
        }
        small::accumulate(contraction, operands, extents, values);
        return;
    }
    let len = out.len();
    let values = match pool::take::<T>(len) {
        Some(mut values) => {
            values.fill(T::zero());
            values
        }
        None => vec![T::zero(); len],
    };
    let shape: Slots = out.shape().iter().copied().collect();
    let mut result = Pooled::from_shape_vec(&shape, values);
    match result.view_mut().as_slice_mut() {
        Some(values) => small::accumulate(contraction, operands, extents, values),
        None => unreachable!("a pooled array is in standard layout"),
    }
    write_from(&mut out, &result.view(), write);
}

/// `out ← value` or `out ← out + value`, element by element (`value` broadcasts).
pub(super) fn write_from<T: Element>(
    out: &mut ArrayViewMutD<'_, T>,
    value: &ArrayViewD<'_, T>,
    write: Write,
) {
    match write {
        Write::Assign => out.assign(value),
        Write::Add => out.zip_mut_with(value, |c, &v| *c = *c + v),
    }
}

/// The output's extent along a slot, and the operand it comes from (with that operand's
/// extent), for the message when `out` differs.
struct Expected {
    slot: Slot,
    extent: usize,
    operand: (usize, usize),
}

/// Checks `out`'s shape against the output's, naming the first label that differs.
fn check_output(
    output: &[usize],
    out_shape: &[usize],
    expected: impl Fn(usize) -> Expected,
) -> Result<(), ShapeError> {
    if out_shape.len() != output.len() {
        return Err(ShapeError::OutputRank {
            expected: output.len(),
            rank: out_shape.len(),
        });
    }
    for (&slot, &extent) in output.iter().zip(out_shape) {
        let expected = expected(slot);
        if extent != expected.extent {
            return Err(ShapeError::OutputExtent {
                slot: expected.slot,
                operand: expected.operand,
                output: extent,
            });
        }
    }
    Ok(())
}

/// The output's extent along `slot` once the operands are known to agree with no size-1
/// broadcasting (a fast path accepted them): that of the first operand axis with the slot.
fn unbroadcast<T>(
    inputs: &[&[usize]],
    labels: &[char],
    operands: &[ArrayViewD<'_, T>],
    slot: usize,
) -> Expected {
    let operand = inputs
        .iter()
        .zip(operands)
        .enumerate()
        .find_map(|(k, (axes, operand))| {
            let axis = axes.iter().position(|&s| s == slot)?;
            Some((k, operand.shape()[axis]))
        });
    let Some(operand) = operand else {
        unreachable!("every output label is in an input term")
    };
    Expected {
        slot: Label::from_char(labels[slot]).map_or(Slot::Numbered(slot as u32), Slot::Named),
        extent: operand.1,
        operand,
    }
}

/// The output's extent along `slot` from the bound `extents`, and the first operand whose axis
/// of that slot has it (a size-1 axis that broadcasts does not).
fn bound<T>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
    slot: usize,
) -> Expected {
    let extent = extents[slot];
    let operand = contraction
        .inputs()
        .iter()
        .zip(operands)
        .enumerate()
        .find_map(|(k, (axes, operand))| {
            let axis = axes.iter().position(|&s| s == slot)?;
            (operand.shape()[axis] == extent).then_some((k, extent))
        });
    Expected {
        slot: contraction.slots()[slot],
        extent,
        operand: operand.unwrap_or((0, extent)),
    }
}

/// The one operand's diagonals as a strided view, with its slots; `None` when it does not fit
/// its term, a diagonal's extents differ, a diagonal cannot be a view, or an output slot is
/// not among its slots: the general path then decides, and reports errors.
fn single_view<'a, T>(
    axes: &[usize],
    output: &[usize],
    operand: &ArrayViewD<'a, T>,
) -> Option<(ArrayViewD<'a, T>, diagonal::Slots)> {
    if operand.ndim() != axes.len() {
        return None;
    }
    for (a, &s) in axes.iter().enumerate() {
        if axes[..a]
            .iter()
            .zip(operand.shape())
            .any(|(&t, &n)| t == s && n != operand.shape()[a])
        {
            return None;
        }
    }
    let (view, slots) = diagonal::view(operand.clone(), axes).ok()?;
    output
        .iter()
        .all(|s| slots.contains(s))
        .then_some((view, slots))
}

/// Sums `view` (whose axes have the distinct `slots`, a superset of `output`) over the slots
/// the output lacks, into `out`.
fn sum_into<T: Element>(
    view: &ArrayViewD<'_, T>,
    slots: &[usize],
    output: &[usize],
    out: &mut ArrayViewMutD<'_, T>,
    write: Write,
) {
    // The output's axes first, in output order, then the summed ones.
    let mut order: diagonal::Slots = output
        .iter()
        .filter_map(|s| slots.iter().position(|t| t == s))
        .collect();
    let kept = order.len();
    order.extend((0..slots.len()).filter(|a| !output.contains(&slots[*a])));
    let view = view.view().permuted_axes(&order[..]);
    if kept == view.ndim() {
        write_from(out, &view, write);
        return;
    }
    // A summed axis that walks memory closer than any kept axis is summed along lanes, each
    // into one output element; otherwise the output accumulates one sub-array at a time.
    let innermost = (0..view.ndim()).min_by_key(|&a| view.strides()[a].unsigned_abs());
    if view.ndim() == kept + 1 && innermost == Some(kept) {
        Zip::from(out)
            .and(view.lanes(Axis(kept)))
            .for_each(|c, lane| write.apply(c, lane.sum()));
        return;
    }
    if write == Write::Assign {
        out.fill(T::zero());
    }
    add_summed(&view, kept, out);
}

/// `out += view` summed over its axes from `kept` on.
fn add_summed<T: Element>(view: &ArrayViewD<'_, T>, kept: usize, out: &mut ArrayViewMutD<'_, T>) {
    // A matrix summed into a vector (`ij->j`): rows added at static rank, without the dynamic
    // rank's per-row cost.
    if let (1, Ok(rows), Ok(mut out)) = (
        kept,
        view.view().into_dimensionality::<Ix2>(),
        out.view_mut().into_dimensionality::<ndarray::Ix1>(),
    ) {
        let rows = rows.reversed_axes();
        for row in rows.rows() {
            out.zip_mut_with(&row, |c, &v| *c = *c + v);
        }
        return;
    }
    if view.ndim() == kept {
        add_same_shape(out, view);
        return;
    }
    for sub in view.axis_iter(Axis(kept)) {
        add_summed(&sub, kept, out);
    }
}

/// `out ← first · second` or `out ← out + first · second`, the output viewed as the
/// product's matrix; `false` (nothing written) when its strides allow no such view.
fn product_into<T: Element>(
    first: &ArrayView2<'_, T>,
    second: &ArrayView2<'_, T>,
    out: &mut ArrayViewMutD<'_, T>,
    write: Write,
) -> bool {
    let Some(mut c) = as_matrix(out, first.nrows(), second.ncols()) else {
        return false;
    };
    gemm::mat_mul_beta(first, second, write.beta(), &mut c);
    true
}

/// The last pairwise step of a contraction written into `out` when it is one matrix product
/// of `a` (slots `a_slots`) and `b` whose result is the output: GEMM with `out` as `c`, no
/// intermediate and no copy. `false`, with nothing written, for any other step.
pub(super) fn product_step_into<T: Element>(
    (a_slots, a): (&[usize], &ArrayViewD<'_, T>),
    (b_slots, b): (&[usize], &ArrayViewD<'_, T>),
    output: &[usize],
    out: &mut ArrayViewMutD<'_, T>,
    write: Write,
) -> bool {
    let Some(arranged) = matmul::Arranged::of(a_slots, b_slots, output, a, b) else {
        return false;
    };
    let Some((first, second)) = arranged.matrices() else {
        return false;
    };
    product_into(&first.view(), &second.view(), out, write)
}

/// `out` as an `m x n` matrix: its axes must merge into rows then columns in order.
fn as_matrix<'v, T>(
    out: &'v mut ArrayViewMutD<'_, T>,
    m: usize,
    n: usize,
) -> Option<ndarray::ArrayViewMut<'v, T, Ix2>> {
    if out.ndim() == 2 {
        return out.view_mut().into_dimensionality::<Ix2>().ok();
    }
    out.view_mut().into_shape_with_order((m, n)).ok()
}

/// `out += view` for a view of `out`'s shape, with static dimensionality up to rank 2: the
/// innermost loop of a sum into the output, which `IxDyn` indexing keeps from vectorising.
fn add_same_shape<T: Element>(out: &mut ArrayViewMutD<'_, T>, view: &ArrayViewD<'_, T>) {
    fn add<T: Element, D: ndarray::Dimension>(
        out: &mut ArrayViewMutD<'_, T>,
        view: &ArrayViewD<'_, T>,
    ) -> bool {
        let (Ok(mut out), Ok(view)) = (
            out.view_mut().into_dimensionality::<D>(),
            view.view().into_dimensionality::<D>(),
        ) else {
            return false;
        };
        Zip::from(&mut out).and(&view).for_each(|c, &v| *c = *c + v);
        true
    }
    let done = match out.ndim() {
        1 => add::<T, ndarray::Ix1>(out, view),
        2 => add::<T, ndarray::Ix2>(out, view),
        _ => false,
    };
    if !done {
        out.zip_mut_with(view, |c, &v| *c = *c + v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD, IxDyn};

    /// The error `contract_into` reports for these tables and operands, into `out`.
    fn error(
        inputs: &[&[usize]],
        output: &[usize],
        labels: &[char],
        shapes: &[&[usize]],
        out: &[usize],
    ) -> ShapeError {
        let arrays: Vec<ArrayD<f64>> = shapes.iter().map(|s| ArrayD::ones(IxDyn(s))).collect();
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        let mut out = ArrayD::<f64>::zeros(IxDyn(out));
        let before = out.clone();
        let result = contract_into(inputs, output, labels, &views, out.view_mut(), Write::Add);
        assert_eq!(out, before, "nothing is written when there is an error");
        match result {
            Err(error) => error,
            Ok(()) => panic!("{shapes:?} into {:?} should not fit", out.shape()),
        }
    }

    #[test]
    fn errors_name_the_tables_labels_on_every_route() {
        let chain: &[&[usize]] = &[&[0, 1], &[1, 2], &[2, 3]];
        let (ijkl, abcd) = (['i', 'j', 'k', 'l'], ['a', 'b', 'c', 'd']);
        let label = |c| Slot::Named(Label::from_char(c).unwrap());
        for labels in [ijkl, abcd] {
            // An operand mismatch, found while binding extents.
            let got = error(
                chain,
                &[0, 3],
                &labels,
                &[&[2, 3], &[4, 5], &[5, 6]],
                &[2, 6],
            );
            let want = ShapeError::Extent {
                slot: label(labels[1]),
                first: (0, 3),
                second: (1, 4),
            };
            assert_eq!(got, want);
            // The output's extent, on the pairwise route and on the loop nest.
            for n in [2, 40] {
                let got = error(
                    chain,
                    &[0, 3],
                    &labels,
                    &[&[n, n], &[n, n], &[n, n]],
                    &[n, 7],
                );
                let want = ShapeError::OutputExtent {
                    slot: label(labels[3]),
                    operand: (2, n),
                    output: 7,
                };
                assert_eq!(got, want, "{n}");
            }
        }
        let got = error(&[&[0, 1]], &[1], &['i', 'j'], &[&[2, 3]], &[3, 1]);
        assert_eq!(
            got,
            ShapeError::OutputRank {
                expected: 1,
                rank: 2
            }
        );
    }

    #[test]
    fn the_loop_nest_writes_into_outputs_of_any_layout() {
        // `ij,jk,kl->il` on 3x3 matrices is a loop nest (81 index combinations).
        let a = Array2::from_shape_fn((3, 3), |(i, j)| (i * 3 + j) as f64);
        let views = [
            a.view().into_dyn(),
            a.view().into_dyn(),
            a.view().into_dyn(),
        ];
        let want = a.dot(&a).dot(&a);
        let tables: (&[&[usize]], &[usize], &[char]) =
            (&[&[0, 1], &[1, 2], &[2, 3]], &[0, 3], &['i', 'j', 'k', 'l']);
        let (inputs, output, labels) = tables;
        let mut standard = Array2::<f64>::ones((3, 3));
        contract_into(
            inputs,
            output,
            labels,
            &views,
            standard.view_mut().into_dyn(),
            Write::Add,
        )
        .unwrap();
        assert_eq!(standard, &want + 1.0);
        // A transposed output: the result is added through a buffer.
        let mut transposed = Array2::<f64>::ones((3, 3));
        let out = transposed.view_mut().reversed_axes().into_dyn();
        contract_into(inputs, output, labels, &views, out, Write::Assign).unwrap();
        assert_eq!(transposed, want.t());
    }
}
