//! The parsed spec and its parser.
//!
//! Grammar (whitespace anywhere is ignored):
//!
//! ```text
//! spec   := inputs ( "->" term )?
//! inputs := term ( "," term )*
//! term   := ( letter | "..." )*        at most one "..." per term
//! letter := 'a'..='z' | 'A'..='Z'
//! ```

use crate::error::{SpecError, SpecErrorKind};
use crate::{Axis, Label, Term, TermRef};

/// A parsed and validated einsum spec.
///
/// Parsing checks everything that can be checked without operands: characters, ellipses,
/// arrows, and the output term. When the spec has no `->`, the output is numpy's implicit
/// one: `...` first if any input has it, then every label that occurs exactly once, upper
/// case before lower case.
///
/// ```
/// use einsum_spec::Spec;
/// let spec = Spec::parse("ij,jk").unwrap();
/// assert_eq!(spec.output().to_string(), "ik");
/// assert!(!spec.is_explicit());
/// assert_eq!(spec.to_string(), "ij,jk->ik");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    inputs: Vec<Term>,
    output: Term,
    explicit: bool,
}

/// Where the parser is: in the inputs or after `->`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Inputs,
    Output,
}

/// A term being read, with what the checks need to know about it.
struct TermBuilder {
    axes: Vec<Axis>,
    /// Each axis' position in the spec, for error messages.
    positions: Vec<usize>,
    /// The characters written in this term (whitespace removed), for error messages.
    text: String,
}

impl TermBuilder {
    fn new() -> TermBuilder {
        TermBuilder {
            axes: Vec::new(),
            positions: Vec::new(),
            text: String::new(),
        }
    }
}

impl Spec {
    /// Parses and validates `text`, reporting every problem found, in order of position.
    ///
    /// # Errors
    ///
    /// A non-empty list of [`SpecError`]s when the text is not a valid spec.
    ///
    /// ```
    /// use einsum_spec::Spec;
    /// assert!(Spec::parse("ii->").is_ok());
    /// let errors = Spec::parse("i_,j->jj").unwrap_err();
    /// assert_eq!(errors.len(), 2);
    /// ```
    pub fn parse(text: &str) -> Result<Spec, Vec<SpecError>> {
        let chars: Vec<(usize, char)> = text
            .chars()
            .enumerate()
            .filter(|(_, c)| !c.is_whitespace())
            .collect();
        let mut errors = Vec::new();
        let mut inputs: Vec<TermBuilder> = Vec::new();
        let mut current = TermBuilder::new();
        let mut output: Option<TermBuilder> = None;
        let mut section = Section::Inputs;
        let term_ref = |section: Section, inputs: &Vec<TermBuilder>| match section {
            Section::Inputs => TermRef::Input(inputs.len()),
            Section::Output => TermRef::Output,
        };

        // First pass: the text of each term, so that errors can quote it whole.
        let term_texts = split_term_texts(&chars);
        let text_of = |term: TermRef| -> String {
            match term {
                TermRef::Input(n) => term_texts.inputs.get(n).cloned().unwrap_or_default(),
                TermRef::Output => term_texts.output.clone().unwrap_or_default(),
            }
        };

        let mut i = 0;
        while i < chars.len() {
            let (pos, c) = chars[i];
            match c {
                '.' => {
                    let run = chars[i..].iter().take_while(|(_, c)| *c == '.').count();
                    let term = term_ref(section, &inputs);
                    for k in 0..run / 3 {
                        let at = chars[i + 3 * k].0;
                        if current.axes.contains(&Axis::Ellipsis) {
                            errors.push(SpecError::at(
                                SpecErrorKind::TwoEllipses {
                                    term,
                                    term_text: text_of(term),
                                },
                                at,
                            ));
                        } else {
                            current.axes.push(Axis::Ellipsis);
                            current.positions.push(at);
                        }
                        current.text.push_str("...");
                    }
                    if run % 3 != 0 {
                        let at = chars[i + run - run % 3].0;
                        errors.push(SpecError::at(
                            SpecErrorKind::StrayDot {
                                term,
                                term_text: text_of(term),
                            },
                            at,
                        ));
                        current.text.push_str(&".".repeat(run % 3));
                    }
                    i += run;
                    continue;
                }
                ',' => match section {
                    Section::Inputs => {
                        inputs.push(core::mem::replace(&mut current, TermBuilder::new()))
                    }
                    Section::Output => {
                        errors.push(SpecError::at(SpecErrorKind::CommaInOutput, pos))
                    }
                },
                '-' if chars.get(i + 1).map(|(_, c)| *c) == Some('>') => {
                    match section {
                        Section::Inputs => {
                            inputs.push(core::mem::replace(&mut current, TermBuilder::new()));
                            section = Section::Output;
                        }
                        Section::Output => {
                            errors.push(SpecError::at(SpecErrorKind::TwoArrows, pos))
                        }
                    }
                    i += 2;
                    continue;
                }
                '-' | '>' => {
                    errors.push(SpecError::at(SpecErrorKind::StrayArrowPart { ch: c }, pos));
                }
                _ => match Label::from_char(c) {
                    Some(label) => {
                        current.axes.push(Axis::Label(label));
                        current.positions.push(pos);
                        current.text.push(c);
                    }
                    None => {
                        let term = term_ref(section, &inputs);
                        errors.push(SpecError::at(
                            SpecErrorKind::InvalidCharacter {
                                ch: c,
                                term,
                                term_text: text_of(term),
                            },
                            pos,
                        ));
                        current.text.push(c);
                    }
                },
            }
            i += 1;
        }
        match section {
            Section::Inputs => inputs.push(current),
            Section::Output => output = Some(current),
        }

        let input_terms: Vec<Term> = inputs.into_iter().map(|b| Term::new(b.axes)).collect();
        let (output_term, explicit) = match output {
            Some(builder) => {
                check_explicit_output(&builder, &input_terms, &mut errors);
                (Term::new(builder.axes), true)
            }
            None => (implicit_output(&input_terms), false),
        };

        if errors.is_empty() {
            Ok(Spec {
                inputs: input_terms,
                output: output_term,
                explicit,
            })
        } else {
            errors.sort_by_key(|e| e.position().unwrap_or(usize::MAX));
            Err(errors)
        }
    }

    /// The input terms, one per operand.
    ///
    /// ```
    /// assert_eq!(einsum_spec::Spec::parse("i,j,k").unwrap().inputs().len(), 3);
    /// ```
    #[must_use]
    pub fn inputs(&self) -> &[Term] {
        &self.inputs
    }

    /// The output term: as written after `->`, or numpy's implicit output.
    ///
    /// ```
    /// assert_eq!(einsum_spec::Spec::parse("ba").unwrap().output().to_string(), "ab");
    /// ```
    #[must_use]
    pub fn output(&self) -> &Term {
        &self.output
    }

    /// Whether the output was written with `->`.
    ///
    /// ```
    /// assert!(einsum_spec::Spec::parse("ij->").unwrap().is_explicit());
    /// ```
    #[must_use]
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// Checks that `operands` operands were given, one per input term.
    ///
    /// # Errors
    ///
    /// [`SpecErrorKind::OperandCount`] when the counts differ.
    ///
    /// ```
    /// let spec = einsum_spec::Spec::parse("ij,jk->ik").unwrap();
    /// assert!(spec.check_operand_count(2).is_ok());
    /// assert!(spec.check_operand_count(3).is_err());
    /// ```
    pub fn check_operand_count(&self, operands: usize) -> Result<(), SpecError> {
        if operands == self.inputs.len() {
            Ok(())
        } else {
            Err(SpecError::operand_count(self.inputs.len(), operands))
        }
    }
}

impl core::fmt::Display for Spec {
    /// The canonical form: no whitespace, output always explicit.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (n, term) in self.inputs.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{term}")?;
        }
        write!(f, "->{}", self.output)
    }
}

/// The raw text of each term (whitespace removed), for quoting in errors.
struct TermTexts {
    inputs: Vec<String>,
    output: Option<String>,
}

fn split_term_texts(chars: &[(usize, char)]) -> TermTexts {
    let text: String = chars.iter().map(|(_, c)| *c).collect();
    match text.split_once("->") {
        Some((inputs, output)) => TermTexts {
            inputs: inputs.split(',').map(str::to_owned).collect(),
            output: Some(output.to_owned()),
        },
        None => TermTexts {
            inputs: text.split(',').map(str::to_owned).collect(),
            output: None,
        },
    }
}

/// Explicit output rules: every label occurs in some input, and none twice in the output.
fn check_explicit_output(output: &TermBuilder, inputs: &[Term], errors: &mut Vec<SpecError>) {
    let mut first_seen: [Option<usize>; Label::COUNT] = [None; Label::COUNT];
    for (axis, &pos) in output.axes.iter().zip(&output.positions) {
        let Axis::Label(label) = *axis else { continue };
        if !inputs.iter().any(|t| t.labels().any(|l| l == label)) {
            errors.push(SpecError::at(
                SpecErrorKind::OutputLabelNotInInputs { label },
                pos,
            ));
        }
        match first_seen[label.index()] {
            Some(first_position) => errors.push(SpecError::at(
                SpecErrorKind::RepeatedOutputLabel {
                    label,
                    first_position,
                },
                pos,
            )),
            None => first_seen[label.index()] = Some(pos),
        }
    }
}

/// numpy's implicit output: `...` if any input has it, then the labels that occur exactly
/// once across all inputs, in [`Label::index`] order.
fn implicit_output(inputs: &[Term]) -> Term {
    let mut counts = [0usize; Label::COUNT];
    for label in inputs.iter().flat_map(Term::labels) {
        counts[label.index()] += 1;
    }
    let ellipsis = inputs
        .iter()
        .any(Term::has_ellipsis)
        .then_some(Axis::Ellipsis);
    let once = (0..Label::COUNT)
        .filter(|&i| counts[i] == 1)
        .filter_map(Label::from_index)
        .map(Axis::Label);
    Term::new(ellipsis.into_iter().chain(once).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(spec: &str) -> String {
        Spec::parse(spec).unwrap().output().to_string()
    }

    fn kinds(spec: &str) -> Vec<SpecErrorKind> {
        Spec::parse(spec)
            .unwrap_err()
            .into_iter()
            .map(|e| e.kind().clone())
            .collect()
    }

    #[test]
    fn implicit_output_keeps_labels_seen_once_upper_case_first() {
        assert_eq!(out("ij,jk"), "ik");
        assert_eq!(out("ba"), "ab");
        assert_eq!(out("bA,ac"), "Aabc");
        assert_eq!(out("bA,Ac"), "bc");
        assert_eq!(out("ii"), "");
        assert_eq!(out("ij,ij"), "");
        assert_eq!(out("iij"), "j");
    }

    #[test]
    fn implicit_output_puts_ellipsis_first() {
        assert_eq!(out("...ij,...jk"), "...ik");
        assert_eq!(out("i...,j"), "...ij");
    }

    #[test]
    fn whitespace_is_ignored_everywhere() {
        // Whitespace is removed before anything else, so even `- >` is an arrow.
        assert_eq!(
            Spec::parse(" i j , j k - > i k ").unwrap().to_string(),
            "ij,jk->ik"
        );
        assert_eq!(
            Spec::parse(" i j ,\tj k -> i k\n").unwrap().to_string(),
            "ij,jk->ik"
        );
        assert_eq!(Spec::parse(". . .i->i").unwrap().to_string(), "...i->i");
    }

    #[test]
    fn empty_terms_are_scalars() {
        let spec = Spec::parse(",i->i").unwrap();
        assert_eq!(spec.inputs()[0].axes().len(), 0);
        assert_eq!(Spec::parse("").unwrap().inputs().len(), 1);
        assert_eq!(Spec::parse("->").unwrap().to_string(), "->");
        assert_eq!(Spec::parse("i->").unwrap().output().axes().len(), 0);
    }

    #[test]
    fn ellipsis_may_stand_anywhere_in_a_term() {
        for spec in [
            "...ij->ij",
            "i...j->ij",
            "ij...->ij",
            "...->...",
            "...,...->...",
        ] {
            assert!(Spec::parse(spec).is_ok(), "{spec}");
        }
    }

    #[test]
    fn malformed_ellipses_are_rejected() {
        assert!(matches!(kinds("..i")[0], SpecErrorKind::StrayDot { .. }));
        assert!(matches!(kinds(".i")[0], SpecErrorKind::StrayDot { .. }));
        assert!(matches!(kinds("....i")[0], SpecErrorKind::StrayDot { .. }));
        assert!(matches!(
            kinds("...i...")[0],
            SpecErrorKind::TwoEllipses { .. }
        ));
        assert!(matches!(
            kinds("......")[0],
            SpecErrorKind::TwoEllipses { .. }
        ));
        assert!(matches!(
            kinds("i->..")[0],
            SpecErrorKind::StrayDot {
                term: TermRef::Output,
                ..
            }
        ));
    }

    #[test]
    fn arrows_and_commas_are_checked() {
        assert_eq!(kinds("ij->j->i"), vec![SpecErrorKind::TwoArrows]);
        assert_eq!(
            kinds("ij-j"),
            vec![SpecErrorKind::StrayArrowPart { ch: '-' }]
        );
        assert_eq!(
            kinds("ij>j"),
            vec![SpecErrorKind::StrayArrowPart { ch: '>' }]
        );
        assert_eq!(kinds("i,j->i,j"), vec![SpecErrorKind::CommaInOutput]);
    }

    #[test]
    fn invalid_characters_name_the_term() {
        let errors = Spec::parse("ij,j1->i").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].position(), Some(4));
        assert_eq!(
            errors[0].to_string(),
            "invalid character `1` at position 4 in input term 1 (`j1`): labels are the letters \
             `a-z` and `A-Z`, terms are separated by `,`, and `...` marks broadcast axes"
        );
        for spec in ["i_j", "iéj", "i;j", "i+j", "(i)"] {
            assert!(
                matches!(kinds(spec)[0], SpecErrorKind::InvalidCharacter { .. }),
                "{spec}"
            );
        }
    }

    #[test]
    fn output_labels_must_come_from_inputs_and_be_distinct() {
        assert_eq!(
            kinds("ij,jk->iz"),
            vec![SpecErrorKind::OutputLabelNotInInputs {
                label: Label::from_char('z').unwrap()
            }]
        );
        assert_eq!(
            kinds("ij->ii"),
            vec![SpecErrorKind::RepeatedOutputLabel {
                label: Label::from_char('i').unwrap(),
                first_position: 4
            }]
        );
    }

    #[test]
    fn every_problem_is_reported_in_position_order() {
        let errors = Spec::parse("a1,b_->zz").unwrap_err();
        let positions: Vec<_> = errors.iter().map(|e| e.position().unwrap()).collect();
        assert_eq!(positions, vec![1, 4, 7, 8, 8]);
    }

    #[test]
    fn operand_count_is_checked() {
        let spec = Spec::parse("ij,jk").unwrap();
        assert_eq!(
            spec.check_operand_count(1).unwrap_err().to_string(),
            "the spec has 2 input terms but 1 operand was given: pass one operand per input term"
        );
    }
}
