//! Arbitrary bytes as a spec: parse, validate, and run what is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        einsum_fuzz::check_spec_text(text);
    }
});
