//! RMSprop: steps scaled by a running average of squared gradients.

use super::slots::{zeros_like, Checker, Slots};
use super::{constant, NonFinite, OptimError, Optimizer};
use crate::Float;
use ndarray::{ArrayD, Zip};

/// The hyperparameters of [`RmsProp`]. Every default is PyTorch's (`torch.optim.RMSprop`).
///
/// ```
/// use einsum_runtime::optim::RmsPropConfig;
/// let c = RmsPropConfig { momentum: 0.9, centered: true, ..Default::default() };
/// assert_eq!((c.lr, c.alpha), (1e-2, 0.99));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig<T = f64> {
    /// The learning rate `gamma`, `>= 0`. Default `1e-2`.
    pub lr: T,
    /// The smoothing constant `alpha` of the running averages, in `[0, 1]`. Default `0.99`.
    pub alpha: T,
    /// The term `eps`, `>= 0`, added to the denominator. Default `1e-8`.
    pub eps: T,
    /// The L2 penalty `lambda`, `>= 0`, added to the gradient as `lambda * theta`. Default `0`.
    pub weight_decay: T,
    /// The momentum factor `mu`, `>= 0`; `0` turns momentum off. Default `0`.
    pub momentum: T,
    /// Centered RMSprop: normalise by an estimate of the gradient's variance instead of its
    /// second moment. Default `false`.
    pub centered: bool,
    /// Refuse to step on a gradient holding NaN or an infinity
    /// ([`OptimError::NonFiniteGradient`]). Default `true`.
    pub check_finite: bool,
    /// What a step does with a gradient holding NaN or an infinity while `check_finite` is
    /// on: refuse it with an error ([`NonFinite::Error`], the default), skip the step
    /// ([`NonFinite::Skip`]) or take it ([`NonFinite::Ignore`]).
    pub non_finite: NonFinite,
}

impl<T: Float> Default for RmsPropConfig<T> {
    /// `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`, no weight decay, no momentum, not centered,
    /// checked gradients.
    ///
    /// ```
    /// use einsum_runtime::optim::RmsPropConfig;
    /// let c = RmsPropConfig::<f64>::default();
    /// assert_eq!((c.lr, c.alpha, c.eps, c.weight_decay, c.momentum, c.centered), (1e-2, 0.99, 1e-8, 0.0, 0.0, false));
    /// ```
    fn default() -> Self {
        RmsPropConfig {
            lr: constant(1e-2),
            alpha: constant(0.99),
            eps: constant(1e-8),
            weight_decay: T::zero(),
            momentum: T::zero(),
            centered: false,
            check_finite: true,
            non_finite: NonFinite::Error,
        }
    }
}

impl<T: Float> RmsPropConfig<T> {
    fn validate(&self) -> Result<(), OptimError> {
        let check = Checker {
            optimizer: "rmsprop",
        };
        check.non_negative("lr", self.lr)?;
        check.unit_closed("alpha", self.alpha)?;
        check.non_negative("eps", self.eps)?;
        check.non_negative("weight_decay", self.weight_decay)?;
        check.non_negative("momentum", self.momentum)
    }
}

/// RMSprop, with PyTorch's update rule (`torch.optim.RMSprop`). For each parameter `theta`
/// with gradient `grad`, with `v`, `g_avg` and `b` starting at zero:
///
/// ```text
/// g     = grad + lambda * theta                   if weight_decay lambda != 0
/// v     = alpha * v + (1 - alpha) * g^2
/// v_hat = v
/// if centered:
///     g_avg = alpha * g_avg + (1 - alpha) * g
///     v_hat = v - g_avg^2
/// if momentum mu > 0:
///     b     = mu * b + g / (sqrt(v_hat) + eps)
///     theta = theta - gamma * b
/// else:
///     theta = theta - gamma * g / (sqrt(v_hat) + eps)     (gamma: lr)
/// ```
///
/// `v - g_avg^2` is never negative in exact arithmetic; rounding can make it slightly
/// negative, which PyTorch turns into NaN and this implementation clamps to zero.
///
/// ```
/// use einsum_runtime::optim::{Optimizer, RmsProp, RmsPropConfig};
/// use ndarray::array;
///
/// // First step: v = (1 - alpha) g^2, so x moves by lr * g / (sqrt(0.01) |g|) = 10 lr.
/// let mut opt = RmsProp::new(RmsPropConfig { lr: 0.01, ..Default::default() });
/// let mut x = array![1.0f64].into_dyn();
/// opt.step(&mut [&mut x], &[array![3.0].into_dyn()])?;
/// assert!((x[[0]] - 0.9).abs() < 1e-6);
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp<T = f64> {
    config: RmsPropConfig<T>,
    slots: Slots,
    /// The running average `v` of squared gradients.
    square_avg: Vec<ArrayD<T>>,
    /// The running average `g_avg` of gradients (centered only).
    grad_avg: Vec<ArrayD<T>>,
    /// The momentum buffer `b` (with momentum only).
    momentum_buffers: Vec<ArrayD<T>>,
    steps: usize,
}

impl<T: Float> RmsProp<T> {
    /// An RMSprop optimizer with `config`.
    ///
    /// # Panics
    ///
    /// When a hyperparameter is out of range (see [`RmsPropConfig`]);
    /// [`try_new`](RmsProp::try_new) returns the error instead.
    ///
    /// ```
    /// use einsum_runtime::optim::{RmsProp, RmsPropConfig};
    /// let opt = RmsProp::new(RmsPropConfig { centered: true, ..Default::default() });
    /// assert!(opt.config().centered);
    /// # let _: &RmsProp<f64> = &opt;
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(config: RmsPropConfig<T>) -> Self {
        match RmsProp::try_new(config) {
            Ok(opt) => opt,
            Err(err) => panic!("{err}"),
        }
    }

    /// An RMSprop optimizer with `config`, or an [`OptimError::InvalidConfig`] naming the field
    /// that is out of range.
    ///
    /// # Errors
    ///
    /// When `lr`, `eps`, `weight_decay` or `momentum` is negative or not finite, or `alpha` is
    /// not in `[0, 1]`.
    ///
    /// ```
    /// use einsum_runtime::optim::{RmsProp, RmsPropConfig};
    /// let err = RmsProp::try_new(RmsPropConfig { alpha: 1.5, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.to_string(), "rmsprop: `alpha` must be in [0, 1], not 1.5");
    /// ```
    pub fn try_new(config: RmsPropConfig<T>) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(RmsProp {
            config,
            slots: Slots::default(),
            square_avg: Vec::new(),
            grad_avg: Vec::new(),
            momentum_buffers: Vec::new(),
            steps: 0,
        })
    }

    /// The config, with the current learning rate.
    ///
    /// ```
    /// use einsum_runtime::optim::{RmsProp, RmsPropConfig};
    /// assert_eq!(RmsProp::new(RmsPropConfig::<f64>::default()).config().alpha, 0.99);
    /// ```
    #[must_use]
    pub fn config(&self) -> &RmsPropConfig<T> {
        &self.config
    }

    /// The number of steps taken since the optimizer was made or reset.
    ///
    /// ```
    /// use einsum_runtime::optim::{RmsProp, RmsPropConfig};
    /// assert_eq!(RmsProp::new(RmsPropConfig::<f64>::default()).steps(), 0);
    /// ```
    #[must_use]
    pub fn steps(&self) -> usize {
        self.steps
    }
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
    fn step(
        &mut self,
        params: &mut [&mut ArrayD<T>],
        grads: &[ArrayD<T>],
    ) -> Result<(), OptimError> {
        let c = self.config;
        if !self
            .slots
            .check(params, grads, c.check_finite, c.non_finite)?
        {
            return Ok(());
        }
        let with_momentum = c.momentum > T::zero();
        if !self.slots.is_initialized() {
            self.slots.record(params);
            self.square_avg = zeros_like(params);
            if c.centered {
                self.grad_avg = zeros_like(params);
            }
            if with_momentum {
                self.momentum_buffers = zeros_like(params);
            }
        }
        self.steps += 1;

        let decay = c.weight_decay != T::zero();
        let one_minus_alpha = T::one() - c.alpha;
        // One element of the rule; `g_avg` is present when centered, `b` with momentum.
        let update = |theta: &mut T, g: T, v: &mut T, g_avg: Option<&mut T>, b: Option<&mut T>| {
            let g = if decay {
                g + c.weight_decay * *theta
            } else {
                g
            };
            *v = c.alpha * *v + one_minus_alpha * g * g;
            let v_hat = match g_avg {
                Some(g_avg) => {
                    *g_avg = c.alpha * *g_avg + one_minus_alpha * g;
                    (*v - *g_avg * *g_avg).max(T::zero())
                }
                None => *v,
            };
            let denominator = v_hat.sqrt() + c.eps;
            match b {
                Some(b) => {
                    *b = c.momentum * *b + g / denominator;
                    *theta = *theta - c.lr * *b;
                }
                None => *theta = *theta - c.lr * g / denominator,
            }
        };
        for (i, (param, grad)) in params.iter_mut().zip(grads).enumerate() {
            let zip = Zip::from(&mut **param)
                .and(grad)
                .and(&mut self.square_avg[i]);
            match (c.centered, with_momentum) {
                (false, false) => zip.for_each(|theta, &g, v| update(theta, g, v, None, None)),
                (true, false) => zip
                    .and(&mut self.grad_avg[i])
                    .for_each(|theta, &g, v, g_avg| update(theta, g, v, Some(g_avg), None)),
                (false, true) => zip
                    .and(&mut self.momentum_buffers[i])
                    .for_each(|theta, &g, v, b| update(theta, g, v, None, Some(b))),
                (true, true) => zip
                    .and(&mut self.grad_avg[i])
                    .and(&mut self.momentum_buffers[i])
                    .for_each(|theta, &g, v, g_avg, b| {
                        update(theta, g, v, Some(g_avg), Some(b));
                    }),
            }
        }
        Ok(())
    }

    fn learning_rate(&self) -> T {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.config.lr = lr;
    }

    fn reset(&mut self) {
        self.slots.clear();
        self.square_avg.clear();
        self.grad_avg.clear();
        self.momentum_buffers.clear();
        self.steps = 0;
    }
}
