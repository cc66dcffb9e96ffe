//! The hand-written baselines more than one benchmark measures against, written once so that
//! every bench compares `einsum!` with the same loop.
#![allow(dead_code)] // each bench uses some of them

/// The Levi-Civita tensor on fixed-size arrays: +1 on even permutations of (0, 1, 2), -1 on
/// odd ones, 0 wherever an index repeats.
pub fn levi_civita() -> [[[f64; 3]; 3]; 3] {
    let mut eps = [[[0.0; 3]; 3]; 3];
    for (i, j, k) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
        eps[i][j][k] = 1.0;
        eps[i][k][j] = -1.0;
    }
    eps
}

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
