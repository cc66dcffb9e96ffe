//! `einsum_into!` and `try_einsum_into!`: every route of the engine (one operand, a matrix
//! product, the direct loop, pairwise steps, broadcasting, empty extents) written into
//! outputs of every layout, overwritten and added to, against the naive reference evaluator;
//! fixed-size and batch outputs against `einsum!`; and the run-time errors, which name the
//! label, the operand and both extents and leave the output untouched.

mod common;

use common::reference::reference_einsum;
use common::{assert_close, random};
use einsum::{einsum, einsum_into, try_einsum_into};
use ndarray::{s, Array2, ArrayD, ArrayViewMutD, IxDyn, Slice};

/// Every output layout the check writes into: a fresh standard array, a view taking every
/// other element along each axis, and the transpose of an array of the reversed shape.
fn layouts(shape: &[usize], fill: &ArrayD<f64>, check: impl Fn(ArrayViewMutD<'_, f64>, &str)) {
    let mut standard = fill.clone();
    check(standard.view_mut(), "standard layout");

    let doubled: Vec<usize> = shape.iter().map(|&n| 2 * n).collect();
    let mut spaced = ArrayD::<f64>::zeros(IxDyn(&doubled));
    let mut view = spaced.slice_each_axis_mut(|_| Slice::new(0, None, 2));
    view.assign(fill);
    check(view, "every other element");

    let reversed: Vec<usize> = shape.iter().rev().copied().collect();
    let mut transposed = ArrayD::<f64>::zeros(IxDyn(&reversed));
    let mut view = transposed.view_mut().reversed_axes();
    view.assign(fill);
    check(view, "transposed");
}

/// Checks `einsum_into!` for one spec on operands of `shapes`: overwriting and adding, in
/// every layout, against the reference evaluator.
macro_rules! check_into {
    ($spec:literal, $($shape:expr),+) => {{
        let shapes: Vec<Vec<usize>> = vec![$($shape.to_vec()),+];
        let ops: Vec<ArrayD<f64>> = shapes
            .iter()
            .enumerate()
            .map(|(k, shape)| random(shape, 17 * k as u64 + 3))
            .collect();
        let want = reference_einsum($spec, &ops);
        let shape = want.shape().to_vec();
        let garbage = random(&shape, 99);
        check_into!(@call $spec, ops, shape, garbage, want, [$($shape),+]);
    }};
    (@call $spec:literal, $ops:ident, $shape:ident, $garbage:ident, $want:ident, [$a:expr]) => {
        layouts(&$shape, &$garbage, |mut out, layout| {
            einsum_into!(out.view_mut(), $spec, &$ops[0]);
            assert_close(&out.to_owned(), &$want, &format!("{} into {layout}", $spec));
            einsum_into!(out.view_mut() += $spec, &$ops[0]);
            assert_close(&out.to_owned(), &(&$want * 2.0), &format!("{} added into {layout}", $spec));
        });
    };
    (@call $spec:literal, $ops:ident, $shape:ident, $garbage:ident, $want:ident, [$a:expr, $b:expr]) => {
        layouts(&$shape, &$garbage, |mut out, layout| {
            einsum_into!(out.view_mut(), $spec, &$ops[0], &$ops[1]);
            assert_close(&out.to_owned(), &$want, &format!("{} into {layout}", $spec));
            einsum_into!(out.view_mut() += $spec, &$ops[0], &$ops[1]);
            assert_close(&out.to_owned(), &(&$want * 2.0), &format!("{} added into {layout}", $spec));
        });
    };
    (@call $spec:literal, $ops:ident, $shape:ident, $garbage:ident, $want:ident, [$a:expr, $b:expr, $c:expr]) => {
        layouts(&$shape, &$garbage, |mut out, layout| {
            einsum_into!(out.view_mut(), $spec, &$ops[0], &$ops[1], &$ops[2]);
            assert_close(&out.to_owned(), &$want, &format!("{} into {layout}", $spec));
            einsum_into!(out.view_mut() += $spec, &$ops[0], &$ops[1], &$ops[2]);
            assert_close(&out.to_owned(), &(&$want * 2.0), &format!("{} added into {layout}", $spec));
        });
    };
}

#[test]
fn one_operand_into_every_layout() {
    check_into!("ij->j", [40, 30]);
    check_into!("ij->i", [40, 30]);
    check_into!("ij->ji", [5, 7]);
    check_into!("ijk->kj", [3, 4, 5]);
    check_into!("ijk->ki", [3, 4, 5]);
    check_into!("ii->i", [6, 6]);
    check_into!("iij->ji", [4, 4, 3]);
    check_into!("ii->", [6, 6]);
    check_into!("ij->", [6, 5]);
    check_into!("i->i", [7]);
}

#[test]
fn matrix_products_into_every_layout() {
    check_into!("ij,jk->ik", [8, 8], [8, 8]);
    check_into!("ij,jk->ik", [64, 48], [48, 32]);
    check_into!("ij,jk->ki", [5, 6], [6, 7]);
    check_into!("ij,kj->ik", [5, 6], [7, 6]);
    check_into!("bij,jk->bik", [3, 4, 5], [5, 6]);
    check_into!("ij,jkl->ikl", [4, 5], [5, 2, 3]);
    // Chains of matrix products, with transposes, and one the chain path declines (a
    // broadcast extent), which the engine takes.
    check_into!("ij,jk,kl->il", [5, 6], [6, 7], [7, 3]);
    check_into!("ji,jk,lk->li", [6, 5], [6, 7], [3, 7]);
    check_into!("ij,kj,kl->li", [9, 2], [8, 2], [8, 4]);
    check_into!("ij,jk,kl->il", [4, 6], [1, 7], [7, 3]);
}

/// `einsum!` on chains of three and four matrices, transposed or not, against the reference.
#[test]
fn matrix_chains_by_value() {
    let ops: Vec<ArrayD<f64>> = [[3, 4], [5, 4], [5, 6], [6, 2]]
        .iter()
        .enumerate()
        .map(|(k, shape)| random(shape, k as u64 + 1))
        .collect();
    let [a, b, c, d] = [0, 1, 2, 3].map(|k| {
        ops[k]
            .clone()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap()
    });
    let three = einsum!("ij,kj,kl->li", &a, &b, &c);
    assert_close(
        &three.into_dyn(),
        &reference_einsum("ij,kj,kl->li", &ops[..3]),
        "three",
    );
    let four = einsum!("ij,kj,kl,lm->im", &a, &b, &c, &d);
    assert_close(
        &four.into_dyn(),
        &reference_einsum("ij,kj,kl,lm->im", &ops),
        "four",
    );
}

#[test]
fn general_contractions_into_every_layout() {
    // The direct loop (few index combinations).
    check_into!("i,i->i", [5], [5]);
    check_into!("ijk,j,k->i", [3, 3, 3], [3], [3]);
    check_into!("i,j->ij", [3], [4]);
    check_into!("i,i->", [9], [9]);
    // Pairwise steps.
    check_into!("ij,jk,kl->il", [12, 13], [13, 14], [14, 15]);
    check_into!("ijk,bj,bk->bi", [3, 3, 3], [40, 3], [40, 3]);
    check_into!("bi,bijk,bk->bj", [16, 5], [16, 5, 6, 7], [16, 7]);
    check_into!("ab,bc,ca->", [10, 11], [11, 12], [12, 10]);
    check_into!("ij,jk->ikj", [20, 30], [30, 25]);
    // Size-1 axes that broadcast.
    check_into!("ij,ij->ij", [1, 30], [20, 30]);
    check_into!("ij,jk,kl->il", [1, 13], [13, 14], [14, 15]);
}

#[test]
fn empty_extents_give_zeros_or_leave_the_sum_alone() {
    let a = ArrayD::<f64>::zeros(IxDyn(&[3, 0]));
    let b = ArrayD::<f64>::zeros(IxDyn(&[0, 4]));
    let mut c = ArrayD::<f64>::from_elem(IxDyn(&[3, 4]), 5.0);
    einsum_into!(&mut c += "ij,jk->ik", &a, &b);
    assert!(c.iter().all(|&x| x == 5.0));
    einsum_into!(&mut c, "ij,jk->ik", &a, &b);
    assert!(c.iter().all(|&x| x == 0.0));
}

#[test]
fn static_rank_outputs_and_views() {
    let a: Array2<f64> = random(&[6, 5], 1).into_dimensionality().unwrap();
    let b: Array2<f64> = random(&[5, 4], 2).into_dimensionality().unwrap();
    let want: Array2<f64> = einsum!("ij,jk->ik", &a, &b);
    let mut c = Array2::<f64>::zeros((6, 4));
    einsum_into!(&mut c, "ij,jk->ik", &a, &b);
    assert_eq!(c, want);
    // A column block of a wider array: rows are not contiguous with each other.
    let mut wide = Array2::<f64>::zeros((6, 10));
    einsum_into!(wide.slice_mut(s![.., 3..7]), "ij,jk->ik", &a, &b);
    assert_eq!(wide.slice(s![.., 3..7]), want);
    assert!(wide.slice(s![.., ..3]).iter().all(|&x| x == 0.0));
    // A mutable view passed by reference.
    let mut view = wide.slice_mut(s![.., 3..7]);
    einsum_into!(&mut view += "ij,jk->ik", &a, &b);
    assert_eq!(wide.slice(s![.., 3..7]), &want * 2.0);
}

#[test]
fn integer_elements() {
    let a = ndarray::array![[1i64, 2], [3, 4]];
    let mut c = Array2::<i64>::zeros((2, 2));
    einsum_into!(&mut c, "ij,jk->ik", &a, &a);
    assert_eq!(c, a.dot(&a));
    einsum_into!(&mut c += "ij->ji", &a);
    assert_eq!(c, a.dot(&a) + a.t());
}

#[test]
fn fixed_size_outputs() {
    let a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let b = [[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]];
    let want: [[f64; 2]; 2] = einsum!("ij,jk->ik", a, b);
    let mut c = [[7.0; 2]; 2];
    einsum_into!(&mut c, "ij,jk->ik", a, b);
    assert_eq!(c, want);
    einsum_into!(&mut c += "ij,jk->ik", a, b);
    assert_eq!(c, want.map(|row| row.map(|x| 2.0 * x)));

    let mut dot = 1.0;
    einsum_into!(&mut dot += "i,i->", [1.0, 2.0], [3.0, 4.0]);
    assert_eq!(dot, 12.0);
    einsum_into!(&mut dot, "i,i->", [1.0, 2.0], [3.0, 4.0]);
    assert_eq!(dot, 11.0);

    // The cross product through the Levi-Civita tensor, three operands planned at compile time.
    let eps = common::levi_civita();
    let mut cross = [0.0; 3];
    einsum_into!(
        &mut cross,
        "ijk,j,k->i",
        eps,
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0]
    );
    assert_eq!(cross, [0.0, 0.0, 1.0]);
}

#[test]
fn batch_outputs_row_by_row() {
    let eps = common::levi_civita();
    let values = common::values(60, 5);
    let a: Vec<[f64; 3]> = values[..30].chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    let b: Vec<[f64; 3]> = values[30..].chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    let want: Vec<[f64; 3]> = einsum!("ijk,bj,bk->bi", eps, &a, &b);

    let mut cross = vec![[1.0; 3]; 10];
    einsum_into!(&mut cross, "ijk,bj,bk->bi", eps, &a, &b);
    assert_eq!(cross, want);
    einsum_into!(&mut cross += "ijk,bj,bk->bi", eps, &a, &b);
    let doubled: Vec<[f64; 3]> = want.iter().map(|r| r.map(|x| 2.0 * x)).collect();
    assert_eq!(cross, doubled);
    // Into a slice of a longer buffer.
    let mut buffer = vec![[0.0; 3]; 12];
    einsum_into!(&mut buffer[1..11], "ijk,bj,bk->bi", eps, &a, &b);
    assert_eq!(&buffer[1..11], &want[..]);
    assert_eq!(buffer[0], [0.0; 3]);

    // A summed batch: the output is a fixed-size array.
    let gram_want: [[f64; 3]; 3] = einsum!("bi,bj->ij", &a, &a);
    let mut gram = [[0.0; 3]; 3];
    einsum_into!(&mut gram, "bi,bj->ij", &a, &a);
    assert_eq!(gram, gram_want);
}

#[test]
fn output_shape_errors_name_the_label_and_write_nothing() {
    let a = random(&[2, 3], 1);
    let b = random(&[3, 4], 2);
    let mut c = ArrayD::<f64>::from_elem(IxDyn(&[2, 5]), 7.0);
    let err = try_einsum_into!(&mut c, "ij,jk->ik", &a, &b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk->ik`: label `k` is 4 in operand 1 but 5 in the output array"
    );
    assert!(c.iter().all(|&x| x == 7.0));

    let mut wrong_rank = ArrayD::<f64>::zeros(IxDyn(&[2, 4, 1]));
    let err = try_einsum_into!(&mut wrong_rank, "ij,jk->ik", &a, &b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk->ik`: the output array has rank 3 but the output term has 2 labels"
    );

    // Three operands, on the general path; the operands' own mismatch is reported first.
    let mut out = ArrayD::<f64>::zeros(IxDyn(&[2, 9]));
    let err = try_einsum_into!(&mut out, "ij,jk,kl->il", &a, &b, &random(&[4, 6], 3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk,kl->il`: label `l` is 6 in operand 2 but 9 in the output array"
    );
    let err = try_einsum_into!(&mut out, "ij,jk,kl->il", &a, &b, &random(&[5, 9], 3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk,kl->il`: label `k` is 4 in operand 1 but 5 in operand 2"
    );

    // One operand.
    let mut column = ArrayD::<f64>::zeros(IxDyn(&[4]));
    let err = try_einsum_into!(&mut column, "ij->j", &a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij->j`: label `j` is 3 in operand 0 but 4 in the output array"
    );
}

#[test]
fn a_batch_output_of_the_wrong_length_is_an_error() {
    let m = [[1.0, 0.0], [0.0, 1.0]];
    let points: Vec<[f64; 2]> = vec![[1.0, 2.0]; 5];
    let mut moved = vec![[0.0; 2]; 4];
    let err = try_einsum_into!(&mut moved, "ij,bj->bi", m, &points).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,bj->bi`: label `b` is 5 in operand 1 but 4 in the output array"
    );
    assert!(moved.iter().all(|r| *r == [0.0; 2]));
}

#[test]
#[should_panic(
    expected = "einsum `ij,jk->ik`: label `i` is 2 in operand 0 but 3 in the output array"
)]
fn einsum_into_panics_with_the_message() {
    let a = Array2::<f64>::zeros((2, 2));
    let mut c = Array2::<f64>::zeros((3, 2));
    einsum_into!(&mut c, "ij,jk->ik", &a, &a);
}
