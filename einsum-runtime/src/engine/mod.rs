//! The contraction engine: evaluates a resolved [`Contraction`] on ndarray operands of any
//! memory layout, with numpy.einsum semantics.
//!
//! A contraction is computed in three stages:
//!
//! 1. Each operand on its own (`prepare`): axes of extent 1 whose slot is longer are
//!    dropped (the operand does not depend on that index, it broadcasts), repeated slots
//!    become diagonals, and slots that no other operand and not the output has are summed.
//! 2. Operands are contracted two at a time, in the order [`plan::contraction_order`] picks (the
//!    cheapest of all orders up to five operands; each thread remembers its last few orders
//!    by slots and extents, `memo.rs`). Each step groups slots into batch,
//!    left-free, contracted and right-free, and computes a batched matrix product by the
//!    kernel its shape calls for ([`explain::Kernel`]): outer product, small loop, dot,
//!    matrix-vector, or GEMM (the engine's packed kernel for `f32`/`f64`, `packed.rs`;
//!    split across threads when large).
//! 3. The one operand left is permuted to output order and broadcast along the output slots
//!    it dropped in stage 1.
//!
//! A trace (`ii->`) is the sum of ndarray's diagonal view ([`trace`]); two operands whose
//! contraction is one matrix product (`ij,jk->ik`, `bij,jk->bik`, `nmkd,kdef->nmef`) are one
//! call to `dot` on views of them, and so are their two gradients ([`matrix_product`]). A
//! single operand other than a trace skips the planner: its diagonals are read through a
//! strided view (`diagonal.rs`), the labels the output lacks summed, the rest copied into
//! output order ([`contract_single`]).
//! Contractions of several operands with at most a few thousand index combinations skip all
//! this and run one loop nest (`small.rs`). [`explain::explain_contraction`] reports which
//! path and plan a contraction gets; the gradients of one contraction share intermediates
//! through [`contract_sharing`], and with the forward pass through [`vjp::forward_saving`].

mod alloc;
pub(crate) mod chain;
mod data;
mod diagonal;
pub mod explain;
mod gemm;
mod into;
mod matmul;
mod memo;
pub(crate) mod packed;
mod pair;
pub mod plan;
mod pool;
mod route;
mod shared;
mod sliced;
mod small;
pub mod vjp;

pub(crate) use gemm::{mat_mul_beta, thread_count};
pub(crate) use into::contract_into;
pub use into::Write;
pub use matmul::matrix_product;
pub(crate) use memo::contraction as contraction_of_tables;
pub(crate) use memo::gradient_plan;
pub use shared::Intermediates;
pub(crate) use sliced::SlicedPlan;
pub(crate) use small::small_enough;
pub use vjp::Saved;

use crate::Element;
use data::Data;
use diagonal::Slots;
use einsum_spec::{Buffer, Contraction, ShapeError};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn};
use pair::Release;
use pool::Pooled;
use route::Route;
use smallvec::SmallVec;
use std::rc::Rc;
use std::sync::Arc;

/// An operand or intermediate result in the engine: an array whose axes are distinct slots,
/// each axis as long as its slot's extent.
struct Tensor<'a, T: 'static> {
    data: Data<'a, T>,
    slots: Slots,
}

/// The tensors of one contraction, on the stack up to four.
type Tensors<'a, T> = SmallVec<[Tensor<'a, T>; 4]>;

/// Which pool operands each tensor combines (one bit each; 0 when untracked).
type Origins = SmallVec<[u64; 4]>;

/// The steps of one contraction: planned (and shared with the thread's memo, `memo.rs`),
/// given by the caller, or the one step of two operands, computed on the spot.
enum Order<'p> {
    /// From the memo.
    Planned(Rc<[plan::Step]>),
    /// From the caller (a planned network's tree).
    Given(&'p [plan::Step]),
    /// Two operands: their one step keeps these slots.
    Only(Slots),
}

impl Order<'_> {
    /// Each step's left and right positions and the slots its result keeps.
    fn steps(&self) -> impl Iterator<Item = (usize, usize, &[usize])> + '_ {
        let (planned, only): (&[plan::Step], Option<&[usize]>) = match self {
            Order::Planned(steps) => (steps, None),
            Order::Given(steps) => (steps, None),
            Order::Only(result) => (&[], Some(result)),
        };
        let planned = planned
            .iter()
            .map(|step| (step.left, step.right, step.result.as_slice()));
        planned.chain(only.map(|result| (0, 1, result)))
    }
}

/// Computes `contraction` on `operands`, with numpy.einsum semantics: the output's axes are
/// `contraction.output()` in order, every other slot is summed, a slot repeated within one
/// operand is a diagonal, and an axis of extent 1 broadcasts. Operands may have any layout
/// (transposed, sliced with steps, negative strides, broadcast views). The result is an owned
/// array in standard layout.
///
/// Sums over empty ranges are zero. Integer elements use their own `+` and `*`, so they
/// overflow as hand-written loops would (see [`Element`]). NaN and infinities propagate as
/// IEEE arithmetic says: no kernel skips a product because a factor is zero.
///
/// # Errors
///
/// The [`ShapeError`] of [`Contraction::bind_extents`] when the shapes do not fit, and
/// [`ShapeError::TooLarge`] or [`ShapeError::AllocationFailed`] when the output or an
/// intermediate result cannot be allocated (checked before anything is allocated; operands
/// that are broadcast views can describe far more elements than memory holds).
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
    let origins: Vec<u64> = pool_indices.iter().map(|&p| origin_bit(p)).collect();
    contract_tracked(contraction, &operands, &origins, shared)
}

/// The bit that stands for pool index `p` in an intermediate's key (0, untracked, from 64 on).
fn origin_bit(p: usize) -> u64 {
    if p < 64 {
        1 << p
    } else {
        0
    }
}

/// As [`contract_sharing`], with each operand's pool origin given as its bit.
fn contract_tracked<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    origins: &[u64],
    shared: &mut Intermediates<T>,
) -> Result<ArrayD<T>, ShapeError> {
    let sharing = Sharing {
        origins,
        intermediates: shared,
    };
    evaluate(contraction, operands, Strategy::Auto, Some(sharing))
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
    if strategy == Strategy::Auto {
        if let Some(result) = without_tables(contraction.inputs(), contraction.output(), operands)?
        {
            return Ok(result);
        }
    }
    let extents = bind_extents(contraction, operands)?;
    let output_shape: Slots = contraction.output().iter().map(|&s| extents[s]).collect();
    alloc::reserve::<T>(Buffer::Output, &output_shape)?;
    match Route::with_extents(contraction, &extents) {
        // Some index ranges over nothing: either the output is empty, or every output element
        // is a sum over an empty range.
        Route::Empty => Ok(ArrayD::zeros(IxDyn(&output_shape))),
        Route::DirectLoop if strategy == Strategy::Auto => {
            Ok(small::contract_small(contraction, operands, &extents))
        }
        _ => contract_pairwise(contraction, operands, &extents, sharing),
    }
}

/// [`Contraction::bind_extents`] for these operands, on the stack for up to eight slots: the
/// extents are bound without allocating when the shapes fit, and by the spec's own binding,
/// which names the problem, when they do not.
///
/// # Errors
///
/// As [`Contraction::bind_extents`].
fn bind_extents<T>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
) -> Result<Slots, ShapeError> {
    // Each slot's extent so far; 1 is provisional (broadcasting), as in the spec's binding.
    let mut bound: SmallVec<[Option<usize>; 8]> =
        smallvec::smallvec![None; contraction.slots().len()];
    let inputs = contraction.inputs();
    let fits = operands.len() == inputs.len()
        && inputs.iter().zip(operands).all(|(axes, operand)| {
            let shape = operand.shape();
            axes.len() == shape.len()
                && (axes.iter().zip(shape).enumerate()).all(|(axis, (&slot, &extent))| {
                    // A diagonal's axes must agree exactly.
                    if let Some(first) = axes[..axis].iter().position(|&s| s == slot) {
                        return shape[first] == extent;
                    }
                    match bound[slot] {
                        None | Some(1) => {
                            bound[slot] = Some(extent);
                            true
                        }
                        Some(have) => have == extent || extent == 1,
                    }
                })
        });
    if fits {
        return Ok(bound.iter().map(|b| b.unwrap_or(1)).collect());
    }
    let shapes: Vec<&[usize]> = operands.iter().map(ArrayViewD::shape).collect();
    contraction
        .bind_extents(&shapes)
        .map(|extents| extents.into_iter().collect())
}

/// A contraction of one operand whose axes have the slots `axes` into the output slots
/// `output`: the operand's diagonals as a strided view (no copy, except for a diagonal over
/// only some axes of a sliced or broadcast view), a sum along each slot the output lacks, and
/// one copy into the output's axis order. No planning and no allocation beyond the result and
/// the partial sums.
///
/// Returns `None` when the operand does not fit the tables (wrong rank, unequal extents along
/// a diagonal), the tables are inconsistent (an output slot repeated or absent from `axes`),
/// or the output or a partial sum is too large to allocate; [`contract`] then reports why.
///
/// ```
/// use einsum_runtime::engine::contract_single;
/// use ndarray::array;
/// let a = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
/// assert_eq!(contract_single(&[0, 0], &[], &a.view()).unwrap()[[]], 5.0); // ii->
/// assert_eq!(contract_single(&[0, 1], &[1, 0], &a.view()).unwrap(), a.t()); // ij->ji
/// assert!(contract_single(&[0, 0], &[], &a.slice(ndarray::s![.., ..1]).into_dyn()).is_none());
/// ```
#[must_use]
pub fn contract_single<T: Element>(
    axes: &[usize],
    output: &[usize],
    operand: &ArrayViewD<'_, T>,
) -> Option<ArrayD<T>> {
    single(axes, output, operand).ok().flatten()
}

/// The contractions that need no tables, no extents bound and no plan: a trace ([`trace`]),
/// one operand ([`contract_single`]), or two operands whose contraction is one matrix product
/// ([`matrix_product`]). `Ok(None)` for every other contraction (and for operands these
/// paths decline); an error only for an output too large to allocate.
///
/// Both [`contract`] and the macros' `contract_static` (before it builds a [`Contraction`])
/// start here, so a contraction either takes one of these paths or none, whichever entry
/// it comes through.
///
/// # Errors
///
/// [`ShapeError::TooLarge`] or [`ShapeError::AllocationFailed`] when the output of a single
/// operand cannot be allocated.
///
/// ```
/// use einsum_runtime::engine::without_tables;
/// let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
/// let transposed = without_tables(&[[0, 1]], &[1, 0], &[a.view()]).unwrap();
/// assert_eq!(transposed.unwrap(), a.t());
/// // Three operands always need tables.
/// let v = ndarray::array![1.0, 2.0].into_dyn();
/// let three = [v.view(), v.view(), v.view()];
/// assert!(without_tables(&[[0], [0], [0]], &[], &three).unwrap().is_none());
/// ```
pub fn without_tables<T: Element, A: AsRef<[usize]>>(
    inputs: &[A],
    output: &[usize],
    operands: &[ArrayViewD<'_, T>],
) -> Result<Option<ArrayD<T>>, ShapeError> {
    let shapes: smallvec::SmallVec<[&[usize]; 2]> = operands.iter().map(|a| a.shape()).collect();
    match (
        Route::without_tables(inputs, output, &shapes),
        inputs,
        operands,
    ) {
        (Some(Route::Trace), [axes], [operand]) => {
            Ok(trace(axes.as_ref(), operand).map(|sum| ArrayD::from_elem(IxDyn(&[]), sum)))
        }
        (Some(Route::Single), [axes], [operand]) => single(axes.as_ref(), output, operand),
        (Some(Route::MatrixProduct), [a_axes, b_axes], [a, b]) => Ok(matrix_product(
            a_axes.as_ref(),
            b_axes.as_ref(),
            output,
            a,
            b,
        )),
        _ => Ok(None),
    }
}

/// The trace of an operand all of whose axes have one slot: the sum of its diagonal, read in
/// place, which is the whole contraction `ii->` or `iii->` (with an output, `ii->i`, it is
/// not). `None` when the axes do not all have that slot or their extents differ ([`contract`]
/// reports why), or the operand has no axis.
///
/// ```
/// use einsum_runtime::engine::trace;
/// let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
/// assert_eq!(trace(&[0, 0], &a.view()), Some(5.0));
/// assert_eq!(trace(&[0, 1], &a.view()), None); // `ij->` is not a trace
/// ```
#[must_use]
pub fn trace<T: Element>(axes: &[usize], operand: &ArrayViewD<'_, T>) -> Option<T> {
    route::is_trace(axes, operand.shape()).then(|| operand.view().into_diag().sum())
}

/// [`contract_single`], with an array too large to allocate reported as an error (`Ok(None)`:
/// the operand or the tables do not fit).
fn single<T: Element>(
    axes: &[usize],
    output: &[usize],
    operand: &ArrayViewD<'_, T>,
) -> Result<Option<ArrayD<T>>, ShapeError> {
    let shape = operand.shape();
    if shape.len() != axes.len() {
        return Ok(None);
    }
    let mut output_shape: diagonal::Slots = diagonal::Slots::new();
    for (n, slot) in output.iter().enumerate() {
        let Some(axis) = axes.iter().position(|s| s == slot) else {
            return Ok(None);
        };
        if output[..n].contains(slot) {
            return Ok(None);
        }
        output_shape.push(shape[axis]);
    }
    for axis in 0..axes.len() {
        match axes[..axis].iter().position(|&s| s == axes[axis]) {
            Some(first) if shape[first] != shape[axis] => return Ok(None),
            _ => {}
        }
    }
    alloc::reserve::<T>(Buffer::Output, &output_shape)?;
    if shape.contains(&0) {
        // Every sum is over an empty range, or the output is empty.
        return Ok(Some(ArrayD::zeros(IxDyn(&output_shape))));
    }
    // With one operand, an axis of extent 1 has a slot of extent 1: nothing broadcasts.
    let tensor = take_diagonals(operand.view(), axes)?;
    if output.is_empty() {
        // With the static rank where it is 1 or 2 (ndarray sums an `IxDyn` view lane by lane).
        let view = tensor.data.view();
        let sum = match view.ndim() {
            1 => view.into_dimensionality::<ndarray::Ix1>().map(|v| v.sum()),
            2 => view.into_dimensionality::<ndarray::Ix2>().map(|v| v.sum()),
            _ => Ok(view.sum()),
        };
        return Ok(sum.ok().map(|sum| ArrayD::from_elem(IxDyn(&[]), sum)));
    }
    finish(tensor, output, &output_shape).map(Some)
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
    sharing: Option<Sharing<'_, T>>,
) -> Result<ArrayD<T>, ShapeError> {
    let output = contraction.output();
    let tensors = prepare(contraction, operands, extents)?;
    // Which pool operands each tensor combines, when sharing (0: not tracked).
    let origins: Origins = match &sharing {
        Some(sharing) => sharing.origins.iter().copied().collect(),
        None => smallvec::smallvec![0; tensors.len()],
    };
    let slot_lists: SmallVec<[Slots; 4]> = tensors.iter().map(|t| t.slots.clone()).collect();
    let order = match &sharing {
        Some(sharing) => {
            let stored = sharing.intermediates.sorted_keys();
            let problem = memo::Problem {
                operands: &slot_lists,
                origins: &origins,
                output,
                extents,
                stored: &stored,
            };
            Order::Planned(memo::order(problem, |p| {
                let known = |operands: u64, slots: &[usize]| {
                    let key = shared::Key::new(operands, slots.to_vec(), p.extents);
                    p.stored.binary_search(&&key).is_ok()
                };
                let operands = memo::lists(p.operands);
                plan::order_reusing(&operands, p.origins, p.output, p.extents, &known)
            }))
        }
        None => unshared_order(&slot_lists, output, extents),
    };
    let tensors = Prepared::from(tensors);
    run_steps(tensors, origins, &order, output, extents, sharing)
}

/// The order of steps for tensors with these slots when no intermediates are shared.
fn unshared_order(slot_lists: &[Slots], output: &[usize], extents: &[usize]) -> Order<'static> {
    match slot_lists {
        // Two operands: one possible step, nothing to rank.
        [a, b] => Order::Only(plan::only_result(a, b, output)),
        // Planned once per shapes on each thread.
        _ => Order::Planned(memo::contraction_order(slot_lists, output, extents)),
    }
}

/// Stages 1 to 3 on operands whose `extents` are bound and non-zero, with the last tensor
/// written into `out` (the output's shape) as `write` says, in place of stage 3's copy.
fn pairwise_into<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    extents: &[usize],
    out: ArrayViewMutD<'_, T>,
    write: Write,
) -> Result<(), ShapeError> {
    let output = contraction.output();
    let tensors = prepare(contraction, operands, extents)?;
    let slot_lists: SmallVec<[Slots; 4]> = tensors.iter().map(|t| t.slots.clone()).collect();
    let order = unshared_order(&slot_lists, output, extents);
    let origins = smallvec::smallvec![0; tensors.len()];
    let empty = tensors.is_empty();
    let mut out = out;
    let last = pairwise(
        Prepared::from(tensors),
        origins,
        &order,
        output,
        extents,
        None,
        Release::AfterStep,
        Some((&mut out, write)),
    )?;
    if last.is_none() && !empty {
        // The last step wrote into `out` itself.
        return Ok(());
    }
    write_last(last, output, out, write)
}

/// Stage 3 into an existing output: the one tensor left (`None`: the empty product, 1) summed
/// over what the output does not need and written into `target`, read in place through a
/// permuted, broadcast view (no copy).
fn write_last<T: Element>(
    last: Option<Tensor<'_, T>>,
    output: &[usize],
    mut target: ArrayViewMutD<'_, T>,
    write: Write,
) -> Result<(), ShapeError> {
    let Some(tensor) = last else {
        let one = ndarray::arr0(T::one()).into_dyn();
        into::write_from(&mut target, &one.view(), write);
        return Ok(());
    };
    let tensor = sum_out(tensor, |s| output.contains(&s))?;
    into::write_from(&mut target, &as_output(&tensor, output), write);
    Ok(())
}

/// Stage 2 along `order`, then stage 3: each step's operands are dropped once contracted, so
/// an intermediate lives only until the step that uses it.
fn run_steps<'a, T: Element>(
    operands: impl Operands<'a, T>,
    origins: Origins,
    order: &Order<'_>,
    output: &[usize],
    extents: &[usize],
    sharing: Option<Sharing<'_, T>>,
) -> Result<ArrayD<T>, ShapeError> {
    let output_shape: Slots = output.iter().map(|&s| extents[s]).collect();
    match pairwise(
        operands,
        origins,
        order,
        output,
        extents,
        sharing,
        Release::AfterStep,
        None,
    )? {
        Some(last) => finish(last, output, &output_shape),
        // Only a hand-built contraction has no operands; its output is the empty product.
        None => Ok(ArrayD::from_elem(IxDyn(&output_shape), T::one())),
    }
}

/// The operands of the pairwise loop (stage 2), each taken once, by the step that contracts it.
trait Operands<'a, T: 'static> {
    /// How many there are.
    fn count(&self) -> usize;

    /// Operand `k`'s tensor, after stage 1.
    fn take(&mut self, k: usize) -> Result<Tensor<'a, T>, ShapeError>;
}

/// Operands that stage 1 prepared before the loop ([`prepare`]).
struct Prepared<'a, T: 'static>(SmallVec<[Option<Tensor<'a, T>>; 4]>);

impl<'a, T: 'static> From<Tensors<'a, T>> for Prepared<'a, T> {
    fn from(tensors: Tensors<'a, T>) -> Self {
        Prepared(tensors.into_iter().map(Some).collect())
    }
}

impl<'a, T: 'static> Operands<'a, T> for Prepared<'a, T> {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn take(&mut self, k: usize) -> Result<Tensor<'a, T>, ShapeError> {
        match self.0[k].take() {
            Some(tensor) => Ok(tensor),
            None => unreachable!("each operand is taken by one step"),
        }
    }
}

/// Stage 2 along `order`: the one tensor left (`None` without operands). Each step's operands
/// are dropped once contracted (or copied, as `release` says), so an intermediate lives only
/// until the step that uses it. With `last_into`, a last step that is one matrix product
/// writing the output is run as GEMM into that array instead (`into::product_step_into`), and
/// then `None` is returned.
#[allow(clippy::too_many_arguments)]
fn pairwise<'a, T: Element>(
    operands: impl Operands<'a, T>,
    mut origins: Origins,
    order: &Order<'_>,
    output: &[usize],
    extents: &[usize],
    mut sharing: Option<Sharing<'_, T>>,
    release: Release,
    mut last_into: Option<(&mut ArrayViewMutD<'_, T>, Write)>,
) -> Result<Option<Tensor<'a, T>>, ShapeError> {
    // The list of current tensors that the steps' positions refer to (see `plan::Step`) is a
    // list of places in `held`. (Moving the tensors themselves showed in the profile of
    // networks of many small tensors.)
    let mut held = Held::new(operands);
    let mut current: SmallVec<[usize; 8]> = (0..held.count).collect();
    for (left_at, right_at, kept) in order.steps() {
        let (right_place, left_place) = (current.remove(right_at), current.remove(left_at));
        let left = held.take(left_place)?;
        let right = held.take(right_place)?;
        let (right_origin, left_origin) = (origins.remove(right_at), origins.remove(left_at));
        let last = current.is_empty();
        if let Some((out, write)) = last_into.as_mut().filter(|_| last) {
            let (a, b) = (left.data.view(), right.data.view());
            let (a, b) = ((left.slots.as_slice(), &a), (right.slots.as_slice(), &b));
            if into::product_step_into(a, b, output, out, *write) {
                return Ok(None);
            }
        }
        // The last step may take its operands in the other role order (see `last_step_swaps`).
        let swap = last && plan::last_step_swaps(&left.slots, &right.slots, kept, output);
        let (left, right) = if swap { (right, left) } else { (left, right) };
        // The step's result, before any of its buffers is allocated.
        let result_shape: Slots = kept.iter().map(|&s| extents[s]).collect();
        alloc::reserve::<T>(Buffer::Intermediate, &result_shape)?;
        let origin = left_origin | right_origin;
        let tracked = left_origin != 0 && right_origin != 0 && !last;
        let store = sharing.as_mut().filter(|_| tracked);
        let result = match store {
            Some(sharing) => {
                let slots = plan::result_order(&left.slots, &right.slots, kept);
                let key = shared::Key::new(origin, slots.to_vec(), extents);
                match sharing.intermediates.get(&key) {
                    Some(data) => Tensor {
                        data: Data::Shared(data),
                        slots,
                    },
                    None => {
                        let result = pair::contract_pair(left, right, kept, release)?;
                        debug_assert_eq!(result.slots.as_slice(), key.slots.as_slice());
                        // Held by the store and by this tensor, not copied.
                        let data = Arc::new(result.data.into_owned());
                        sharing.intermediates.insert(key, Arc::clone(&data));
                        Tensor {
                            data: Data::Shared(data),
                            slots: result.slots,
                        }
                    }
                }
            }
            None => pair::contract_pair(left, right, kept, release)?,
        };
        current.push(held.put(result));
        origins.push(if tracked { origin } else { 0 });
    }
    current.pop().map(|place| held.take(place)).transpose()
}

/// The tensors of the pairwise loop by place: below the operands' count, an operand not yet
/// taken; from there on, the results waiting for a step, a result taking the first free
/// place. So only waiting results are held, not a tensor per operand.
struct Held<'a, T: 'static, O> {
    operands: O,
    count: usize,
    results: SmallVec<[Option<Tensor<'a, T>>; 4]>,
}

impl<'a, T: 'static, O: Operands<'a, T>> Held<'a, T, O> {
    fn new(operands: O) -> Self {
        Held {
            count: operands.count(),
            operands,
            results: SmallVec::new(),
        }
    }

    /// The tensor at `place`, which no other step takes.
    fn take(&mut self, place: usize) -> Result<Tensor<'a, T>, ShapeError> {
        match place.checked_sub(self.count) {
            None => self.operands.take(place),
            Some(r) => match self.results[r].take() {
                Some(tensor) => Ok(tensor),
                None => unreachable!("each result is an operand of one step"),
            },
        }
    }

    /// Holds `result` and returns its place.
    fn put(&mut self, result: Tensor<'a, T>) -> usize {
        let free = self.results.iter().position(Option::is_none);
        let r = free.unwrap_or_else(|| {
            self.results.push(None);
            self.results.len() - 1
        });
        self.results[r] = Some(result);
        self.count + r
    }
}

/// Stage 1: each operand as a [`Tensor`] with broadcast axes dropped, diagonals taken and the
/// slots only it needs summed out.
fn prepare<'a, T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'a, T>],
    extents: &[usize],
) -> Result<Tensors<'a, T>, ShapeError> {
    let mut tensors: Tensors<'a, T> = SmallVec::with_capacity(operands.len());
    for (operand, slots) in operands.iter().zip(contraction.inputs()) {
        let (view, slots) = drop_broadcast_axes(operand.clone(), slots, extents);
        tensors.push(take_diagonals(view, &slots)?);
    }
    // Counted after dropping broadcast axes: an operand that only broadcasts along a slot does
    // not depend on it, so the operands that do can sum it out on their own. (A slot summed
    // out of an earlier tensor is one that no other tensor has, so summing in place does not
    // change what the later ones need.)
    for k in 0..tensors.len() {
        let (before, rest) = tensors.split_at_mut(k);
        let Some((tensor, after)) = rest.split_first_mut() else {
            unreachable!("k is a position in the list")
        };
        let needed = |s: usize| {
            contraction.output().contains(&s)
                || (before.iter().chain(after.iter())).any(|other| other.slots.contains(&s))
        };
        sum_out_in_place(tensor, needed)?;
    }
    Ok(tensors)
}

/// Drops the axes of extent 1 whose slot is longer: the operand's value does not depend on
/// that index. Works on the view, without copying; returns the slots of the axes kept.
fn drop_broadcast_axes<'a, T>(
    mut view: ArrayViewD<'a, T>,
    slots: &[usize],
    extents: &[usize],
) -> (ArrayViewD<'a, T>, diagonal::Slots) {
    let mut slots: diagonal::Slots = slots.iter().copied().collect();
    for axis in (0..slots.len()).rev() {
        if view.shape()[axis] == 1 && extents[slots[axis]] != 1 {
            view = view.index_axis_move(Axis(axis), 0);
            slots.remove(axis);
        }
    }
    (view, slots)
}

/// Replaces each group of axes with the same slot by their diagonal, kept at the position of
/// the group's first axis: a strided view of the same elements ([`diagonal::view`]), or a
/// copy of the diagonal when no view can express it.
fn take_diagonals<'a, T: Element>(
    view: ArrayViewD<'a, T>,
    slots: &[usize],
) -> Result<Tensor<'a, T>, ShapeError> {
    match diagonal::view(view, slots) {
        Ok((data, slots)) => Ok(Tensor {
            data: Data::from(data),
            slots,
        }),
        Err(view) => copy_diagonals(&view, slots),
    }
}

/// [`take_diagonals`] by copying, element by element: for a diagonal over only some axes of
/// an operand whose elements are not one contiguous block.
fn copy_diagonals<'a, T: Element>(
    view: &ArrayViewD<'_, T>,
    slots: &[usize],
) -> Result<Tensor<'a, T>, ShapeError> {
    let distinct = plan::distinct(slots);
    // For each axis, the position of its slot in `distinct`.
    let position: Vec<usize> = slots
        .iter()
        .map(|slot| distinct.iter().position(|s| s == slot).unwrap_or_default())
        .collect();
    let shape: Vec<usize> = (0..distinct.len())
        .map(|p| view.shape()[position.iter().position(|&q| q == p).unwrap_or_default()])
        .collect();
    alloc::reserve::<T>(Buffer::Intermediate, &shape)?;
    let mut source = vec![0; slots.len()];
    let data = ArrayD::from_shape_fn(IxDyn(&shape), |index| {
        for (axis, &p) in position.iter().enumerate() {
            source[axis] = index[p];
        }
        view[&source[..]]
    });
    Ok(Tensor {
        data: Data::from(data),
        slots: distinct.into_iter().collect(),
    })
}

/// Sums over the axes whose slot `needed` rejects.
fn sum_out<T: Element>(
    mut tensor: Tensor<'_, T>,
    needed: impl Fn(usize) -> bool,
) -> Result<Tensor<'_, T>, ShapeError> {
    sum_out_in_place(&mut tensor, needed)?;
    Ok(tensor)
}

/// [`sum_out`] on a tensor in place.
fn sum_out_in_place<T: Element>(
    tensor: &mut Tensor<'_, T>,
    needed: impl Fn(usize) -> bool,
) -> Result<(), ShapeError> {
    for axis in (0..tensor.slots.len()).rev() {
        if !needed(tensor.slots[axis]) {
            let summed = sum_axis(&tensor.data.view(), Axis(axis))?;
            tensor.data = Data::from(summed);
            tensor.slots.remove(axis);
        }
    }
    Ok(())
}

/// The sum along `axis`, computed with the view's static dimensionality up to rank 6
/// (`sum_axis` through `IxDyn` was slower than through `Ix2` on a 1000x1000 `ij->j`).
fn sum_axis<T: Element>(view: &ArrayViewD<'_, T>, axis: Axis) -> Result<ArrayD<T>, ShapeError> {
    fn with_static<T: Element, D: ndarray::Dimension + ndarray::RemoveAxis>(
        view: &ArrayViewD<'_, T>,
        axis: Axis,
    ) -> Option<ArrayD<T>> {
        let view = view.view().into_dimensionality::<D>().ok()?;
        Some(view.sum_axis(axis).into_dyn())
    }
    let mut result_shape = view.shape().to_vec();
    result_shape.remove(axis.index());
    alloc::reserve::<T>(Buffer::Intermediate, &result_shape)?;
    let summed = match view.ndim() {
        1 => with_static::<T, ndarray::Ix1>(view, axis),
        2 => with_static::<T, ndarray::Ix2>(view, axis),
        3 => with_static::<T, ndarray::Ix3>(view, axis),
        4 => with_static::<T, ndarray::Ix4>(view, axis),
        5 => with_static::<T, ndarray::Ix5>(view, axis),
        6 => with_static::<T, ndarray::Ix6>(view, axis),
        _ => None,
    };
    Ok(summed.unwrap_or_else(|| view.sum_axis(axis)))
}

/// Stage 3: sums what the output does not need (nothing, after a full contraction), permutes
/// to output order and broadcasts along the output slots the tensor lacks.
fn finish<T: Element>(
    tensor: Tensor<'_, T>,
    output: &[usize],
    output_shape: &[usize],
) -> Result<ArrayD<T>, ShapeError> {
    let tensor = sum_out(tensor, |s| output.contains(&s))?;
    let in_order = tensor.slots.as_slice() == output;
    if in_order && tensor.data.is_standard_layout() {
        alloc::reserve::<T>(Buffer::Output, output_shape)?;
        return Ok(tensor.data.into_owned());
    }
    match as_output(&tensor, output).broadcast(IxDyn(output_shape)) {
        Some(broadcast) => standard_copy(&broadcast, Buffer::Output),
        None => unreachable!("every axis is 1 or its slot's extent"),
    }
}

/// A view of `tensor` (whose slots are all in `output`) with its axes in output order and an
/// axis of extent 1 for each output slot it lacks.
fn as_output<'v, T: Element>(tensor: &'v Tensor<'_, T>, output: &[usize]) -> ArrayViewD<'v, T> {
    let order: Slots = output
        .iter()
        .filter_map(|s| tensor.slots.iter().position(|t| t == s))
        .collect();
    let mut view = tensor.data.view().permuted_axes(&order[..]);
    for (axis, slot) in output.iter().enumerate() {
        if !tensor.slots.contains(slot) {
            view.insert_axis_inplace(Axis(axis));
        }
    }
    view
}

/// An owned copy of `view` in standard layout. (`as_standard_layout` would copy element by
/// element through dynamic indices; `assign` copies along the innermost axis, see
/// [`assign_standard`].)
///
/// The copy is `what` for the error when it is too large to allocate.
pub(super) fn standard_copy<T: Element>(
    view: &ArrayViewD<'_, T>,
    what: Buffer,
) -> Result<ArrayD<T>, ShapeError> {
    alloc::reserve::<T>(what, view.shape())?;
    if let Ok(line) = view.view().into_dimensionality::<ndarray::Ix1>() {
        // One pass, no zeroing first (a diagonal read out of a large matrix, say).
        return Ok(ndarray::Array1::from_vec(line.to_vec()).into_dyn());
    }
    let mut copy = ArrayD::zeros(view.raw_dim());
    assign_standard(&mut copy.view_mut(), view);
    Ok(copy)
}

/// [`standard_copy`] into a buffer from the thread's pool, which it returns to when dropped
/// (see `pool.rs`); a fresh copy when the pool has no buffer for it.
fn pooled_copy<T: Element>(
    view: &ArrayViewD<'_, T>,
    what: Buffer,
) -> Result<Pooled<T>, ShapeError> {
    let Some(values) = pool::take::<T>(view.len()) else {
        return standard_copy(view, what).map(Pooled::new);
    };
    let mut copy = Pooled::from_shape_vec(view.shape(), values);
    assign_standard(&mut copy.view_mut(), view);
    Ok(copy)
}

/// `dest ← view`, for `dest` in standard layout with `view`'s shape. Views of rank up to 6
/// are copied with their static dimensionality, whose index arithmetic is far cheaper than
/// `IxDyn`'s when the layout is permuted.
fn assign_standard<T: Element>(dest: &mut ArrayViewMutD<'_, T>, view: &ArrayViewD<'_, T>) {
    fn assign_static<T: Element, D: ndarray::Dimension>(
        dest: &mut ArrayViewMutD<'_, T>,
        view: &ArrayViewD<'_, T>,
    ) -> bool {
        let dest = dest.view_mut().into_dimensionality::<D>();
        match (dest, view.view().into_dimensionality::<D>()) {
            (Ok(mut dest), Ok(view)) => {
                dest.assign(&view);
                true
            }
            _ => false,
        }
    }
    // Above rank 6, axes that the view steps through as one run (an outer axis whose stride
    // is the inner one's whole span) are copied as one, so that the copy runs at a static rank
    // where it can (through `IxDyn` it was twice as slow on the network benchmark).
    if view.ndim() > 6 {
        let merged: Slots = contiguous_runs(view.shape(), view.strides()).collect();
        if merged.len() <= 6 {
            if let Ok(flat) = view.to_shape(IxDyn(&merged)) {
                if flat.is_view() {
                    if let Ok(mut flat_dest) = dest.view_mut().into_shape_with_order(IxDyn(&merged))
                    {
                        assign_standard(&mut flat_dest, &flat.view());
                        return;
                    }
                }
            }
        }
    }
    let assigned = match view.ndim() {
        0 => assign_static::<T, ndarray::Ix0>(dest, view),
        1 => assign_static::<T, ndarray::Ix1>(dest, view),
        2 => assign_static::<T, ndarray::Ix2>(dest, view),
        3 => assign_static::<T, ndarray::Ix3>(dest, view),
        4 => assign_static::<T, ndarray::Ix4>(dest, view),
        5 => assign_static::<T, ndarray::Ix5>(dest, view),
        6 => assign_static::<T, ndarray::Ix6>(dest, view),
        _ => false,
    };
    if !assigned {
        dest.assign(view);
    }
}

/// The extents of a view of this shape and strides with axes of extent 1 dropped and each
/// run of axes that it steps through contiguously (an outer axis's stride is the inner one's
/// stride times its extent) merged into one, outermost first: a run can be read as one axis
/// without a copy. Lazy, so that counting runs allocates nothing.
pub(super) fn contiguous_runs<'s>(
    shape: &'s [usize],
    strides: &'s [isize],
) -> impl Iterator<Item = usize> + 's {
    let mut axes = shape
        .iter()
        .zip(strides)
        .filter(|&(&extent, _)| extent != 1)
        .peekable();
    std::iter::from_fn(move || {
        let (&extent, &stride) = axes.next()?;
        let (mut run, mut inner_stride) = (extent, stride);
        while let Some(&(&extent, &stride)) = axes.peek() {
            if inner_stride != stride * extent as isize {
                break;
            }
            run *= extent;
            inner_stride = stride;
            axes.next();
        }
        Some(run)
    })
}

#[cfg(test)]
#[path = "../../../tests/common/reference.rs"]
mod reference;

#[cfg(test)]
#[path = "../../tests/support/random.rs"]
mod random;

#[cfg(test)]
mod tests {
    use super::random::random;
    use super::*;
    use ndarray::{array, s, Array3};

    /// `spec` (one operand) on `view` by the single-operand path and by `contract`, both
    /// against the naive reference on an owned copy of the same values.
    #[track_caller]
    fn check_single(spec: &str, view: &ArrayViewD<'_, f64>) {
        let c = einsum_spec::Spec::parse(spec)
            .unwrap()
            .resolve(&[view.ndim()])
            .unwrap();
        let want = super::reference::reference_einsum(spec, &[view.to_owned()]);
        let single = contract_single(&c.inputs()[0], c.output(), view)
            .unwrap_or_else(|| panic!("{spec}: the single-operand path declined"));
        let planned = contract_planned(&c, std::slice::from_ref(view)).unwrap();
        let axes = &c.inputs()[0];
        let is_trace = c.output().is_empty() && axes.iter().all(|&s| s == axes[0]);
        let trace = c
            .output()
            .is_empty()
            .then(|| trace(axes, view))
            .flatten()
            .map(|t| ArrayD::from_elem(IxDyn(&[]), t));
        assert_eq!(trace.is_some(), is_trace, "{spec}: whether `trace` applies");
        for (what, got) in [("single", single), ("planned", planned)]
            .into_iter()
            .chain(trace.map(|t| ("trace", t)))
        {
            assert_eq!(got.shape(), want.shape(), "{spec} ({what}): shape");
            assert!(got.is_standard_layout(), "{spec} ({what}): layout");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                    "{spec} ({what}) on strides {:?}: {got} but the reference says {want}",
                    view.strides()
                );
            }
        }
    }

    /// Views of the same 4x4x4 values in many layouts: standard, transposed, permuted,
    /// reversed along one or all axes, sliced with steps, and a broadcast view.
    fn layouts(base: &ArrayD<f64>) -> Vec<ArrayViewD<'_, f64>> {
        let v = base.view();
        let mut reversed = v.clone();
        reversed.invert_axis(Axis(1));
        let mut all_reversed = v.clone();
        for axis in 0..3 {
            all_reversed.invert_axis(Axis(axis));
        }
        vec![
            v.clone(),
            v.clone().reversed_axes(),
            v.clone().permuted_axes(IxDyn(&[1, 2, 0])),
            reversed,
            all_reversed,
            v.clone().slice_move(s![..3;-1, 1.., 1..]).into_dyn(),
            v.clone().slice_move(s![..;2, ..;2, ..;-2]).into_dyn(),
        ]
    }

    #[test]
    fn single_operand_path_matches_the_reference_in_every_layout() {
        let base = random(&[4, 4, 4], 7);
        for view in layouts(&base) {
            let rank3 = [
                "iii->", "iii->i", "iij->ji", "iji->j", "iij->", "ijk->kji", "ijk->k", "ijk->",
                "ijk->ijk", "ijk->ik", "jii->ij",
            ];
            for spec in rank3 {
                if spec.starts_with("iii") || spec.contains("ii") {
                    // Diagonals need equal extents.
                    let n = view.shape()[0];
                    if view.shape().iter().filter(|&&e| e == n).count() < 2 {
                        continue;
                    }
                }
                let fits = einsum_spec::Spec::parse(spec)
                    .unwrap()
                    .resolve(&[3])
                    .unwrap()
                    .bind_extents(&[view.shape()])
                    .is_ok();
                if fits {
                    check_single(spec, &view);
                }
            }
            let matrix = view.index_axis(Axis(2), 1);
            for spec in ["ii->", "ii->i", "ij->j", "ij->ji", "ij->", "ij->ij"] {
                if spec.contains("ii") && matrix.shape()[0] != matrix.shape()[1] {
                    continue;
                }
                check_single(spec, &matrix);
            }
        }
    }

    #[test]
    fn single_operand_path_on_broadcast_and_empty_operands() {
        // A broadcast view (stride 0): every row is the same vector.
        let row = random(&[5], 3);
        let broadcast = row.broadcast(IxDyn(&[5, 5])).unwrap();
        for spec in ["ii->", "ii->i", "ij->j", "ij->i", "ij->ji"] {
            check_single(spec, &broadcast);
        }
        let cube = row.broadcast(IxDyn(&[5, 2, 5])).unwrap();
        for spec in ["iji->j", "iji->ij", "ijk->kj"] {
            check_single(spec, &cube);
        }
        // Zero-size axes: sums over nothing are zero, empty outputs are empty.
        let empty = ArrayD::<f64>::zeros(IxDyn(&[0, 3]));
        let got = contract_single(&[0, 1], &[1], &empty.view()).unwrap();
        assert_eq!(got, ArrayD::zeros(IxDyn(&[3])));
        let got = contract_single(&[0, 1], &[1, 0], &empty.view()).unwrap();
        assert_eq!(got.shape(), &[3, 0]);
        let square = ArrayD::<f64>::zeros(IxDyn(&[0, 0]));
        assert_eq!(
            contract_single(&[0, 0], &[], &square.view()).unwrap()[[]],
            0.0
        );
    }

    #[test]
    fn single_operand_path_declines_what_does_not_fit() {
        let a = random(&[2, 3], 1);
        assert!(contract_single(&[0, 0], &[0], &a.view()).is_none()); // unequal diagonal
        assert!(contract_single(&[0], &[0], &a.view()).is_none()); // rank
        assert!(contract_single(&[0, 1], &[2], &a.view()).is_none()); // unknown output slot
        assert!(contract_single(&[0, 1], &[0, 0], &a.view()).is_none()); // repeated output
                                                                         // `contract` then names the problem.
        let c = einsum_spec::Spec::parse("ii->i")
            .unwrap()
            .resolve(&[2])
            .unwrap();
        assert!(matches!(
            contract(&c, &[a.view()]),
            Err(ShapeError::Diagonal { .. })
        ));
    }

    #[test]
    fn broadcast_axes_are_dropped_without_copying() {
        let a = array![[1.0, 2.0, 3.0]].into_dyn(); // i = 1 stretches to 2; j = 3
        let (view, slots) = drop_broadcast_axes(a.view(), &[0, 1], &[2, 3]);
        assert_eq!(slots.as_slice(), &[1]);
        assert_eq!(view.as_ptr(), a.as_ptr());
        // An axis of extent 1 whose slot is 1 too is a real axis and stays.
        let (_, slots) = drop_broadcast_axes(a.view(), &[0, 1], &[1, 3]);
        assert_eq!(slots.as_slice(), &[0, 1]);
    }

    #[test]
    fn diagonal_sits_where_its_slot_first_occurs() {
        let a = Array3::from_shape_fn((2, 3, 2), |(i, j, k)| (100 * i + 10 * j + k) as f64);
        let want = ndarray::Array2::from_shape_fn((2, 3), |(i, j)| a[[i, j, i]]).into_dyn();
        let tensor = take_diagonals(a.view().into_dyn(), &[0, 1, 0]).unwrap();
        assert_eq!(tensor.slots.as_slice(), &[0, 1]);
        assert!(tensor.data.is_view());
        assert_eq!(tensor.data.into_owned(), want);
        // The copy, for a view whose elements are not one block, gives the same.
        let copied = copy_diagonals(&a.view().into_dyn(), &[0, 1, 0]).unwrap();
        assert_eq!(copied.slots.as_slice(), &[0, 1]);
        assert_eq!(copied.data.into_owned(), want);
    }

    #[test]
    fn copies_above_rank_six_keep_every_element_in_place() {
        // Rank 8, permuted so that some axes merge (1, 2 stay adjacent) and some do not, and
        // reversed along one axis: the copy must equal ndarray's own.
        let base = random(&[2, 3, 2, 2, 3, 2, 2, 2], 11);
        let mut view = base.view().permuted_axes(IxDyn(&[7, 1, 2, 0, 4, 3, 6, 5]));
        view.invert_axis(Axis(3));
        for view in [view.clone(), base.view()] {
            let copy = standard_copy(&view, Buffer::Intermediate).unwrap();
            assert!(copy.is_standard_layout());
            assert_eq!(copy, view.as_standard_layout().into_owned());
        }
        let runs: Vec<usize> = contiguous_runs(base.shape(), base.strides()).collect();
        assert_eq!(runs, vec![base.len()]);
        // Transposed inner axes break the run; an axis of extent 1 does not.
        let cube = random(&[2, 1, 3, 4], 12);
        let swapped = cube.view().permuted_axes(IxDyn(&[0, 1, 3, 2]));
        let runs: Vec<usize> = contiguous_runs(swapped.shape(), swapped.strides()).collect();
        assert_eq!(runs, vec![2, 4, 3]);
        let runs: Vec<usize> = contiguous_runs(cube.shape(), cube.strides()).collect();
        assert_eq!(runs, vec![24]);
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

    #[test]
    fn extents_are_bound_as_the_spec_binds_them_errors_included() {
        let cases: &[(&str, &[&[usize]])] = &[
            ("ij,jk->ik", &[&[2, 3], &[3, 4]]),
            ("ij,jk->ik", &[&[2, 3], &[4, 5]]),
            ("ij,jk->ik", &[&[2, 1], &[4, 5]]),
            ("ij,jk->ik", &[&[2, 4], &[1, 5]]),
            ("ij,ij->ij", &[&[1, 3], &[2, 3]]),
            ("ij,ij->ij", &[&[1, 1], &[1, 1]]),
            ("ij,ij->ij", &[&[2, 1], &[1, 3]]),
            ("ii,ij->j", &[&[3, 3], &[3, 4]]),
            ("ii,ij->j", &[&[3, 2], &[3, 4]]),
            ("ii,ij->j", &[&[1, 1], &[3, 4]]),
            ("ijk,bj,bk->bi", &[&[3, 3, 3], &[10, 3], &[10, 2]]),
            ("i,i,i->", &[&[4], &[1], &[4]]),
            ("i,i,i->", &[&[1], &[4], &[5]]),
        ];
        for &(spec, shapes) in cases {
            let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
            let c = einsum_spec::Spec::parse(spec)
                .unwrap()
                .resolve(&ranks)
                .unwrap();
            let arrays: Vec<ArrayD<f64>> = shapes.iter().map(|s| ArrayD::zeros(IxDyn(s))).collect();
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            let want = c.bind_extents(shapes).map(|e| e.to_vec());
            let got = bind_extents(&c, &views).map(|e| e.to_vec());
            assert_eq!(got, want, "{spec} on {shapes:?}");
            // Ranks and the number of operands, which the spec checks first.
            let got = bind_extents(&c, &views[1..]).map(|e| e.to_vec());
            assert_eq!(
                got,
                c.bind_extents(&shapes[1..]).map(|e| e.to_vec()),
                "{spec}"
            );
            let flat = arrays[0]
                .view()
                .into_shape_with_order(IxDyn(&[arrays[0].len()]));
            let mut wrong_rank = views.clone();
            wrong_rank[0] = flat.unwrap();
            let wrong_shapes: Vec<&[usize]> = wrong_rank.iter().map(|v| v.shape()).collect();
            let got = bind_extents(&c, &wrong_rank).map(|e| e.to_vec());
            assert_eq!(
                got,
                c.bind_extents(&wrong_shapes).map(|e| e.to_vec()),
                "{spec}"
            );
        }
    }
}
