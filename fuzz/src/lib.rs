//! The cargo-fuzz targets' shared code: the properties live with their proptest versions in
//! einsum-runtime/tests/properties, so `cargo test` checks the same properties on a bounded
//! number of cases and the fuzzer explores them without bound.

/// The test suite's naive evaluator: visits every index combination, shares no code with the
/// engine.
#[path = "../../tests/common/reference.rs"]
#[allow(dead_code)]
pub mod reference;

#[path = "../../einsum-runtime/tests/properties/mod.rs"]
mod properties;

pub use properties::{check_einsum, check_huge_extents, check_planner, check_spec_text};
