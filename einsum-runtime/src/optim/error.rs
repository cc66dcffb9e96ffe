//! Why an optimizer step or a training step was refused.

use core::fmt;

/// Why an optimizer step, a [`train_step`](super::train_step) or an optimizer's construction
/// was refused. After an error from a step, the parameters and the optimizer's state are as
/// they were before it.
///
/// ```
/// use einsum_runtime::optim::{Adam, AdamConfig, OptimError, Optimizer};
/// use ndarray::array;
///
/// let mut x = array![1.0, 2.0].into_dyn();
/// let mut adam = Adam::new(AdamConfig::default());
/// let err = adam.step(&mut [&mut x], &[array![0.5, f64::INFINITY].into_dyn()]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "non-finite gradient for parameter 0: inf at index [1]; the step was refused and the parameters are unchanged"
/// );
/// assert_eq!(x, array![1.0, 2.0].into_dyn());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum OptimError {
    /// A gradient holds NaN or an infinity (refused while the config's `check_finite` is on,
    /// the default). `index` is the first such element's index, `value` its value.
    NonFiniteGradient {
        /// The position of the parameter in the slice passed to the step.
        parameter: usize,
        /// The index of the first non-finite element of its gradient.
        index: Vec<usize>,
        /// That element, as an `f64`.
        value: f64,
    },
    /// The numbers of parameters and gradients passed to a step differ.
    GradientCount {
        /// How many parameters were passed.
        parameters: usize,
        /// How many gradients were passed.
        gradients: usize,
    },
    /// A gradient's shape is not its parameter's.
    GradientShape {
        /// The position of the parameter.
        parameter: usize,
        /// The parameter's shape.
        parameter_shape: Vec<usize>,
        /// The gradient's shape.
        gradient_shape: Vec<usize>,
    },
    /// A step was given a different number of parameters than the previous steps.
    ParameterCountChanged {
        /// The number of parameters the optimizer holds state for.
        previous: usize,
        /// The number passed to this step.
        now: usize,
    },
    /// A parameter's shape differs from its shape at the previous steps.
    ParameterShapeChanged {
        /// The position of the parameter.
        parameter: usize,
        /// Its shape at the previous steps.
        previous: Vec<usize>,
        /// Its shape now.
        now: Vec<usize>,
    },
    /// A hyperparameter is out of range (from an optimizer's `try_new`).
    InvalidConfig {
        /// The optimizer, in lower case: `sgd`, `adam`, `adamw`, `rmsprop`.
        optimizer: &'static str,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The loss computed in [`train_step`](super::train_step) does not have one element.
    LossNotScalar {
        /// The loss's shape.
        shape: Vec<usize>,
    },
    /// The loss computed in [`train_step`](super::train_step) does not depend on any
    /// parameter, so no gradient reaches them.
    LossWithoutGradient,
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::NonFiniteGradient {
                parameter,
                index,
                value,
            } => write!(
                f,
                "non-finite gradient for parameter {parameter}: {value} at index {index:?}; \
                 the step was refused and the parameters are unchanged"
            ),
            OptimError::GradientCount {
                parameters,
                gradients,
            } => write!(
                f,
                "{gradients} gradients for {parameters} parameters: each parameter needs one \
                 gradient, in the same order"
            ),
            OptimError::GradientShape {
                parameter,
                parameter_shape,
                gradient_shape,
            } => write!(
                f,
                "the gradient of parameter {parameter} has shape {gradient_shape:?}, but the \
                 parameter has shape {parameter_shape:?}"
            ),
            OptimError::ParameterCountChanged { previous, now } => write!(
                f,
                "the optimizer holds state for {previous} parameters but this step has {now}: \
                 pass the same parameters in the same order at every step, or call `reset` first"
            ),
            OptimError::ParameterShapeChanged {
                parameter,
                previous,
                now,
            } => write!(
                f,
                "parameter {parameter} had shape {previous:?} at the previous steps but has \
                 shape {now:?} now: pass the same parameters in the same order at every step, \
                 or call `reset` first"
            ),
            OptimError::InvalidConfig { optimizer, message } => {
                write!(f, "{optimizer}: {message}")
            }
            OptimError::LossNotScalar { shape } => write!(
                f,
                "the loss must have one element, not shape {shape:?}: reduce it, e.g. with `sum`"
            ),
            OptimError::LossWithoutGradient => write!(
                f,
                "the loss does not depend on any parameter: build it from the `Var`s passed to \
                 the closure, outside `no_grad`"
            ),
        }
    }
}

impl std::error::Error for OptimError {}
