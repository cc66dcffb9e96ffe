//! The cross product as an einsum.
//!
//! `c_i = sum_jk eps_ijk a_j b_k`, where `eps` is the Levi-Civita tensor: +1 on even
//! permutations of (0, 1, 2), -1 on odd ones, 0 elsewhere. This program
//!
//! 1. builds `eps` as a fixed-size `[[[f64; 3]; 3]; 3]`,
//! 2. computes one cross product with `einsum!("ijk,j,k->i", eps, a, b)` — the extents are
//!    checked while this file compiles, and the loops have constant bounds,
//! 3. computes a whole batch of them at once on ndarray arrays with `"ijk,bj,bk->bi"`,
//! 4. checks both against the textbook formula and prints the largest difference.
//!
//! Run it with `cargo run --release --example cross_product`. (Learning `eps` from data with
//! an optimizer, instead of writing it down, is the training demo that comes with the
//! optimizers.)

use einsum::einsum;
use ndarray::{Array2, Axis};

/// The Levi-Civita tensor in three dimensions.
fn levi_civita() -> [[[f64; 3]; 3]; 3] {
    let mut eps = [[[0.0; 3]; 3]; 3];
    for (i, j, k) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
        eps[i][j][k] = 1.0; // even permutations
        eps[i][k][j] = -1.0; // swapping two indices makes them odd
    }
    eps
}

/// The textbook formula, to check the einsum against.
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let eps = levi_civita();

    // 1. One cross product on fixed-size arrays: the result is a `[f64; 3]`.
    let a = [1.0, 2.0, 3.0];
    let b = [-2.0, 0.5, 4.0];
    let c: [f64; 3] = einsum!("ijk,j,k->i", eps, a, b);
    println!("a x b = {c:?} (formula: {:?})", cross(a, b));
    assert_eq!(c, cross(a, b));

    // 2. A batch of cross products on ndarray operands: `b` indexes the pairs.
    let pairs = if quick { 1_000 } else { 100_000 };
    let left = Array2::from_shape_fn((pairs, 3), |(n, i)| ((n * 7 + i * 3) % 11) as f64 - 5.0);
    let right = Array2::from_shape_fn((pairs, 3), |(n, i)| ((n * 5 + i * 2) % 13) as f64 - 6.0);
    let eps_array = ndarray::Array3::from_shape_fn((3, 3, 3), |(i, j, k)| eps[i][j][k]);
    let started = std::time::Instant::now();
    let products = einsum!("ijk,bj,bk->bi", &eps_array, &left, &right);
    let elapsed = started.elapsed();

    let mut max_error: f64 = 0.0;
    for ((row, l), r) in products
        .axis_iter(Axis(0))
        .zip(left.rows())
        .zip(right.rows())
    {
        let want = cross([l[0], l[1], l[2]], [r[0], r[1], r[2]]);
        for (got, want) in row.iter().zip(want) {
            max_error = max_error.max((got - want).abs());
        }
    }
    println!("{pairs} cross products in {elapsed:.2?}; largest difference from the formula: {max_error:e}");
    assert!(
        max_error == 0.0,
        "the einsum must reproduce the formula exactly on small integers"
    );
}
