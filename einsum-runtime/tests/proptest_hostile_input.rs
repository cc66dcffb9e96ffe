//! The fuzz targets' properties (fuzz/), on a bounded number of generated cases so that
//! `cargo test` checks them on every run: any text as a spec, any spec on any small shapes,
//! structurally valid contractions through the pairwise planner, and the same on broadcast
//! operands whose extents are far beyond memory. Each must give an error
//! or the reference evaluator's answer, never a panic.

#[path = "../../tests/common/reference.rs"]
#[allow(dead_code)]
mod reference;

mod properties;

use proptest::collection::vec;
use proptest::prelude::*;

/// Spec-like text: mostly the spec alphabet, so that many cases parse and run, with stray
/// characters mixed in.
fn spec_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ijkIJ]{0,3}(,[ijk.]{0,4}){0,3}(->[ijk.]{0,4})?",
        "[a-cA. ,>1é-]{0,14}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_as_a_spec_is_an_error_or_the_reference_answer(text in spec_text()) {
        properties::check_spec_text(&text);
    }

    #[test]
    fn any_spec_on_any_small_shapes_is_an_error_or_the_reference_answer(
        spec in spec_text(),
        shapes in vec(vec(0usize..5, 0..6), 0..4),
    ) {
        properties::check_einsum(&spec, &shapes);
    }

    #[test]
    fn the_pairwise_plan_equals_the_reference_on_valid_contractions(
        terms in vec(vec(0u8..8, 0..5), 1..6),
        output in vec(any::<u8>(), 0..5),
        extents in any::<[u8; 8]>(),
    ) {
        properties::check_planner(&terms, &output, extents);
    }

    #[test]
    fn extents_beyond_memory_are_an_error_or_a_result_never_a_panic(
        terms in vec(vec(0u8..8, 0..5), 1..6),
        output in vec(any::<u8>(), 0..5),
        extents in any::<[u8; 8]>(),
    ) {
        properties::check_huge_extents(&terms, &output, extents);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_network_plans_and_contracts_or_is_an_error(
        terms in vec(vec(0u8..24, 0..4), 0..12),
        output in vec(0u8..26, 0..3),
        extents in vec(any::<u8>(), 0..24),
        limit in prop_oneof![Just(0u8), any::<u8>()],
    ) {
        properties::check_network(&terms, &output, &extents, limit);
    }
}

/// The `huge_extents` fuzz target's first stop (fuzz/README.md): `a->a` on a broadcast view
/// of 2^50 elements, whose 8 PiB output the allocator refuses. Under AddressSanitizer the
/// refusal aborted the fuzzer (its allocator does not return null by default); in a normal
/// build it is an error, which this keeps checking.
#[test]
fn fuzz_regression_a_copy_of_two_to_the_fifty_elements_is_refused() {
    properties::check_huge_extents(&[vec![8]], &[77], [254, 253, 253, 0, 0, 0, 0, 0]);
}
