//! What the engine will do for a contraction and operand shapes, without doing it: numpy's
//! `einsum_path`, for this engine.
//!
//! [`explain`](crate::explain) walks the same decisions as [`contract`](super::contract) — the direct loop
//! or the pairwise plan, the order of the steps, each step's kernel and the copies it makes —
//! on shapes alone, and reports them as an [`Explanation`] whose `Display` is a table.
//! Operands are assumed to be stored in standard layout; a transposed or strided operand may
//! be copied where the table says it is used in place. A contraction of two operands that is
//! one matrix product (`ij,jk->ik` and its transposes, `bij,jk->bik`, `nmkd,kdef->nmef`; any
//! size up to the threads' threshold) runs as one call to ndarray's `dot` on views of the two
//! ([`matrix_product`](super::matrix_product)); the table shows it as the one pairwise step it
//! amounts to, never as the direct loop.

pub use super::pair::Kernel;
use super::plan::{self, Groups};
use super::route::Route;
use einsum_spec::{Contraction, ShapeError, Slot};
use std::fmt;

/// How the engine evaluates a contraction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// Some extent is zero: the result is zeros (or empty) and nothing is computed.
    Empty,
    /// At most a few thousand index combinations: one loop nest over all of them (see
    /// `SMALL_PRODUCTS` in the engine), no planning, no intermediate.
    DirectLoop {
        /// The number of index combinations the loop visits.
        combinations: u128,
    },
    /// Operands contracted two at a time, in this order.
    Pairwise {
        /// The steps, in order.
        steps: Vec<PairStep>,
        /// Whether the last result is copied into the output's axis order (or broadcast
        /// along output axes no operand has).
        final_copy: bool,
    },
}

/// One pairwise step of a [`Method::Pairwise`] plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairStep {
    /// The step as a spec: the labels of its two operands and of its result, e.g. `bjik,bk->bji`.
    pub spec: String,
    /// The kernel that runs it.
    pub kernel: Kernel,
    /// The batched matrix product it computes: batch count, and the `m x k` times `k x n`
    /// shapes of each batch's product.
    pub batch: u128,
    /// Rows of each batch's left matrix (the left operand's free slots).
    pub m: u128,
    /// The contracted extent of each batch's product.
    pub k: u128,
    /// Columns of each batch's right matrix (the right operand's free slots).
    pub n: u128,
    /// Whether the left and the right operand are copied into matrix layout first.
    pub copies: (bool, bool),
}

impl PairStep {
    /// The multiply-adds of this step: `batch * m * k * n`.
    ///
    /// ```
    /// let e = einsum_runtime::explain("ij,jk->ik", &[&[100, 200], &[200, 300]]).unwrap();
    /// let einsum_runtime::engine::explain::Method::Pairwise { steps, .. } = e.method() else {
    ///     panic!("large enough for the pairwise plan")
    /// };
    /// assert_eq!(steps[0].multiply_adds(), 100 * 200 * 300);
    /// ```
    #[must_use]
    pub fn multiply_adds(&self) -> u128 {
        self.batch
            .saturating_mul(self.m)
            .saturating_mul(self.k)
            .saturating_mul(self.n)
    }

    /// The number of elements of the step's result.
    ///
    /// ```
    /// let e = einsum_runtime::explain("ij,jk->ik", &[&[100, 200], &[200, 300]]).unwrap();
    /// let einsum_runtime::engine::explain::Method::Pairwise { steps, .. } = e.method() else {
    ///     panic!("large enough for the pairwise plan")
    /// };
    /// assert_eq!(steps[0].result_size(), 100 * 300);
    /// ```
    #[must_use]
    pub fn result_size(&self) -> u128 {
        self.batch.saturating_mul(self.m).saturating_mul(self.n)
    }
}

/// What the engine does for one contraction on operands of given shapes: made by
/// [`explain`](crate::explain) (from a spec) or [`explain_contraction`]; its `Display` is a
/// readable table.
///
/// ```
/// let e = einsum_runtime::explain("bi,bjik,bk->bj", &[&[256, 16], &[256, 16, 16, 16], &[256, 16]])
///     .unwrap();
/// println!("{e}");
/// assert_eq!(e.multiply_adds(), 256 * 16 * 16 * 16 + 256 * 16 * 16);
/// assert_eq!(e.largest_intermediate(), 256 * 16 * 16);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    spec: String,
    shapes: Vec<Vec<usize>>,
    method: Method,
    combinations: u128,
    notes: Vec<String>,
}

impl Explanation {
    /// How the contraction is evaluated.
    ///
    /// ```
    /// use einsum_runtime::engine::explain::Method;
    /// let e = einsum_runtime::explain("ij,jk->i", &[&[3, 3], &[3, 3]]).unwrap();
    /// assert_eq!(e.method(), &Method::DirectLoop { combinations: 27 });
    /// ```
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The multiply-adds of the whole evaluation: the sum over pairwise steps, or for the
    /// direct loop one per index combination and operand after the first.
    ///
    /// ```
    /// let e = einsum_runtime::explain("i,i->", &[&[10], &[10]]).unwrap();
    /// assert_eq!(e.multiply_adds(), 10);
    /// ```
    #[must_use]
    pub fn multiply_adds(&self) -> u128 {
        match &self.method {
            Method::Empty => 0,
            Method::DirectLoop { combinations } => {
                let factors = self.shapes.len().saturating_sub(1).max(1) as u128;
                combinations.saturating_mul(factors)
            }
            Method::Pairwise { steps, .. } => steps
                .iter()
                .fold(0u128, |sum, step| sum.saturating_add(step.multiply_adds())),
        }
    }

    /// The number of elements of the largest pairwise result (0 for the direct loop, which
    /// makes none).
    ///
    /// ```
    /// let e = einsum_runtime::explain("ij,jk,kl->il", &[&[100, 2], &[2, 100], &[100, 100]]);
    /// // (A B) C would build a 100 x 100 intermediate; A (B C) builds 2 x 100.
    /// assert_eq!(e.unwrap().largest_intermediate(), 100 * 100);
    /// ```
    #[must_use]
    pub fn largest_intermediate(&self) -> u128 {
        match &self.method {
            Method::Pairwise { steps, .. } => {
                steps.iter().map(PairStep::result_size).max().unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// The number of index combinations of the contraction: the cost of evaluating it as one
    /// loop nest, against which the pairwise plan's multiply-adds compare.
    ///
    /// ```
    /// let e = einsum_runtime::explain("ij,jk,kl->il", &[&[50, 60], &[60, 70], &[70, 80]]);
    /// let e = e.unwrap();
    /// assert_eq!(e.combinations(), 50 * 60 * 70 * 80);
    /// assert!(e.multiply_adds() < e.combinations() / 10);
    /// ```
    #[must_use]
    pub fn combinations(&self) -> u128 {
        self.combinations
    }

    /// What the pairwise plan does to single operands before its steps, in words: diagonals
    /// copied out, labels summed on one operand alone.
    ///
    /// ```
    /// let e = einsum_runtime::explain("ij->j", &[&[1000, 1000]]).unwrap();
    /// assert_eq!(e.notes(), ["operand 0 (`ij`): `i` summed out on its own (1,000,000 additions)"]);
    /// ```
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// [`Explanation`] for a resolved contraction. `spec` is only used for display.
///
/// # Errors
///
/// The [`ShapeError`] of [`Contraction::bind_extents`] when the shapes do not fit.
///
/// ```
/// use einsum_runtime::engine::explain::{explain_contraction, Method};
/// use einsum_runtime::spec::Spec;
/// let c = Spec::parse("ij,jk->ik").unwrap().resolve(&[2, 2]).unwrap();
/// let e = explain_contraction("ij,jk->ik", &c, &[&[0, 5], &[5, 3]]).unwrap();
/// assert_eq!(e.method(), &Method::Empty);
/// ```
pub fn explain_contraction(
    spec: &str,
    contraction: &Contraction,
    shapes: &[&[usize]],
) -> Result<Explanation, ShapeError> {
    let extents = contraction.bind_extents(shapes)?;
    let combinations = extents
        .iter()
        .fold(1u128, |acc, &e| acc.saturating_mul(e as u128));
    let fast = Route::without_tables(contraction.inputs(), contraction.output(), shapes);
    let route = match fast {
        Some(route) if !extents.contains(&0) => route,
        _ => Route::with_extents(contraction, &extents),
    };
    let (method, notes) = match route {
        Route::Empty => (Method::Empty, Vec::new()),
        Route::MatrixProduct => {
            let note = "one matrix product: one call to ndarray's `dot` on views of the two \
                        operands (on one thread; above the threads' threshold, the step's kernel)";
            (
                pairwise(contraction, shapes, &extents),
                vec![note.to_owned()],
            )
        }
        Route::Trace => {
            let note = "a trace: the sum of the operand's diagonal, read in place";
            (
                pairwise(contraction, shapes, &extents),
                vec![note.to_owned()],
            )
        }
        Route::DirectLoop => (Method::DirectLoop { combinations }, Vec::new()),
        Route::Single | Route::Pairwise => (
            pairwise(contraction, shapes, &extents),
            preparation_notes(contraction, shapes, &extents),
        ),
    };
    Ok(Explanation {
        spec: spec.to_owned(),
        shapes: shapes.iter().map(|s| s.to_vec()).collect(),
        method,
        combinations,
        notes,
    })
}

/// The labels of `slots` as one string (`…k` for broadcast axis `k` of `...`).
fn names(contraction: &Contraction, slots: &[usize]) -> String {
    slots
        .iter()
        .map(|&s| match contraction.slots()[s] {
            Slot::Named(label) => label.to_string(),
            Slot::Broadcast(k) => format!("…{k}"),
            Slot::Numbered(n) => format!("({n})"),
        })
        .collect()
}

/// What the engine's first stage does to each operand before any pairwise step, in words:
/// diagonals it takes and labels it sums out on that operand alone.
fn preparation_notes(
    contraction: &Contraction,
    shapes: &[&[usize]],
    extents: &[usize],
) -> Vec<String> {
    let prepared = prepared_slots(contraction, shapes, extents);
    let mut notes = Vec::new();
    for (k, (slots, kept)) in contraction.inputs().iter().zip(&prepared).enumerate() {
        let unbroadcast = unbroadcast_slots(slots, shapes[k], extents);
        let distinct = plan::distinct(&unbroadcast);
        if distinct.len() < unbroadcast.len() {
            notes.push(format!(
                "operand {k} (`{}`): read along its diagonal",
                names(contraction, slots)
            ));
        }
        let summed: Vec<usize> = distinct
            .iter()
            .copied()
            .filter(|s| !kept.contains(s))
            .collect();
        if !summed.is_empty() {
            notes.push(format!(
                "operand {k} (`{}`): `{}` summed out on its own ({} additions)",
                names(contraction, slots),
                names(contraction, &summed),
                grouped(plan::size(&distinct, extents))
            ));
        }
    }
    notes
}

/// The pairwise plan, following `contract_pairwise` step by step on slot lists.
fn pairwise(contraction: &Contraction, shapes: &[&[usize]], extents: &[usize]) -> Method {
    let output = contraction.output();
    let mut current = prepared_slots(contraction, shapes, extents);
    let names = |slots: &[usize]| names(contraction, slots);
    let mut steps = Vec::new();
    for step in plan::contraction_order(&current, output, extents) {
        let right = current.remove(step.right);
        let left = current.remove(step.left);
        let swap = current.is_empty() && plan::last_step_swaps(&left, &right, &step.result, output);
        let (left, right) = if swap { (right, left) } else { (left, right) };
        let groups = Groups::of(&left, &right, &step.result);
        let volume = |group: &[usize]| plan::size(group, extents);
        let result = plan::result_order(&left, &right, &step.result);
        let (m, k, n) = (
            volume(&groups.left_free),
            volume(&groups.contracted),
            volume(&groups.right_free),
        );
        let small = |v: u128| usize::try_from(v).unwrap_or(usize::MAX);
        steps.push(PairStep {
            spec: format!("{},{}->{}", names(&left), names(&right), names(&result)),
            kernel: Kernel::for_product(small(m), small(k), small(n)),
            batch: volume(&groups.batch),
            m,
            k,
            n,
            copies: plan::copies(&left, &right, &step.result, extents),
        });
        current.push(result.to_vec());
    }
    let last = current.pop().unwrap_or_default();
    Method::Pairwise {
        steps,
        final_copy: last != output,
    }
}

/// An operand's slots without the axes of extent 1 whose slot is longer (they broadcast, and
/// the engine drops them).
fn unbroadcast_slots(slots: &[usize], shape: &[usize], extents: &[usize]) -> Vec<usize> {
    slots
        .iter()
        .zip(shape)
        .filter(|&(&slot, &extent)| !(extent == 1 && extents[slot] != 1))
        .map(|(&slot, _)| slot)
        .collect()
}

/// Each operand's slots after the engine's first stage (`prepare`): axes of extent 1 that
/// broadcast dropped, repeated slots reduced to their diagonal, slots no one else needs summed.
/// (A test checks it against `prepare`.)
pub(super) fn prepared_slots(
    contraction: &Contraction,
    shapes: &[&[usize]],
    extents: &[usize],
) -> Vec<Vec<usize>> {
    let kept: Vec<Vec<usize>> = contraction
        .inputs()
        .iter()
        .zip(shapes)
        .map(|(slots, shape)| plan::distinct(&unbroadcast_slots(slots, shape, extents)))
        .collect();
    // How many operands hold each slot (once each, after the above), the output counting
    // as two: a slot is kept where this is more than one. Counted once, so that a network of
    // many operands is not a quadratic pass.
    let mut holders = vec![0usize; contraction.slots().len()];
    for &s in kept.iter().flatten() {
        holders[s] += 1;
    }
    for &s in contraction.output() {
        holders[s] += 2;
    }
    kept.into_iter()
        .map(|slots| slots.into_iter().filter(|&s| holders[s] > 1).collect())
        .collect()
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes: Vec<String> = self.shapes.iter().map(|s| format!("{s:?}")).collect();
        writeln!(f, "einsum `{}` on {}", self.spec, shapes.join(", "))?;
        match &self.method {
            Method::Empty => {
                writeln!(
                    f,
                    "  an extent is 0: the result is zeros, nothing is computed"
                )?;
            }
            Method::DirectLoop { combinations } => {
                writeln!(
                    f,
                    "  direct loop over {} index combinations (no plan, no intermediate)",
                    grouped(*combinations)
                )?;
            }
            Method::Pairwise { steps, final_copy } => {
                writeln!(
                    f,
                    "  pairwise plan ({} index combinations as one loop nest)",
                    grouped(self.combinations)
                )?;
                for note in &self.notes {
                    writeln!(f, "  {note}")?;
                }
                if steps.is_empty() {
                    writeln!(f, "  no pairwise step")?;
                }
                let width = steps.iter().map(|s| s.spec.len()).max().unwrap_or(0).max(4);
                if !steps.is_empty() {
                    writeln!(
                        f,
                        "  {:<4} {:<width$}  {:<15} {:>8} {:>8} {:>8} {:>8} {:>16}  copies",
                        "step", "spec", "kernel", "batch", "m", "k", "n", "multiply-adds"
                    )?;
                }
                for (number, step) in steps.iter().enumerate() {
                    let copies = match step.copies {
                        (false, false) => "none",
                        (true, false) => "left",
                        (false, true) => "right",
                        (true, true) => "both",
                    };
                    writeln!(
                        f,
                        "  {:<4} {:<width$}  {:<15} {:>8} {:>8} {:>8} {:>8} {:>16}  {copies}",
                        number + 1,
                        step.spec,
                        step.kernel.to_string(),
                        step.batch,
                        step.m,
                        step.k,
                        step.n,
                        grouped(step.multiply_adds()),
                    )?;
                }
                if *final_copy {
                    writeln!(
                        f,
                        "  the last result is copied into the output's axis order"
                    )?;
                }
            }
        }
        write!(
            f,
            "  multiply-adds: {}; largest intermediate: {} elements",
            grouped(self.multiply_adds()),
            grouped(self.largest_intermediate())
        )
    }
}

/// `1234567` as `1,234,567`.
fn grouped(value: u128) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use einsum_spec::Spec;
    use ndarray::{ArrayD, IxDyn};

    fn contraction(spec: &str, shapes: &[&[usize]]) -> Contraction {
        let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
        Spec::parse(spec).unwrap().resolve(&ranks).unwrap()
    }

    #[test]
    fn prepared_slots_match_the_engine() {
        let cases: &[(&str, &[&[usize]])] = &[
            ("ii,ij->j", &[&[3, 3], &[3, 4]]),
            ("ij,jk->ik", &[&[1, 5], &[5, 2]]),
            ("ab,ab,bc->ac", &[&[1, 4], &[3, 4], &[4, 2]]),
            ("ijk,k->i", &[&[2, 3, 4], &[4]]),
            ("...i,...i->...", &[&[2, 1, 3], &[4, 3]]),
        ];
        for &(spec, shapes) in cases {
            let c = contraction(spec, shapes);
            let extents = c.bind_extents(shapes).unwrap();
            let arrays: Vec<ArrayD<f64>> = shapes.iter().map(|s| ArrayD::zeros(IxDyn(s))).collect();
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            let engine: Vec<Vec<usize>> = super::super::prepare(&c, &views, &extents)
                .unwrap()
                .into_iter()
                .map(|t| t.slots.to_vec())
                .collect();
            assert_eq!(prepared_slots(&c, shapes, &extents), engine, "{spec}");
        }
    }

    #[test]
    fn a_small_matrix_product_is_one_pairwise_step_through_dot() {
        for (spec, shapes) in [
            ("ij,jk->ik", [&[2usize, 3][..], &[3, 4]]),
            ("ji,kj->ki", [&[3, 2], &[4, 3]]),
        ] {
            let c = contraction(spec, &shapes);
            let e = explain_contraction(spec, &c, &shapes).unwrap();
            assert!(matches!(e.method(), Method::Pairwise { .. }), "{spec}");
            assert!(e.notes().iter().any(|n| n.contains("`dot`")), "{spec}");
        }
        // Three operands stay in the direct loop.
        let shapes = [&[2usize, 3][..], &[3, 4], &[4, 2]];
        let c = contraction("ij,jk,kl->il", &shapes);
        let e = explain_contraction("ij,jk,kl->il", &c, &shapes).unwrap();
        assert!(matches!(e.method(), Method::DirectLoop { .. }));
    }

    #[test]
    fn numbers_group_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_048_576), "1,048,576");
    }
}
