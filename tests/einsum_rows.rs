//! `einsum!` on batches: slices and `Vec`s of fixed-size rows, with a run-time batch extent.
//! Every case is checked against the reference evaluator, and every gradient of
//! `einsum_vjp!` against central differences.

mod common;

use common::fixed_check::{check, fill, to_dyn};
use einsum::operand::FixedArray;
use einsum::{einsum, einsum_vjp, try_einsum};
use ndarray::{ArrayD, IxDyn};

/// `rows` filled with deterministic values: row `r` from seed `seed + r`.
fn fill_rows<A: FixedArray<Elem = f64>>(rows: usize, seed: u64) -> Vec<A> {
    (0..rows as u64).map(|r| fill(seed * 1000 + r)).collect()
}

/// A batch of rows as one dynamic-rank array whose first axis is the batch.
fn rows_to_dyn<A: FixedArray<Elem = f64>>(rows: &[A]) -> ArrayD<f64> {
    let mut shape = vec![rows.len()];
    A::push_shape(&mut shape);
    ArrayD::from_shape_vec(IxDyn(&shape), A::flatten(rows).to_vec()).expect("shape fits")
}

#[test]
fn cross_products_of_rows_with_a_fixed_tensor() {
    let eps: [[[f64; 3]; 3]; 3] = fill(1);
    let a: Vec<[f64; 3]> = fill_rows(7, 2);
    let b: Vec<[f64; 3]> = fill_rows(7, 3);
    let y: Vec<[f64; 3]> = einsum!("ijk,bj,bk->bi", eps, a, b);
    let (y2, back) = einsum_vjp!("ijk,bj,bk->bi", eps, &a, b.as_slice());
    assert_eq!(y, y2);
    let g: Vec<[f64; 3]> = fill_rows(7, 4);
    let (ge, ga, gb) = back(&g);
    check(
        "ijk,bj,bk->bi",
        &[to_dyn(&eps), rows_to_dyn(&a), rows_to_dyn(&b)],
        &rows_to_dyn(&y),
        &rows_to_dyn(&g),
        &[to_dyn(&ge), rows_to_dyn(&ga), rows_to_dyn(&gb)],
    );
}

/// The route README gives for batches held in an `Array2`: its rows viewed as `&[[f64; 3]]`
/// (no copy) take the row kernel and give the engine's result.
#[test]
fn an_array2_in_standard_layout_viewed_as_rows() {
    let eps: [[[f64; 3]; 3]; 3] = fill(1);
    let a = ndarray::Array2::from_shape_fn((50, 3), |(b, j)| (b * 3 + j) as f64 * 0.25 - 7.0);
    let b = ndarray::Array2::from_shape_fn((50, 3), |(b, k)| ((b * 7 + k) % 11) as f64 - 5.0);
    let (a_rows, rest) = a.as_slice().expect("standard layout").as_chunks::<3>();
    assert!(rest.is_empty());
    let (b_rows, _) = b.as_slice().expect("standard layout").as_chunks::<3>();
    assert_eq!(
        a_rows.as_ptr().cast::<f64>(),
        a.as_ptr(),
        "a view, not a copy"
    );
    let y: Vec<[f64; 3]> = einsum!("ijk,bj,bk->bi", eps, a_rows, b_rows);
    let eps_nd = ndarray::Array3::from_shape_fn((3, 3, 3), |(i, j, k)| eps[i][j][k]);
    let want = einsum!("ijk,bj,bk->bi", &eps_nd, &a, &b);
    for (row, want_row) in y.iter().zip(want.rows()) {
        for (x, w) in row.iter().zip(want_row) {
            assert!((x - w).abs() <= 1e-12 * w.abs().max(1.0), "{x} vs {w}");
        }
    }
}

#[test]
fn every_operand_a_batch_and_one_passed_twice() {
    let x: Vec<[f64; 3]> = fill_rows(5, 1);
    let h: Vec<[[[f64; 3]; 3]; 3]> = fill_rows(5, 2);
    let y: Vec<[f64; 3]> = einsum!("bi,bijk,bk->bj", &x, &h, &x);
    let (_, back) = einsum_vjp!("bi,bijk,bk->bj", &x, &h, &x);
    let g: Vec<[f64; 3]> = fill_rows(5, 3);
    let (g0, g1, g2) = back(&g);
    check(
        "bi,bijk,bk->bj",
        &[rows_to_dyn(&x), rows_to_dyn(&h), rows_to_dyn(&x)],
        &rows_to_dyn(&y),
        &rows_to_dyn(&g),
        &[rows_to_dyn(&g0), rows_to_dyn(&g1), rows_to_dyn(&g2)],
    );
}

#[test]
fn a_summed_batch_gives_a_fixed_size_output() {
    let a: Vec<[f64; 2]> = fill_rows(9, 1);
    let b: Vec<[f64; 3]> = fill_rows(9, 2);
    let y: [[f64; 2]; 3] = einsum!("bi,bj->ji", &a, &b);
    let (_, back) = einsum_vjp!("bi,bj->ji", &a, &b);
    let g: [[f64; 2]; 3] = fill(3);
    let (ga, gb) = back(&g);
    check(
        "bi,bj->ji",
        &[rows_to_dyn(&a), rows_to_dyn(&b)],
        &to_dyn(&y),
        &to_dyn(&g),
        &[rows_to_dyn(&ga), rows_to_dyn(&gb)],
    );
}

#[test]
fn rows_of_numbers_are_vectors() {
    let a: Vec<f64> = fill_rows(6, 1);
    let b: Vec<f64> = fill_rows(6, 2);
    let dot: f64 = einsum!("i,i->", &a, &b);
    let (_, back) = einsum_vjp!("i,i->", &a, &b);
    let (ga, gb) = back(&1.5);
    check(
        "i,i->",
        &[rows_to_dyn(&a), rows_to_dyn(&b)],
        &to_dyn(&dot),
        &to_dyn(&1.5),
        &[rows_to_dyn(&ga), rows_to_dyn(&gb)],
    );
    let scaled: Vec<f64> = einsum!("i,->i", &a, 2.0);
    check(
        "i,->i",
        &[rows_to_dyn(&a), to_dyn(&2.0)],
        &rows_to_dyn(&scaled),
        &rows_to_dyn(&scaled),
        &[],
    );
}

#[test]
fn row_reductions_diagonals_and_products_with_a_matrix() {
    let m: Vec<[[f64; 3]; 3]> = fill_rows(4, 1);
    let traces: Vec<f64> = einsum!("bii->b", &m);
    let diagonals: Vec<[f64; 3]> = einsum!("bii->bi", &m);
    let (_, back) = einsum_vjp!("bii->bi", &m);
    let g: Vec<[f64; 3]> = fill_rows(4, 2);
    let (gm,) = back(&g);
    let ms = rows_to_dyn(&m);
    check(
        "bii->b",
        std::slice::from_ref(&ms),
        &rows_to_dyn(&traces),
        &rows_to_dyn(&traces),
        &[],
    );
    check(
        "bii->bi",
        &[ms],
        &rows_to_dyn(&diagonals),
        &rows_to_dyn(&g),
        &[rows_to_dyn(&gm)],
    );

    let rows: Vec<[f64; 4]> = fill_rows(5, 3);
    let w: [[f64; 2]; 4] = fill(4);
    let y: Vec<[f64; 2]> = einsum!("ij,jk->ik", &rows, &w);
    let (_, back) = einsum_vjp!("ij,jk->ik", &rows, &w);
    let g: Vec<[f64; 2]> = fill_rows(5, 5);
    let (grows, gw) = back(&g);
    check(
        "ij,jk->ik",
        &[rows_to_dyn(&rows), to_dyn(&w)],
        &rows_to_dyn(&y),
        &rows_to_dyn(&g),
        &[rows_to_dyn(&grows), to_dyn(&gw)],
    );
}

/// The gradient paths of fixed-size operands beside batches: a factor the batch operands share
/// (per row, or once when the batch is summed), a fixed gradient small enough for one pass
/// over the batch, one summed a slice at a time, and one whose first label repeats.
#[test]
fn fixed_operands_beside_batches() {
    let x: Vec<[f64; 3]> = fill_rows(6, 1);
    let g_rows: Vec<[f64; 5]> = fill_rows(6, 2);

    // 20 elements: summed over the batch one row of `w` at a time; `g w` is shared per row.
    let w: [[f64; 3]; 5] = fill(3);
    let y: Vec<[f64; 5]> = einsum!("ij,bj->bi", w, &x);
    let (_, back) = einsum_vjp!("ij,bj->bi", w, &x);
    let (gw, gx) = back(&g_rows);
    check(
        "ij,bj->bi",
        &[to_dyn(&w), rows_to_dyn(&x)],
        &rows_to_dyn(&y),
        &rows_to_dyn(&g_rows),
        &[to_dyn(&gw), rows_to_dyn(&gx)],
    );

    // A summed batch: the shared factor `g n m` does not depend on the row and is made once.
    let m: [[f64; 4]; 3] = fill(4);
    let n: [[f64; 2]; 4] = fill(5);
    let z: [f64; 2] = einsum!("bi,ij,jk->k", &x, m, n);
    let (_, back) = einsum_vjp!("bi,ij,jk->k", &x, m, n);
    let g: [f64; 2] = fill(6);
    let (gx, gm, gn) = back(&g);
    check(
        "bi,ij,jk->k",
        &[rows_to_dyn(&x), to_dyn(&m), to_dyn(&n)],
        &to_dyn(&z),
        &to_dyn(&g),
        &[rows_to_dyn(&gx), to_dyn(&gm), to_dyn(&gn)],
    );

    // 18 elements whose first label repeats: summed in one pass, along the diagonal.
    let d: [[[f64; 3]; 3]; 2] = fill(7);
    let v: Vec<[f64; 2]> = fill_rows(6, 8);
    let y: Vec<[f64; 3]> = einsum!("jii,bj->bi", d, &v);
    let (_, back) = einsum_vjp!("jii,bj->bi", d, &v);
    let g: Vec<[f64; 3]> = fill_rows(6, 9);
    let (gd, gv) = back(&g);
    check(
        "jii,bj->bi",
        &[to_dyn(&d), rows_to_dyn(&v)],
        &rows_to_dyn(&y),
        &rows_to_dyn(&g),
        &[to_dyn(&gd), rows_to_dyn(&gv)],
    );

    // A number beside the batch.
    let scaled: Vec<[f64; 3]> = einsum!("bi,->bi", &x, 2.5);
    let (_, back) = einsum_vjp!("bi,->bi", &x, 2.5);
    let g: Vec<[f64; 3]> = fill_rows(6, 10);
    let (gx, gs) = back(&g);
    check(
        "bi,->bi",
        &[rows_to_dyn(&x), to_dyn(&2.5)],
        &rows_to_dyn(&scaled),
        &rows_to_dyn(&g),
        &[rows_to_dyn(&gx), to_dyn(&gs)],
    );
}

#[test]
fn an_empty_batch_gives_an_empty_output_or_zeros() {
    let a: Vec<[f64; 3]> = Vec::new();
    let y: Vec<[f64; 3]> = einsum!("bi,bi->bi", &a, &a);
    assert!(y.is_empty());
    let sum: [f64; 3] = einsum!("bi->i", &a);
    assert_eq!(sum, [0.0; 3]);
}

#[test]
fn integer_rows() {
    let a: Vec<[i64; 2]> = vec![[1, 2], [3, 4], [5, 6]];
    let w = [[1, 0, 2], [0, 1, 3]];
    let y: Vec<[i64; 3]> = einsum!("bi,ij->bj", &a, w);
    assert_eq!(y, vec![[1, 2, 8], [3, 4, 18], [5, 6, 28]]);
    let gram: [[i64; 2]; 2] = einsum!("bi,bj->ij", &a, &a);
    assert_eq!(gram, [[35, 44], [44, 56]]);
}

#[test]
fn batches_of_different_lengths_are_an_error_naming_the_label_and_both_lengths() {
    let a: Vec<[f64; 3]> = fill_rows(3, 1);
    let b: Vec<[f64; 3]> = fill_rows(4, 2);
    let err = try_einsum!("bi,bi->b", &a, &b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `bi,bi->b`: label `b` is 3 in operand 0 but 4 in operand 1"
    );
    let eps: [[[f64; 3]; 3]; 3] = fill(3);
    let err = try_einsum!("ijk,bj,bk->bi", &eps, &b, &a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ijk,bj,bk->bi`: label `b` is 4 in operand 1 but 3 in operand 2"
    );
}

#[test]
#[should_panic(expected = "einsum `bi,bi->b`: label `b` is 3 in operand 0 but 2 in operand 1")]
fn einsum_panics_with_the_same_message() {
    let a: Vec<[f64; 3]> = fill_rows(3, 1);
    let _ = einsum!("bi,bi->b", &a, &a[..2]);
}

#[test]
#[should_panic(expected = "the output gradient has shape [2, 3] but the output has shape [3, 3]")]
fn a_gradient_with_the_wrong_number_of_rows_is_an_error() {
    let a: Vec<[f64; 3]> = fill_rows(3, 1);
    let (_, back) = einsum_vjp!("bi,bi->bi", &a, &a);
    let g: Vec<[f64; 3]> = fill_rows(2, 2);
    let _ = back(&g);
}
