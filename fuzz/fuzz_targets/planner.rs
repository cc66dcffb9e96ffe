//! Valid contractions of up to five operands and eight labels: the pairwise plan must equal
//! the naive evaluator.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    terms: Vec<Vec<u8>>,
    output: Vec<u8>,
    extents: [u8; 8],
}

fuzz_target!(|case: Case| {
    einsum_fuzz::check_planner(&case.terms, &case.output, case.extents);
});
