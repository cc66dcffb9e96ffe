//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

use super::slots::{zeros_like, Checker, Slots};
use super::{constant, NonFinite, OptimError, Optimizer};
use crate::Float;
use ndarray::{ArrayD, Zip};

/// The hyperparameters of [`Sgd`]. Every default is PyTorch's (`torch.optim.SGD`, whose `lr`
/// defaults to `1e-3` since PyTorch 2.2).
///
/// ```
/// use einsum_runtime::optim::SgdConfig;
/// let config = SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..Default::default() };
/// assert_eq!(config.dampening, 0.0);
/// assert_eq!(SgdConfig::<f64>::default().lr, 1e-3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig<T = f64> {
    /// The learning rate `gamma`, `>= 0`. Default `1e-3` (PyTorch's since 2.2; set it to
    /// what your problem needs: plain gradient descent is sensitive to it).
    pub lr: T,
    /// The momentum factor `mu`, `>= 0`; `0` turns momentum off. Default `0`.
    pub momentum: T,
    /// The dampening `tau` applied to the gradient in the momentum buffer after the first
    /// step. Default `0`.
    pub dampening: T,
    /// The L2 penalty `lambda`, `>= 0`, added to the gradient as `lambda * theta`. Default `0`.
    pub weight_decay: T,
    /// Nesterov momentum; needs `momentum > 0` and `dampening == 0`. Default `false`.
    pub nesterov: bool,
    /// Refuse to step on a gradient holding NaN or an infinity
    /// ([`OptimError::NonFiniteGradient`]). Default `true`.
    pub check_finite: bool,
    /// What a step does with a gradient holding NaN or an infinity while `check_finite` is
    /// on: refuse it with an error ([`NonFinite::Error`], the default), skip the step
    /// ([`NonFinite::Skip`]) or take it ([`NonFinite::Ignore`]).
    pub non_finite: NonFinite,
}

impl<T: Float> Default for SgdConfig<T> {
    /// `lr = 1e-3`, no momentum, no dampening, no weight decay, no Nesterov, checked gradients.
    ///
    /// ```
    /// use einsum_runtime::optim::SgdConfig;
    /// let c = SgdConfig::<f32>::default();
    /// assert_eq!((c.lr, c.momentum, c.weight_decay, c.nesterov), (1e-3, 0.0, 0.0, false));
    /// ```
    fn default() -> Self {
        SgdConfig {
            lr: constant(1e-3),
            momentum: T::zero(),
            dampening: T::zero(),
            weight_decay: T::zero(),
            nesterov: false,
            check_finite: true,
            non_finite: NonFinite::Error,
        }
    }
}

impl<T: Float> SgdConfig<T> {
    fn validate(&self) -> Result<(), OptimError> {
        let check = Checker { optimizer: "sgd" };
        check.non_negative("lr", self.lr)?;
        check.non_negative("momentum", self.momentum)?;
        check.require(self.dampening.is_finite(), || {
            format!("`dampening` must be finite, not {:?}", self.dampening)
        })?;
        check.non_negative("weight_decay", self.weight_decay)?;
        check.require(
            !self.nesterov || (self.momentum > T::zero() && self.dampening == T::zero()),
            || "`nesterov` needs `momentum` > 0 and `dampening` == 0".to_owned(),
        )
    }
}

/// Stochastic gradient descent, with PyTorch's update rule (`torch.optim.SGD`). For each
/// parameter `theta` with gradient `grad`, at step `t = 1, 2, ...`:
///
/// ```text
/// g     = grad + lambda * theta                   if weight_decay lambda != 0
/// if momentum mu != 0:
///     b = g                                       at t = 1
///     b = mu * b + (1 - tau) * g                  at t > 1   (tau: dampening)
///     g = g + mu * b   if nesterov,   else   g = b
/// theta = theta - gamma * g                       (gamma: lr)
/// ```
///
/// ```
/// use einsum_runtime::optim::{Optimizer, Sgd, SgdConfig};
/// use ndarray::array;
///
/// let mut sgd = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.5, ..Default::default() });
/// let mut x = array![1.0f64].into_dyn();
/// sgd.step(&mut [&mut x], &[array![2.0].into_dyn()])?; // b = 2,             x = 1 - 0.2
/// sgd.step(&mut [&mut x], &[array![2.0].into_dyn()])?; // b = 0.5 * 2 + 2 = 3, x = 0.8 - 0.3
/// assert!((x[[0]] - 0.5).abs() < 1e-12);
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T = f64> {
    config: SgdConfig<T>,
    slots: Slots,
    /// The momentum buffer `b` of each parameter (empty without momentum).
    momentum_buffers: Vec<ArrayD<T>>,
    steps: usize,
}

impl<T: Float> Sgd<T> {
    /// An SGD optimizer with `config`.
    ///
    /// # Panics
    ///
    /// When a hyperparameter is out of range (see [`SgdConfig`]); [`try_new`](Sgd::try_new)
    /// returns the error instead.
    ///
    /// ```
    /// use einsum_runtime::optim::{Sgd, SgdConfig};
    /// let sgd = Sgd::new(SgdConfig { lr: 0.01, momentum: 0.9, ..Default::default() });
    /// assert_eq!(sgd.config().momentum, 0.9);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(config: SgdConfig<T>) -> Self {
        match Sgd::try_new(config) {
            Ok(sgd) => sgd,
            Err(err) => panic!("{err}"),
        }
    }

    /// An SGD optimizer with `config`, or an [`OptimError::InvalidConfig`] naming the field
    /// that is out of range.
    ///
    /// # Errors
    ///
    /// When `lr`, `momentum` or `weight_decay` is negative or not finite, or `nesterov` is set
    /// without `momentum > 0` and `dampening == 0`.
    ///
    /// ```
    /// use einsum_runtime::optim::{Sgd, SgdConfig};
    /// let err = Sgd::try_new(SgdConfig { nesterov: true, ..SgdConfig::<f64>::default() }).unwrap_err();
    /// assert_eq!(err.to_string(), "sgd: `nesterov` needs `momentum` > 0 and `dampening` == 0");
    /// ```
    pub fn try_new(config: SgdConfig<T>) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(Sgd {
            config,
            slots: Slots::default(),
            momentum_buffers: Vec::new(),
            steps: 0,
        })
    }

    /// The config, with the current learning rate.
    ///
    /// ```
    /// use einsum_runtime::optim::{Sgd, SgdConfig};
    /// assert!(Sgd::new(SgdConfig::<f64>::default()).config().check_finite);
    /// ```
    #[must_use]
    pub fn config(&self) -> &SgdConfig<T> {
        &self.config
    }

    /// The number of steps taken since the optimizer was made or reset.
    ///
    /// ```
    /// use einsum_runtime::optim::{Optimizer, Sgd, SgdConfig};
    /// let mut sgd = Sgd::new(SgdConfig::default());
    /// let mut x = ndarray::array![1.0].into_dyn();
    /// sgd.step(&mut [&mut x], &[ndarray::array![1.0].into_dyn()])?;
    /// assert_eq!(sgd.steps(), 1);
    /// # Ok::<(), einsum_runtime::optim::OptimError>(())
    /// ```
    #[must_use]
    pub fn steps(&self) -> usize {
        self.steps
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
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
        let first = !self.slots.is_initialized();
        self.slots.record(params);
        let with_momentum = c.momentum != T::zero();
        if first && with_momentum {
            self.momentum_buffers = zeros_like(params);
        }
        self.steps += 1;

        let decay = c.weight_decay != T::zero();
        let one_minus_tau = T::one() - c.dampening;
        for (i, (param, grad)) in params.iter_mut().zip(grads).enumerate() {
            let param: &mut ArrayD<T> = param;
            if !with_momentum {
                Zip::from(param).and(grad).for_each(|theta, &g| {
                    let g = if decay {
                        g + c.weight_decay * *theta
                    } else {
                        g
                    };
                    *theta = *theta - c.lr * g;
                });
                continue;
            }
            let buffer = &mut self.momentum_buffers[i];
            Zip::from(param)
                .and(grad)
                .and(buffer)
                .for_each(|theta, &g, b| {
                    let g = if decay {
                        g + c.weight_decay * *theta
                    } else {
                        g
                    };
                    *b = if first {
                        g
                    } else {
                        c.momentum * *b + one_minus_tau * g
                    };
                    let update = if c.nesterov { g + c.momentum * *b } else { *b };
                    *theta = *theta - c.lr * update;
                });
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
        self.momentum_buffers.clear();
        self.steps = 0;
    }
}
