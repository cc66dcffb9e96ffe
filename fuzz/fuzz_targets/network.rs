//! Any network of any labels, with or without a memory limit: building, planning and
//! contracting give an error or the answer of the plain greedy plan, never a panic.
#![no_main]

use einsum_fuzz::AnyNetwork;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: AnyNetwork| {
    einsum_fuzz::check_network(&case.terms, &case.output, &case.extents, case.limit);
});
