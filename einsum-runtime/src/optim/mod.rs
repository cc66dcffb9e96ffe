//! Optimizers that update `ndarray` parameters from their gradients: [`Sgd`], [`Adam`],
//! [`AdamW`] and [`RmsProp`] with PyTorch's update rules and defaults; learning-rate
//! [schedules](Schedule) that compose with any of them through [`Scheduled`]; the [`Module`]
//! trait that groups a model's parameters; and [`train_step`], one step of the usual loop.
//!
//! # Learning a tensor with Adam
//!
//! The only parameter here is a 3x3x3 tensor, learned from examples of the cross product
//! `c_i = sum_jk eps_ijk a_j b_k`; it converges to the Levi-Civita symbol.
//!
//! ```
//! use einsum_runtime::autograd::Var;
//! use einsum_runtime::optim::{train_step, Adam, AdamConfig, Exponential, Scheduled};
//! use ndarray::{Array2, ArrayD, IxDyn};
//!
//! // Sixteen pairs of scattered vectors (rows of `a` and `b`) and their cross products.
//! let scatter = |x: f64| (x.sin() * 43758.5453).fract();
//! let a = Array2::from_shape_fn((16, 3), |(n, i)| scatter((n * 3 + i) as f64));
//! let b = Array2::from_shape_fn((16, 3), |(n, i)| scatter((n * 3 + i) as f64 + 100.0));
//! let c = Array2::from_shape_fn((16, 3), |(n, i)| {
//!     let (j, k) = ((i + 1) % 3, (i + 2) % 3);
//!     a[[n, j]] * b[[n, k]] - a[[n, k]] * b[[n, j]]
//! });
//! let (a, b, c) = (Var::constant(a), Var::constant(b), Var::constant(c));
//!
//! let mut eps = ArrayD::<f64>::zeros(IxDyn(&[3, 3, 3])); // the model: one tensor
//! // Adam, with a rate decaying by 0.1% a step: at a constant rate, Adam keeps making
//! // occasional jumps once the gradients are tiny (PyTorch's Adam does the same).
//! let adam = Adam::new(AdamConfig { lr: 0.05, ..Default::default() });
//! let mut adam = Scheduled::new(adam, Exponential { gamma: 0.999 });
//! let mut loss = f64::INFINITY;
//! for _ in 0..2000 {
//!     loss = train_step(&mut eps, &mut adam, |p| {
//!         let predicted = Var::einsum("ijk,nj,nk->ni", &[&p[0], &a, &b]).unwrap();
//!         let error = &predicted - &c;
//!         (&error * &error).mean()
//!     })?;
//! }
//! assert!(loss < 1e-20, "loss {loss}");
//! // The Levi-Civita symbol: +1 for (0, 1, 2), -1 for (0, 2, 1), 0 with a repeated index.
//! assert!((eps[[0, 1, 2]] - 1.0).abs() < 1e-9 && (eps[[0, 2, 1]] + 1.0).abs() < 1e-9);
//! assert!(eps[[0, 0, 1]].abs() < 1e-9);
//! # Ok::<(), einsum_runtime::optim::OptimError>(())
//! ```
//!
//! # The pieces
//!
//! | item | what |
//! |---|---|
//! | [`Optimizer`] | `step(params, grads)`, `learning_rate`, `set_learning_rate`, `reset` |
//! | [`Sgd`], [`Adam`], [`AdamW`], [`RmsProp`] | made from a config struct whose fields document their defaults |
//! | [`Schedule`], [`StepDecay`], [`Exponential`], [`CosineAnnealing`] | the rate at step `t` from the base rate |
//! | [`Scheduled`] | any optimizer with any schedule, itself an [`Optimizer`] |
//! | [`Module`] | a model: its parameters, in a fixed order |
//! | [`train_step`] | leaves from a module's parameters, the loss, backward, one optimizer step |
//!
//! # State and errors
//!
//! An optimizer keeps its state (momentum, moment estimates) per parameter *position*: the
//! parameters passed at each step must be the same ones, in the same order. A different count
//! or shape is an [`OptimError`], as are gradients that do not match the parameters. A step
//! either updates every parameter or, when it returns an error, none of them.
//!
//! Gradients containing NaN or an infinity are refused by default
//! ([`OptimError::NonFiniteGradient`]); each config's `non_finite` field ([`NonFinite`]) can
//! make a step skip such gradients instead, or take them (as does `check_finite: false`).

mod adam;
mod error;
mod module;
mod rmsprop;
mod schedule;
mod sgd;
mod slots;

pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use error::OptimError;
pub use module::{train_step, Module};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::{CosineAnnealing, Exponential, Schedule, Scheduled, StepDecay};
pub use sgd::{Sgd, SgdConfig};

use crate::Float;
use ndarray::ArrayD;

/// What an optimizer step does when a gradient holds NaN or an infinity: each config's
/// `non_finite` field. Non-finite gradients usually mean a diverging loss or an overflow
/// upstream; stepping on them would silently turn the parameters into NaN.
///
/// ```
/// use einsum_runtime::optim::{NonFinite, Optimizer, Sgd, SgdConfig};
/// use ndarray::array;
///
/// let mut x = array![1.0, 2.0].into_dyn();
/// let bad = array![f64::NAN, 1.0].into_dyn();
///
/// // The default: an error, and nothing changes.
/// let mut sgd = Sgd::new(SgdConfig { lr: 0.5, ..Default::default() });
/// let err = sgd.step(&mut [&mut x], &[bad.clone()]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "non-finite gradient for parameter 0: NaN at index [0]; the step was refused and the parameters are unchanged"
/// );
///
/// // Skip: the step is skipped (parameters, state and step count unchanged), without error,
/// // as mixed-precision training skips steps whose gradients overflowed.
/// let mut sgd = Sgd::new(SgdConfig { lr: 0.5, non_finite: NonFinite::Skip, ..Default::default() });
/// sgd.step(&mut [&mut x], &[bad.clone()])?;
/// assert_eq!((x.clone(), sgd.steps()), (array![1.0, 2.0].into_dyn(), 0));
///
/// // Ignore: the step is taken, and IEEE arithmetic makes the parameter NaN.
/// let mut sgd = Sgd::new(SgdConfig { lr: 0.5, non_finite: NonFinite::Ignore, ..Default::default() });
/// sgd.step(&mut [&mut x], &[bad])?;
/// assert!(x[[0]].is_nan() && x[[1]] == 1.5);
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NonFinite {
    /// Refuse the step with [`OptimError::NonFiniteGradient`], naming the parameter, the
    /// index and the value; nothing changes. The default.
    #[default]
    Error,
    /// Skip the step: parameters, optimizer state and step count stay as they were, and the
    /// step returns `Ok(())`.
    Skip,
    /// Take the step as if the gradient were finite (NaN and infinities propagate into the
    /// parameters as IEEE arithmetic says). `check_finite: false` does the same.
    Ignore,
}

/// Updates parameters from their gradients, keeping whatever state the update rule needs
/// (momentum, moment estimates) per parameter position.
///
/// Implemented by [`Sgd`], [`Adam`], [`AdamW`], [`RmsProp`], [`Scheduled`] and
/// `Box<dyn Optimizer<T>>`; the trait is object safe.
///
/// ```
/// use einsum_runtime::optim::{Optimizer, Sgd, SgdConfig};
/// use ndarray::array;
///
/// let mut x = array![1.0, 2.0].into_dyn();
/// let mut opt: Box<dyn Optimizer<f64>> = Box::new(Sgd::new(SgdConfig { lr: 0.5, ..Default::default() }));
/// let grad = array![0.2, -0.4].into_dyn();
/// opt.step(&mut [&mut x], &[grad])?; // x <- x - 0.5 g
/// assert_eq!(x, array![0.9, 2.2].into_dyn());
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
pub trait Optimizer<T: Float> {
    /// Updates each `params[i]` from `grads[i]`, which must have its shape.
    ///
    /// # Errors
    ///
    /// The parameters are left untouched and an [`OptimError`] says why when: the numbers of
    /// parameters and gradients differ; a gradient's shape is not its parameter's; the number
    /// or shapes of the parameters changed since the previous step (call
    /// [`reset`](Optimizer::reset) first to start afresh); or a gradient holds NaN or an
    /// infinity while the config's `check_finite` is on.
    ///
    /// ```
    /// use einsum_runtime::optim::{Optimizer, OptimError, Sgd, SgdConfig};
    /// use ndarray::array;
    /// let mut x = array![1.0].into_dyn();
    /// let mut sgd = Sgd::new(SgdConfig::default());
    /// let err = sgd.step(&mut [&mut x], &[array![f64::NAN].into_dyn()]).unwrap_err();
    /// assert!(matches!(err, OptimError::NonFiniteGradient { parameter: 0, .. }));
    /// assert_eq!(x, array![1.0].into_dyn());
    /// ```
    fn step(
        &mut self,
        params: &mut [&mut ArrayD<T>],
        grads: &[ArrayD<T>],
    ) -> Result<(), OptimError>;

    /// The learning rate the next step uses.
    ///
    /// ```
    /// use einsum_runtime::optim::{Adam, AdamConfig, Optimizer};
    /// assert_eq!(Adam::new(AdamConfig::<f64>::default()).learning_rate(), 1e-3);
    /// ```
    fn learning_rate(&self) -> T;

    /// Sets the learning rate of the following steps; the state is kept.
    ///
    /// ```
    /// use einsum_runtime::optim::{Optimizer, RmsProp, RmsPropConfig};
    /// let mut opt = RmsProp::new(RmsPropConfig::<f64>::default());
    /// opt.set_learning_rate(0.5);
    /// assert_eq!(opt.learning_rate(), 0.5);
    /// ```
    fn set_learning_rate(&mut self, lr: T);

    /// Forgets the state and the step count, as if freshly made: the next step may have any
    /// number and shapes of parameters. The config, including the learning rate, is kept.
    ///
    /// ```
    /// use einsum_runtime::optim::{Optimizer, Sgd, SgdConfig};
    /// use ndarray::array;
    /// let mut sgd = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() });
    /// let mut x = array![1.0].into_dyn();
    /// sgd.step(&mut [&mut x], &[array![1.0].into_dyn()])?;
    /// let mut y = array![1.0, 2.0].into_dyn(); // a different shape is an error ...
    /// assert!(sgd.step(&mut [&mut y], &[array![1.0, 1.0].into_dyn()]).is_err());
    /// sgd.reset(); // ... until the optimizer is reset
    /// sgd.step(&mut [&mut y], &[array![1.0, 1.0].into_dyn()])?;
    /// # Ok::<(), einsum_runtime::optim::OptimError>(())
    /// ```
    fn reset(&mut self);
}

/// Forwards to the boxed optimizer, so `Box<dyn Optimizer<T>>` is an optimizer.
///
/// ```
/// use einsum_runtime::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
/// let opts: Vec<Box<dyn Optimizer<f64>>> = vec![
///     Box::new(Sgd::new(SgdConfig::default())),
///     Box::new(Adam::new(AdamConfig::default())),
/// ];
/// assert!(opts.iter().all(|o| o.learning_rate() == 1e-3));
/// ```
impl<T: Float, O: Optimizer<T> + ?Sized> Optimizer<T> for Box<O> {
    fn step(
        &mut self,
        params: &mut [&mut ArrayD<T>],
        grads: &[ArrayD<T>],
    ) -> Result<(), OptimError> {
        (**self).step(params, grads)
    }

    fn learning_rate(&self) -> T {
        (**self).learning_rate()
    }

    fn set_learning_rate(&mut self, lr: T) {
        (**self).set_learning_rate(lr);
    }

    fn reset(&mut self) {
        (**self).reset();
    }
}

/// `x` (a constant written in `f64`) as a `T`.
fn constant<T: Float>(x: f64) -> T {
    T::from(x).unwrap_or_else(T::nan)
}
