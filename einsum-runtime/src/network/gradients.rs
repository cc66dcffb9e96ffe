//! Gradients of a planned network by reverse mode along its tree: the forward pass keeps each
//! step's result, and each step's two operands get their gradients from the result's
//! gradient and the other operand, one pairwise contraction each. All gradients together
//! cost about two forward passes, where one contraction per operand (the engine's
//! vector-Jacobian product) would plan and run `n` contractions of `n` tensors.

use crate::{engine, Element};
use einsum_spec::path::Tree;
use einsum_spec::{Contraction, ShapeError};
use ndarray::{ArrayD, ArrayViewD};

/// Whether reverse mode along the tree applies: every operand's labels are distinct, and
/// every label of an operand is on another operand or the output (no operand sums a label
/// on its own), and every axis has its label's full extent (nothing broadcasts). Otherwise
/// the engine's vector-Jacobian product, which handles those, is used.
pub(super) fn applies(contraction: &Contraction, shapes: &[Vec<usize>], extents: &[usize]) -> bool {
    let inputs = contraction.inputs();
    inputs.len() >= 2
        && inputs
            .iter()
            .zip(shapes)
            .enumerate()
            .all(|(k, (slots, shape))| {
                slots.iter().enumerate().all(|(axis, &s)| {
                    !slots[..axis].contains(&s)
                        && shape[axis] == extents[s]
                        && (contraction.output().contains(&s)
                            || inputs
                                .iter()
                                .enumerate()
                                .any(|(other, t)| other != k && t.contains(&s)))
                })
            })
}

/// The gradient with respect to each operand, for the output gradient `g`, by reverse mode
/// along `tree` (see the module docs; [`applies`] must hold).
pub(super) fn along_tree<T: Element>(
    contraction: &Contraction,
    extents: &[usize],
    tree: &Tree,
    operands: &[ArrayViewD<'_, T>],
    g: ArrayViewD<'_, T>,
) -> Result<Vec<ArrayD<T>>, ShapeError> {
    let n = operands.len();
    let output = contraction.output();
    // Each node's slots: the operands' as given, then each step's result, which keeps what
    // the output or a tensor not yet contracted holds (the engine's rule, `plan::steps_at`).
    let mut slots: Vec<Vec<usize>> = contraction.inputs().to_vec();
    let steps = engine::plan::steps_at(&slots, output, extents, &tree.positions());
    slots.extend(steps.into_iter().map(|step| step.result));
    let pair = |left: &[usize], right: &[usize], into: &[usize]| {
        Contraction::from_parts(
            vec![left.to_vec(), right.to_vec()],
            into.to_vec(),
            contraction.slots().to_vec(),
        )
    };
    // The forward pass, keeping every result.
    let mut values: Vec<ArrayD<T>> = Vec::with_capacity(tree.steps().len());
    for (k, &(a, b)) in tree.steps().iter().enumerate() {
        let Some(step) = pair(&slots[a], &slots[b], &slots[n + k]) else {
            unreachable!("a step's result holds only its operands' slots")
        };
        let inputs = [node(a, operands, &values), node(b, operands, &values)];
        let result = engine::contract(&step, &inputs)?;
        values.push(result);
    }
    // The gradient of the root: `g`, whose axes are the output's, laid out as the root's.
    let root = slots.len() - 1;
    let Some(to_root) = Contraction::from_parts(
        vec![output.to_vec()],
        slots[root].clone(),
        contraction.slots().to_vec(),
    ) else {
        unreachable!("the root holds exactly the output's slots")
    };
    let mut grads: Vec<Option<ArrayD<T>>> = vec![None; slots.len()];
    grads[root] = Some(engine::contract(&to_root, &[g])?);
    for (k, &(a, b)) in tree.steps().iter().enumerate().rev() {
        let Some(grad) = grads[n + k].take() else {
            unreachable!("every step's result is an operand of a later step or the root")
        };
        for (this, other) in [(a, b), (b, a)] {
            let Some(step) = pair(&slots[n + k], &slots[other], &slots[this]) else {
                unreachable!("an operand's slots are its result's or the other operand's")
            };
            let inputs = [grad.view(), node(other, operands, &values)];
            grads[this] = Some(engine::contract(&step, &inputs)?);
        }
        // The result is no longer needed.
        values.truncate(k);
    }
    Ok(grads
        .into_iter()
        .take(n)
        .map(|grad| grad.unwrap_or_else(|| unreachable!("every operand is a leaf of the tree")))
        .collect())
}

/// Node `node` of the tree: an operand, or the result of step `node - operands.len()`.
fn node<'a, T>(
    node: usize,
    operands: &'a [ArrayViewD<'_, T>],
    values: &'a [ArrayD<T>],
) -> ArrayViewD<'a, T> {
    match node.checked_sub(operands.len()) {
        None => operands[node].view(),
        Some(step) => values[step].view(),
    }
}
