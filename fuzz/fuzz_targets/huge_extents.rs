//! Valid contractions on broadcast operands whose extents reach 2^62: an error or a result,
//! promptly, never a panic or an abort.
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
    einsum_fuzz::check_huge_extents(&case.terms, &case.output, case.extents);
});
