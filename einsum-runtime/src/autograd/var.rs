//! The `Var` handle and its node.

use super::grad_mode::is_grad_enabled;
use super::op::Op;
use crate::Float;
use core::fmt;
use ndarray::{arr0, Array, ArrayD, Dimension};
use smallvec::SmallVec;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Ids in creation order: an operation's output always has a larger id than its inputs.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// One value in the graph.
pub(crate) struct Node<T: Float> {
    id: u64,
    value: ArrayD<T>,
    /// The operation that made this value, when it requires grad and is not a leaf.
    op: Option<Op<T>>,
    requires_grad: bool,
}

/// Drops a graph without recursion, so that a chain of many operations (a long unrolled loop)
/// cannot overflow the stack: inputs that this node held the last handle to are unlinked in a
/// loop instead of dropping each other recursively.
impl<T: Float> Drop for Node<T> {
    fn drop(&mut self) {
        let Some(op) = self.op.take() else { return };
        if op.inputs().all(|input| Rc::strong_count(&input.0) > 1) {
            // Each input outlives this node, so dropping `op` drops no node: no recursion.
            return;
        }
        // Inline up to eight: a chain or a small graph unlinks without allocating a list.
        let mut pending: SmallVec<[Var<T>; 8]> = op.into_inputs().into_iter().collect();
        while let Some(var) = pending.pop() {
            if let Ok(mut node) = Rc::try_unwrap(var.0) {
                if let Some(op) = node.op.take() {
                    pending.extend(op.into_inputs());
                }
            }
        }
    }
}

/// A handle to an n-dimensional value in the autograd graph. Cloning is cheap (a reference
/// count) and the clone is the same node: gradients flow to it as to the original.
///
/// See the [module docs](super) for how the graph is recorded.
///
/// ```
/// use einsum_runtime::autograd::Var;
/// use ndarray::array;
///
/// let x = Var::new(array![1.0, 2.0, 3.0]);
/// let loss = (&x * &x).sum(); // sum of squares: gradient 2x
/// let grads = loss.backward();
/// assert_eq!(grads.grad(&x).unwrap(), array![2.0, 4.0, 6.0].into_dyn());
/// ```
pub struct Var<T: Float>(Rc<Node<T>>);

impl<T: Float> Clone for Var<T> {
    fn clone(&self) -> Self {
        Var(Rc::clone(&self.0))
    }
}

impl<T: Float> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Var")
            .field("id", &self.0.id)
            .field("requires_grad", &self.0.requires_grad)
            .field("value", &self.0.value)
            .finish()
    }
}

impl<T: Float> Var<T> {
    fn from_node(value: ArrayD<T>, op: Option<Op<T>>, requires_grad: bool) -> Var<T> {
        Var(Rc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            value,
            op,
            requires_grad,
        }))
    }

    /// A leaf that requires grad: [`backward`](Var::backward) computes its gradient.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let x = Var::new(ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert!(x.requires_grad() && x.is_leaf());
    /// assert_eq!(x.shape(), &[2, 2]);
    /// ```
    #[must_use]
    pub fn new<D: Dimension>(value: Array<T, D>) -> Var<T> {
        Var::from_node(value.into_dyn(), None, true)
    }

    /// A constant: no gradient flows to it or through it.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let c = Var::constant(array![2.0, 3.0]);
    /// let x = Var::new(array![1.0, 1.0]);
    /// let grads = (&x * &c).sum().backward();
    /// assert_eq!(grads.grad(&x).unwrap(), array![2.0, 3.0].into_dyn());
    /// assert!(grads.grad(&c).is_none());
    /// ```
    #[must_use]
    pub fn constant<D: Dimension>(value: Array<T, D>) -> Var<T> {
        Var::from_node(value.into_dyn(), None, false)
    }

    /// A 0-dimensional constant.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// assert_eq!(Var::scalar(2.5).shape(), &[] as &[usize]);
    /// ```
    #[must_use]
    pub fn scalar(value: T) -> Var<T> {
        Var::constant(arr0(value))
    }

    /// Records `op`: computes its value, and keeps the operation when an input requires grad
    /// and grad mode is on. Otherwise the result is a constant.
    pub(crate) fn from_op(op: Op<T>) -> Var<T> {
        let value = op.forward();
        Var::from_op_value(op, value)
    }

    /// Records `op` with its value, computed by the caller (fallibly).
    pub(crate) fn from_op_value(op: Op<T>, value: ArrayD<T>) -> Var<T> {
        if is_grad_enabled() && op.inputs().any(Var::requires_grad) {
            Var::from_node(value, Some(op), true)
        } else {
            Var::from_node(value, None, false)
        }
    }

    /// The value.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// assert_eq!(x.value()[[1]], 2.0);
    /// ```
    #[must_use]
    pub fn value(&self) -> &ArrayD<T> {
        &self.0.value
    }

    /// The shape of the value.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// assert_eq!(Var::new(ndarray::Array2::<f64>::zeros((2, 3))).shape(), &[2, 3]);
    /// ```
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        self.0.value.shape()
    }

    /// The number of axes.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// assert_eq!(Var::scalar(1.0).ndim(), 0);
    /// ```
    #[must_use]
    pub fn ndim(&self) -> usize {
        self.0.value.ndim()
    }

    /// The number of elements.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// assert_eq!(Var::new(ndarray::Array2::<f64>::zeros((2, 3))).len(), 6);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.value.len()
    }

    /// Whether the value has no elements.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// assert!(Var::new(ndarray::Array1::<f64>::zeros(0)).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.value.is_empty()
    }

    /// The only element of a one-element value (of any shape).
    ///
    /// # Panics
    ///
    /// When the value does not have exactly one element.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let x = Var::new(ndarray::array![1.0, 2.0, 3.0]);
    /// assert_eq!(x.sum().item(), 6.0);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn item(&self) -> T {
        assert!(
            self.len() == 1,
            "autograd: `item` needs a value with one element, not shape {:?}",
            self.shape()
        );
        self.0.value.iter().copied().next().unwrap_or_else(T::zero)
    }

    /// A unique id; larger for `Var`s created later.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let x = Var::new(ndarray::arr0(1.0));
    /// let y = x.exp();
    /// assert!(y.id() > x.id());
    /// assert_eq!(x.clone().id(), x.id());
    /// ```
    #[must_use]
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// Whether gradients flow to this `Var`: a leaf made with [`Var::new`], or the result of an
    /// operation recorded with an input that requires grad.
    ///
    /// ```
    /// use einsum_runtime::autograd::{no_grad, Var};
    /// let x = Var::new(ndarray::arr0(1.0));
    /// assert!(x.exp().requires_grad());
    /// assert!(!no_grad(|| x.exp()).requires_grad());
    /// assert!(!Var::scalar(1.0).exp().requires_grad());
    /// ```
    #[must_use]
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// Whether this is a leaf that requires grad (made with [`Var::new`]).
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let x = Var::new(ndarray::arr0(1.0));
    /// assert!(x.is_leaf());
    /// assert!(!x.exp().is_leaf());
    /// ```
    #[must_use]
    pub fn is_leaf(&self) -> bool {
        self.0.requires_grad && self.0.op.is_none()
    }

    /// The same value as a constant: gradients do not flow through the result.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// let x = Var::new(arr0(3.0));
    /// // d/dx (x * detach(x)) = detach(x) = 3, not 2x = 6.
    /// let grads = (&x * &x.detach()).backward();
    /// assert_eq!(grads.grad(&x).unwrap()[[]], 3.0);
    /// ```
    #[must_use]
    pub fn detach(&self) -> Var<T> {
        Var::constant(self.0.value.clone())
    }

    /// Adds `other`'s value (of this value's shape) into this value in place and returns
    /// `true`, when that is what `self + other` would give: both are constants (the sum of a
    /// recorded value must be a recorded node, and a recorded value must stay its operation's
    /// result) and this is the only handle to `self`. Otherwise changes nothing and returns
    /// `false`. The backward pass sums the gradients of a value used several times this way.
    pub(crate) fn add_in_place(&mut self, other: &Var<T>) -> bool {
        if self.0.requires_grad || other.0.requires_grad || self.shape() != other.shape() {
            return false;
        }
        match Rc::get_mut(&mut self.0) {
            Some(node) => {
                node.value.zip_mut_with(&other.0.value, |x, &y| *x = *x + y);
                true
            }
            None => false,
        }
    }

    /// `f` applied to every element in place, when this `Var` is a constant held by no other
    /// handle: the result is what recording the operation would give (a constant, since its
    /// input is one), reusing the node and its array under a new id. Otherwise `Err(self)`.
    pub(crate) fn map_in_place(mut self, f: impl Fn(T) -> T) -> Result<Var<T>, Var<T>> {
        if self.0.requires_grad {
            return Err(self);
        }
        let Some(node) = Rc::get_mut(&mut self.0) else {
            return Err(self);
        };
        node.value.mapv_inplace(f);
        node.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Ok(self)
    }

    /// `f(self, other)` elementwise written into this value, under the conditions of
    /// [`map_in_place`](Var::map_in_place) and when `other` is a constant of the same shape.
    /// Otherwise `Err(self)`.
    pub(crate) fn zip_in_place(
        mut self,
        other: &Var<T>,
        f: impl Fn(T, T) -> T,
    ) -> Result<Var<T>, Var<T>> {
        if self.0.requires_grad || other.0.requires_grad || self.shape() != other.shape() {
            return Err(self);
        }
        let Some(node) = Rc::get_mut(&mut self.0) else {
            return Err(self);
        };
        node.value
            .zip_mut_with(&other.0.value, |x, &y| *x = f(*x, y));
        node.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Ok(self)
    }

    /// The operation that made this `Var`, if it was recorded.
    pub(crate) fn op(&self) -> Option<&Op<T>> {
        self.0.op.as_ref()
    }
}
