//! Valid contractions of up to five operands and eight labels: the pairwise plan must equal
//! the naive evaluator.
#![no_main]

use einsum_fuzz::Structure;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Structure| {
    einsum_fuzz::check_planner(&case.terms, &case.output, case.extents);
});
