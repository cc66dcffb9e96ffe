//! The error every fallible einsum returns.

use crate::network::NetworkError;
use core::fmt;
use einsum_spec::{ShapeError, SpecError};

/// Why an einsum could not be computed: the spec is invalid (run-time specs only; the macro
/// rejects those at compile time) or the operands' shapes do not fit it.
///
/// Its message names the spec, and for shapes the label, the operands and both extents.
///
/// ```
/// use einsum_runtime::{einsum_dyn, EinsumError};
/// use ndarray::Array2;
///
/// let a = Array2::<f64>::zeros((2, 3)).into_dyn();
/// let b = Array2::<f64>::zeros((4, 5)).into_dyn();
/// let err: EinsumError = einsum_dyn("ij,jk->ik", &[a.view(), b.view()]).unwrap_err();
/// assert_eq!(err.to_string(), "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EinsumError {
    spec: String,
    kind: EinsumErrorKind,
}

/// The kinds of [`EinsumError`].
///
/// ```
/// use einsum_runtime::{einsum_dyn, EinsumErrorKind};
/// let err = einsum_dyn::<f64>("i->j", &[]).unwrap_err();
/// assert!(matches!(err.kind(), EinsumErrorKind::Spec(_)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EinsumErrorKind {
    /// The spec text is invalid; every problem found, in order of position.
    Spec(Vec<SpecError>),
    /// The operands do not fit the spec.
    Shape(ShapeError),
    /// A tensor network's labels are inconsistent, or a plan was given operands of other
    /// shapes (see [`crate::network`]).
    Network(NetworkError),
}

impl EinsumError {
    /// An error for an invalid spec text.
    ///
    /// ```
    /// let errors = einsum_spec::Spec::parse("i1").unwrap_err();
    /// let err = einsum_runtime::EinsumError::from_spec_errors("i1", errors);
    /// assert!(err.to_string().starts_with("einsum `i1`: invalid character `1`"));
    /// ```
    #[must_use]
    pub fn from_spec_errors(spec: &str, errors: Vec<SpecError>) -> EinsumError {
        EinsumError {
            spec: spec.to_owned(),
            kind: EinsumErrorKind::Spec(errors),
        }
    }

    /// An error for operands whose shapes do not fit `spec`.
    ///
    /// ```
    /// use einsum_spec::ShapeError;
    /// let err = einsum_runtime::EinsumError::from_shape_error(
    ///     "i,i->",
    ///     ShapeError::OperandCount { terms: 2, operands: 1 },
    /// );
    /// assert_eq!(err.to_string(), "einsum `i,i->`: the spec has 2 input terms but 1 operand was given");
    /// ```
    #[must_use]
    pub fn from_shape_error(spec: &str, error: ShapeError) -> EinsumError {
        EinsumError {
            spec: spec.to_owned(),
            kind: EinsumErrorKind::Shape(error),
        }
    }

    /// An error for a tensor network (`name` stands for its spec in the message).
    ///
    /// ```
    /// use einsum_runtime::network::NetworkError;
    /// let err = einsum_runtime::EinsumError::from_network_error(
    ///     "network of 2 operands",
    ///     NetworkError::RepeatedOutputLabel { label: 3 },
    /// );
    /// assert!(err.to_string().ends_with("output label `3` is listed twice: list it once"));
    /// ```
    #[must_use]
    pub fn from_network_error(name: &str, error: NetworkError) -> EinsumError {
        EinsumError {
            spec: name.to_owned(),
            kind: EinsumErrorKind::Network(error),
        }
    }

    /// The spec, as the caller wrote it.
    ///
    /// ```
    /// let err = einsum_runtime::einsum_dyn::<f64>("ij->k", &[]).unwrap_err();
    /// assert_eq!(err.spec(), "ij->k");
    /// ```
    #[must_use]
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// What went wrong.
    ///
    /// ```
    /// use einsum_runtime::{einsum_dyn, EinsumErrorKind};
    /// let err = einsum_dyn::<f64>("ij", &[]).unwrap_err();
    /// assert!(matches!(err.kind(), EinsumErrorKind::Shape(_)));
    /// ```
    #[must_use]
    pub fn kind(&self) -> &EinsumErrorKind {
        &self.kind
    }
}

impl fmt::Display for EinsumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "einsum `{}`: ", self.spec)?;
        match &self.kind {
            EinsumErrorKind::Spec(errors) => {
                for (n, error) in errors.iter().enumerate() {
                    if n > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{error}")?;
                }
                Ok(())
            }
            EinsumErrorKind::Shape(error) => write!(f, "{error}"),
            EinsumErrorKind::Network(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for EinsumError {}
