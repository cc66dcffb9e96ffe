//! Learning-rate schedules, and [`Scheduled`], which applies one to any optimizer.

use super::{OptimError, Optimizer};
use crate::Float;
use ndarray::ArrayD;

/// The learning rate at step `step` (counted from 0) of a run whose base rate is `base`.
///
/// Implemented by [`StepDecay`], [`Exponential`], [`CosineAnnealing`] and by any closure
/// `Fn(T, usize) -> T`. Apply one to an optimizer with [`Scheduled`].
///
/// ```
/// use einsum_runtime::optim::{Schedule, StepDecay};
/// let schedule = StepDecay { step_size: 10, gamma: 0.5 };
/// assert_eq!(schedule.learning_rate(0.1, 25), 0.025);
///
/// // A closure is a schedule too: linear warm-up over 100 steps.
/// let warmup = |base: f64, step: usize| base * ((step + 1) as f64 / 100.0).min(1.0);
/// assert_eq!(warmup.learning_rate(0.1, 49), 0.05);
/// ```
pub trait Schedule<T: Float> {
    /// The rate for step `step` (0 for the first step) given the base rate `base`.
    ///
    /// ```
    /// use einsum_runtime::optim::{Exponential, Schedule};
    /// assert_eq!(Exponential { gamma: 0.5 }.learning_rate(1.0, 3), 0.125);
    /// ```
    fn learning_rate(&self, base: T, step: usize) -> T;
}

/// Any `Fn(base, step) -> rate` is a schedule.
///
/// ```
/// use einsum_runtime::optim::Schedule;
/// let halve_once = |base: f64, step: usize| if step < 10 { base } else { base / 2.0 };
/// assert_eq!(halve_once.learning_rate(1.0, 10), 0.5);
/// ```
impl<T: Float, F: Fn(T, usize) -> T> Schedule<T> for F {
    fn learning_rate(&self, base: T, step: usize) -> T {
        self(base, step)
    }
}

/// Step decay (PyTorch's `StepLR`): the rate is multiplied by `gamma` every `step_size` steps.
///
/// ```text
/// lr(t) = base * gamma^floor(t / step_size)
/// ```
///
/// ```
/// use einsum_runtime::optim::{Schedule, StepDecay};
/// let s = StepDecay { step_size: 100, ..Default::default() };
/// assert_eq!(s.learning_rate(1.0, 99), 1.0);
/// assert_eq!(s.learning_rate(1.0, 100), 0.1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepDecay<T = f64> {
    /// The number of steps between decays; `0` is treated as `1`. Default `1`.
    pub step_size: usize,
    /// The factor applied at each decay. Default `0.1` (PyTorch's).
    pub gamma: T,
}

impl<T: Float> Default for StepDecay<T> {
    /// `step_size = 1`, `gamma = 0.1`.
    ///
    /// ```
    /// use einsum_runtime::optim::StepDecay;
    /// assert_eq!(StepDecay::<f64>::default(), StepDecay { step_size: 1, gamma: 0.1 });
    /// ```
    fn default() -> Self {
        StepDecay {
            step_size: 1,
            gamma: super::constant(0.1),
        }
    }
}

impl<T: Float> Schedule<T> for StepDecay<T> {
    fn learning_rate(&self, base: T, step: usize) -> T {
        base * power(self.gamma, step / self.step_size.max(1))
    }
}

/// Exponential decay (PyTorch's `ExponentialLR`): the rate is multiplied by `gamma` at every
/// step.
///
/// ```text
/// lr(t) = base * gamma^t
/// ```
///
/// ```
/// use einsum_runtime::optim::{Exponential, Schedule};
/// let s = Exponential { gamma: 0.9f64 };
/// assert!((s.learning_rate(1.0, 2) - 0.81).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponential<T = f64> {
    /// The factor applied at every step (no default: PyTorch requires it too).
    pub gamma: T,
}

impl<T: Float> Schedule<T> for Exponential<T> {
    fn learning_rate(&self, base: T, step: usize) -> T {
        base * power(self.gamma, step)
    }
}

/// Cosine annealing (PyTorch's `CosineAnnealingLR`, without restarts): from `base` down to
/// `eta_min` along half a cosine over `t_max` steps, then constant at `eta_min`.
///
/// ```text
/// lr(t) = eta_min + (base - eta_min) * (1 + cos(pi * min(t, t_max) / t_max)) / 2
/// ```
///
/// PyTorch's closed form keeps following the cosine after `t_max`, so the rate rises again;
/// here it stays at `eta_min`. With `t_max = 0` the rate is `eta_min` from the start.
///
/// ```
/// use einsum_runtime::optim::{CosineAnnealing, Schedule};
/// let s = CosineAnnealing { t_max: 100, eta_min: 0.0f64 };
/// assert_eq!(s.learning_rate(1.0, 0), 1.0);
/// assert!((s.learning_rate(1.0, 50) - 0.5).abs() < 1e-15);
/// assert_eq!(s.learning_rate(1.0, 100), 0.0);
/// assert_eq!(s.learning_rate(1.0, 1000), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealing<T = f64> {
    /// The number of steps from `base` to `eta_min` (no default: PyTorch requires it too).
    pub t_max: usize,
    /// The final rate. PyTorch's default is `0`.
    pub eta_min: T,
}

impl<T: Float> Schedule<T> for CosineAnnealing<T> {
    fn learning_rate(&self, base: T, step: usize) -> T {
        if step >= self.t_max {
            return self.eta_min;
        }
        let fraction = count::<T>(step) / count::<T>(self.t_max);
        let half = super::constant::<T>(0.5);
        self.eta_min
            + (base - self.eta_min)
                * half
                * (T::one() + (super::constant::<T>(core::f64::consts::PI) * fraction).cos())
    }
}

/// `n` as a `T`.
fn count<T: Float>(n: usize) -> T {
    T::from(n).unwrap_or_else(T::infinity)
}

/// `x^n`.
fn power<T: Float>(x: T, n: usize) -> T {
    match i32::try_from(n) {
        Ok(n) => x.powi(n),
        Err(_) => x.powf(count(n)),
    }
}

/// An optimizer whose learning rate follows a schedule: before step `t` (counted from 0) it
/// sets the optimizer's rate to `schedule.learning_rate(base, t)`, where `base` is the
/// optimizer's rate when it was wrapped. Itself an [`Optimizer`], so it works wherever the
/// optimizer did, [`train_step`](super::train_step) included.
///
/// The step count advances only when a step succeeds. [`Optimizer::learning_rate`] is the
/// rate the next step will use; [`Optimizer::set_learning_rate`] sets the base;
/// [`Optimizer::reset`] resets the optimizer and restarts the schedule.
///
/// ```
/// use einsum_runtime::optim::{Optimizer, Scheduled, Sgd, SgdConfig, StepDecay};
/// use ndarray::array;
///
/// let sgd = Sgd::new(SgdConfig { lr: 1.0, ..Default::default() });
/// let mut opt = Scheduled::new(sgd, StepDecay { step_size: 2, gamma: 0.5 });
/// let mut x = array![0.0].into_dyn();
/// for _ in 0..4 {
///     opt.step(&mut [&mut x], &[array![-1.0].into_dyn()])?; // x += lr
/// }
/// assert_eq!(x[[0]], 1.0 + 1.0 + 0.5 + 0.5);
/// assert_eq!(opt.learning_rate(), 0.25);
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Scheduled<O, S, T> {
    optimizer: O,
    schedule: S,
    base: T,
    steps: usize,
}

impl<T: Float, O: Optimizer<T>, S: Schedule<T>> Scheduled<O, S, T> {
    /// `optimizer` with its rate following `schedule`, starting from its current rate.
    ///
    /// ```
    /// use einsum_runtime::optim::{Adam, AdamConfig, CosineAnnealing, Optimizer, Scheduled};
    /// let adam = Adam::new(AdamConfig { lr: 0.1, ..Default::default() });
    /// let opt = Scheduled::new(adam, CosineAnnealing { t_max: 1000, eta_min: 1e-4 });
    /// assert_eq!(opt.learning_rate(), 0.1);
    /// ```
    #[must_use]
    pub fn new(optimizer: O, schedule: S) -> Self {
        Scheduled {
            base: optimizer.learning_rate(),
            optimizer,
            schedule,
            steps: 0,
        }
    }

    /// The base rate the schedule starts from.
    ///
    /// ```
    /// use einsum_runtime::optim::{Exponential, Scheduled, Sgd, SgdConfig};
    /// let opt = Scheduled::new(Sgd::new(SgdConfig { lr: 0.5, ..Default::default() }), Exponential { gamma: 0.9 });
    /// assert_eq!(opt.base_learning_rate(), 0.5);
    /// ```
    #[must_use]
    pub fn base_learning_rate(&self) -> T {
        self.base
    }

    /// The number of steps taken since it was made or reset.
    ///
    /// ```
    /// use einsum_runtime::optim::{Exponential, Scheduled, Sgd, SgdConfig};
    /// let opt = Scheduled::new(Sgd::new(SgdConfig::<f64>::default()), Exponential { gamma: 0.9 });
    /// assert_eq!(opt.steps(), 0);
    /// ```
    #[must_use]
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The schedule.
    ///
    /// ```
    /// use einsum_runtime::optim::{Exponential, Scheduled, Sgd, SgdConfig};
    /// let opt = Scheduled::new(Sgd::new(SgdConfig::<f64>::default()), Exponential { gamma: 0.9 });
    /// assert_eq!(opt.schedule().gamma, 0.9);
    /// ```
    #[must_use]
    pub fn schedule(&self) -> &S {
        &self.schedule
    }

    /// The wrapped optimizer.
    ///
    /// ```
    /// use einsum_runtime::optim::{Exponential, Scheduled, Sgd, SgdConfig};
    /// let opt = Scheduled::new(Sgd::new(SgdConfig::<f64>::default()), Exponential { gamma: 0.9 });
    /// assert_eq!(opt.optimizer().steps(), 0);
    /// ```
    #[must_use]
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The wrapped optimizer, mutably (its rate is overwritten before each step).
    ///
    /// ```
    /// use einsum_runtime::optim::{Exponential, Optimizer, Scheduled, Sgd, SgdConfig};
    /// let mut opt = Scheduled::new(Sgd::new(SgdConfig::<f64>::default()), Exponential { gamma: 0.9 });
    /// opt.optimizer_mut().reset();
    /// ```
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optimizer
    }

    /// The wrapped optimizer, with the rate of the last step taken.
    ///
    /// ```
    /// use einsum_runtime::optim::{Exponential, Optimizer, Scheduled, Sgd, SgdConfig};
    /// let opt = Scheduled::new(Sgd::new(SgdConfig { lr: 0.5, ..Default::default() }), Exponential { gamma: 0.9 });
    /// assert_eq!(opt.into_inner().learning_rate(), 0.5);
    /// ```
    #[must_use]
    pub fn into_inner(self) -> O {
        self.optimizer
    }
}

impl<T: Float, O: Optimizer<T>, S: Schedule<T>> Optimizer<T> for Scheduled<O, S, T> {
    fn step(
        &mut self,
        params: &mut [&mut ArrayD<T>],
        grads: &[ArrayD<T>],
    ) -> Result<(), OptimError> {
        let lr = self.schedule.learning_rate(self.base, self.steps);
        self.optimizer.set_learning_rate(lr);
        self.optimizer.step(params, grads)?;
        self.steps += 1;
        Ok(())
    }

    fn learning_rate(&self) -> T {
        self.schedule.learning_rate(self.base, self.steps)
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.base = lr;
    }

    fn reset(&mut self) {
        self.optimizer.reset();
        self.steps = 0;
    }
}
