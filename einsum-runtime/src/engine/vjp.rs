//! The gradient of a contraction with respect to each operand: its vector-Jacobian product.
//!
//! For `y = einsum(t_0, …, t_n -> o)` and an upstream gradient `g` shaped like `y`, the
//! gradient of operand `k` is itself a contraction — `g` and every other operand, summed into
//! `t_k` — followed by an [`Expansion`] that puts the result back into operand `k`'s shape:
//!
//! - a label only `t_k` has was summed in the forward pass, so every position along it
//!   receives the same gradient (a broadcast);
//! - a label repeated in `t_k` selected a diagonal, so the gradient lands on that diagonal and
//!   is zero elsewhere;
//! - an axis of extent 1 that broadcast against a longer extent contributed to every position
//!   along it, so its gradient is the sum over them (the reduced contraction simply does not
//!   keep that label, which sums it).
//!
//! The same operand passed twice gets two gradients, one per position; their sum is the total.
//!
//! With three operands or more, the gradients share pairwise intermediates with each other
//! and, through [`forward_saving`] and [`vjp_reusing`], with the forward pass: for the chain
//! `ij,jk,kl->il` evaluated as `(ab) c`, the gradient of `c` is `(ab)^T g`, one product
//! instead of two.

use super::diagonal::Slots;
use super::pool::{self, Pooled};
use super::route::Route;
use super::Write;
use super::{alloc, into, matmul, memo};
use super::{contract, contract_sharing, contract_tracked, origin_bit, Intermediates};
use crate::Element;
use einsum_spec::{Buffer, Contraction, ShapeError};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn};
use smallvec::SmallVec;

/// How to spread a reduced gradient (one axis per kept label) back to one operand's shape:
/// broadcast along axes whose label was not kept, zeros off the diagonals of repeated labels.
///
/// ```
/// use einsum_runtime::engine::vjp;
/// use einsum_runtime::spec::Spec;
/// use ndarray::array;
///
/// // `ii->`: the trace. Its gradient is the identity times the upstream gradient.
/// let c = Spec::parse("ii->").unwrap().resolve(&[2]).unwrap();
/// let (reduce, expansion) = vjp::plan(&c, 0, &[2], &[2, 2]);
/// assert_eq!(reduce.output(), &[] as &[usize]); // `i` occurs nowhere else: nothing is kept
/// let g = ndarray::arr0(3.0).into_dyn();
/// assert_eq!(expansion.apply(g.view()), array![[3.0, 0.0], [0.0, 3.0]].into_dyn());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expansion {
    /// For each axis of the operand, its slot.
    target_slots: Vec<usize>,
    /// The operand's shape.
    target_shape: Vec<usize>,
    /// The slots of the reduced gradient's axes, in order.
    reduced_slots: Vec<usize>,
    /// The extent of each reduced axis (a reduced result of extent 1 stretches to it).
    reduced_shape: Vec<usize>,
    /// What each slot of the originating contraction stands for.
    slots: Vec<einsum_spec::Slot>,
}

impl Expansion {
    /// The operand-shaped gradient for `reduced`, whose axes are the kept slots.
    ///
    /// # Panics
    ///
    /// When `reduced` does not have one axis per kept slot, each of extent 1 or the slot's
    /// extent; [`plan`] and [`vjp`] always produce such arrays. When the operand's shape is too
    /// large to allocate (an operand that was a broadcast view can describe more elements than
    /// memory holds); [`vjp`] checks that first and returns an error instead.
    ///
    /// ```
    /// use einsum_runtime::engine::vjp;
    /// use einsum_runtime::spec::Spec;
    /// use ndarray::array;
    ///
    /// // `ij->i`: `j` was summed, so the gradient broadcasts along it.
    /// let c = Spec::parse("ij->i").unwrap().resolve(&[2]).unwrap();
    /// let (_, expansion) = vjp::plan(&c, 0, &[2, 3], &[2, 3]);
    /// let grad = expansion.apply(array![1.0, 2.0].into_dyn().view());
    /// assert_eq!(grad, array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]].into_dyn());
    /// ```
    #[must_use]
    pub fn apply<T: Element>(&self, reduced: ArrayViewD<'_, T>) -> ArrayD<T> {
        let Some(reduced) = reduced.broadcast(IxDyn(&self.reduced_shape)) else {
            panic!(
                "einsum gradient: reduced gradient of shape {:?} does not broadcast to {:?}",
                reduced.shape(),
                self.reduced_shape
            )
        };
        let repeated = (0..self.target_slots.len())
            .any(|a| self.target_slots[..a].contains(&self.target_slots[a]));
        if repeated {
            return self.apply_with_diagonals(&reduced);
        }
        // Each kept slot occurs once in the operand: permute the reduced axes into the
        // operand's order, insert length-1 axes for the others, and broadcast.
        let order: Vec<usize> = self
            .target_slots
            .iter()
            .filter_map(|s| self.reduced_slots.iter().position(|r| r == s))
            .collect();
        let mut view = reduced.permuted_axes(order);
        for (axis, slot) in self.target_slots.iter().enumerate() {
            if !self.reduced_slots.contains(slot) {
                view.insert_axis_inplace(Axis(axis));
            }
        }
        match view.broadcast(IxDyn(&self.target_shape)) {
            Some(full) => match super::standard_copy(&full, einsum_spec::Buffer::Intermediate) {
                Ok(copy) => copy,
                Err(error) => panic!("einsum gradient: {error}"),
            },
            None => unreachable!("kept axes have the operand's extents, the others length 1"),
        }
    }

    /// As [`apply`](Expansion::apply), but takes the reduced gradient by value and returns it
    /// as it is when it already has the operand's axes, shape and standard layout (no label to
    /// spread, no diagonal, no reordering), saving a copy of a possibly large array.
    ///
    /// ```
    /// use einsum_runtime::engine::vjp;
    /// use einsum_runtime::spec::Spec;
    /// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
    /// let (_, expansion) = vjp::plan(&c, 0, &[2, 3, 4], &[2, 3]);
    /// let reduced = ndarray::ArrayD::<f64>::ones(vec![2, 3]);
    /// assert_eq!(expansion.apply_owned(reduced.clone()), reduced);
    /// ```
    #[must_use]
    pub fn apply_owned<T: Element>(&self, reduced: ArrayD<T>) -> ArrayD<T> {
        let unchanged = self.is_identity()
            && reduced.shape() == self.target_shape.as_slice()
            && reduced.is_standard_layout();
        if unchanged {
            reduced
        } else {
            self.apply(reduced.view())
        }
    }

    /// Whether expanding changes nothing: the reduced gradient already has the operand's axes
    /// in order and its shape (no label to spread, no diagonal, no axis of extent 1 to stretch).
    ///
    /// ```
    /// use einsum_runtime::engine::vjp;
    /// use einsum_runtime::spec::Spec;
    /// let matmul = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
    /// assert!(vjp::plan(&matmul, 0, &[2, 3, 4], &[2, 3]).1.is_identity());
    /// let trace = Spec::parse("ii->").unwrap().resolve(&[2]).unwrap();
    /// assert!(!vjp::plan(&trace, 0, &[2], &[2, 2]).1.is_identity());
    /// ```
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.reduced_slots == self.target_slots && self.reduced_shape == self.target_shape
    }

    /// Whether the operand repeats a slot, so that its gradient lands on a diagonal.
    fn has_diagonal(&self) -> bool {
        (0..self.target_slots.len()).any(|a| self.target_slots[..a].contains(&self.target_slots[a]))
    }

    /// [`apply`](Expansion::apply) into `out` (the operand's shape), as `write` says, for an
    /// operand without a diagonal ([`Expansion::has_diagonal`]): `reduced` (one axis per
    /// kept slot, each of its slot's extent or 1) is read through a permuted, broadcast view, and
    /// nothing is allocated for up to four axes (ndarray keeps their shapes inline).
    fn spread_into<T: Element>(
        &self,
        reduced: &ArrayViewD<'_, T>,
        out: &mut ArrayViewMutD<'_, T>,
        write: Write,
    ) {
        let order: Slots = (self.target_slots.iter())
            .filter_map(|s| self.reduced_slots.iter().position(|r| r == s))
            .collect();
        let mut view = reduced.view().permuted_axes(&order[..]);
        for (axis, slot) in self.target_slots.iter().enumerate() {
            if !self.reduced_slots.contains(slot) {
                view.insert_axis_inplace(Axis(axis));
            }
        }
        match view.broadcast(out.raw_dim()) {
            Some(full) => into::write_from(out, &full, write),
            None => unreachable!("kept axes have the operand's extents, the others length 1"),
        }
    }

    /// The general case, for an operand with a repeated slot: zeros, and the (broadcast)
    /// reduced gradient written into the diagonal — a strided view of the result with one axis
    /// per distinct slot, whose stride is the sum of the strides of the operand's axes with
    /// that slot. An axis of extent 1 whose slot is longer broadcast in the forward pass (the
    /// engine dropped it), so it takes no part in the diagonal.
    fn apply_with_diagonals<T: Element>(&self, reduced: &ArrayViewD<'_, T>) -> ArrayD<T> {
        let shape = &self.target_shape;
        if shape.contains(&0) {
            return ArrayD::zeros(IxDyn(shape));
        }
        let mut result = ArrayD::<T>::zeros(IxDyn(shape));
        let strides = result.strides().to_vec();
        let Some(data) = result.as_slice_mut() else {
            unreachable!("a fresh array is contiguous")
        };
        let Some((mut diagonal, distinct)) =
            super::diagonal::view_mut(data, &self.target_slots, shape, &strides)
        else {
            unreachable!("called only when some slot repeats")
        };
        // The reduced gradient with its axes in `distinct` order, broadcast along the rest.
        let order: Vec<usize> = distinct
            .iter()
            .filter_map(|s| self.reduced_slots.iter().position(|r| r == s))
            .collect();
        let mut source = reduced.view().permuted_axes(order);
        for (axis, slot) in distinct.iter().enumerate() {
            if !self.reduced_slots.contains(slot) {
                source.insert_axis_inplace(Axis(axis));
            }
        }
        match source.broadcast(diagonal.raw_dim()) {
            Some(source) => diagonal.assign(&source),
            None => unreachable!("the kept slots have their extents, the others length 1"),
        }
        result
    }

    /// The contraction that maps an operand-shaped array back to the reduced axes: the
    /// derivative of [`apply`](Expansion::apply) (it sums along broadcast axes and takes
    /// diagonals). Its single input has the operand's axes.
    ///
    /// ```
    /// use einsum_runtime::engine::vjp;
    /// use einsum_runtime::spec::Spec;
    /// let c = Spec::parse("ii->").unwrap().resolve(&[2]).unwrap();
    /// let (_, expansion) = vjp::plan(&c, 0, &[2], &[2, 2]);
    /// let adjoint = expansion.adjoint(); // the trace again: sums the diagonal
    /// assert_eq!(adjoint.inputs(), &[vec![0, 0]]);
    /// assert_eq!(adjoint.output(), &[] as &[usize]);
    /// ```
    #[must_use]
    pub fn adjoint(&self) -> Contraction {
        match Contraction::from_parts(
            vec![self.target_slots.clone()],
            self.reduced_slots.clone(),
            self.slots.clone(),
        ) {
            Some(contraction) => contraction,
            None => unreachable!("kept slots are slots of the operand"),
        }
    }

    /// The operand's shape, which [`apply`](Expansion::apply) produces.
    ///
    /// ```
    /// use einsum_runtime::engine::vjp;
    /// let c = einsum_runtime::spec::Spec::parse("ij->").unwrap().resolve(&[2]).unwrap();
    /// assert_eq!(vjp::plan(&c, 0, &[2, 3], &[2, 3]).1.target_shape(), &[2, 3]);
    /// ```
    #[must_use]
    pub fn target_shape(&self) -> &[usize] {
        &self.target_shape
    }
}

/// The contraction that computes operand `k`'s reduced gradient from the inputs
/// `[g, operands except k (in order)]`, and the [`Expansion`] to apply to its result.
/// `extents` are the contraction's bound extents, `shape_k` operand `k`'s shape.
///
/// The reduced gradient keeps each slot of operand `k` once, except slots that occur nowhere
/// else (neither in the output nor in another operand) and slots along which operand `k` has
/// extent 1 while the slot is longer: those are summed.
///
/// ```
/// use einsum_runtime::engine::vjp;
/// use einsum_runtime::spec::Spec;
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let (reduce, _) = vjp::plan(&c, 1, &[2, 3, 4], &[3, 4]);
/// // dB = einsum("ik,ij->jk", g, A)
/// assert_eq!(reduce.inputs(), &[vec![0, 2], vec![0, 1]]);
/// assert_eq!(reduce.output(), &[1, 2]);
/// ```
#[must_use]
pub fn plan(
    contraction: &Contraction,
    k: usize,
    extents: &[usize],
    shape_k: &[usize],
) -> (Contraction, Expansion) {
    let axes = &contraction.inputs()[k];
    let elsewhere = |slot: usize| {
        contraction.output().contains(&slot)
            || contraction
                .inputs()
                .iter()
                .enumerate()
                .any(|(j, t)| j != k && t.contains(&slot))
    };
    let mut kept: Vec<usize> = Vec::new();
    for (axis, &slot) in axes.iter().enumerate() {
        let broadcast = shape_k[axis] != extents[slot];
        if !kept.contains(&slot) && !broadcast && elsewhere(slot) {
            kept.push(slot);
        }
    }
    let inputs: Vec<Vec<usize>> = std::iter::once(contraction.output().to_vec())
        .chain(
            contraction
                .inputs()
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != k)
                .map(|(_, t)| t.clone()),
        )
        .collect();
    let slots = contraction.slots().to_vec();
    let reduce = match Contraction::from_parts(inputs, kept.clone(), slots.clone()) {
        Some(reduce) => reduce,
        None => unreachable!("every kept slot occurs in the output or another operand"),
    };
    let expansion = Expansion {
        target_slots: axes.clone(),
        target_shape: shape_k.to_vec(),
        reduced_shape: kept.iter().map(|&s| extents[s]).collect(),
        reduced_slots: kept,
        slots,
    };
    (reduce, expansion)
}

/// The gradient of `contraction` with respect to every operand, given the upstream gradient
/// `g` (shaped like the output): one array per operand, each of its operand's shape.
///
/// # Errors
///
/// [`ShapeError`] when the operands do not fit the contraction or `g` does not have the
/// output's shape; [`ShapeError::TooLarge`] or [`ShapeError::AllocationFailed`] when a gradient
/// (shaped like its operand, which may be a broadcast view) or an intermediate cannot be
/// allocated.
///
/// ```
/// use einsum_runtime::engine::vjp;
/// use einsum_runtime::spec::Spec;
/// use ndarray::array;
///
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[5.0, 6.0], [7.0, 8.0]];
/// let g = array![[1.0, 0.0], [0.0, 1.0]];
/// let grads = vjp::vjp(&c, &[a.view().into_dyn(), b.view().into_dyn()], g.view().into_dyn()).unwrap();
/// assert_eq!(grads[0], g.dot(&b.t()).into_dyn()); // dA = g B^T
/// assert_eq!(grads[1], a.t().dot(&g).into_dyn()); // dB = A^T g
/// ```
pub fn vjp<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    g: ArrayViewD<'_, T>,
) -> Result<Vec<ArrayD<T>>, ShapeError> {
    gradients(contraction, operands, g, Intermediates::new(), &All)
}

/// The pairwise intermediates a forward pass computed ([`forward_saving`]), kept for the
/// gradients of the same contraction on the same operands ([`vjp_reusing`]). Cloning is cheap:
/// the arrays are shared.
///
/// ```
/// use einsum_runtime::engine::vjp;
/// let c = einsum_runtime::spec::Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let a = ndarray::Array2::<f64>::eye(2).into_dyn();
/// let (_, saved) = vjp::forward_saving(&c, &[a.view(), a.view()]).unwrap();
/// assert!(saved.is_empty()); // two operands: nothing to share
/// ```
#[derive(Clone, Debug)]
pub struct Saved<T> {
    intermediates: Intermediates<T>,
    /// The contraction they belong to (its slot numbers are the intermediates' keys).
    contraction: Option<Contraction>,
    /// Each operand's address, shape and strides: the operands the intermediates belong to.
    operands: Vec<(usize, Vec<usize>, Vec<isize>)>,
}

impl<T: Element> Saved<T> {
    /// Nothing saved: [`vjp_reusing`] with it is [`vjp`].
    ///
    /// ```
    /// assert!(einsum_runtime::engine::Saved::<f64>::none().is_empty());
    /// ```
    #[must_use]
    pub fn none() -> Self {
        Saved {
            intermediates: Intermediates::new(),
            contraction: None,
            operands: Vec::new(),
        }
    }

    /// Whether no intermediate is saved.
    ///
    /// ```
    /// assert!(einsum_runtime::engine::Saved::<f32>::none().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.intermediates.is_empty()
    }

    /// How many intermediates are saved.
    ///
    /// ```
    /// assert_eq!(einsum_runtime::engine::Saved::<f32>::none().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.intermediates.len()
    }

    /// Whether these intermediates were computed for this contraction from exactly these
    /// arrays (same addresses, shapes and strides).
    fn belongs_to(&self, contraction: &Contraction, operands: &[ArrayViewD<'_, T>]) -> bool {
        self.contraction.as_ref() == Some(contraction)
            && self.operands.len() == operands.len()
            && self
                .operands
                .iter()
                .zip(operands)
                .all(|(seen, operand)| *seen == fingerprint(operand))
    }
}

/// An operand's address, shape and strides.
fn fingerprint<T>(operand: &ArrayViewD<'_, T>) -> (usize, Vec<usize>, Vec<isize>) {
    (
        operand.as_ptr() as usize,
        operand.shape().to_vec(),
        operand.strides().to_vec(),
    )
}

/// Whether a contraction of `operands` operands has pairwise intermediates to keep or share:
/// three or more (with two, the one pairwise step's result is the output).
///
/// ```
/// use einsum_runtime::engine::vjp::keeps_intermediates;
/// assert!(!keeps_intermediates(2));
/// assert!(keeps_intermediates(3));
/// ```
#[must_use]
pub fn keeps_intermediates(operands: usize) -> bool {
    operands >= 3
}

/// [`contract`], keeping the pairwise intermediates of the evaluation for the gradients
/// ([`vjp_reusing`]). With fewer than three operands there is nothing to keep.
///
/// # Errors
///
/// As [`contract`].
///
/// ```
/// use einsum_runtime::engine::{self, vjp};
/// use einsum_runtime::spec::Spec;
/// use ndarray::Array2;
///
/// let chain = Spec::parse("ij,jk,kl->il").unwrap().resolve(&[2, 2, 2]).unwrap();
/// let (a, b, c) = (Array2::<f64>::ones((40, 30)), Array2::ones((30, 20)), Array2::ones((20, 10)));
/// let operands = [a.view().into_dyn(), b.view().into_dyn(), c.view().into_dyn()];
/// let (value, saved) = vjp::forward_saving(&chain, &operands).unwrap();
/// assert_eq!(value, engine::contract(&chain, &operands).unwrap());
/// assert_eq!(saved.len(), 1); // `bc`, the one intermediate of the chosen order
/// ```
pub fn forward_saving<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
) -> Result<(ArrayD<T>, Saved<T>), ShapeError> {
    if !keeps_intermediates(operands.len()) {
        return Ok((contract(contraction, operands)?, Saved::none()));
    }
    let mut intermediates = Intermediates::new();
    // Numbered as `vjp` numbers its pool: 0 is the output gradient, `k + 1` operand `k`.
    let origins: Vec<u64> = (0..operands.len()).map(|k| origin_bit(k + 1)).collect();
    let value = contract_tracked(contraction, operands, &origins, &mut intermediates)?;
    let saved = Saved {
        intermediates,
        contraction: Some(contraction.clone()),
        operands: operands.iter().map(fingerprint).collect(),
    };
    Ok((value, saved))
}

/// [`vjp`], starting from the intermediates the forward pass saved ([`forward_saving`] on the
/// same contraction and the same, unchanged, operands): a gradient that needs one of them
/// takes it instead of recomputing it. Intermediates saved for another contraction or from
/// other arrays (another address, shape or strides) are ignored.
///
/// # Errors
///
/// As [`vjp`].
///
/// ```
/// use einsum_runtime::engine::vjp;
/// use einsum_runtime::spec::Spec;
/// use ndarray::Array2;
///
/// let chain = Spec::parse("ij,jk,kl->il").unwrap().resolve(&[2, 2, 2]).unwrap();
/// let (a, b, c) = (Array2::<f64>::ones((40, 30)), Array2::ones((30, 20)), Array2::ones((20, 10)));
/// let operands = [a.view().into_dyn(), b.view().into_dyn(), c.view().into_dyn()];
/// let (value, saved) = vjp::forward_saving(&chain, &operands).unwrap();
/// let g = ndarray::ArrayD::ones(value.shape());
/// let reused = vjp::vjp_reusing(&chain, &operands, g.view(), &saved).unwrap();
/// assert_eq!(reused, vjp::vjp(&chain, &operands, g.view()).unwrap());
/// ```
pub fn vjp_reusing<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    g: ArrayViewD<'_, T>,
    saved: &Saved<T>,
) -> Result<Vec<ArrayD<T>>, ShapeError> {
    vjp_selected(contraction, operands, g, saved, &All)
}

/// Which operands' gradients are wanted.
pub trait Wanted {
    /// Whether operand `k`'s gradient is wanted.
    fn wants(&self, k: usize) -> bool;
}

/// Every operand's gradient.
pub struct All;

impl Wanted for All {
    fn wants(&self, _: usize) -> bool {
        true
    }
}

/// The operands whose positions are listed, in increasing order.
impl Wanted for [usize] {
    fn wants(&self, k: usize) -> bool {
        self.contains(&k)
    }
}

/// [`vjp_reusing`] for the operands `wanted` names only: one array per wanted operand, in
/// operand order. The others cost nothing.
///
/// # Errors
///
/// As [`vjp`].
///
/// ```
/// use einsum_runtime::engine::vjp;
/// use einsum_runtime::spec::Spec;
/// use ndarray::Array2;
///
/// let chain = Spec::parse("ij,jk,kl->il").unwrap().resolve(&[2, 2, 2]).unwrap();
/// let (a, b, c) = (Array2::<f64>::ones((4, 3)), Array2::ones((3, 2)), Array2::ones((2, 5)));
/// let operands = [a.view().into_dyn(), b.view().into_dyn(), c.view().into_dyn()];
/// let g = ndarray::ArrayD::ones(vec![4, 5]);
/// let all = vjp::vjp(&chain, &operands, g.view()).unwrap();
/// let only_b = vjp::vjp_selected(&chain, &operands, g.view(), &vjp::Saved::none(), &[1][..]).unwrap();
/// assert_eq!(only_b, vec![all[1].clone()]);
/// ```
pub fn vjp_selected<T: Element, W: Wanted + ?Sized>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    g: ArrayViewD<'_, T>,
    saved: &Saved<T>,
    wanted: &W,
) -> Result<Vec<ArrayD<T>>, ShapeError> {
    let start = if saved.belongs_to(contraction, operands) {
        saved.intermediates.clone()
    } else {
        Intermediates::new()
    };
    gradients(contraction, operands, g, start, wanted)
}

/// The gradients of the operands `grads` names, written into (or, with [`Write::Add`], added
/// to) the arrays beside them; `grads` lists each wanted operand once, in increasing order.
/// As [`vjp_selected`] otherwise.
///
/// Repeated calls with the same contraction and shapes on one thread allocate nothing of the
/// engine's own once warm, for:
///
/// - a contraction that is one matrix product (`ij,jk->ik`, its transposes, several axes per
///   group): one GEMM per wanted gradient with its buffer as the product's `c` (BLAS's `beta`
///   0 or 1), the other gradient not computed;
/// - one or two operands whose gradients need no diagonal: each gradient's contraction
///   ([`plan`], kept in the thread's memo) is evaluated into its buffer as `einsum_into!`
///   evaluates a contraction, through a pooled buffer when the gradient is spread along
///   summed or broadcast axes.
///
/// What may still allocate: products large enough for threads (rayon's jobs), shapes of more
/// than four axes, copies of operands whose strides allow no matrix view, and the other
/// contractions (a repeated label, three operands or more), whose gradients are computed as
/// [`vjp_selected`] computes them and then written.
///
/// # Errors
///
/// As [`vjp`], and [`ShapeError::GradientBufferShape`] when a buffer does not have its
/// operand's shape. Nothing is written when there is an error: every shape is checked before
/// anything is written. (Past the checks, only the allocator can fail, refusing an
/// intermediate no larger than `g`, an operand or a gradient.)
///
/// ```
/// use einsum_runtime::engine::{vjp, Saved, Write};
/// use einsum_runtime::spec::Spec;
/// use ndarray::{array, Array2};
///
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[5.0, 6.0], [7.0, 8.0]];
/// let g = array![[1.0, 0.0], [0.0, 1.0]];
/// let operands = [a.view().into_dyn(), b.view().into_dyn()];
/// // Only `B`'s gradient, added to what the buffer holds.
/// let mut db = Array2::<f64>::ones((2, 2));
/// let mut grads = [(1, db.view_mut().into_dyn())];
/// vjp::vjp_into(&c, &operands, g.view().into_dyn(), &Saved::none(), &mut grads, Write::Add)
///     .unwrap();
/// assert_eq!(db, a.t().dot(&g) + 1.0); // dB = A^T g
/// ```
pub fn vjp_into<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    g: ArrayViewD<'_, T>,
    saved: &Saved<T>,
    grads: &mut [(usize, ArrayViewMutD<'_, T>)],
    write: Write,
) -> Result<(), ShapeError> {
    for (k, buffer) in grads.iter() {
        let expected = operands[*k].shape();
        if buffer.shape() != expected {
            return Err(ShapeError::GradientBufferShape {
                operand: *k,
                expected: expected.to_vec(),
                actual: buffer.shape().to_vec(),
            });
        }
    }
    let output = contraction.output();
    if let ([a_axes, b_axes], [a, b]) = (contraction.inputs(), operands) {
        let route = Route::without_tables(contraction.inputs(), output, &[a.shape(), b.shape()]);
        let done = route == Some(Route::MatrixProduct)
            && matmul::matrix_product_gradients_into(
                a_axes,
                b_axes,
                output,
                [a, b],
                &g,
                grads,
                write,
            );
        if done {
            return Ok(());
        }
    }
    if matches!(operands.len(), 1 | 2) && into_buffers(contraction, operands, &g, grads, write)? {
        return Ok(());
    }
    let wanted: SmallVec<[usize; 4]> = grads.iter().map(|(k, _)| *k).collect();
    let values = vjp_selected(contraction, operands, g, saved, wanted.as_slice())?;
    for ((_, buffer), value) in grads.iter_mut().zip(values) {
        into::write_from(buffer, &value.view(), write);
    }
    Ok(())
}

/// The gradients `grads` names, for a contraction of one or two operands, each evaluated
/// into its buffer: `Ok(false)`, with nothing written, when one of them needs a diagonal (the
/// caller then computes them as [`vjp_selected`] does).
fn into_buffers<T: Element>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    g: &ArrayViewD<'_, T>,
    grads: &mut [(usize, ArrayViewMutD<'_, T>)],
    write: Write,
) -> Result<bool, ShapeError> {
    let extents = super::bind_extents(contraction, operands)?;
    check_gradient(contraction.output(), &extents, g)?;
    let shapes: SmallVec<[&[usize]; 2]> = operands.iter().map(|a| a.shape()).collect();
    let mut plans: SmallVec<[memo::GradientPlan; 2]> = SmallVec::new();
    for (k, _) in grads.iter() {
        let plan = memo::gradient_plan(contraction, *k, &shapes)?;
        if plan.1.has_diagonal() {
            return Ok(false);
        }
        plans.push(plan);
    }
    // Past here only an intermediate's size can be refused, and none is larger than `g`, an
    // operand or a gradient: checked now, so that a second gradient cannot fail once the
    // first is written.
    if grads.len() > 1 {
        alloc::elements::<T>(Buffer::Intermediate, g.shape())?;
        for operand in operands {
            alloc::elements::<T>(Buffer::Intermediate, operand.shape())?;
        }
    }
    for ((k, buffer), plan) in grads.iter_mut().zip(&plans) {
        let (reduce, expansion) = (&*plan.0, &*plan.1);
        // `g`, then every operand but `k`, as `plan` orders the inputs.
        let others = (operands.iter().enumerate())
            .filter(|&(j, _)| j != *k)
            .map(|(_, a)| a.view());
        let inputs: SmallVec<[ArrayViewD<'_, T>; 2]> =
            std::iter::once(g.view()).chain(others).collect();
        // The reduced gradient's own extents: a slot that only operands of extent 1 along it
        // have is 1 here, though longer in the buffer.
        let reduce_extents = super::bind_extents(reduce, &inputs)?;
        let shape: Slots = (reduce.output().iter())
            .map(|&s| reduce_extents[s])
            .collect();
        if expansion.is_identity() && shape.as_slice() == buffer.shape() {
            into::general(reduce, &inputs, buffer.view_mut(), write)?;
            continue;
        }
        // Spread along summed or broadcast axes: the reduced gradient goes to a buffer from
        // the thread's pool, and is read from there through a broadcast view.
        let len = shape.iter().product();
        let values = pool::take::<T>(len).unwrap_or_else(|| vec![T::zero(); len]);
        let mut reduced = Pooled::from_shape_vec(&shape, values);
        into::general(reduce, &inputs, reduced.view_mut(), Write::Assign)?;
        expansion.spread_into(&reduced.view(), buffer, write);
    }
    Ok(true)
}

/// [`ShapeError::GradientShape`] when `g` does not have the output's shape for `extents`.
fn check_gradient<T>(
    output: &[usize],
    extents: &[usize],
    g: &ArrayViewD<'_, T>,
) -> Result<(), ShapeError> {
    let fits =
        g.ndim() == output.len() && output.iter().zip(g.shape()).all(|(&s, &n)| extents[s] == n);
    if fits {
        return Ok(());
    }
    Err(ShapeError::GradientShape {
        expected: output.iter().map(|&s| extents[s]).collect(),
        actual: g.shape().to_vec(),
    })
}

/// The `wanted` gradients of [`vjp`], with the store of intermediates starting as `shared`.
fn gradients<T: Element, W: Wanted + ?Sized>(
    contraction: &Contraction,
    operands: &[ArrayViewD<'_, T>],
    g: ArrayViewD<'_, T>,
    mut shared: Intermediates<T>,
    wanted: &W,
) -> Result<Vec<ArrayD<T>>, ShapeError> {
    let shapes: Vec<&[usize]> = operands.iter().map(|a| a.shape()).collect();
    let output = contraction.output();
    let route = Route::without_tables(contraction.inputs(), output, &shapes);
    if let (Some(Route::MatrixProduct), [a_axes, b_axes], [a, b]) =
        (route, contraction.inputs(), operands)
    {
        // A matrix product `A · B`: `G · B^T` and `A^T · G` on the same matrix views, with
        // none of the per-gradient tables below, each only when wanted.
        let wants = [wanted.wants(0), wanted.wants(1)];
        if let Some(grads) =
            matmul::matrix_product_gradients(a_axes, b_axes, output, [a, b], &g, wants)
        {
            return Ok(grads.into_iter().flatten().collect());
        }
    }
    let extents = contraction.bind_extents(&shapes)?;
    check_gradient(output, &extents, &g)?;
    // Every gradient contracts `g` with the other operands, so with three operands or more
    // their pairwise intermediates can coincide (both `x` gradients of `bi,bjik,bk->bj` start
    // from `sum_j g_bj h_bjik`): evaluate them over one pool `[g, operands…]` and share.
    let pool: Vec<ArrayViewD<'_, T>> = std::iter::once(g.view())
        .chain(operands.iter().map(|a| a.view()))
        .collect();
    // Each gradient has its operand's shape, which a broadcast view can make larger than
    // memory: checked for all before any is computed.
    for (operand, shape) in shapes.iter().enumerate() {
        if wanted.wants(operand) {
            super::alloc::reserve::<T>(einsum_spec::Buffer::Gradient { operand }, shape)?;
        }
    }
    (0..operands.len())
        .filter(|&k| wanted.wants(k))
        .map(|k| {
            let (reduce, expansion) = plan(contraction, k, &extents, shapes[k]);
            // `g`, then every operand but `k`, as `plan` orders the inputs.
            let pool_indices: Vec<usize> = std::iter::once(0)
                .chain((0..operands.len()).filter(|&j| j != k).map(|j| j + 1))
                .collect();
            let reduced = if keeps_intermediates(operands.len()) {
                contract_sharing(&reduce, &pool, &pool_indices, &mut shared)?
            } else {
                let inputs: Vec<ArrayViewD<'_, T>> =
                    pool_indices.iter().map(|&p| pool[p].view()).collect();
                contract(&reduce, &inputs)?
            };
            Ok(expansion.apply_owned(reduced))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use einsum_spec::Spec;
    use ndarray::Slice;

    /// Values that are not all alike, from a seed.
    fn fill(shape: &[usize], seed: usize) -> ArrayD<f64> {
        let mut n = seed;
        ArrayD::from_shape_fn(IxDyn(shape), |_| {
            n += 7;
            (n % 23) as f64 / 4.0 - 2.5
        })
    }

    /// The layouts of operands and buffers: standard, stored with the axes reversed (a
    /// transposed view), and every other element along the first axis (not contiguous).
    const LAYOUTS: usize = 3;

    /// An owned array that, viewed through [`layout_view`], has `shape` in `layout`.
    fn storage(shape: &[usize], layout: usize, seed: usize) -> ArrayD<f64> {
        match layout {
            0 => fill(shape, seed),
            1 => fill(&shape.iter().rev().copied().collect::<Vec<_>>(), seed),
            _ => {
                let mut longer = shape.to_vec();
                longer[0] *= 2;
                fill(&longer, seed)
            }
        }
    }

    /// `storage` viewed as the array of `layout`.
    fn layout_view(storage: &ArrayD<f64>, layout: usize) -> ArrayViewD<'_, f64> {
        match layout {
            0 => storage.view(),
            1 => storage.view().reversed_axes(),
            _ => storage.slice_axis(Axis(0), Slice::new(0, None, 2)),
        }
    }

    /// `storage` viewed mutably as the array of `layout`.
    fn layout_view_mut(storage: &mut ArrayD<f64>, layout: usize) -> ArrayViewMutD<'_, f64> {
        match layout {
            0 => storage.view_mut(),
            1 => storage.view_mut().reversed_axes(),
            _ => storage.slice_axis_mut(Axis(0), Slice::new(0, None, 2)),
        }
    }

    #[track_caller]
    fn assert_close(got: &ArrayViewD<'_, f64>, want: &ArrayD<f64>, what: &str) {
        assert_eq!(got.shape(), want.shape(), "{what}: shape");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{what}: {g}, not {w}"
            );
        }
    }

    /// Every subset of the operands' positions that is not empty, in increasing order.
    fn subsets(n: usize) -> Vec<Vec<usize>> {
        (1..1usize << n)
            .map(|mask| (0..n).filter(|k| mask & (1 << k) != 0).collect())
            .collect()
    }

    /// `vjp_into` against `vjp` for `spec` on operands of `shapes`: every layout of operands
    /// and buffers, every subset of wanted gradients, both ways of writing.
    fn check(spec: &str, shapes: &[&[usize]]) {
        let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
        let c = Spec::parse(spec).unwrap().resolve(&ranks).unwrap();
        for operand_layout in 0..LAYOUTS {
            // Operands of rank 0 have no first axis to step along.
            let layout_of = |s: &[usize]| if s.is_empty() { 0 } else { operand_layout };
            let stores: Vec<ArrayD<f64>> = (shapes.iter().enumerate())
                .map(|(k, s)| storage(s, layout_of(s), k + 1))
                .collect();
            let operands: Vec<ArrayViewD<'_, f64>> = (stores.iter().zip(shapes))
                .map(|(store, s)| layout_view(store, layout_of(s)))
                .collect();
            let output_shape = contract(&c, &operands).unwrap().shape().to_vec();
            let g = fill(&output_shape, 9);
            let all = vjp(&c, &operands, g.view()).unwrap();
            for wanted in subsets(shapes.len()) {
                for buffer_layout in 0..LAYOUTS {
                    for write in [Write::Assign, Write::Add] {
                        let layout_of = |k: usize| {
                            if shapes[k].is_empty() {
                                0
                            } else {
                                buffer_layout
                            }
                        };
                        let mut buffers: Vec<ArrayD<f64>> = (wanted.iter())
                            .map(|&k| storage(shapes[k], layout_of(k), 20 + k))
                            .collect();
                        let before: Vec<ArrayD<f64>> = (wanted.iter().zip(&mut buffers))
                            .map(|(&k, b)| layout_view_mut(b, layout_of(k)).to_owned())
                            .collect();
                        let mut grads: Vec<(usize, ArrayViewMutD<'_, f64>)> = (wanted.iter())
                            .zip(&mut buffers)
                            .map(|(&k, b)| (k, layout_view_mut(b, layout_of(k))))
                            .collect();
                        vjp_into(&c, &operands, g.view(), &Saved::none(), &mut grads, write)
                            .unwrap();
                        for ((&k, (_, got)), before) in wanted.iter().zip(&grads).zip(&before) {
                            let want = match write {
                                Write::Assign => all[k].clone(),
                                Write::Add => &all[k] + before,
                            };
                            let what = format!(
                                "{spec} d{k} of {wanted:?}, operands in layout \
                                 {operand_layout}, buffers in {buffer_layout}, {write:?}"
                            );
                            assert_close(&got.view(), &want, &what);
                        }
                    }
                }
            }
            // The owned path computes only what is wanted, and the same values.
            for wanted in subsets(shapes.len()) {
                let some =
                    vjp_selected(&c, &operands, g.view(), &Saved::none(), &wanted[..]).unwrap();
                assert_eq!(some.len(), wanted.len(), "{spec} {wanted:?}");
                for (&k, grad) in wanted.iter().zip(&some) {
                    assert_close(&grad.view(), &all[k], &format!("{spec} selected d{k}"));
                }
            }
        }
    }

    #[test]
    fn matrix_products_into_buffers_match_vjp() {
        check("ij,jk->ik", &[&[4, 5], &[5, 6]]);
        check("ij,kj->ik", &[&[4, 5], &[6, 5]]);
        check("ji,jk->ki", &[&[5, 4], &[5, 6]]);
        check("ij,bj->bi", &[&[3, 3], &[40, 3]]);
        // Several axes per group: a buffer of three axes views as a matrix only in some
        // layouts; the others take the general path.
        check("bij,jk->bik", &[&[2, 3, 4], &[4, 5]]);
        check("nmkd,dkef->efnm", &[&[2, 3, 2, 2], &[2, 2, 3, 2]]);
    }

    #[test]
    fn one_and_two_operands_into_buffers_match_vjp() {
        // No spreading: each gradient's contraction straight into its buffer.
        check("ij,j->i", &[&[6, 5], &[5]]);
        check("ij,ij->ij", &[&[4, 5], &[4, 5]]);
        check("i,j->ij", &[&[4], &[5]]);
        check("ij->ji", &[&[4, 5]]);
        check("ij,jk->ijk", &[&[3, 4], &[4, 5]]);
        // Spread along a summed axis, and along an axis of extent 1 that broadcast.
        check("ij->j", &[&[6, 5]]);
        check("ij->", &[&[6, 5]]);
        check("ij,jk->ik", &[&[4, 5], &[1, 6]]);
        check("ij,j->", &[&[4, 1], &[5]]);
        // Large enough for the pairwise route rather than the loop nest.
        check("ij,jk->ijk", &[&[20, 30], &[30, 12]]);
        check("i,->i", &[&[5], &[]]);
        // Empty ranges: a gradient summed over nothing is zeros, which `Assign` must write.
        check("ij,jk->ik", &[&[0, 5], &[5, 6]]);
        check("ij,jk->ik", &[&[4, 0], &[0, 6]]);
    }

    #[test]
    fn diagonals_and_three_operands_into_buffers_match_vjp() {
        check("ii->", &[&[4, 4]]);
        check("ii,i->i", &[&[4, 4], &[4]]);
        check("ij,jk,kl->il", &[&[3, 4], &[4, 5], &[5, 2]]);
        check("bi,bjik,bk->bj", &[&[3, 2], &[3, 4, 2, 2], &[3, 2]]);
    }

    /// Runs `vjp_into` with buffers for `wanted` (the operands' shapes, except `wrong_buffer`
    /// when given), expecting an error and no element written.
    fn error_writes_nothing(
        spec: &str,
        shapes: &[&[usize]],
        g_shape: &[usize],
        wanted: &[usize],
        wrong_buffer: Option<(usize, &[usize])>,
    ) -> ShapeError {
        let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
        let c = Spec::parse(spec).unwrap().resolve(&ranks).unwrap();
        let stores: Vec<ArrayD<f64>> = (shapes.iter().enumerate())
            .map(|(k, s)| fill(s, k))
            .collect();
        let operands: Vec<ArrayViewD<'_, f64>> = stores.iter().map(|a| a.view()).collect();
        let g = fill(g_shape, 5);
        let mut buffers: Vec<ArrayD<f64>> = (wanted.iter())
            .map(|&k| match wrong_buffer {
                Some((wrong, shape)) if wrong == k => fill(shape, 7),
                _ => fill(shapes[k], 7 + k),
            })
            .collect();
        let before = buffers.clone();
        for write in [Write::Assign, Write::Add] {
            let mut grads: Vec<(usize, ArrayViewMutD<'_, f64>)> = (wanted.iter().copied())
                .zip(buffers.iter_mut().map(|b| b.view_mut()))
                .collect();
            let result = vjp_into(&c, &operands, g.view(), &Saved::none(), &mut grads, write);
            assert!(result.is_err(), "{spec}: {result:?}");
            assert_eq!(
                buffers, before,
                "{spec}: nothing is written when there is an error"
            );
        }
        let mut grads: Vec<(usize, ArrayViewMutD<'_, f64>)> = (wanted.iter().copied())
            .zip(buffers.iter_mut().map(|b| b.view_mut()))
            .collect();
        match vjp_into(
            &c,
            &operands,
            g.view(),
            &Saved::none(),
            &mut grads,
            Write::Add,
        ) {
            Err(error) => error,
            Ok(()) => unreachable!("checked above"),
        }
    }

    #[test]
    fn nothing_is_written_when_there_is_an_error() {
        // A buffer of the wrong shape, after one of the right shape.
        let error = error_writes_nothing(
            "ij,jk->ik",
            &[&[4, 5], &[5, 6]],
            &[4, 6],
            &[0, 1],
            Some((1, &[6, 5])),
        );
        assert_eq!(
            error,
            ShapeError::GradientBufferShape {
                operand: 1,
                expected: vec![5, 6],
                actual: vec![6, 5],
            }
        );
        // `g` of the wrong shape, on each route: the matrix product, two operands into
        // buffers, one operand spread, a diagonal, three operands.
        let wrong_g = |spec: &str, shapes: &[&[usize]], g_shape: &[usize], wanted: &[usize]| {
            let error = error_writes_nothing(spec, shapes, g_shape, wanted, None);
            assert!(
                matches!(error, ShapeError::GradientShape { .. }),
                "{spec}: {error:?}"
            );
        };
        wrong_g("ij,jk->ik", &[&[4, 5], &[5, 6]], &[4, 7], &[0, 1]);
        wrong_g("ij,j->i", &[&[4, 5], &[5]], &[5], &[0, 1]);
        wrong_g("ij->j", &[&[4, 5]], &[4], &[0]);
        wrong_g("ii,i->i", &[&[4, 4], &[4]], &[3], &[0, 1]);
        wrong_g(
            "ij,jk,kl->il",
            &[&[2, 3], &[3, 4], &[4, 5]],
            &[5, 2],
            &[0, 2],
        );
        // Operands that do not fit the spec.
        let error = error_writes_nothing("ij,jk->ik", &[&[4, 5], &[6, 7]], &[4, 7], &[0], None);
        assert!(matches!(error, ShapeError::Extent { .. }), "{error:?}");
        let error = error_writes_nothing("ij,j->i", &[&[4, 5], &[6]], &[4], &[1], None);
        assert!(matches!(error, ShapeError::Extent { .. }), "{error:?}");
    }

    /// The gradients' plans are made once per thread and shapes, then found again.
    #[test]
    fn gradient_plans_are_found_again() {
        let c = Spec::parse("ij,j->i").unwrap().resolve(&[2, 1]).unwrap();
        let made = |shapes: &[&[usize]]| memo::gradient_plan(&c, 1, shapes).unwrap();
        let first = made(&[&[4, 5], &[5]]);
        let again = made(&[&[4, 5], &[5]]);
        assert!(std::rc::Rc::ptr_eq(&first.0, &again.0));
        assert_eq!(
            (&*first.0, &*first.1),
            (&plan(&c, 1, &[4, 5], &[5]).0, &plan(&c, 1, &[4, 5], &[5]).1)
        );
        let other = made(&[&[4, 6], &[6]]);
        assert!(!std::rc::Rc::ptr_eq(&first.0, &other.0));
        assert_eq!(*other.0, plan(&c, 1, &[4, 6], &[6]).0);
        // Shapes that do not fit are an error, not a plan.
        assert!(memo::gradient_plan(&c, 1, &[&[4, 5], &[6]]).is_err());
    }
}
