//! The Levi-Civita tensor, shared by the tests (`tests/common`) and the benches
//! (`benches/common`).

/// The Levi-Civita tensor on fixed-size arrays: +1 on even permutations of (0, 1, 2), -1 on
/// odd ones, 0 wherever an index repeats. `eps_ijk a_j b_k` is the cross product `a x b`.
pub fn levi_civita() -> [[[f64; 3]; 3]; 3] {
    let mut eps = [[[0.0; 3]; 3]; 3];
    for (i, j, k) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
        eps[i][j][k] = 1.0;
        eps[i][k][j] = -1.0;
    }
    eps
}
