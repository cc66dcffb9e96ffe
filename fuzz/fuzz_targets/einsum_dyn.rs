//! An arbitrary spec with arbitrary small shapes through the run-time einsum and its
//! gradient.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    spec: String,
    shapes: Vec<Vec<u8>>,
}

fuzz_target!(|case: Case| {
    let shapes: Vec<Vec<usize>> = case
        .shapes
        .iter()
        .take(6)
        .map(|shape| shape.iter().take(8).map(|&n| usize::from(n % 5)).collect())
        .collect();
    einsum_fuzz::check_einsum(&case.spec, &shapes);
});
