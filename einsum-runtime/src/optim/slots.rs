//! What every optimizer checks before it touches a parameter: counts, shapes, finiteness.

use super::{NonFinite, OptimError};
use crate::Float;
use ndarray::{ArrayD, Dimension};

/// The shapes of the parameters an optimizer holds state for, by position; `None` before the
/// first step and after a reset.
#[derive(Clone, Debug, Default)]
pub(super) struct Slots {
    shapes: Option<Vec<Vec<usize>>>,
}

impl Slots {
    /// Whether a step has been taken since the optimizer was made or reset.
    pub(super) fn is_initialized(&self) -> bool {
        self.shapes.is_some()
    }

    /// Checks a step's arguments, in this order: counts of gradients and parameters, the
    /// parameters against the previous steps, each gradient's shape, then (when
    /// `check_finite` and the policy is not [`NonFinite::Ignore`]) each gradient's elements.
    /// Nothing is modified. `Ok(false)`: a gradient is not finite and the policy is
    /// [`NonFinite::Skip`], so the step must be skipped.
    pub(super) fn check<T: Float>(
        &self,
        params: &[&mut ArrayD<T>],
        grads: &[ArrayD<T>],
        check_finite: bool,
        policy: NonFinite,
    ) -> Result<bool, OptimError> {
        if params.len() != grads.len() {
            return Err(OptimError::GradientCount {
                parameters: params.len(),
                gradients: grads.len(),
            });
        }
        if let Some(shapes) = &self.shapes {
            if shapes.len() != params.len() {
                return Err(OptimError::ParameterCountChanged {
                    previous: shapes.len(),
                    now: params.len(),
                });
            }
            for (parameter, (shape, param)) in shapes.iter().zip(params).enumerate() {
                if shape.as_slice() != param.shape() {
                    return Err(OptimError::ParameterShapeChanged {
                        parameter,
                        previous: shape.clone(),
                        now: param.shape().to_vec(),
                    });
                }
            }
        }
        for (parameter, (param, grad)) in params.iter().zip(grads).enumerate() {
            if param.shape() != grad.shape() {
                return Err(OptimError::GradientShape {
                    parameter,
                    parameter_shape: param.shape().to_vec(),
                    gradient_shape: grad.shape().to_vec(),
                });
            }
        }
        if check_finite && policy != NonFinite::Ignore {
            for (parameter, grad) in grads.iter().enumerate() {
                if grad.iter().all(|g| g.is_finite()) {
                    continue;
                }
                if policy == NonFinite::Skip {
                    return Ok(false);
                }
                if let Some((index, value)) = grad.indexed_iter().find(|(_, g)| !g.is_finite()) {
                    return Err(OptimError::NonFiniteGradient {
                        parameter,
                        index: index.slice().to_vec(),
                        value: value.to_f64().unwrap_or(f64::NAN),
                    });
                }
            }
        }
        Ok(true)
    }

    /// Remembers the shapes of `params` at the first step.
    pub(super) fn record<T: Float>(&mut self, params: &[&mut ArrayD<T>]) {
        if self.shapes.is_none() {
            self.shapes = Some(params.iter().map(|p| p.shape().to_vec()).collect());
        }
    }

    /// Forgets the shapes.
    pub(super) fn clear(&mut self) {
        self.shapes = None;
    }
}

/// Zero arrays shaped like `params`: the initial state of the moment estimates.
pub(super) fn zeros_like<T: Float>(params: &[&mut ArrayD<T>]) -> Vec<ArrayD<T>> {
    params.iter().map(|p| ArrayD::zeros(p.raw_dim())).collect()
}

/// Checks hyperparameters, naming the optimizer in each message.
pub(super) struct Checker {
    pub(super) optimizer: &'static str,
}

impl Checker {
    /// `value` is a finite number `>= 0`.
    pub(super) fn non_negative<T: Float>(&self, field: &str, value: T) -> Result<(), OptimError> {
        let ok = value.is_finite() && value >= T::zero();
        self.require(ok, || {
            format!("`{field}` must be a finite number >= 0, not {value:?}")
        })
    }

    /// `value` is in `[0, 1)`.
    pub(super) fn unit_half_open<T: Float>(&self, field: &str, value: T) -> Result<(), OptimError> {
        let ok = value >= T::zero() && value < T::one();
        self.require(ok, || format!("`{field}` must be in [0, 1), not {value:?}"))
    }

    /// `value` is in `[0, 1]`.
    pub(super) fn unit_closed<T: Float>(&self, field: &str, value: T) -> Result<(), OptimError> {
        let ok = value >= T::zero() && value <= T::one();
        self.require(ok, || format!("`{field}` must be in [0, 1], not {value:?}"))
    }

    /// `ok`, or an [`OptimError::InvalidConfig`] with `message()`.
    pub(super) fn require(
        &self,
        ok: bool,
        message: impl FnOnce() -> String,
    ) -> Result<(), OptimError> {
        if ok {
            Ok(())
        } else {
            Err(OptimError::InvalidConfig {
                optimizer: self.optimizer,
                message: message(),
            })
        }
    }
}
