//! Deterministic test operands for the runtime's unit and integration tests. Included with
//! `#[path]` (the engine's unit tests cannot depend on a test crate).

use ndarray::{ArrayD, IxDyn};

/// Deterministic values in `[-1, 1)` from a linear congruential generator.
pub fn random(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}
