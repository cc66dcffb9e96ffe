//! Valid contractions on broadcast operands whose extents reach 2^62: an error or a result,
//! promptly, never a panic or an abort.
#![no_main]

use einsum_fuzz::Structure;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Structure| {
    einsum_fuzz::check_huge_extents(&case.terms, &case.output, case.extents);
});
