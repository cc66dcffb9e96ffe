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

pub use properties::{
    check_einsum, check_huge_extents, check_network, check_planner, check_spec_text,
};

/// The input of the targets that build valid contractions from structure (`planner`,
/// `huge_extents`): terms as label indices, output picks, and one extent code per label.
#[derive(arbitrary::Arbitrary, Debug)]
pub struct Structure {
    /// Each term's labels, as indices into eight labels.
    pub terms: Vec<Vec<u8>>,
    /// Picks among the labels the terms use.
    pub output: Vec<u8>,
    /// One extent code per label.
    pub extents: [u8; 8],
}

/// The input of the `network` target: any labels on any number of operands, a memory limit.
#[derive(arbitrary::Arbitrary, Debug)]
pub struct AnyNetwork {
    /// Each operand's labels.
    pub terms: Vec<Vec<u8>>,
    /// The output's labels.
    pub output: Vec<u8>,
    /// Extent codes by label.
    pub extents: Vec<u8>,
    /// A memory limit in elements (0: none).
    pub limit: u8,
}
