//! A spec resolved against its operands' ranks: every axis mapped to a slot.
//!
//! A *slot* is one summation or output index: a named label, or one axis of the broadcast
//! shape that `...` stands for. Once ranks are known, `...` expands into as many broadcast
//! slots as the operand with the most ellipsis axes has, aligned on the right as numpy
//! broadcasting aligns them.

use crate::error::plural;
use crate::{Axis, Label, Spec};
use core::fmt;

/// What one slot of a [`Contraction`] stands for.
///
/// ```
/// use einsum_spec::{Slot, Spec};
/// let c = Spec::parse("...i->...").unwrap().resolve(&[3]).unwrap();
/// assert_eq!(c.slots()[0], Slot::Broadcast(0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A named label.
    Named(Label),
    /// Axis `k` (from the left) of the broadcast shape that `...` stands for.
    Broadcast(usize),
    /// A label given as a number, for networks with more labels than letters (the run-time
    /// crate's `Network::from_labels` builds them with [`Contraction::from_parts`]).
    Numbered(u32),
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Slot::Named(label) => write!(f, "label `{label}`"),
            Slot::Broadcast(k) => write!(f, "broadcast axis {k} of `...`"),
            Slot::Numbered(n) => write!(f, "label `{n}`"),
        }
    }
}

/// A spec with every operand axis and output axis mapped to a slot.
///
/// Slots are numbered in order of first appearance in the inputs. A slot that is absent from
/// the output is summed over.
///
/// ```
/// use einsum_spec::Spec;
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// assert_eq!(c.inputs(), &[vec![0, 1], vec![1, 2]]);
/// assert_eq!(c.output(), &[0, 2]);
/// assert_eq!(c.summed_slots().collect::<Vec<_>>(), vec![1]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Contraction {
    inputs: Vec<Vec<usize>>,
    output: Vec<usize>,
    slots: Vec<Slot>,
}

/// Why operands' shapes do not fit a spec. Messages do not repeat the spec.
///
/// ```
/// use einsum_spec::Spec;
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let err = c.bind_extents(&[&[2, 3], &[4, 5]]).unwrap_err();
/// assert_eq!(err.to_string(), "label `j` is 3 in operand 0 but 4 in operand 1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeError {
    /// The number of operands differs from the number of input terms.
    OperandCount {
        /// Input terms in the spec.
        terms: usize,
        /// Operands given.
        operands: usize,
    },
    /// An operand's rank does not fit its term.
    Rank {
        /// The operand (0-based).
        operand: usize,
        /// Its term, as written.
        term: String,
        /// How many named labels the term has.
        named: usize,
        /// Whether the term has `...` (then the rank may be larger).
        ellipsis: bool,
        /// The operand's rank.
        rank: usize,
    },
    /// A slot has two different extents (neither of them 1) in two operands.
    Extent {
        /// The slot.
        slot: Slot,
        /// The first operand and its extent.
        first: (usize, usize),
        /// The second operand and its extent.
        second: (usize, usize),
    },
    /// The gradient passed for the output does not have the output's shape.
    GradientShape {
        /// The output's shape.
        expected: Vec<usize>,
        /// The gradient's shape.
        actual: Vec<usize>,
    },
    /// A buffer given for an operand's gradient does not have that operand's shape.
    ///
    /// ```
    /// use einsum_spec::ShapeError;
    /// let err = ShapeError::GradientBufferShape { operand: 1, expected: vec![3, 4], actual: vec![4, 3] };
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the gradient buffer of operand 1 has shape [4, 3] but operand 1 has shape [3, 4]"
    /// );
    /// ```
    GradientBufferShape {
        /// The operand.
        operand: usize,
        /// The operand's shape.
        expected: Vec<usize>,
        /// The buffer's shape.
        actual: Vec<usize>,
    },
    /// The array a contraction is written into (`einsum_into!`) has a rank other than the
    /// output term's.
    ///
    /// ```
    /// use einsum_spec::ShapeError;
    /// let err = ShapeError::OutputRank { expected: 2, rank: 3 };
    /// assert_eq!(err.to_string(), "the output array has rank 3 but the output term has 2 labels");
    /// ```
    OutputRank {
        /// The output term's rank.
        expected: usize,
        /// The output array's rank.
        rank: usize,
    },
    /// The array a contraction is written into (`einsum_into!`) differs from the output's
    /// extent along a label.
    ///
    /// ```
    /// use einsum_spec::{Label, ShapeError, Slot};
    /// let i = Slot::Named(Label::from_char('i').unwrap());
    /// let err = ShapeError::OutputExtent { slot: i, operand: (0, 3), output: 2 };
    /// assert_eq!(err.to_string(), "label `i` is 3 in operand 0 but 2 in the output array");
    /// ```
    OutputExtent {
        /// The slot.
        slot: Slot,
        /// An operand with the slot's extent, and that extent.
        operand: (usize, usize),
        /// The output array's extent.
        output: usize,
    },
    /// A label repeated within one term has unequal extents, so there is no diagonal.
    Diagonal {
        /// The label (a named or numbered slot; never a broadcast one).
        slot: Slot,
        /// The operand.
        operand: usize,
        /// The two unequal extents.
        extents: (usize, usize),
    },
    /// An array the contraction must build (its output, an intermediate or a gradient) has
    /// more elements than `usize` counts, or more bytes than one allocation may have
    /// (`isize::MAX`). Found from the shapes alone, before anything is allocated.
    ///
    /// ```
    /// use einsum_spec::{Buffer, ShapeError};
    /// let err = ShapeError::TooLarge {
    ///     what: Buffer::Output,
    ///     shape: vec![1 << 40, 1 << 30],
    ///     element_size: 8,
    /// };
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the output would have shape [1099511627776, 1073741824]: 1180591620717411303424 \
    ///      elements of 8 bytes, more than one allocation may hold (9223372036854775807 bytes)"
    /// );
    /// ```
    TooLarge {
        /// Which array.
        what: Buffer,
        /// Its shape.
        shape: Vec<usize>,
        /// The size of one element in bytes.
        element_size: usize,
    },
    /// The allocator refused the memory for an array the contraction must build, although its
    /// size is within the limits: the machine does not have that much memory to give.
    ///
    /// ```
    /// use einsum_spec::{Buffer, ShapeError};
    /// let err = ShapeError::AllocationFailed { what: Buffer::Intermediate, shape: vec![1 << 20, 1 << 20], bytes: 1 << 43 };
    /// assert_eq!(
    ///     err.to_string(),
    ///     "an intermediate result of shape [1048576, 1048576] needs 8796093022208 bytes and \
    ///      the allocator refused them"
    /// );
    /// ```
    AllocationFailed {
        /// Which array.
        what: Buffer,
        /// Its shape.
        shape: Vec<usize>,
        /// The bytes requested.
        bytes: usize,
    },
}

/// Which array of a contraction a [`ShapeError::TooLarge`] or
/// [`ShapeError::AllocationFailed`] is about.
///
/// ```
/// use einsum_spec::Buffer;
/// assert_eq!(Buffer::Gradient { operand: 1 }.to_string(), "the gradient of operand 1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Buffer {
    /// The result of the contraction.
    Output,
    /// A partial result: a pairwise product, a partial sum or a copy in matrix layout.
    Intermediate,
    /// The gradient with respect to an operand (shaped like that operand).
    Gradient {
        /// The operand (0-based).
        operand: usize,
    },
}

impl fmt::Display for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Buffer::Output => f.write_str("the output"),
            Buffer::Intermediate => f.write_str("an intermediate result"),
            Buffer::Gradient { operand } => write!(f, "the gradient of operand {operand}"),
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::OperandCount { terms, operands } => write!(
                f,
                "the spec has {terms} input term{} but {operands} operand{} {} given",
                plural(*terms),
                plural(*operands),
                if *operands == 1 { "was" } else { "were" }
            ),
            ShapeError::Rank {
                operand,
                term,
                named,
                ellipsis: false,
                rank,
            } => write!(
                f,
                "operand {operand} has rank {rank} but its term `{term}` has {named} label{}",
                plural(*named)
            ),
            ShapeError::Rank {
                operand,
                term,
                named,
                ellipsis: true,
                rank,
            } => write!(
                f,
                "operand {operand} has rank {rank} but its term `{term}` needs at least {named} \
                 ax{}",
                if *named == 1 { "is" } else { "es" }
            ),
            ShapeError::Extent {
                slot: slot @ (Slot::Named(_) | Slot::Numbered(_)),
                first,
                second,
            } => write!(
                f,
                "{slot} is {} in operand {} but {} in operand {}",
                first.1, first.0, second.1, second.0
            ),
            ShapeError::Extent {
                slot: Slot::Broadcast(k),
                first,
                second,
            } => write!(
                f,
                "the `...` axes do not broadcast: broadcast axis {k} is {} in operand {} but {} \
                 in operand {}",
                first.1, first.0, second.1, second.0
            ),
            ShapeError::GradientShape { expected, actual } => write!(
                f,
                "the output gradient has shape {actual:?} but the output has shape {expected:?}: \
                 the gradient must have the output's shape"
            ),
            ShapeError::GradientBufferShape {
                operand,
                expected,
                actual,
            } => write!(
                f,
                "the gradient buffer of operand {operand} has shape {actual:?} but operand \
                 {operand} has shape {expected:?}"
            ),
            ShapeError::OutputRank { expected, rank } => write!(
                f,
                "the output array has rank {rank} but the output term has {expected} label{}",
                plural(*expected)
            ),
            ShapeError::OutputExtent {
                slot,
                operand,
                output,
            } => write!(
                f,
                "{slot} is {} in operand {} but {output} in the output array",
                operand.1, operand.0
            ),
            ShapeError::Diagonal {
                slot,
                operand,
                extents,
            } => write!(
                f,
                "{slot} is repeated in operand {operand} with unequal extents {} and {}: \
                 a diagonal needs equal extents",
                extents.0, extents.1
            ),
            ShapeError::TooLarge {
                what,
                shape,
                element_size,
            } => {
                // Exact in `u128` up to about 2^128 elements; beyond, say so.
                let elements = shape
                    .iter()
                    .try_fold(1u128, |acc, &e| acc.checked_mul(e as u128));
                match elements {
                    Some(0) => write!(
                        f,
                        "{what} would have shape {shape:?}: it is empty, but the product of its \
                         non-zero extents is more than {} (ndarray's limit even for empty \
                         arrays)",
                        isize::MAX
                    ),
                    Some(elements) => write!(
                        f,
                        "{what} would have shape {shape:?}: {elements} elements of \
                         {element_size} bytes, more than one allocation may hold ({} bytes)",
                        isize::MAX
                    ),
                    None => write!(
                        f,
                        "{what} would have shape {shape:?}: more elements than `u128` counts"
                    ),
                }
            }
            ShapeError::AllocationFailed { what, shape, bytes } => write!(
                f,
                "{what} of shape {shape:?} needs {bytes} bytes and the allocator refused them"
            ),
        }
    }
}

impl std::error::Error for ShapeError {}

impl Spec {
    /// Maps every axis to a slot, given each operand's rank (its number of axes).
    ///
    /// # Errors
    ///
    /// [`ShapeError::OperandCount`] or [`ShapeError::Rank`] when the ranks do not fit.
    ///
    /// ```
    /// use einsum_spec::{Slot, Spec};
    /// // Operand 0 has two `...` axes, operand 1 one: they align on the right.
    /// let c = Spec::parse("...i,...->...").unwrap().resolve(&[3, 1]).unwrap();
    /// assert_eq!(c.inputs(), &[vec![0, 1, 2], vec![1]]);
    /// assert_eq!(c.output(), &[0, 1]);
    /// ```
    pub fn resolve(&self, ranks: &[usize]) -> Result<Contraction, ShapeError> {
        if ranks.len() != self.inputs().len() {
            return Err(ShapeError::OperandCount {
                terms: self.inputs().len(),
                operands: ranks.len(),
            });
        }
        let mut ellipsis_ranks = Vec::with_capacity(ranks.len());
        for (operand, (term, &rank)) in self.inputs().iter().zip(ranks).enumerate() {
            let named = term.named_rank();
            let ellipsis = term.has_ellipsis();
            if rank < named || (!ellipsis && rank != named) {
                return Err(ShapeError::Rank {
                    operand,
                    term: term.to_string(),
                    named,
                    ellipsis,
                    rank,
                });
            }
            ellipsis_ranks.push(rank - named);
        }
        let broadcast_rank = ellipsis_ranks.iter().copied().max().unwrap_or(0);

        let mut slots: Vec<Slot> = Vec::new();
        let mut slot_of = |slot: Slot| match slots.iter().position(|&s| s == slot) {
            Some(n) => n,
            None => {
                slots.push(slot);
                slots.len() - 1
            }
        };
        let mut expand = |axes: &[Axis], ellipsis_rank: usize| -> Vec<usize> {
            let mut out = Vec::new();
            for axis in axes {
                match *axis {
                    Axis::Label(label) => out.push(slot_of(Slot::Named(label))),
                    Axis::Ellipsis => out.extend(
                        (broadcast_rank - ellipsis_rank..broadcast_rank)
                            .map(|k| slot_of(Slot::Broadcast(k))),
                    ),
                }
            }
            out
        };
        let inputs: Vec<Vec<usize>> = self
            .inputs()
            .iter()
            .zip(&ellipsis_ranks)
            .map(|(term, &e)| expand(term.axes(), e))
            .collect();
        let output = expand(self.output().axes(), broadcast_rank);
        Ok(Contraction {
            inputs,
            output,
            slots,
        })
    }
}

impl Contraction {
    /// A contraction from named labels only, as the `einsum!` macro emits it for specs without
    /// `...`: `labels[s]` is slot `s`, `inputs[k]` the slots of operand `k`'s axes.
    ///
    /// Returns `None` when a slot number is out of range, a character is not a label, or the
    /// output repeats a slot or names one absent from every input.
    ///
    /// ```
    /// use einsum_spec::{Contraction, Spec};
    /// let c = Contraction::from_labels(&[&[0, 1], &[1, 2]], &[0, 2], &['i', 'j', 'k']).unwrap();
    /// assert_eq!(c, Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap());
    /// ```
    #[must_use]
    pub fn from_labels(
        inputs: &[&[usize]],
        output: &[usize],
        labels: &[char],
    ) -> Option<Contraction> {
        let slots: Vec<Slot> = labels
            .iter()
            .map(|&c| Label::from_char(c).map(Slot::Named))
            .collect::<Option<_>>()?;
        Contraction::from_parts(
            inputs.iter().map(|t| t.to_vec()).collect(),
            output.to_vec(),
            slots,
        )
    }

    /// A contraction from its parts: `inputs[k]` lists operand `k`'s slots, `output` the
    /// output's, `slots[s]` what slot `s` stands for. This is how derived contractions (such as
    /// gradients) are built.
    ///
    /// Returns `None` when a slot number is out of range, or the output repeats a slot or names
    /// one that no input has.
    ///
    /// ```
    /// use einsum_spec::{Contraction, Label, Slot};
    /// let i = Slot::Named(Label::from_char('i').unwrap());
    /// let c = Contraction::from_parts(vec![vec![0, 0]], vec![0], vec![i]).unwrap();
    /// assert_eq!(c, einsum_spec::Spec::parse("ii->i").unwrap().resolve(&[2]).unwrap());
    /// assert!(Contraction::from_parts(vec![vec![0]], vec![1], vec![i]).is_none());
    /// ```
    #[must_use]
    pub fn from_parts(
        inputs: Vec<Vec<usize>>,
        output: Vec<usize>,
        slots: Vec<Slot>,
    ) -> Option<Contraction> {
        let in_range = |s: &usize| *s < slots.len();
        let inputs_ok = inputs.iter().all(|t| t.iter().all(in_range));
        let output_ok = output.iter().enumerate().all(|(n, s)| {
            in_range(s) && !output[..n].contains(s) && inputs.iter().any(|t| t.contains(s))
        });
        (inputs_ok && output_ok).then_some(Contraction {
            inputs,
            output,
            slots,
        })
    }

    /// For each operand, the slot of each of its axes.
    ///
    /// ```
    /// let c = einsum_spec::Spec::parse("ii->i").unwrap().resolve(&[2]).unwrap();
    /// assert_eq!(c.inputs(), &[vec![0, 0]]);
    /// ```
    #[must_use]
    pub fn inputs(&self) -> &[Vec<usize>] {
        &self.inputs
    }

    /// The slot of each output axis.
    ///
    /// ```
    /// let c = einsum_spec::Spec::parse("ij->ji").unwrap().resolve(&[2]).unwrap();
    /// assert_eq!(c.output(), &[1, 0]);
    /// ```
    #[must_use]
    pub fn output(&self) -> &[usize] {
        &self.output
    }

    /// What each slot stands for.
    ///
    /// ```
    /// use einsum_spec::{Label, Slot};
    /// let c = einsum_spec::Spec::parse("i->").unwrap().resolve(&[1]).unwrap();
    /// assert_eq!(c.slots(), &[Slot::Named(Label::from_char('i').unwrap())]);
    /// ```
    #[must_use]
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The slots that are summed over: those absent from the output.
    ///
    /// ```
    /// let c = einsum_spec::Spec::parse("ij,jk->").unwrap().resolve(&[2, 2]).unwrap();
    /// assert_eq!(c.summed_slots().count(), 3);
    /// ```
    pub fn summed_slots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.slots.len()).filter(|s| !self.output.contains(s))
    }

    /// The extent of every slot, given each operand's shape, with numpy's broadcasting: an
    /// axis of extent 1 stretches to the slot's extent; all other extents of a slot must agree.
    /// A label repeated within one operand (a diagonal) needs equal extents there.
    ///
    /// # Errors
    ///
    /// [`ShapeError`] naming the slot, the operands and both extents.
    ///
    /// ```
    /// let c = einsum_spec::Spec::parse("ij,ij->ij").unwrap().resolve(&[2, 2]).unwrap();
    /// assert_eq!(c.bind_extents(&[&[1, 3], &[2, 3]]).unwrap(), vec![2, 3]);
    /// ```
    pub fn bind_extents(&self, shapes: &[&[usize]]) -> Result<Vec<usize>, ShapeError> {
        if shapes.len() != self.inputs.len() {
            return Err(ShapeError::OperandCount {
                terms: self.inputs.len(),
                operands: shapes.len(),
            });
        }
        // For each slot: the extent so far and the operand it came from. An extent of 1 is
        // provisional: any other extent replaces it.
        let mut bound: Vec<Option<(usize, usize)>> = vec![None; self.slots.len()];
        for (operand, (axes, shape)) in self.inputs.iter().zip(shapes).enumerate() {
            if axes.len() != shape.len() {
                return Err(ShapeError::Rank {
                    operand,
                    term: self.term_text(operand),
                    named: axes.len(),
                    ellipsis: false,
                    rank: shape.len(),
                });
            }
            for (axis, (&slot, &extent)) in axes.iter().zip(shape.iter()).enumerate() {
                if let Some(prev) = axes[..axis].iter().position(|&s| s == slot) {
                    if shape[prev] != extent {
                        return Err(ShapeError::Diagonal {
                            slot: self.slots[slot],
                            operand,
                            extents: (shape[prev], extent),
                        });
                    }
                    continue;
                }
                match bound[slot] {
                    None => bound[slot] = Some((extent, operand)),
                    Some((have, _)) if have == extent || extent == 1 => {}
                    Some((1, _)) => bound[slot] = Some((extent, operand)),
                    Some((have, from)) => {
                        return Err(ShapeError::Extent {
                            slot: self.slots[slot],
                            first: (from, have),
                            second: (operand, extent),
                        })
                    }
                }
            }
        }
        // Every slot occurs in some input (output slots are checked to), so all are bound;
        // a broadcast slot that only the output has (`->...` with no `...` input) is extent 1.
        Ok(bound
            .into_iter()
            .map(|b| b.map_or(1, |(extent, _)| extent))
            .collect())
    }

    /// Operand `operand`'s axes written as labels, `...` axes as `.`, for messages.
    fn term_text(&self, operand: usize) -> String {
        self.inputs[operand]
            .iter()
            .map(|&s| match self.slots[s] {
                Slot::Named(label) => label.to_string(),
                Slot::Broadcast(_) => ".".to_owned(),
                Slot::Numbered(n) => format!("{n} "),
            })
            .collect::<String>()
            .trim_end()
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(spec: &str, ranks: &[usize]) -> Result<Contraction, ShapeError> {
        Spec::parse(spec).unwrap().resolve(ranks)
    }

    #[test]
    fn ellipsis_axes_align_on_the_right() {
        let c = resolve("...ij,j...->...i", &[4, 2]).unwrap();
        // operand 0: two broadcast axes then i, j; operand 1: j then the last broadcast axis.
        assert_eq!(c.slots()[..2], [Slot::Broadcast(0), Slot::Broadcast(1)]);
        assert_eq!(c.inputs()[0], vec![0, 1, 2, 3]);
        assert_eq!(c.inputs()[1], vec![3, 1]);
        assert_eq!(c.output(), &[0, 1, 2]);
    }

    #[test]
    fn ellipsis_absent_from_explicit_output_is_summed() {
        let c = resolve("...i->i", &[3]).unwrap();
        assert_eq!(c.summed_slots().count(), 2);
    }

    #[test]
    fn ranks_must_fit_terms() {
        assert_eq!(
            resolve("ij,jk->ik", &[2, 3]).unwrap_err().to_string(),
            "operand 1 has rank 3 but its term `jk` has 2 labels"
        );
        assert_eq!(
            resolve("...ij->", &[1]).unwrap_err().to_string(),
            "operand 0 has rank 1 but its term `...ij` needs at least 2 axes"
        );
        assert!(matches!(
            resolve("i->i", &[1, 1]),
            Err(ShapeError::OperandCount { .. })
        ));
    }

    #[test]
    fn size_one_axes_broadcast_for_named_labels_and_ellipsis() {
        let c = resolve("...i,...i->...i", &[2, 1]).unwrap();
        assert_eq!(c.bind_extents(&[&[5, 1], &[3]]).unwrap(), vec![5, 3]);
        let c = resolve("ij,ij->ij", &[2, 2]).unwrap();
        assert_eq!(c.bind_extents(&[&[2, 3], &[1, 3]]).unwrap(), vec![2, 3]);
        assert_eq!(c.bind_extents(&[&[1, 0], &[4, 1]]).unwrap(), vec![4, 0]);
    }

    #[test]
    fn size_mismatch_names_label_operands_and_extents() {
        let c = resolve("ij,jk->ik", &[2, 2]).unwrap();
        assert_eq!(
            c.bind_extents(&[&[2, 3], &[4, 5]]).unwrap_err().to_string(),
            "label `j` is 3 in operand 0 but 4 in operand 1"
        );
        let c = resolve("...,...->...", &[1, 1]).unwrap();
        assert_eq!(
            c.bind_extents(&[&[2], &[3]]).unwrap_err().to_string(),
            "the `...` axes do not broadcast: broadcast axis 0 is 2 in operand 0 but 3 in operand 1"
        );
    }

    #[test]
    fn diagonal_needs_equal_extents_even_of_size_one() {
        let c = resolve("ii->i", &[2]).unwrap();
        assert_eq!(
            c.bind_extents(&[&[1, 3]]).unwrap_err().to_string(),
            "label `i` is repeated in operand 0 with unequal extents 1 and 3: a diagonal needs \
             equal extents"
        );
    }

    #[test]
    fn from_labels_rejects_inconsistent_tables() {
        assert!(Contraction::from_labels(&[&[0, 3]], &[0], &['i', 'j']).is_none());
        assert!(Contraction::from_labels(&[&[0, 1]], &[0, 0], &['i', 'j']).is_none());
        assert!(Contraction::from_labels(&[&[0]], &[1], &['i', 'j']).is_none());
        assert!(Contraction::from_labels(&[&[0]], &[], &['1']).is_none());
    }
}
