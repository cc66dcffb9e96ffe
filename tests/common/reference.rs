//! A naive einsum, written to be obviously correct rather than fast, as a test oracle.
//!
//! It shares no code with the crates under test: it parses specs itself and evaluates them by
//! visiting every combination of index values, so a bug in the parser, the planner or the
//! kernels cannot hide in it. It panics on invalid input.

use ndarray::{ArrayD, IxDyn};

/// One index of the sum: a named label, or one axis of the `...` block counted from the right
/// (`Dots(0)` is the last `...` axis), since numpy aligns `...` axes on the right.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Index {
    Label(char),
    Dots(usize),
}

/// A term as written: labels, and `None` for the `...`.
fn parse_term(text: &str) -> Vec<Option<char>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("...") {
            out.push(None);
            rest = &rest[3..];
        } else {
            assert!(
                c.is_ascii_alphabetic(),
                "reference: bad character {c:?} in {text:?}"
            );
            out.push(Some(c));
            rest = &rest[1..];
        }
    }
    out
}

/// The indices of a term whose `...` stands for `dots` axes.
fn expand(term: &[Option<char>], dots: usize) -> Vec<Index> {
    let mut out = Vec::new();
    for axis in term {
        match axis {
            Some(c) => out.push(Index::Label(*c)),
            None => out.extend((0..dots).rev().map(Index::Dots)),
        }
    }
    out
}

/// `numpy.einsum(spec, *operands)`, computed the slow way.
pub fn reference_einsum(spec: &str, operands: &[ArrayD<f64>]) -> ArrayD<f64> {
    let spec: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    let (inputs_text, output_text) = match spec.split_once("->") {
        Some((inputs, output)) => (inputs, Some(output)),
        None => (spec.as_str(), None),
    };
    let terms: Vec<Vec<Option<char>>> = inputs_text.split(',').map(parse_term).collect();
    assert_eq!(
        terms.len(),
        operands.len(),
        "reference: one operand per term"
    );

    // How many axes each `...` stands for: the operand's rank minus its named labels.
    let dots: Vec<usize> = terms
        .iter()
        .zip(operands)
        .map(|(term, operand)| {
            let named = term.iter().filter(|a| a.is_some()).count();
            if term.contains(&None) {
                operand
                    .ndim()
                    .checked_sub(named)
                    .expect("reference: rank too small")
            } else {
                assert_eq!(operand.ndim(), named, "reference: rank differs from term");
                0
            }
        })
        .collect();
    let max_dots = dots.iter().copied().max().unwrap_or(0);
    let inputs: Vec<Vec<Index>> = terms
        .iter()
        .zip(&dots)
        .map(|(t, &d)| expand(t, d))
        .collect();

    // The output: as written, or numpy's implicit one: `...` first, then the labels that occur
    // exactly once, sorted. ASCII puts `A-Z` before `a-z`, as numpy does.
    let output: Vec<Index> = match output_text {
        Some(text) => expand(&parse_term(text), max_dots),
        None => {
            let labels: Vec<char> = terms.iter().flatten().flatten().copied().collect();
            let mut once: Vec<char> = labels
                .iter()
                .copied()
                .filter(|c| labels.iter().filter(|d| *d == c).count() == 1)
                .collect();
            once.sort_unstable();
            let mut out: Vec<Index> = (0..max_dots).rev().map(Index::Dots).collect();
            out.extend(once.into_iter().map(Index::Label));
            out
        }
    };

    // Every index and its extent: the one extent other than 1 among its axes, or 1. An axis of
    // extent 1 broadcasts: it is read at position 0 whatever the index's value.
    let mut indices: Vec<Index> = Vec::new();
    for index in inputs.iter().flatten().chain(&output) {
        if !indices.contains(index) {
            indices.push(*index);
        }
    }
    let extents: Vec<usize> = indices
        .iter()
        .map(|index| {
            let seen: Vec<usize> = inputs
                .iter()
                .zip(operands)
                .flat_map(|(term, op)| {
                    term.iter()
                        .zip(op.shape())
                        .filter(|(i, _)| *i == index)
                        .map(|(_, &e)| e)
                })
                .collect();
            let extent = seen.iter().copied().find(|&e| e != 1).unwrap_or(1);
            assert!(
                seen.iter().all(|&e| e == 1 || e == extent),
                "reference: {index:?} does not broadcast"
            );
            extent
        })
        .collect();
    let position = |index: &Index| {
        indices
            .iter()
            .position(|i| i == index)
            .expect("every index is listed")
    };

    // Visit every combination of index values (an odometer over `values`), adding the product
    // of the operands' elements at those values to the output element they select.
    let output_shape: Vec<usize> = output.iter().map(|i| extents[position(i)]).collect();
    let mut result = ArrayD::<f64>::zeros(IxDyn(&output_shape));
    let mut values = vec![0usize; indices.len()];
    if extents.contains(&0) {
        return result; // no combination at all: every sum is empty
    }
    loop {
        let mut product = 1.0;
        for (term, operand) in inputs.iter().zip(operands) {
            let at: Vec<usize> = term
                .iter()
                .zip(operand.shape())
                .map(|(index, &extent)| {
                    if extent == 1 {
                        0
                    } else {
                        values[position(index)]
                    }
                })
                .collect();
            product *= operand[IxDyn(&at)];
        }
        let at: Vec<usize> = output.iter().map(|index| values[position(index)]).collect();
        result[IxDyn(&at)] += product;

        // Next combination: increment the last index, carrying into the ones before it.
        let mut axis = values.len();
        loop {
            if axis == 0 {
                return result;
            }
            axis -= 1;
            values[axis] += 1;
            if values[axis] < extents[axis] {
                break;
            }
            values[axis] = 0;
        }
    }
}
