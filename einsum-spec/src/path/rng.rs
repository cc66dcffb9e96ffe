//! A small seeded random generator (SplitMix64), so that a search with a given seed gives the
//! same path on every machine, without a dependency.

/// SplitMix64: one 64-bit state, full period, good enough to sample search parameters.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high)` on a log scale.
    pub(crate) fn log_uniform(&mut self, low: f64, high: f64) -> f64 {
        (low.ln() + self.unit() * (high.ln() - low.ln())).exp()
    }

    /// A standard Gumbel sample: adding `t` times one to each score and taking the best is
    /// sampling with Boltzmann weights at temperature `t`.
    pub(crate) fn gumbel(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        -(-u.ln()).max(f64::MIN_POSITIVE).ln()
    }
}
