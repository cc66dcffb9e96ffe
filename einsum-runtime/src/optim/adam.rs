//! Adam and AdamW: one set of moment estimates, two ways to apply weight decay.

use super::slots::{zeros_like, Checker, Slots};
use super::{constant, NonFinite, OptimError, Optimizer};
use crate::Float;
use ndarray::{ArrayD, Zip};

/// The hyperparameters of [`Adam`]. Every default is PyTorch's (`torch.optim.Adam`).
///
/// ```
/// use einsum_runtime::optim::{Adam, AdamConfig};
/// let adam = Adam::new(AdamConfig { lr: 0.05, ..Default::default() });
/// assert_eq!(adam.config().betas, (0.9, 0.999));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig<T = f64> {
    /// The learning rate `gamma`, `>= 0`. Default `1e-3`.
    pub lr: T,
    /// The decay rates `(beta1, beta2)` of the first and second moment estimates, each in
    /// `[0, 1)`. Default `(0.9, 0.999)`.
    pub betas: (T, T),
    /// The term `eps`, `>= 0`, added to the denominator. Default `1e-8`.
    pub eps: T,
    /// The L2 penalty `lambda`, `>= 0`, added to the gradient as `lambda * theta` (for
    /// decoupled weight decay use [`AdamW`]). Default `0`.
    pub weight_decay: T,
    /// The AMSGrad variant: divide by the running maximum of the second moment estimate.
    /// Default `false`.
    pub amsgrad: bool,
    /// Refuse to step on a gradient holding NaN or an infinity
    /// ([`OptimError::NonFiniteGradient`]). Default `true`.
    pub check_finite: bool,
    /// What a step does with a gradient holding NaN or an infinity while `check_finite` is
    /// on: refuse it with an error ([`NonFinite::Error`], the default), skip the step
    /// ([`NonFinite::Skip`]) or take it ([`NonFinite::Ignore`]).
    pub non_finite: NonFinite,
}

impl<T: Float> Default for AdamConfig<T> {
    /// `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay, no AMSGrad, checked
    /// gradients.
    ///
    /// ```
    /// use einsum_runtime::optim::AdamConfig;
    /// let c = AdamConfig::<f64>::default();
    /// assert_eq!((c.lr, c.betas, c.eps, c.weight_decay, c.amsgrad), (1e-3, (0.9, 0.999), 1e-8, 0.0, false));
    /// ```
    fn default() -> Self {
        AdamConfig {
            lr: constant(1e-3),
            betas: (constant(0.9), constant(0.999)),
            eps: constant(1e-8),
            weight_decay: T::zero(),
            amsgrad: false,
            check_finite: true,
            non_finite: NonFinite::Error,
        }
    }
}

/// The hyperparameters of [`AdamW`]. Every default is PyTorch's (`torch.optim.AdamW`): those
/// of [`AdamConfig`] but `weight_decay = 1e-2`, which is decoupled from the gradient.
///
/// ```
/// use einsum_runtime::optim::AdamWConfig;
/// let c = AdamWConfig { lr: 0.01, ..Default::default() };
/// assert_eq!(c.weight_decay, 1e-2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig<T = f64> {
    /// The learning rate `gamma`, `>= 0`. Default `1e-3`.
    pub lr: T,
    /// The decay rates `(beta1, beta2)` of the first and second moment estimates, each in
    /// `[0, 1)`. Default `(0.9, 0.999)`.
    pub betas: (T, T),
    /// The term `eps`, `>= 0`, added to the denominator. Default `1e-8`.
    pub eps: T,
    /// The decoupled weight decay `lambda`, `>= 0`: each step first scales the parameter by
    /// `1 - gamma * lambda`. Default `1e-2`.
    pub weight_decay: T,
    /// The AMSGrad variant: divide by the running maximum of the second moment estimate.
    /// Default `false`.
    pub amsgrad: bool,
    /// Refuse to step on a gradient holding NaN or an infinity
    /// ([`OptimError::NonFiniteGradient`]). Default `true`.
    pub check_finite: bool,
    /// What a step does with a gradient holding NaN or an infinity while `check_finite` is
    /// on: refuse it with an error ([`NonFinite::Error`], the default), skip the step
    /// ([`NonFinite::Skip`]) or take it ([`NonFinite::Ignore`]).
    pub non_finite: NonFinite,
}

impl<T: Float> Default for AdamWConfig<T> {
    /// `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay = 1e-2`, no AMSGrad,
    /// checked gradients.
    ///
    /// ```
    /// use einsum_runtime::optim::AdamWConfig;
    /// let c = AdamWConfig::<f64>::default();
    /// assert_eq!((c.lr, c.betas, c.eps, c.weight_decay, c.amsgrad), (1e-3, (0.9, 0.999), 1e-8, 1e-2, false));
    /// ```
    fn default() -> Self {
        AdamWConfig {
            lr: constant(1e-3),
            betas: (constant(0.9), constant(0.999)),
            eps: constant(1e-8),
            weight_decay: constant(1e-2),
            amsgrad: false,
            check_finite: true,
            non_finite: NonFinite::Error,
        }
    }
}

/// The hyperparameters of one step, shared by Adam and AdamW.
#[derive(Clone, Copy)]
struct Rule<T> {
    lr: T,
    betas: (T, T),
    eps: T,
    weight_decay: T,
    /// AdamW's decay of the parameter, instead of Adam's L2 term in the gradient.
    decoupled: bool,
    amsgrad: bool,
    check_finite: bool,
    non_finite: NonFinite,
}

impl<T: Float> Rule<T> {
    fn validate(&self, optimizer: &'static str) -> Result<(), OptimError> {
        let check = Checker { optimizer };
        check.non_negative("lr", self.lr)?;
        check.unit_half_open("betas.0", self.betas.0)?;
        check.unit_half_open("betas.1", self.betas.1)?;
        check.non_negative("eps", self.eps)?;
        check.non_negative("weight_decay", self.weight_decay)
    }
}

impl<T: Float> From<AdamConfig<T>> for Rule<T> {
    fn from(c: AdamConfig<T>) -> Self {
        Rule {
            lr: c.lr,
            betas: c.betas,
            eps: c.eps,
            weight_decay: c.weight_decay,
            decoupled: false,
            amsgrad: c.amsgrad,
            check_finite: c.check_finite,
            non_finite: c.non_finite,
        }
    }
}

impl<T: Float> From<AdamWConfig<T>> for Rule<T> {
    fn from(c: AdamWConfig<T>) -> Self {
        Rule {
            lr: c.lr,
            betas: c.betas,
            eps: c.eps,
            weight_decay: c.weight_decay,
            decoupled: true,
            amsgrad: c.amsgrad,
            check_finite: c.check_finite,
            non_finite: c.non_finite,
        }
    }
}

/// The moment estimates of every parameter.
#[derive(Clone, Debug)]
struct Moments<T> {
    slots: Slots,
    /// First moment estimates `m`.
    m: Vec<ArrayD<T>>,
    /// Second moment estimates `v`.
    v: Vec<ArrayD<T>>,
    /// Running maxima of `v` (AMSGrad only).
    v_max: Vec<ArrayD<T>>,
    steps: usize,
}

impl<T: Float> Moments<T> {
    /// One step of PyTorch's single-tensor Adam / AdamW.
    fn step(
        &mut self,
        rule: Rule<T>,
        params: &mut [&mut ArrayD<T>],
        grads: &[ArrayD<T>],
    ) -> Result<(), OptimError> {
        if !self
            .slots
            .check(params, grads, rule.check_finite, rule.non_finite)?
        {
            return Ok(());
        }
        if !self.slots.is_initialized() {
            self.slots.record(params);
            self.m = zeros_like(params);
            self.v = zeros_like(params);
            if rule.amsgrad {
                self.v_max = zeros_like(params);
            }
        }
        self.steps += 1;

        let (beta1, beta2) = rule.betas;
        let (one_minus_beta1, one_minus_beta2) = (T::one() - beta1, T::one() - beta2);
        let step_size = rule.lr / (T::one() - pow_steps(beta1, self.steps));
        let bias_correction2_sqrt = (T::one() - pow_steps(beta2, self.steps)).sqrt();
        let coupled = !rule.decoupled && rule.weight_decay != T::zero();
        let decay = if rule.decoupled {
            T::one() - rule.lr * rule.weight_decay
        } else {
            T::one()
        };

        for (i, (param, grad)) in params.iter_mut().zip(grads).enumerate() {
            let param: &mut ArrayD<T> = param;
            if decay != T::one() {
                param.mapv_inplace(|theta| theta * decay);
            }
            let moments = |theta: T, g: T, m: &mut T, v: &mut T| {
                let g = if coupled {
                    g + rule.weight_decay * theta
                } else {
                    g
                };
                *m = beta1 * *m + one_minus_beta1 * g;
                *v = beta2 * *v + one_minus_beta2 * g * g;
            };
            let update = |theta: T, m: T, v: T| {
                let denom = v.sqrt() / bias_correction2_sqrt + rule.eps;
                theta - step_size * m / denom
            };
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            if rule.amsgrad {
                Zip::from(param)
                    .and(grad)
                    .and(m)
                    .and(v)
                    .and(&mut self.v_max[i])
                    .for_each(|theta, &g, m, v, v_max| {
                        moments(*theta, g, m, v);
                        *v_max = v_max.max(*v);
                        *theta = update(*theta, *m, *v_max);
                    });
            } else {
                Zip::from(param)
                    .and(grad)
                    .and(m)
                    .and(v)
                    .for_each(|theta, &g, m, v| {
                        moments(*theta, g, m, v);
                        *theta = update(*theta, *m, *v);
                    });
            }
        }
        Ok(())
    }

    /// No state: before the first step.
    fn new() -> Self {
        Moments {
            slots: Slots::default(),
            m: Vec::new(),
            v: Vec::new(),
            v_max: Vec::new(),
            steps: 0,
        }
    }

    fn reset(&mut self) {
        *self = Moments::new();
    }
}

/// `beta^t`.
fn pow_steps<T: Float>(beta: T, t: usize) -> T {
    match i32::try_from(t) {
        Ok(t) => beta.powi(t),
        Err(_) => beta.powf(T::from(t).unwrap_or_else(T::infinity)),
    }
}

/// Adam, with PyTorch's update rule (`torch.optim.Adam`). For each parameter `theta` with
/// gradient `grad`, at step `t = 1, 2, ...`, with `m`, `v` and `v_max` starting at zero:
///
/// ```text
/// g     = grad + lambda * theta                   if weight_decay lambda != 0
/// m     = beta1 * m + (1 - beta1) * g
/// v     = beta2 * v + (1 - beta2) * g^2
/// v_max = max(v_max, v)                           if amsgrad
/// theta = theta - gamma / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
///         where v_hat = v_max with amsgrad, else v   (gamma: lr)
/// ```
///
/// ```
/// use einsum_runtime::optim::{Adam, AdamConfig, Optimizer};
/// use ndarray::array;
///
/// // Adam's first step moves each coordinate by about lr, whatever the gradient's scale.
/// let mut adam = Adam::new(AdamConfig { lr: 0.1, ..Default::default() });
/// let mut x = array![1.0f64, 1.0].into_dyn();
/// adam.step(&mut [&mut x], &[array![1000.0, -0.001].into_dyn()])?;
/// assert!((x[[0]] - 0.9).abs() < 1e-6 && (x[[1]] - 1.1).abs() < 1e-4);
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Adam<T = f64> {
    config: AdamConfig<T>,
    moments: Moments<T>,
}

impl<T: Float> Adam<T> {
    /// An Adam optimizer with `config`.
    ///
    /// # Panics
    ///
    /// When a hyperparameter is out of range (see [`AdamConfig`]); [`try_new`](Adam::try_new)
    /// returns the error instead.
    ///
    /// ```
    /// use einsum_runtime::optim::{Adam, AdamConfig};
    /// let adam = Adam::new(AdamConfig { lr: 0.05, amsgrad: true, ..Default::default() });
    /// assert!(adam.config().amsgrad);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(config: AdamConfig<T>) -> Self {
        match Adam::try_new(config) {
            Ok(adam) => adam,
            Err(err) => panic!("{err}"),
        }
    }

    /// An Adam optimizer with `config`, or an [`OptimError::InvalidConfig`] naming the field
    /// that is out of range.
    ///
    /// # Errors
    ///
    /// When `lr`, `eps` or `weight_decay` is negative or not finite, or a beta is not in
    /// `[0, 1)`.
    ///
    /// ```
    /// use einsum_runtime::optim::{Adam, AdamConfig};
    /// let err = Adam::try_new(AdamConfig { betas: (0.9, 1.0), ..Default::default() }).unwrap_err();
    /// assert_eq!(err.to_string(), "adam: `betas.1` must be in [0, 1), not 1.0");
    /// ```
    pub fn try_new(config: AdamConfig<T>) -> Result<Self, OptimError> {
        Rule::from(config).validate("adam")?;
        Ok(Adam {
            config,
            moments: Moments::new(),
        })
    }

    /// The config, with the current learning rate.
    ///
    /// ```
    /// use einsum_runtime::optim::{Adam, AdamConfig};
    /// assert_eq!(Adam::new(AdamConfig::<f64>::default()).config().eps, 1e-8);
    /// ```
    #[must_use]
    pub fn config(&self) -> &AdamConfig<T> {
        &self.config
    }

    /// The number of steps taken since the optimizer was made or reset (`t` in the rule).
    ///
    /// ```
    /// use einsum_runtime::optim::{Adam, AdamConfig};
    /// assert_eq!(Adam::new(AdamConfig::<f64>::default()).steps(), 0);
    /// ```
    #[must_use]
    pub fn steps(&self) -> usize {
        self.moments.steps
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn step(
        &mut self,
        params: &mut [&mut ArrayD<T>],
        grads: &[ArrayD<T>],
    ) -> Result<(), OptimError> {
        self.moments.step(self.config.into(), params, grads)
    }

    fn learning_rate(&self) -> T {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.config.lr = lr;
    }

    fn reset(&mut self) {
        self.moments.reset();
    }
}

/// AdamW: Adam with decoupled weight decay, with PyTorch's update rule (`torch.optim.AdamW`).
/// For each parameter `theta` with gradient `grad`, at step `t = 1, 2, ...`, with `m`, `v` and
/// `v_max` starting at zero:
///
/// ```text
/// theta = theta * (1 - gamma * lambda)            (gamma: lr, lambda: weight_decay)
/// m     = beta1 * m + (1 - beta1) * grad
/// v     = beta2 * v + (1 - beta2) * grad^2
/// v_max = max(v_max, v)                           if amsgrad
/// theta = theta - gamma / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
///         where v_hat = v_max with amsgrad, else v
/// ```
///
/// ```
/// use einsum_runtime::optim::{AdamW, AdamWConfig, Optimizer};
/// use ndarray::array;
///
/// // With a zero gradient only the decay acts: x <- x * (1 - lr * weight_decay).
/// let mut opt = AdamW::new(AdamWConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() });
/// let mut x = array![2.0f64].into_dyn();
/// opt.step(&mut [&mut x], &[array![0.0].into_dyn()])?;
/// assert!((x[[0]] - 1.9).abs() < 1e-12);
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
#[derive(Clone, Debug)]
pub struct AdamW<T = f64> {
    config: AdamWConfig<T>,
    moments: Moments<T>,
}

impl<T: Float> AdamW<T> {
    /// An AdamW optimizer with `config`.
    ///
    /// # Panics
    ///
    /// When a hyperparameter is out of range (see [`AdamWConfig`]);
    /// [`try_new`](AdamW::try_new) returns the error instead.
    ///
    /// ```
    /// use einsum_runtime::optim::{AdamW, AdamWConfig};
    /// let opt = AdamW::new(AdamWConfig { lr: 3e-4, ..Default::default() });
    /// assert_eq!(opt.config().weight_decay, 1e-2);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(config: AdamWConfig<T>) -> Self {
        match AdamW::try_new(config) {
            Ok(adamw) => adamw,
            Err(err) => panic!("{err}"),
        }
    }

    /// An AdamW optimizer with `config`, or an [`OptimError::InvalidConfig`] naming the field
    /// that is out of range.
    ///
    /// # Errors
    ///
    /// When `lr`, `eps` or `weight_decay` is negative or not finite, or a beta is not in
    /// `[0, 1)`.
    ///
    /// ```
    /// use einsum_runtime::optim::{AdamW, AdamWConfig};
    /// let err = AdamW::try_new(AdamWConfig { weight_decay: -1.0, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.to_string(), "adamw: `weight_decay` must be a finite number >= 0, not -1.0");
    /// ```
    pub fn try_new(config: AdamWConfig<T>) -> Result<Self, OptimError> {
        Rule::from(config).validate("adamw")?;
        Ok(AdamW {
            config,
            moments: Moments::new(),
        })
    }

    /// The config, with the current learning rate.
    ///
    /// ```
    /// use einsum_runtime::optim::{AdamW, AdamWConfig};
    /// assert_eq!(AdamW::new(AdamWConfig::<f64>::default()).config().lr, 1e-3);
    /// ```
    #[must_use]
    pub fn config(&self) -> &AdamWConfig<T> {
        &self.config
    }

    /// The number of steps taken since the optimizer was made or reset (`t` in the rule).
    ///
    /// ```
    /// use einsum_runtime::optim::{AdamW, AdamWConfig};
    /// assert_eq!(AdamW::new(AdamWConfig::<f32>::default()).steps(), 0);
    /// ```
    #[must_use]
    pub fn steps(&self) -> usize {
        self.moments.steps
    }
}

impl<T: Float> Optimizer<T> for AdamW<T> {
    fn step(
        &mut self,
        params: &mut [&mut ArrayD<T>],
        grads: &[ArrayD<T>],
    ) -> Result<(), OptimError> {
        self.moments.step(self.config.into(), params, grads)
    }

    fn learning_rate(&self) -> T {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.config.lr = lr;
    }

    fn reset(&mut self) {
        self.moments.reset();
    }
}
