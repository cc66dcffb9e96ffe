//! Errors in the text of a spec, found before any operand is looked at.
//!
//! Messages follow one style: lowercase, no final period, user text in backticks, and they say
//! what is required. They do not repeat the spec; callers prefix ``einsum `SPEC`: ``.

use crate::{Label, TermRef};
use core::fmt;

/// One problem in a spec's text, with the character position it was found at.
///
/// ```
/// use einsum_spec::Spec;
/// let errors = Spec::parse("ij,jk->iz").unwrap_err();
/// assert_eq!(
///     errors[0].to_string(),
///     "output label `z` at position 8 does not occur in any input term"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    kind: SpecErrorKind,
    position: Option<usize>,
}

/// What is wrong with a spec.
///
/// ```
/// use einsum_spec::{Spec, SpecErrorKind};
/// let errors = Spec::parse("ij->ii").unwrap_err();
/// assert!(matches!(errors[0].kind(), SpecErrorKind::RepeatedOutputLabel { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecErrorKind {
    /// A character that is neither a letter, `.`, `,`, `->` nor whitespace.
    InvalidCharacter {
        /// The character.
        ch: char,
        /// The term it occurs in.
        term: TermRef,
        /// That term as written (without whitespace).
        term_text: String,
    },
    /// A `.` that is not part of a group of exactly three.
    StrayDot {
        /// The term it occurs in.
        term: TermRef,
        /// That term as written.
        term_text: String,
    },
    /// A second `...` in one term.
    TwoEllipses {
        /// The term.
        term: TermRef,
        /// That term as written.
        term_text: String,
    },
    /// A `-` not followed by `>`, or a `>` not preceded by `-`.
    StrayArrowPart {
        /// `-` or `>`.
        ch: char,
    },
    /// A second `->`.
    TwoArrows,
    /// A `,` after `->`.
    CommaInOutput,
    /// An explicit output label that no input term contains.
    OutputLabelNotInInputs {
        /// The label.
        label: Label,
    },
    /// A label written twice in the explicit output.
    RepeatedOutputLabel {
        /// The label.
        label: Label,
        /// Where it was first written.
        first_position: usize,
    },
    /// The number of operands differs from the number of input terms.
    OperandCount {
        /// Input terms in the spec.
        terms: usize,
        /// Operands given.
        operands: usize,
    },
}

impl SpecError {
    pub(crate) fn at(kind: SpecErrorKind, position: usize) -> SpecError {
        SpecError {
            kind,
            position: Some(position),
        }
    }

    /// An error that belongs to the whole spec rather than to one position.
    pub(crate) fn whole(kind: SpecErrorKind) -> SpecError {
        SpecError {
            kind,
            position: None,
        }
    }

    /// The error for `operands` operands given to a spec with `terms` input terms.
    ///
    /// ```
    /// let err = einsum_spec::SpecError::operand_count(2, 3);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the spec has 2 input terms but 3 operands were given: pass one operand per input term"
    /// );
    /// ```
    #[must_use]
    pub fn operand_count(terms: usize, operands: usize) -> SpecError {
        SpecError::whole(SpecErrorKind::OperandCount { terms, operands })
    }

    /// What is wrong.
    ///
    /// ```
    /// use einsum_spec::{Spec, SpecErrorKind};
    /// let err = &Spec::parse("i->j").unwrap_err()[0];
    /// assert!(matches!(err.kind(), SpecErrorKind::OutputLabelNotInInputs { .. }));
    /// ```
    #[must_use]
    pub fn kind(&self) -> &SpecErrorKind {
        &self.kind
    }

    /// The 0-based character position in the spec where the problem was found, if it has one.
    ///
    /// ```
    /// let err = &einsum_spec::Spec::parse("ij,j1").unwrap_err()[0];
    /// assert_eq!(err.position(), Some(4));
    /// ```
    #[must_use]
    pub fn position(&self) -> Option<usize> {
        self.position
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pos = self.position.unwrap_or_default();
        match &self.kind {
            SpecErrorKind::InvalidCharacter {
                ch,
                term,
                term_text,
            } => write!(
                f,
                "invalid character `{}` at position {pos} in {term} (`{term_text}`): labels are \
                 the letters `a-z` and `A-Z`, terms are separated by `,`, and `...` marks \
                 broadcast axes",
                ch.escape_debug()
            ),
            SpecErrorKind::StrayDot { term, term_text } => write!(
                f,
                "stray `.` at position {pos} in {term} (`{term_text}`): an ellipsis is exactly \
                 three dots `...`"
            ),
            SpecErrorKind::TwoEllipses { term, term_text } => write!(
                f,
                "second `...` at position {pos} in {term} (`{term_text}`): a term may contain \
                 at most one ellipsis"
            ),
            SpecErrorKind::StrayArrowPart { ch } => write!(
                f,
                "stray `{ch}` at position {pos}: the output term is introduced by `->`"
            ),
            SpecErrorKind::TwoArrows => write!(
                f,
                "second `->` at position {pos}: a spec has at most one output term"
            ),
            SpecErrorKind::CommaInOutput => write!(
                f,
                "`,` at position {pos} in the output term: the output is a single term"
            ),
            SpecErrorKind::OutputLabelNotInInputs { label } => write!(
                f,
                "output label `{label}` at position {pos} does not occur in any input term"
            ),
            SpecErrorKind::RepeatedOutputLabel {
                label,
                first_position,
            } => write!(
                f,
                "output label `{label}` is repeated at position {pos} (first at position \
                 {first_position}): output labels must be distinct"
            ),
            SpecErrorKind::OperandCount { terms, operands } => write!(
                f,
                "the spec has {terms} input term{} but {operands} operand{} {} given: pass one \
                 operand per input term",
                plural(*terms),
                plural(*operands),
                if *operands == 1 { "was" } else { "were" }
            ),
        }
    }
}

impl std::error::Error for SpecError {}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
