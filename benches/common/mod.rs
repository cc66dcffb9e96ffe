//! The hand-written baselines more than one benchmark measures against, written once so that
//! every bench compares `einsum!` with the same loop.
#![allow(dead_code)] // each bench uses some of them

#[path = "../../tests/common/levi_civita.rs"]
mod levi_civita;
#[allow(unused_imports)] // each test or bench uses some of the helpers
pub use levi_civita::levi_civita;

/// `ijk,j,k->i` on 3x3x3: the loop a user would write.
pub fn hand_cross(eps: &[[[f64; 3]; 3]; 3], a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for i in 0..3 {
        for j in 0..3 {
            for k in 0..3 {
                out[i] += eps[i][j][k] * a[j] * b[k];
            }
        }
    }
    out
}

/// `ij,jk->ik` on 8x8 fixed-size arrays, the accumulator in a local: the loop a user would
/// write.
pub fn hand_matmul8(a: &[[f64; 8]; 8], b: &[[f64; 8]; 8]) -> [[f64; 8]; 8] {
    let mut out = [[0.0; 8]; 8];
    for i in 0..8 {
        for k in 0..8 {
            let mut acc = 0.0;
            for j in 0..8 {
                acc += a[i][j] * b[j][k];
            }
            out[i][k] = acc;
        }
    }
    out
}
