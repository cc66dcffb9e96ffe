//! Random valid specs, extents, values and memory layouts: `einsum_dyn` must agree with the
//! naive reference evaluator on every one.

mod random_specs;
#[path = "../../tests/common/reference.rs"]
mod reference;

use einsum_runtime::{einsum_dyn, engine, spec::Spec};
use ndarray::{ArrayD, ArrayViewD};
use proptest::prelude::*;
use random_specs::{
    case, layout, spec_and_shapes, standard_copies, stored_operands, values, Layout, Stored,
};
use reference::reference_einsum;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn einsum_dyn_agrees_with_reference(case in case()) {
        let (spec, shapes) = spec_and_shapes(&case);
        let stored = stored_operands(&case, &shapes);
        let views: Vec<ArrayViewD<'_, f64>> = stored.iter().map(Stored::view).collect();
        // The reference sees the same logical values, in standard layout.
        let owned = standard_copies(&views);
        let want = reference_einsum(&spec, &owned);
        let got = einsum_dyn(&spec, &views);
        prop_assert!(got.is_ok(), "{spec} on {shapes:?}: {}", got.unwrap_err());
        let got = got.unwrap();
        prop_assert!(got.is_standard_layout(), "{spec} on {shapes:?}: result not in standard layout");
        prop_assert_eq!(got.shape(), want.shape(), "{} on {:?}", spec, shapes);
        for (g, w) in got.iter().zip(want.iter()) {
            prop_assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{spec} on {shapes:?}: {g} vs reference {w}");
        }

        // These cases are small enough for the engine's direct loop; the pairwise plan must
        // agree on them too.
        let ranks: Vec<usize> = shapes.iter().map(Vec::len).collect();
        let contraction = Spec::parse(&spec).unwrap().resolve(&ranks).unwrap();
        let planned = engine::contract_planned(&contraction, &views).unwrap();
        prop_assert!(planned.is_standard_layout(), "{spec} on {shapes:?}: planned result not in standard layout");
        prop_assert_eq!(planned.shape(), want.shape(), "{} on {:?}", spec, shapes);
        for (g, w) in planned.iter().zip(want.iter()) {
            prop_assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{spec} on {shapes:?}, pairwise: {g} vs reference {w}");
        }
    }
}

/// Specs whose pairwise steps are matrix products large enough for the GEMM kernel.
const GEMM_SPECS: [&str; 6] = [
    "ij,jk->ik",
    "ij,kj->ki",
    "bij,bjk->bik",
    "ijk,jkl->il",
    "bij,jbk->kbi",
    "ij,jk,kl->il",
];

/// Specs whose pairwise steps are (batched) matrix-vector products; with extents of 24 and
/// more each product exceeds the plain-loop threshold and takes the matrix-vector kernel.
const GEMV_SPECS: [&str; 4] = ["ij,j->i", "i,ij->j", "bij,bj->bi", "bi,bij->bj"];

/// Runs `spec` with the pairwise plan forced on operands of the given extents (per label of
/// `bijkl`) and layouts, and compares with the reference.
fn check_planned(
    spec: &str,
    extents: &[usize],
    layouts: &[Layout],
    seed: u64,
) -> Result<(), TestCaseError> {
    let extent = |c: char| extents["bijkl".find(c).expect("a label of the spec lists")];
    let (inputs, _) = spec.split_once("->").expect("explicit output");
    let shapes: Vec<Vec<usize>> = inputs
        .split(',')
        .map(|t| t.chars().map(extent).collect())
        .collect();
    let stored: Vec<Stored> = shapes
        .iter()
        .zip(layouts)
        .enumerate()
        .map(|(k, (shape, &layout))| Stored::new(&values(shape, seed ^ k as u64), layout))
        .collect();
    let views: Vec<ArrayViewD<'_, f64>> = stored.iter().map(Stored::view).collect();
    let owned: Vec<ArrayD<f64>> = views
        .iter()
        .map(|v| v.as_standard_layout().into_owned())
        .collect();
    let want = reference_einsum(spec, &owned);
    let ranks: Vec<usize> = shapes.iter().map(Vec::len).collect();
    let contraction = Spec::parse(spec).unwrap().resolve(&ranks).unwrap();
    let got = engine::contract_planned(&contraction, &views)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want.iter()) {
        prop_assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{spec} on {shapes:?}: {g} vs reference {w}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Extents of 5 to 12 put every step on the GEMM path, with operands in every layout; the
    /// pairwise plan is forced, since small cases would take the direct loop.
    #[test]
    fn gemm_path_agrees_with_reference_on_any_layout(
        spec in prop::sample::select(GEMM_SPECS.to_vec()),
        extents in prop::collection::vec(5..=12usize, 5),
        layouts in prop::collection::vec(layout(), 3),
        seed in any::<u64>(),
    ) {
        check_planned(spec, &extents, &layouts, seed)?;
    }

    #[test]
    fn matrix_vector_path_agrees_with_reference_on_any_layout(
        spec in prop::sample::select(GEMV_SPECS.to_vec()),
        extents in prop::collection::vec(24..=48usize, 5),
        layouts in prop::collection::vec(layout(), 3),
        seed in any::<u64>(),
    ) {
        check_planned(spec, &extents, &layouts, seed)?;
    }
}
