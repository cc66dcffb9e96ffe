//! The backward pass: gradients of one output with respect to everything it depends on.

use super::grad_mode::with_grad_mode;
use super::{Float, Var};
use crate::EinsumError;
use einsum_spec::ShapeError;
use ndarray::{ArrayD, IxDyn};
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a node id by one multiplication. Ids are distinct counters chosen by this crate,
/// not by an adversary, so the default SipHash (a tenth of a tiny training step) buys nothing.
#[derive(Clone, Copy, Debug, Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        // Fibonacci hashing: spreads consecutive ids over the high bits as well.
        self.0 = (self.0 ^ id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by node id.
type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Gradients being accumulated during a backward pass, keyed by node id, and the recorded
/// nodes that have a gradient and still have to pass it to their inputs.
pub(crate) struct Accumulator<T: Float> {
    grads: IdMap<Var<T>>,
    /// Recorded nodes with a gradient, not yet visited, largest id first.
    pending: BinaryHeap<ById<T>>,
    /// The first contribution that could not be computed (a gradient too large to allocate);
    /// the pass stops there.
    error: Option<ShapeError>,
}

/// A `Var` ordered by id, for the queue of nodes to visit.
struct ById<T: Float>(Var<T>);

impl<T: Float> PartialEq for ById<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}

impl<T: Float> Eq for ById<T> {}

impl<T: Float> PartialOrd for ById<T> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Float> Ord for ById<T> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.id().cmp(&other.0.id())
    }
}

/// Room reserved for gradients at the start of a backward pass: enough for a small model's
/// graph without growing the map.
const INITIAL_GRADIENTS: usize = 16;

impl<T: Float> Accumulator<T> {
    /// Adds the contribution `grad()` to `input`'s gradient, when `input` requires grad (else
    /// `grad` is not even called). A value used several times gets the sum of contributions.
    pub(crate) fn add(&mut self, input: &Var<T>, grad: impl FnOnce() -> Var<T>) {
        self.try_add(input, || Ok(grad()));
    }

    /// As [`add`](Accumulator::add), for a contribution whose computation can fail: the
    /// first failure is kept (see [`Var::try_backward_with`]) and nothing is added.
    pub(crate) fn try_add(
        &mut self,
        input: &Var<T>,
        grad: impl FnOnce() -> Result<Var<T>, ShapeError>,
    ) {
        if !input.requires_grad() || self.error.is_some() {
            return;
        }
        let grad = match grad() {
            Ok(grad) => grad,
            Err(error) => {
                self.error = Some(error);
                return;
            }
        };
        debug_assert_eq!(grad.shape(), input.shape(), "gradient shape of {input:?}");
        match self.grads.entry(input.id()) {
            Entry::Occupied(mut previous) => {
                // In place when both are constants and the previous sum is held only here
                // (always so without `create_graph`, unless it is also another node's
                // gradient).
                if !previous.get_mut().add_in_place(&grad) {
                    let total = previous.get() + &grad;
                    previous.insert(total);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(grad);
                if input.op().is_some() {
                    self.pending.push(ById(input.clone()));
                }
            }
        }
    }
}

/// The gradients of one output with respect to every `Var` it depends on that requires grad:
/// leaves and intermediate results alike. Made by [`Var::backward`],
/// [`Var::backward_with_graph`] and [`Var::backward_with`].
///
/// ```
/// use einsum_runtime::autograd::Var;
/// use ndarray::array;
///
/// let x = Var::new(array![1.0, 2.0]);
/// let y = x.exp();
/// let grads = y.sum().backward();
/// assert_eq!(grads.grad(&x).unwrap(), x.value().mapv(f64::exp)); // d(sum e^x)/dx = e^x
/// assert_eq!(grads.grad(&y).unwrap(), array![1.0, 1.0].into_dyn()); // intermediate results too
/// ```
#[derive(Clone, Debug)]
pub struct Gradients<T: Float> {
    grads: IdMap<Var<T>>,
}

impl<T: Float> Gradients<T> {
    /// The gradient with respect to `var`, shaped like `var`; `None` when the output does not
    /// depend on `var` or `var` does not require grad.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// let x = Var::new(arr0(2.0));
    /// let unused = Var::new(arr0(5.0));
    /// let grads = x.powi(3).backward(); // 3 x^2
    /// assert_eq!(grads.grad(&x).unwrap()[[]], 12.0);
    /// assert!(grads.grad(&unused).is_none());
    /// ```
    #[must_use]
    pub fn grad(&self, var: &Var<T>) -> Option<ArrayD<T>> {
        self.grads.get(&var.id()).map(|g| g.value().clone())
    }

    /// The gradient with respect to `var` as a `Var`. After
    /// [`backward_with_graph`](Var::backward_with_graph) it is recorded and can be
    /// differentiated again; after [`backward`](Var::backward) it is a constant.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// let x = Var::new(arr0(2.0));
    /// let dy = x.powi(3).backward_with_graph().grad_var(&x).unwrap(); // 3 x^2
    /// let d2y = dy.backward().grad(&x).unwrap(); // 6 x
    /// assert_eq!(d2y[[]], 12.0);
    /// ```
    #[must_use]
    pub fn grad_var(&self, var: &Var<T>) -> Option<Var<T>> {
        self.grads.get(&var.id()).cloned()
    }

    /// How many `Var`s have a gradient.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let x = Var::new(ndarray::arr0(2.0));
    /// assert_eq!(x.exp().backward().len(), 2); // e^x and x
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// Whether no `Var` has a gradient (the output does not require grad).
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// assert!(Var::scalar(2.0).exp().backward().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }
}

impl<T: Float> Var<T> {
    /// Gradients of this one-element output (of any shape, usually a scalar loss) with respect
    /// to every `Var` it depends on. Gradients of a value used several times are summed.
    /// Nothing is recorded: the gradients are constants.
    ///
    /// # Panics
    ///
    /// When the value does not have exactly one element; use [`backward_with`](Var::backward_with)
    /// with a seed for other outputs. When a gradient is too large to allocate;
    /// [`try_backward`](Var::try_backward) returns that as an error.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// // x is used twice: d(x*x + x)/dx = 2x + 1
    /// let x = Var::new(arr0(3.0));
    /// let y = &(&x * &x) + &x;
    /// assert_eq!(y.backward().grad(&x).unwrap()[[]], 7.0);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn backward(&self) -> Gradients<T> {
        self.backward_with(self.one_seed(), false)
    }

    /// As [`backward`](Var::backward), but the backward pass is recorded (PyTorch's
    /// `create_graph=True`): each gradient, from [`Gradients::grad_var`], is a `Var` that can be
    /// differentiated again.
    ///
    /// # Panics
    ///
    /// When the value does not have exactly one element.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// let x = Var::new(arr0(0.5));
    /// let dsin = x.sin().backward_with_graph().grad_var(&x).unwrap(); // cos x
    /// let d2sin = dsin.backward().grad(&x).unwrap(); // -sin x
    /// assert_eq!(d2sin[[]], -(0.5f64).sin());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn backward_with_graph(&self) -> Gradients<T> {
        self.backward_with(self.one_seed(), true)
    }

    /// The vector-Jacobian product: gradients of `sum(seed * self)`, for a `seed` shaped like
    /// this value, with respect to everything it depends on. With `create_graph`, the backward
    /// pass is recorded, as in [`backward_with_graph`](Var::backward_with_graph).
    ///
    /// # Panics
    ///
    /// When `seed` does not have this value's shape, or a gradient is too large to allocate
    /// ([`try_backward_with`](Var::try_backward_with) returns both as errors).
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let x = Var::new(array![1.0, 2.0, 3.0]);
    /// let y = &x * &x; // dy_i/dx_i = 2 x_i
    /// let grads = y.backward_with(array![1.0, 0.0, 1.0].into_dyn(), false);
    /// assert_eq!(grads.grad(&x).unwrap(), array![2.0, 0.0, 6.0].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn backward_with(&self, seed: ArrayD<T>, create_graph: bool) -> Gradients<T> {
        assert!(
            seed.shape() == self.shape(),
            "autograd: the seed of a backward pass must have the output's shape {:?}, not {:?}",
            self.shape(),
            seed.shape()
        );
        self.try_backward_with(seed, create_graph)
            .unwrap_or_else(|error| panic!("autograd: {error}"))
    }

    /// As [`backward`](Var::backward), but a gradient too large to allocate (a contraction's
    /// gradient can need an intermediate far larger than any value in the graph) is an error
    /// instead of a panic.
    ///
    /// # Errors
    ///
    /// [`ShapeError::TooLarge`] or [`ShapeError::AllocationFailed`] (in an [`EinsumError`]
    /// named "backward pass") for the first gradient that cannot be allocated.
    ///
    /// # Panics
    ///
    /// When the value does not have exactly one element.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let x = Var::new(ndarray::arr0(3.0));
    /// let grads = (&x * &x).try_backward().unwrap();
    /// assert_eq!(grads.grad(&x).unwrap()[[]], 6.0);
    /// ```
    #[track_caller]
    pub fn try_backward(&self) -> Result<Gradients<T>, EinsumError> {
        self.try_backward_with(self.one_seed(), false)
    }

    /// As [`backward_with`](Var::backward_with), with the errors of
    /// [`try_backward`](Var::try_backward), and a `seed` of the wrong shape an error too
    /// ([`ShapeError::GradientShape`]).
    ///
    /// # Errors
    ///
    /// As [`try_backward`](Var::try_backward), and [`ShapeError::GradientShape`].
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let x = Var::new(array![1.0, 2.0]);
    /// assert!((&x * &x).try_backward_with(array![1.0].into_dyn(), false).is_err());
    /// ```
    pub fn try_backward_with(
        &self,
        seed: ArrayD<T>,
        create_graph: bool,
    ) -> Result<Gradients<T>, EinsumError> {
        let failed = |error| EinsumError::from_shape_error("backward pass", error);
        if seed.shape() != self.shape() {
            return Err(failed(ShapeError::GradientShape {
                expected: self.shape().to_vec(),
                actual: seed.shape().to_vec(),
            }));
        }
        if !self.requires_grad() {
            return Ok(Gradients {
                grads: IdMap::default(),
            });
        }
        // Nodes are visited by decreasing id, which is a reverse topological order (inputs
        // are always created before the operations that use them), and only once they have a
        // gradient: every node that contributes to a node's gradient has a larger id, so the
        // gradient is complete when the node is visited. No separate sort of the graph.
        let mut acc = Accumulator {
            grads: IdMap::with_capacity_and_hasher(INITIAL_GRADIENTS, Default::default()),
            pending: BinaryHeap::new(),
            error: None,
        };
        acc.grads.insert(self.id(), Var::constant(seed));
        if self.op().is_some() {
            acc.pending.push(ById(self.clone()));
        }
        with_grad_mode(create_graph, || {
            while let Some(ById(node)) = acc.pending.pop() {
                let Some(op) = node.op() else { continue };
                if let Some(g) = acc.grads.get(&node.id()).cloned() {
                    op.backward(&node, &g, &mut acc);
                }
                if acc.error.is_some() {
                    break;
                }
            }
        });
        match acc.error {
            Some(error) => Err(failed(error)),
            None => Ok(Gradients { grads: acc.grads }),
        }
    }

    #[track_caller]
    fn one_seed(&self) -> ArrayD<T> {
        assert!(
            self.len() == 1,
            "autograd: `backward` needs an output with one element, not shape {:?}; use \
             `backward_with` and a seed for other outputs",
            self.shape()
        );
        ArrayD::from_elem(IxDyn(self.shape()), T::one())
    }
}

/// The gradients of the one-element `output` with respect to `inputs`, recorded so that they
/// can be differentiated again (PyTorch's `autograd.grad(..., create_graph=True)`). An input
/// the output does not depend on gets a constant zero gradient.
///
/// # Panics
///
/// When `output` does not have exactly one element.
///
/// ```
/// use einsum_runtime::autograd::{grad_vars, Var};
/// use ndarray::arr0;
///
/// let x = Var::new(arr0(2.0));
/// let y = Var::new(arr0(3.0));
/// let f = &x.powi(2) * &y; // f = x^2 y
/// let [fx, fy] = <[Var<f64>; 2]>::try_from(grad_vars(&f, &[&x, &y])).unwrap();
/// assert_eq!((fx.item(), fy.item()), (12.0, 4.0)); // 2xy, x^2
/// // The mixed second derivative: d(2xy)/dy = 2x.
/// assert_eq!(grad_vars(&fx, &[&y])[0].item(), 4.0);
/// ```
#[must_use]
#[track_caller]
pub fn grad_vars<T: Float>(output: &Var<T>, inputs: &[&Var<T>]) -> Vec<Var<T>> {
    let grads = output.backward_with_graph();
    inputs
        .iter()
        .map(|input| {
            grads
                .grad_var(input)
                .unwrap_or_else(|| Var::constant(ArrayD::zeros(IxDyn(input.shape()))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failed_contribution_is_kept_and_stops_the_rest() {
        let x = Var::new(ndarray::arr0(2.0).into_dyn());
        let mut acc = Accumulator {
            grads: IdMap::default(),
            pending: BinaryHeap::new(),
            error: None,
        };
        let too_large = ShapeError::TooLarge {
            what: einsum_spec::Buffer::Gradient { operand: 0 },
            shape: vec![1 << 40, 1 << 40],
            element_size: 8,
        };
        acc.try_add(&x, || Err(too_large.clone()));
        acc.add(&x, || Var::constant(ndarray::arr0(1.0).into_dyn()));
        assert_eq!(acc.error, Some(too_large));
        assert!(acc.grads.is_empty());
    }
}
