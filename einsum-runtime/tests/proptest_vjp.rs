//! Random valid specs, extents, values and layouts: the generated gradient of every operand
//! (`engine::vjp`) must agree with central differences of `einsum_dyn`.
//!
//! With `L(ops) = sum(g * einsum(ops))` for a random `g`, `dL/d op_k` is exactly what `vjp`
//! returns for operand `k`. `L` is linear in each operand, so central differences are exact
//! up to rounding.

#[path = "../../tests/common/fd.rs"]
mod fd;
mod random_specs;

use einsum_runtime::engine::vjp::{forward_saving, vjp, vjp_reusing};
use einsum_runtime::{einsum_dyn, spec::Spec};
use ndarray::{ArrayD, ArrayViewD};
use proptest::prelude::*;
use random_specs::{case, spec_and_shapes, standard_copies, stored_operands, values, Stored};

/// `sum(g * einsum(spec, operands))`.
fn loss(spec: &str, operands: &[ArrayD<f64>], g: &ArrayD<f64>) -> f64 {
    let views: Vec<ArrayViewD<'_, f64>> = operands.iter().map(|a| a.view()).collect();
    let y = einsum_dyn(spec, &views).expect("the case is valid");
    (&y * g).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn vjp_agrees_with_central_differences(case in case(), g_seed in any::<u64>()) {
        let (spec, shapes) = spec_and_shapes(&case);
        let stored = stored_operands(&case, &shapes);
        let views: Vec<ArrayViewD<'_, f64>> = stored.iter().map(Stored::view).collect();
        let owned = standard_copies(&views);

        let parsed = Spec::parse(&spec).expect("generated specs are valid");
        let ranks: Vec<usize> = shapes.iter().map(Vec::len).collect();
        let contraction = parsed.resolve(&ranks).expect("ranks fit");
        let y = einsum_dyn(&spec, &views).expect("the case is valid");
        let g = values(y.shape(), g_seed);
        let grads = vjp(&contraction, &views, g.view());
        prop_assert!(grads.is_ok(), "{spec} on {shapes:?}: {}", grads.unwrap_err());
        let grads = grads.unwrap();

        for (k, grad) in grads.iter().enumerate() {
            let numeric = fd::central_difference(
                |x| {
                    let mut probe = owned.clone();
                    probe[k] = x.clone();
                    loss(&spec, &probe, &g)
                },
                &owned[k],
                1e-3,
            );
            prop_assert_eq!(grad.shape(), numeric.shape(), "{} operand {}", spec, k);
            for (a, n) in grad.iter().zip(numeric.iter()) {
                prop_assert!((a - n).abs() <= 1e-7 * n.abs().max(1.0), "{spec} on {shapes:?}, operand {k}: {a} vs {n}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The same random specs with every extent of 2 or 3 made 4x larger (0 and 1, which
    /// broadcast, kept), so that contractions of three or four operands are planned pairwise
    /// and the forward pass saves intermediates: gradients that start from them must equal
    /// gradients computed from scratch, in every memory layout.
    #[test]
    fn gradients_reusing_the_forward_pass_equal_gradients_from_scratch(
        case in case(),
        g_seed in any::<u64>(),
    ) {
        let mut case = case;
        for extent in case.extents.iter_mut().chain(case.dot_extents.iter_mut()) {
            if *extent > 1 {
                *extent *= 4;
            }
        }
        let (spec, shapes) = spec_and_shapes(&case);
        let elements: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
        prop_assume!(case.operands.len() >= 3 && elements <= 200_000);
        let stored = stored_operands(&case, &shapes);
        let views: Vec<ArrayViewD<'_, f64>> = stored.iter().map(Stored::view).collect();
        let ranks: Vec<usize> = shapes.iter().map(Vec::len).collect();
        let contraction = Spec::parse(&spec).expect("valid").resolve(&ranks).expect("ranks fit");
        let (value, saved) = forward_saving(&contraction, &views).expect("the case is valid");
        let y = einsum_dyn(&spec, &views).expect("the case is valid");
        prop_assert_eq!(&value, &y, "{} on {:?}: forward_saving's value", spec, shapes);
        let g = values(y.shape(), g_seed);
        let reused = vjp_reusing(&contraction, &views, g.view(), &saved).expect("valid");
        let scratch = vjp(&contraction, &views, g.view()).expect("valid");
        for (k, (a, b)) in reused.iter().zip(&scratch).enumerate() {
            prop_assert_eq!(a.shape(), b.shape());
            for (x, w) in a.iter().zip(b.iter()) {
                prop_assert!(
                    (x - w).abs() <= 1e-10 * w.abs().max(1.0),
                    "{spec} on {shapes:?} ({} saved), operand {k}: {x} reused, {w} from scratch",
                    saved.len()
                );
            }
        }
    }
}

#[test]
fn gradient_of_the_wrong_shape_is_an_error() {
    let contraction = Spec::parse("ij->i").unwrap().resolve(&[2]).unwrap();
    let a = ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 3]));
    let g = ArrayD::<f64>::zeros(ndarray::IxDyn(&[3]));
    let err = vjp(&contraction, &[a.view()], g.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the output gradient has shape [3] but the output has shape [2]: the gradient must have \
         the output's shape"
    );
}

/// With three operands or more, `vjp` evaluates the gradients over one pool and reuses their
/// common pairwise intermediates; each gradient must equal its own contraction computed alone
/// (whose agreement with central differences the property above checks). Extents are large
/// enough for the pairwise plan, where sharing happens.
#[test]
fn shared_intermediates_give_each_gradient_unchanged() {
    use einsum_runtime::engine::{self, vjp::plan};
    let cases: &[(&str, &[&[usize]])] = &[
        // the same array twice; both `x` gradients start from `sum_j g_bj h_bjik`
        ("bi,bjik,bk->bj", &[&[8, 12], &[8, 12, 12, 12], &[8, 12]]),
        (
            "ij,jk,kl,lm->im",
            &[&[20, 21], &[21, 22], &[22, 23], &[23, 24]],
        ),
        (
            "bij,bjk,bkl->bil",
            &[&[3, 12, 13], &[3, 13, 14], &[3, 14, 15]],
        ),
        // an axis of extent 1 that broadcasts, and a diagonal
        ("ab,ab,bc->ac", &[&[1, 20], &[30, 20], &[20, 25]]),
        ("ii,ij,jk->k", &[&[20, 20], &[20, 21], &[21, 22]]),
    ];
    for (n, &(spec, shapes)) in cases.iter().enumerate() {
        let operands: Vec<ArrayD<f64>> = shapes
            .iter()
            .enumerate()
            .map(|(k, shape)| values(shape, (10 * n + k) as u64))
            .collect();
        let mut views: Vec<ArrayViewD<'_, f64>> = operands.iter().map(|a| a.view()).collect();
        if spec == "bi,bjik,bk->bj" {
            views[2] = operands[0].view(); // the same array in both places
        }
        let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
        let contraction = Spec::parse(spec).unwrap().resolve(&ranks).unwrap();
        let y = einsum_dyn(spec, &views).unwrap();
        let g = values(y.shape(), 99);
        let shared = vjp(&contraction, &views, g.view()).unwrap();
        // The same gradients when they start from the forward pass's intermediates.
        let (value, saved) = engine::vjp::forward_saving(&contraction, &views).unwrap();
        assert_eq!(value, y, "{spec}: forward_saving's value");
        assert!(!saved.is_empty(), "{spec}: the forward pass saved nothing");
        let reused = engine::vjp::vjp_reusing(&contraction, &views, g.view(), &saved).unwrap();

        let shape_refs: Vec<&[usize]> = views.iter().map(|v| v.shape()).collect();
        let extents = contraction.bind_extents(&shape_refs).unwrap();
        for (k, got) in shared.iter().enumerate() {
            let (reduce, expansion) = plan(&contraction, k, &extents, views[k].shape());
            let inputs: Vec<ArrayViewD<'_, f64>> = std::iter::once(g.view())
                .chain(
                    (0..views.len())
                        .filter(|&j| j != k)
                        .map(|j| views[j].view()),
                )
                .collect();
            let alone = expansion.apply(engine::contract(&reduce, &inputs).unwrap().view());
            for (what, got) in [("shared", got), ("reused", &reused[k])] {
                assert_eq!(got.shape(), alone.shape(), "{spec}, operand {k}");
                for (a, b) in got.iter().zip(alone.iter()) {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                        "{spec}, operand {k}: {a} {what}, {b} alone"
                    );
                }
            }
        }
    }
}

/// Intermediates saved from other arrays, or for another contraction, are not used: the
/// gradients are those of the arrays and contraction passed to `vjp_reusing`, even when the
/// shapes are the same.
#[test]
fn intermediates_saved_from_other_operands_are_ignored() {
    use einsum_runtime::engine::vjp::{forward_saving, vjp_reusing};
    let spec = "ij,jk,kl->il";
    let contraction = Spec::parse(spec).unwrap().resolve(&[2, 2, 2]).unwrap();
    let shapes: [&[usize]; 3] = [&[20, 30], &[30, 40], &[40, 10]];
    let first: Vec<ArrayD<f64>> = (0..3).map(|k| values(shapes[k], k as u64)).collect();
    let second: Vec<ArrayD<f64>> = (0..3).map(|k| values(shapes[k], 10 + k as u64)).collect();
    let first_views: Vec<ArrayViewD<'_, f64>> = first.iter().map(|a| a.view()).collect();
    let second_views: Vec<ArrayViewD<'_, f64>> = second.iter().map(|a| a.view()).collect();
    let (_, saved) = forward_saving(&contraction, &first_views).unwrap();
    assert!(!saved.is_empty());
    let g = values(&[20, 10], 99);
    let want = vjp(&contraction, &second_views, g.view()).unwrap();
    let got = vjp_reusing(&contraction, &second_views, g.view(), &saved).unwrap();
    assert_eq!(got, want);
    // And the transposed view of the same elements is another operand too.
    let c_t = first[2].t().to_owned();
    let mut views = first_views.clone();
    let transposed = c_t.t();
    views[2] = transposed.view();
    assert_eq!(
        vjp_reusing(&contraction, &views, g.view(), &saved).unwrap(),
        vjp(&contraction, &views, g.view()).unwrap()
    );
    // Nor are they used for another contraction of the same arrays whose slots are numbered
    // alike: `ij,kj,kl->il` on square `b` would key `sum_j a_ij b_kj` as the chain's `ab`.
    let square: Vec<ArrayD<f64>> = [&[20, 30][..], &[30, 30], &[30, 10]]
        .iter()
        .enumerate()
        .map(|(k, shape)| values(shape, 20 + k as u64))
        .collect();
    let views: Vec<ArrayViewD<'_, f64>> = square.iter().map(|a| a.view()).collect();
    let chain = Spec::parse("ij,jk,kl->il")
        .unwrap()
        .resolve(&[2, 2, 2])
        .unwrap();
    let other = Spec::parse("ij,kj,kl->il")
        .unwrap()
        .resolve(&[2, 2, 2])
        .unwrap();
    let (_, saved) = forward_saving(&chain, &views).unwrap();
    assert!(!saved.is_empty());
    let g = values(&[20, 10], 98);
    assert_eq!(
        vjp_reusing(&other, &views, g.view(), &saved).unwrap(),
        vjp(&other, &views, g.view()).unwrap()
    );
}
