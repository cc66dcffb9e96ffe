//! The spec, checked and resolved at compile time, with what error messages need to name.

use crate::input::Input;
use einsum_spec::{Slot, Spec};
use quote::ToTokens;

/// Everything the generators need about one invocation.
pub(crate) struct Model {
    /// The spec as the user wrote it (the literal's value).
    pub text: String,
    pub spec: Spec,
    /// `operand k (`expr`)` for each operand, for messages.
    pub operand_names: Vec<String>,
    /// The slot tables, when the spec has no `...` (then ranks are known from the spec alone).
    pub tables: Option<Tables>,
    /// `the output (`&mut c`)`, for `einsum_into!`'s messages.
    pub output_name: Option<String>,
    /// What `einsum_vjp!` differentiates; `None` for the macros without gradients.
    pub gradients: Option<Gradients>,
}

/// The gradients `einsum_vjp!`'s `back` gives: which operands', in which order, and whether
/// it writes them into the caller's buffers.
pub(crate) struct Gradients {
    /// Operand positions in the order of `back`'s tuple (every operand, in order, unless
    /// `wrt` chose).
    pub listed: Vec<usize>,
    /// Whether `back` writes into buffers (`einsum_vjp!(&mut y, …)`) rather than returning
    /// new values.
    pub into: bool,
}

impl Gradients {
    /// Whether operand `k`'s gradient is wanted.
    pub fn wants(&self, k: usize) -> bool {
        self.listed.contains(&k)
    }

    /// The wanted positions in increasing order, as the runtime takes them.
    pub fn ascending(&self) -> Vec<usize> {
        let mut positions = self.listed.clone();
        positions.sort_unstable();
        positions
    }
}

/// A spec without `...` resolved to slots: what the loop nests are generated from.
pub(crate) struct Tables {
    /// The letter of each slot, in order of first appearance.
    pub labels: Vec<char>,
    /// The slot of each axis of each operand.
    pub inputs: Vec<Vec<usize>>,
    /// The slot of each output axis.
    pub output: Vec<usize>,
}

impl Tables {
    /// Slots absent from the output, which the kernel sums over.
    pub fn summed(&self) -> Vec<usize> {
        (0..self.labels.len())
            .filter(|s| !self.output.contains(s))
            .collect()
    }

    /// The first occurrence `(operand, axis)` of `slot`: it defines the slot's extent.
    pub fn first_occurrence(&self, slot: usize) -> (usize, usize) {
        self.occurrences(slot)[0]
    }

    /// Every `(operand, axis)` where `slot` occurs, in order.
    pub fn occurrences(&self, slot: usize) -> Vec<(usize, usize)> {
        self.inputs
            .iter()
            .enumerate()
            .flat_map(|(k, axes)| {
                axes.iter()
                    .enumerate()
                    .filter(move |(_, &s)| s == slot)
                    .map(move |(a, _)| (k, a))
            })
            .collect()
    }
}

/// Parses and checks the spec against the operand count, reporting every problem at once:
/// spec errors on the literal, a count mismatch on the first extra operand (or the literal).
pub(crate) fn build(input: &Input) -> syn::Result<Model> {
    let text = input.spec.value();
    let prefix = format!("einsum `{text}`");
    let mut errors: Vec<syn::Error> = Vec::new();
    let spec = match Spec::parse(&text) {
        Ok(spec) => Some(spec),
        Err(spec_errors) => {
            errors.extend(
                spec_errors
                    .iter()
                    .map(|e| syn::Error::new(input.spec.span(), format!("{prefix}: {e}"))),
            );
            None
        }
    };
    // Count the terms even when the spec is invalid, so a wrong operand count is reported
    // together with the spec's own problems.
    let terms = spec.as_ref().map_or_else(
        || {
            text.split("->")
                .next()
                .unwrap_or_default()
                .split(',')
                .count()
        },
        |spec| spec.inputs().len(),
    );
    if terms != input.operands.len() {
        let span = input
            .operands
            .get(terms)
            .map_or(input.spec.span(), syn::spanned::Spanned::span);
        let count = einsum_spec::SpecError::operand_count(terms, input.operands.len());
        errors.push(syn::Error::new(span, format!("{prefix}: {count}")));
    }
    let spec = match (
        spec,
        errors.into_iter().reduce(|mut all, e| {
            all.combine(e);
            all
        }),
    ) {
        (Some(spec), None) => spec,
        (_, Some(combined)) => return Err(combined),
        (None, None) => unreachable!("a spec that fails to parse reports at least one error"),
    };

    let operand_names = input
        .operands
        .iter()
        .enumerate()
        .map(|(k, expr)| describe(expr, &format!("operand {k}")))
        .collect();
    let tables = if spec.inputs().iter().any(|t| t.has_ellipsis()) || spec.output().has_ellipsis() {
        None
    } else {
        let ranks: Vec<usize> = spec.inputs().iter().map(|t| t.named_rank()).collect();
        let contraction = spec
            .resolve(&ranks)
            .map_err(|e| syn::Error::new(input.spec.span(), format!("{prefix}: {e}")))?;
        let labels = contraction
            .slots()
            .iter()
            .map(|slot| match slot {
                Slot::Named(label) => label.as_char(),
                Slot::Broadcast(_) | Slot::Numbered(_) => '.',
            })
            .collect();
        Some(Tables {
            labels,
            inputs: contraction.inputs().to_vec(),
            output: contraction.output().to_vec(),
        })
    };
    let vjp = input.mode == crate::input::Mode::Vjp;
    if input.target.is_some() && tables.is_none() {
        let message = if vjp {
            format!(
                "{prefix}: einsum_vjp! with an output to write into does not take specs with \
                 `...`; write the labels out, or use `einsum_vjp!` without the output"
            )
        } else {
            format!(
                "{prefix}: einsum_into! does not take specs with `...`; write the labels out, or \
                 assign the result of `einsum!`"
            )
        };
        return Err(syn::Error::new(input.spec.span(), message));
    }
    let gradients = vjp.then(|| Gradients {
        listed: match &input.wrt {
            Some(wrt) => wrt.positions.clone(),
            None => (0..input.operands.len()).collect(),
        },
        into: input.target.is_some(),
    });
    let output_name = input
        .target
        .as_ref()
        .map(|target| describe(&target.expr, "the output"));
    Ok(Model {
        text,
        spec,
        operand_names,
        tables,
        output_name,
        gradients,
    })
}

/// `operand 1 (`b.view()`)` for `what` = `operand 1`, or just `what` when the expression is
/// long.
fn describe(expr: &syn::Expr, what: &str) -> String {
    let text = tidy(&expr.to_token_stream().to_string());
    if text.chars().count() <= 40 {
        format!("{what} (`{text}`)")
    } else {
        what.to_owned()
    }
}

/// Removes the spaces token printing puts around punctuation: `& a . view ()` → `&a.view()`.
fn tidy(text: &str) -> String {
    let mut out = text.to_owned();
    for (from, to) in [
        (" . ", "."),
        ("& ", "&"),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" [", "["),
        ("[ ", "["),
        (" ]", "]"),
        (" ,", ","),
        (":: ", "::"),
        (" ::", "::"),
    ] {
        out = out.replace(from, to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn model(tokens: proc_macro2::TokenStream) -> syn::Result<Model> {
        build(&syn::parse2(tokens).unwrap())
    }

    #[test]
    fn tables_map_labels_to_slots_in_order_of_appearance() {
        let m = model(quote!(::e, panic; "bi,bijk,bk->bj", x, h, x)).unwrap();
        let t = m.tables.unwrap();
        assert_eq!(t.labels, vec!['b', 'i', 'j', 'k']);
        assert_eq!(t.inputs, vec![vec![0, 1], vec![0, 1, 2, 3], vec![0, 3]]);
        assert_eq!(t.output, vec![0, 2]);
        assert_eq!(t.summed(), vec![1, 3]);
        assert_eq!(t.occurrences(3), vec![(1, 3), (2, 1)]);
    }

    #[test]
    fn specs_with_ellipsis_have_no_static_tables() {
        assert!(model(quote!(::e, panic; "...ij->...ji", x))
            .unwrap()
            .tables
            .is_none());
    }

    #[test]
    fn every_problem_is_reported() {
        let err = model(quote!(::e, panic; "i1,j->z", a, b, c)).err().unwrap();
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("invalid character `1`"));
        assert!(messages[1].contains("`z`"));
        assert!(messages[2].contains("3 operands"));
    }

    #[test]
    fn operand_count_is_checked_against_terms() {
        let err = model(quote!(::e, panic; "ij,jk->ik", a, b, c))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "einsum `ij,jk->ik`: the spec has 2 input terms but 3 operands were given: pass one \
             operand per input term"
        );
    }

    #[test]
    fn operands_are_described_by_their_text() {
        let m = model(quote!(::e, panic; "ij->", &a.view())).unwrap();
        assert_eq!(m.operand_names, vec!["operand 0 (`&a.view()`)"]);
    }
}
