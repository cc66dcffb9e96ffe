//! Generated code is clean under the strictest lints a user might apply: this crate denies
//! all warnings and clippy's pedantic group (CI runs clippy over the tests with `-D warnings`).
#![deny(warnings, clippy::pedantic)]

use einsum::{einsum, try_einsum};
use ndarray::{array, Array2};

#[test]
fn expansions_compile_without_warnings() {
    let fixed = [[1_i64, 2], [3, 4]];
    let vector = [1_i64, 1];
    let matrix: Array2<i64> = array![[1, 2], [3, 4]];

    let product: [[i64; 2]; 2] = einsum!("ij,jk->ik", fixed, fixed);
    let trace: i64 = einsum!("ii->", fixed);
    let row_sums: [i64; 2] = einsum!("ij,j->i", fixed, vector);
    let scalar: i64 = einsum!(",->", 2_i64, 3_i64);
    let gram = einsum!("ij,jk->ik", &matrix, matrix.t());
    let transposed = einsum!("...ij->...ji", &matrix);
    let total = try_einsum!("ij->", &matrix).map(|sum| sum[()]);

    assert_eq!(product, [[7, 10], [15, 22]]);
    assert_eq!(trace, 5);
    assert_eq!(row_sums, [3, 7]);
    assert_eq!(scalar, 6);
    assert_eq!(gram[[0, 0]], 5);
    assert_eq!(transposed[[0, 1]], 3);
    assert_eq!(total, Ok(10));
}
