//! Terms: the comma-separated parts of a spec, one per operand plus the output.

use crate::Label;
use core::fmt;

/// One axis of a term: a named label or the ellipsis `...`.
///
/// ```
/// use einsum_spec::{Axis, Spec};
/// let spec = Spec::parse("...i->i").unwrap();
/// assert_eq!(spec.inputs()[0].axes()[0], Axis::Ellipsis);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Axis {
    /// A named axis.
    Label(Label),
    /// `...`: zero or more broadcast axes.
    Ellipsis,
}

/// Which term of a spec something refers to; used by error messages.
///
/// ```
/// use einsum_spec::TermRef;
/// assert_eq!(TermRef::Input(1).to_string(), "input term 1");
/// assert_eq!(TermRef::Output.to_string(), "the output term");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TermRef {
    /// The input term of operand `n` (0-based).
    Input(usize),
    /// The output term (after `->`).
    Output,
}

impl fmt::Display for TermRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TermRef::Input(n) => write!(f, "input term {n}"),
            TermRef::Output => f.write_str("the output term"),
        }
    }
}

/// The axes of one operand (or of the output), in order.
///
/// Displays in canonical form: letters and `...`, no whitespace.
///
/// ```
/// use einsum_spec::Spec;
/// let spec = Spec::parse(" i j , j k ").unwrap();
/// assert_eq!(spec.inputs()[1].to_string(), "jk");
/// assert_eq!(spec.inputs()[1].named_rank(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Term {
    axes: Vec<Axis>,
}

impl Term {
    /// A term made of `axes`.
    ///
    /// ```
    /// use einsum_spec::{Axis, Label, Term};
    /// let i = Label::from_char('i').unwrap();
    /// assert_eq!(Term::new(vec![Axis::Ellipsis, Axis::Label(i)]).to_string(), "...i");
    /// ```
    #[must_use]
    pub fn new(axes: Vec<Axis>) -> Term {
        Term { axes }
    }

    /// The axes, in the order written.
    ///
    /// ```
    /// assert_eq!(einsum_spec::Spec::parse("ij").unwrap().inputs()[0].axes().len(), 2);
    /// ```
    #[must_use]
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Whether the term contains `...`.
    ///
    /// ```
    /// assert!(einsum_spec::Spec::parse("i...").unwrap().inputs()[0].has_ellipsis());
    /// ```
    #[must_use]
    pub fn has_ellipsis(&self) -> bool {
        self.axes.contains(&Axis::Ellipsis)
    }

    /// The named labels in order, repeats included, ellipsis skipped.
    ///
    /// ```
    /// let spec = einsum_spec::Spec::parse("i...i").unwrap();
    /// let labels: String = spec.inputs()[0].labels().map(|l| l.as_char()).collect();
    /// assert_eq!(labels, "ii");
    /// ```
    pub fn labels(&self) -> impl Iterator<Item = Label> + '_ {
        self.axes.iter().filter_map(|axis| match axis {
            Axis::Label(label) => Some(*label),
            Axis::Ellipsis => None,
        })
    }

    /// How many named axes the term has (its rank when it has no ellipsis).
    ///
    /// ```
    /// assert_eq!(einsum_spec::Spec::parse("...ij").unwrap().inputs()[0].named_rank(), 2);
    /// ```
    #[must_use]
    pub fn named_rank(&self) -> usize {
        self.labels().count()
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for axis in &self.axes {
            match axis {
                Axis::Label(label) => write!(f, "{label}")?,
                Axis::Ellipsis => f.write_str("...")?,
            }
        }
        Ok(())
    }
}
