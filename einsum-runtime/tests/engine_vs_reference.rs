//! The engine (through `einsum_dyn`) against the naive reference evaluator: hand-picked specs,
//! unusual memory layouts, shape errors, and element types other than `f64`.

#[path = "../../tests/common/reference.rs"]
mod reference;
#[path = "support/random.rs"]
mod support;

use support::random;

use einsum_runtime::spec::{ShapeError, Slot};
use einsum_runtime::{einsum_dyn, EinsumError, EinsumErrorKind};
use ndarray::{arr0, array, s, Array2, ArrayD, ArrayViewD, IxDyn};
use num_complex::Complex;
use reference::reference_einsum;

#[track_caller]
fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (index, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= 1e-10 * w.abs().max(1.0),
            "{what}: element {index} is {g}, reference says {w}"
        );
    }
}

/// Runs `spec` on operands of `shapes` through `einsum_dyn` and the reference.
#[track_caller]
fn check(spec: &str, shapes: &[&[usize]]) {
    let operands: Vec<ArrayD<f64>> = shapes
        .iter()
        .enumerate()
        .map(|(k, s)| random(s, k as u64 + 1))
        .collect();
    check_operands(spec, &operands);
}

#[track_caller]
fn check_operands(spec: &str, operands: &[ArrayD<f64>]) {
    let views: Vec<ArrayViewD<'_, f64>> = operands.iter().map(|a| a.view()).collect();
    let got = einsum_dyn(spec, &views).unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert!(
        got.is_standard_layout(),
        "{spec}: result is not in standard layout"
    );
    assert_close(&got, &reference_einsum(spec, operands), spec);
}

#[test]
fn matrix_products() {
    check("ij,jk->ik", &[&[3, 4], &[4, 5]]);
    check("ij,jk->ki", &[&[3, 4], &[4, 5]]);
    check("ij,jk", &[&[30, 40], &[40, 20]]); // large enough for the GEMM kernel
    check("bij,bjk->bik", &[&[3, 4, 5], &[3, 5, 2]]);
    check("bij,bjk->bik", &[&[2, 20, 30], &[2, 30, 10]]);
    check("ij,j->i", &[&[4, 3], &[3]]);
    check("i,ij->j", &[&[4], &[4, 3]]);
}

#[test]
fn single_operand_transpose_diagonal_trace_and_sums() {
    check("ij->ji", &[&[2, 3]]);
    check("ii->", &[&[4, 4]]);
    check("ii->i", &[&[4, 4]]);
    check("iij->ji", &[&[3, 3, 2]]);
    check("aabb->ab", &[&[2, 2, 3, 3]]);
    check("iii->i", &[&[3, 3, 3]]);
    check("ij->", &[&[2, 3]]);
    check("ij->j", &[&[2, 3]]);
    check("ijk->kji", &[&[2, 3, 4]]);
    check("ijk->k", &[&[2, 3, 4]]);
}

#[test]
fn outer_products_dots_and_scalars() {
    check("i,j->ij", &[&[3], &[4]]);
    check("i,i->", &[&[5], &[5]]);
    check("i,i->i", &[&[5], &[5]]);
    check(",i->i", &[&[], &[4]]);
    check("->", &[&[]]);
    check(",->", &[&[], &[]]);
    check("ij,ij->ij", &[&[3, 4], &[3, 4]]);
    check("ij,ji->", &[&[3, 4], &[4, 3]]);
}

#[test]
fn scalar_operand_gives_scalar_result() {
    let got = einsum_dyn("->", &[arr0(2.5).into_dyn().view()]).unwrap();
    assert_eq!(got, arr0(2.5).into_dyn());
}

#[test]
fn ellipsis_broadcasts_with_different_ranks_and_size_one_axes() {
    check("...ij,...jk->...ik", &[&[2, 3, 4], &[4, 5]]);
    check("...ij,...jk->...ik", &[&[2, 1, 3, 4], &[5, 4, 2]]);
    check("...ij,...jk", &[&[1, 3, 4], &[6, 4, 2]]);
    check("i...->...", &[&[3, 2, 4]]);
    check("...i->", &[&[2, 3, 4]]);
    check("...i->i", &[&[2, 3, 4]]);
    check("...,...->...", &[&[3, 1], &[4]]);
    check("i...,i...->i", &[&[2, 3], &[2, 1]]);
    check("...ii->...i", &[&[2, 3, 3]]);
}

#[test]
fn named_labels_of_extent_one_broadcast() {
    check("ij,ij->ij", &[&[1, 3], &[2, 3]]);
    check("ij,jk->ik", &[&[2, 1], &[4, 3]]);
    check("ij,ij->", &[&[1, 3], &[2, 1]]);
    check("ij,j->ij", &[&[2, 3], &[1]]);
    check("i,i->i", &[&[1], &[1]]);
}

#[test]
fn zero_extents_give_empty_or_zero_results() {
    check("ij,jk->ik", &[&[2, 0], &[0, 3]]);
    check("ij,jk->ik", &[&[0, 2], &[2, 3]]);
    check("ij->", &[&[0, 3]]);
    check("ii->i", &[&[0, 0]]);
    check("...i->...", &[&[0, 2]]);
    check("ij,ij->ij", &[&[1, 0], &[4, 1]]);
    let got = einsum_dyn(
        "ij,jk->ik",
        &[random(&[2, 0], 1).view(), random(&[0, 3], 2).view()],
    )
    .unwrap();
    assert_eq!(got, ArrayD::zeros(IxDyn(&[2, 3])));
}

#[test]
fn chains_of_three_to_seven_operands() {
    check("ij,jk,kl->il", &[&[2, 3], &[3, 4], &[4, 5]]);
    check("ij,jk,kl,lm->im", &[&[2, 3], &[3, 4], &[4, 2], &[2, 3]]);
    check(
        "abc,cd,de,ef,fa->b",
        &[&[2, 3, 4], &[4, 2], &[2, 3], &[3, 2], &[2, 2]],
    );
    check("bi,bijk,bk->bj", &[&[2, 3], &[2, 3, 4, 3], &[2, 3]]);
    check("ijk,j,k->i", &[&[3, 3, 3], &[3], &[3]]);
    check("a,b,c,d,e,f->", &[&[2], &[3], &[2], &[1], &[2], &[3]]);
    check(
        "ab,bc,cd,de,ef,fg,ga->",
        &[
            &[2, 3],
            &[3, 2],
            &[2, 3],
            &[3, 2],
            &[2, 3],
            &[3, 2],
            &[2, 2],
        ],
    );
    check("i,i,i,i->i", &[&[4], &[4], &[4], &[4]]);
    check("ij,ij,ij->j", &[&[3, 4], &[3, 4], &[3, 4]]);
}

/// Each innermost-loop kernel of the direct loop for small contractions (the longest label
/// is innermost): contiguous lanes for one to three operands, strided lanes, four or more
/// moving operands, operands constant along the loop, a diagonal along it, and an output that
/// does or does not move along it (a local sum, unit or larger stride).
#[test]
fn small_contraction_kernels() {
    // contiguous lanes, output moving with stride 1 / summed into a local
    check("ij->ij", &[&[2, 7]]);
    check("ij,ij->i", &[&[3, 7], &[3, 7]]);
    check("ij,ij,ij->i", &[&[3, 7], &[3, 7], &[3, 7]]);
    check("ij,ij,ij->ij", &[&[3, 7], &[3, 7], &[3, 7]]);
    // strided lanes: the innermost label `b` is not last, output stride 3 or a local sum
    check("ijk,bj,bk->bi", &[&[3, 3, 3], &[16, 3], &[16, 3]]);
    check("bi,bj,bk->ijk", &[&[16, 3], &[16, 3], &[16, 3]]);
    check("bi,bj->ij", &[&[9, 2], &[9, 2]]);
    check("bi->i", &[&[9, 2]]);
    // four and five operands moving together
    check("bi,bj,bk,bl->ijkl", &[&[6, 2], &[6, 2], &[6, 2], &[6, 2]]);
    check("ib,b,b,b,b->i", &[&[2, 6], &[6], &[6], &[6], &[6]]);
    // no operand moves: the innermost label only in the output
    check("i,j->ij", &[&[2], &[5]]);
    // a diagonal along the innermost label
    check("bb,b->b", &[&[7, 7], &[7]]);
    check("bbi->i", &[&[7, 7, 2]]);
    // every term a scalar
    check(",->", &[&[], &[]]);
}

#[test]
fn pairwise_kernels_in_every_layout() {
    // Sizes above the direct loop's limit, so each case runs the pairwise kernels; every
    // operand is checked both as stored and transposed (which flips which kernel runs).
    let cases: &[(&str, &[&[usize]])] = &[
        // a row times a matrix, and a matrix times a column, batched and not
        ("j,jk->k", &[&[48], &[48, 100]]),
        ("bj,bjk->bk", &[&[6, 24], &[6, 24, 40]]),
        ("ij,j->i", &[&[100, 48], &[48]]),
        ("bij,bj->bi", &[&[6, 40, 24], &[6, 24]]),
        // rows whose length is not a multiple of four (the row kernel takes four at a time)
        ("j,jk->k", &[&[47], &[47, 100]]),
        // thousands of tiny products: matrix x column, and general
        ("bij,bj->bi", &[&[300, 4, 5], &[300, 5]]),
        ("bij,bjk->bik", &[&[300, 3, 4], &[300, 4, 5]]),
        ("bi,bijk,bk->bj", &[&[300, 3], &[300, 3, 3, 3], &[300, 3]]),
        ("ijk,bj,bk->bi", &[&[3, 3, 3], &[600, 3], &[600, 3]]),
        // a few products of at most 512 multiply-adds each
        ("bij,bjk->bik", &[&[10, 8, 8], &[10, 8, 8]]),
        // dot products, batched and not
        ("i,i->", &[&[5000], &[5000]]),
        ("bi,bi->b", &[&[10, 600], &[10, 600]]),
        // outer products: nothing summed
        ("bi,bj->bij", &[&[6, 30], &[6, 40]]),
        ("i,j->ij", &[&[70], &[90]]),
        ("bi,bj,bk->bjik", &[&[8, 12], &[8, 12], &[8, 12]]),
        // the gradients of `bi,bjik,bk->bj`
        ("bj,bjik,bk->bi", &[&[4, 10], &[4, 10, 10, 10], &[4, 10]]),
        ("bi,bjik,bj->bk", &[&[4, 10], &[4, 10, 10, 10], &[4, 10]]),
    ];
    for &(spec, shapes) in cases {
        check(spec, shapes);
        let operands: Vec<ArrayD<f64>> = shapes
            .iter()
            .enumerate()
            .map(|(k, shape)| {
                let reversed: Vec<usize> = shape.iter().rev().copied().collect();
                random(&reversed, k as u64 + 7).reversed_axes()
            })
            .collect();
        let views: Vec<ArrayViewD<'_, f64>> = operands.iter().map(|a| a.view()).collect();
        let got = einsum_dyn(spec, &views).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let owned: Vec<ArrayD<f64>> = operands.iter().map(|a| a.to_owned()).collect();
        assert_close(
            &got,
            &reference_einsum(spec, &owned),
            &format!("{spec}, transposed"),
        );
    }
}

#[test]
fn implicit_outputs_sort_upper_case_first() {
    check("ij,jk", &[&[2, 3], &[3, 4]]);
    check("ba", &[&[2, 3]]);
    check("aB", &[&[2, 3]]);
    check("ii", &[&[3, 3]]);
    check("i,j", &[&[2], &[3]]);
    check("...ij,jk", &[&[2, 3, 4], &[4, 2]]);
    let a = random(&[2, 3], 1);
    assert_eq!(einsum_dyn("ba", &[a.view()]).unwrap(), a.t().to_owned());
}

// --- layouts -----------------------------------------------------------------------------

#[test]
fn transposed_operands() {
    let a = random(&[4, 3], 1);
    let b = random(&[5, 4], 2);
    let got = einsum_dyn("ij,jk->ik", &[a.t(), b.t()]).unwrap();
    assert_close(
        &got,
        &reference_einsum("ij,jk->ik", &[a.t().to_owned(), b.t().to_owned()]),
        "transposed",
    );
    let big = random(&[40, 30], 3);
    let got = einsum_dyn("ij,jk->ik", &[big.t(), big.view()]).unwrap();
    assert_close(
        &got,
        &reference_einsum("ij,jk->ik", &[big.t().to_owned(), big.clone()]),
        "big transposed",
    );
}

#[test]
fn operands_sliced_with_steps() {
    let a = random(&[6, 8], 1);
    let b = random(&[8, 10], 2);
    let (sa, sb) = (a.slice(s![..;2, ..;2]), b.slice(s![1..;2, ..;3]));
    let got = einsum_dyn("ij,jk->ik", &[sa.into_dyn(), sb.into_dyn()]).unwrap();
    let want = reference_einsum(
        "ij,jk->ik",
        &[sa.to_owned().into_dyn(), sb.to_owned().into_dyn()],
    );
    assert_close(&got, &want, "stepped slices");
    let diag = a.slice(s![..;2, 1..;2]); // 3 x 4: not square, so take a square part
    let square = diag.slice(s![.., ..3]);
    let got = einsum_dyn("ii->i", &[square.into_dyn()]).unwrap();
    assert_close(
        &got,
        &reference_einsum("ii->i", &[square.to_owned().into_dyn()]),
        "stepped diagonal",
    );
}

#[test]
fn operands_with_negative_strides() {
    let a = random(&[3, 4], 1);
    let b = random(&[4, 5], 2);
    let ra = a.slice(s![..;-1, ..]);
    let rb = b.slice(s![.., ..;-1]);
    let got = einsum_dyn("ij,jk->ik", &[ra.into_dyn(), rb.into_dyn()]).unwrap();
    let want = reference_einsum(
        "ij,jk->ik",
        &[ra.to_owned().into_dyn(), rb.to_owned().into_dyn()],
    );
    assert_close(&got, &want, "negative strides");
    let big = random(&[40, 40], 3);
    let rev = big.slice(s![..;-1, ..;-1]);
    let got = einsum_dyn("ij,jk->ik", &[rev.into_dyn(), big.view().into_dyn()]).unwrap();
    let want = reference_einsum(
        "ij,jk->ik",
        &[rev.to_owned().into_dyn(), big.clone().into_dyn()],
    );
    assert_close(&got, &want, "big negative strides");
}

#[test]
fn broadcast_views_with_zero_strides() {
    let row = random(&[4], 1);
    let wide = row.broadcast((3, 4)).unwrap(); // 3 x 4, stride 0 along the rows
    let b = random(&[4, 40], 2);
    let got = einsum_dyn("ij,jk->ik", &[wide.into_dyn(), b.view().into_dyn()]).unwrap();
    let want = reference_einsum(
        "ij,jk->ik",
        &[wide.to_owned().into_dyn(), b.clone().into_dyn()],
    );
    assert_close(&got, &want, "broadcast view");
    let got = einsum_dyn("ii->", &[row.broadcast((4, 4)).unwrap().into_dyn()]).unwrap();
    assert!((got[[]] - row.sum()).abs() < 1e-12);
}

#[test]
fn output_is_owned_standard_layout_even_for_a_transpose() {
    let a = random(&[3, 5], 1);
    let got = einsum_dyn("ij->ji", &[a.view()]).unwrap();
    assert!(got.is_standard_layout());
    assert_eq!(got, a.t().to_owned());
    let got = einsum_dyn("ij->ij", &[a.t()]).unwrap();
    assert!(got.is_standard_layout());
    assert_eq!(got, a.t().to_owned());
}

// --- errors --------------------------------------------------------------------------------

fn shape_error(err: &EinsumError) -> &ShapeError {
    match err.kind() {
        EinsumErrorKind::Shape(e) => e,
        other => panic!("expected a shape error, got {other:?}"),
    }
}

#[test]
fn label_extent_mismatch_names_label_operands_and_extents() {
    let (a, b) = (random(&[2, 3], 1), random(&[4, 5], 2));
    let err = einsum_dyn("ij,jk->ik", &[a.view(), b.view()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1"
    );
    assert!(matches!(
        shape_error(&err),
        ShapeError::Extent {
            slot: Slot::Named(_),
            ..
        }
    ));
}

#[test]
fn diagonal_of_unequal_extents_is_an_error() {
    let a = random(&[2, 3], 1);
    let err = einsum_dyn("ii->i", &[a.view()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ii->i`: label `i` is repeated in operand 0 with unequal extents 2 and 3: a diagonal \
         needs equal extents"
    );
}

#[test]
fn rank_mismatch_is_an_error() {
    let a = random(&[2, 3, 4], 1);
    let err = einsum_dyn("ij->", &[a.view()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij->`: operand 0 has rank 3 but its term `ij` has 2 labels"
    );
    let err = einsum_dyn("...ijkl->", &[a.view()]).unwrap_err();
    assert!(matches!(
        shape_error(&err),
        ShapeError::Rank { ellipsis: true, .. }
    ));
}

#[test]
fn ellipsis_that_does_not_broadcast_is_an_error() {
    let (a, b) = (random(&[2, 3], 1), random(&[4, 3], 2));
    let err = einsum_dyn("...i,...i->...", &[a.view(), b.view()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `...i,...i->...`: the `...` axes do not broadcast: broadcast axis 0 is 2 in operand 0 \
         but 4 in operand 1"
    );
}

#[test]
fn operand_count_mismatch_is_a_shape_error_and_spec_errors_come_first() {
    let a = random(&[2, 2], 1);
    let err = einsum_dyn("ij,jk->ik", &[a.view()]).unwrap_err();
    assert_eq!(
        shape_error(&err),
        &ShapeError::OperandCount {
            terms: 2,
            operands: 1
        }
    );
    assert!(matches!(
        einsum_dyn::<f64>("ij", &[]).unwrap_err().kind(),
        EinsumErrorKind::Shape(_)
    ));
    let err = einsum_dyn::<f64>("i->j", &[]).unwrap_err();
    assert!(matches!(err.kind(), EinsumErrorKind::Spec(_)));
    let err = einsum_dyn("ij,jk->iz,", &[a.view()]).unwrap_err();
    match err.kind() {
        EinsumErrorKind::Spec(errors) => assert_eq!(errors.len(), 2),
        other => panic!("expected spec errors, got {other:?}"),
    }
}

// --- element types -------------------------------------------------------------------------

#[test]
fn integer_einsums_are_exact() {
    let a = array![[1i64, 2, 3], [4, 5, 6]];
    let b = array![[7i64, 8], [9, 10], [11, 12]];
    let got = einsum_dyn("ij,jk->ik", &[a.view().into_dyn(), b.view().into_dyn()]).unwrap();
    assert_eq!(got, a.dot(&b).into_dyn());
    let big = Array2::from_shape_fn((20, 30), |(i, j)| (i * 31 + j) as i64 % 7 - 3);
    let got = einsum_dyn("ij,kj->ik", &[big.view().into_dyn(), big.view().into_dyn()]).unwrap();
    assert_eq!(got, big.dot(&big.t()).into_dyn());
    let trace = einsum_dyn("ii", &[array![[1i64, 2], [3, 4]].into_dyn().view()]).unwrap();
    assert_eq!(trace[[]], 5);
}

#[test]
fn f32_einsums_work() {
    let a = Array2::from_shape_fn((20, 30), |(i, j)| (i as f32 - j as f32) / 10.0);
    let got = einsum_dyn("ij,kj->ik", &[a.view().into_dyn(), a.view().into_dyn()]).unwrap();
    let want = a.dot(&a.t()).into_dyn();
    assert!(got
        .iter()
        .zip(want.iter())
        .all(|(g, w)| (g - w).abs() <= 1e-4 * w.abs().max(1.0)));
}

#[test]
fn complex_einsums_work() {
    let i = Complex::new(0.0, 1.0);
    let a = array![[Complex::new(1.0, 0.0), i], [-i, Complex::new(2.0, 0.0)]];
    let got = einsum_dyn("ij,jk->ik", &[a.view().into_dyn(), a.view().into_dyn()]).unwrap();
    assert_eq!(got, a.dot(&a).into_dyn());
    let big = Array2::from_shape_fn((20, 30), |(r, c)| Complex::new(r as f64, c as f64 - 3.0));
    let got = einsum_dyn("ij,kj->ik", &[big.view().into_dyn(), big.view().into_dyn()]).unwrap();
    assert_eq!(got, big.dot(&big.t()).into_dyn());
    let trace = einsum_dyn("ii->", &[a.view().into_dyn()]).unwrap();
    assert_eq!(trace[[]], Complex::new(3.0, 0.0));
}

#[test]
fn broadcast_view_sum_matches_repeated_rows() {
    // A stride-0 axis summed out: each column sum is the value times the number of rows.
    let row = random(&[5], 7);
    let got = einsum_dyn("ij->j", &[row.broadcast((3, 5)).unwrap().into_dyn()]).unwrap();
    assert_close(&got, &(row.clone() * 3.0), "broadcast column sums");
}
