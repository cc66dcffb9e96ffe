//! `einsum!` on `ArrayD<f64>` operands (rank checked at run time) against the naive reference
//! evaluator, over a wide, hand-picked set of specs: every feature of the spec language.

mod common;

use common::reference::reference_einsum;
use common::{assert_close, random};
use einsum::{einsum, try_einsum};

/// Builds random `ArrayD` operands of the given shapes, evaluates `$spec` with `einsum!` and
/// with the reference, and compares. One arm per operand count, since `einsum!` takes its
/// operands as separate expressions.
macro_rules! check {
    ($spec:literal; $a:expr) => {{
        let ops = [random(&$a, 1)];
        let got = einsum!($spec, &ops[0]).into_dyn();
        assert_close(&got, &reference_einsum($spec, &ops), $spec);
    }};
    ($spec:literal; $a:expr, $b:expr) => {{
        let ops = [random(&$a, 1), random(&$b, 2)];
        let got = einsum!($spec, &ops[0], &ops[1]).into_dyn();
        assert_close(&got, &reference_einsum($spec, &ops), $spec);
    }};
    ($spec:literal; $a:expr, $b:expr, $c:expr) => {{
        let ops = [random(&$a, 1), random(&$b, 2), random(&$c, 3)];
        let got = einsum!($spec, &ops[0], &ops[1], &ops[2]).into_dyn();
        assert_close(&got, &reference_einsum($spec, &ops), $spec);
    }};
    ($spec:literal; $a:expr, $b:expr, $c:expr, $d:expr) => {{
        let ops = [
            random(&$a, 1),
            random(&$b, 2),
            random(&$c, 3),
            random(&$d, 4),
        ];
        let got = einsum!($spec, &ops[0], &ops[1], &ops[2], &ops[3]).into_dyn();
        assert_close(&got, &reference_einsum($spec, &ops), $spec);
    }};
    ($spec:literal; $a:expr, $b:expr, $c:expr, $d:expr, $e:expr) => {{
        let ops = [
            random(&$a, 1),
            random(&$b, 2),
            random(&$c, 3),
            random(&$d, 4),
            random(&$e, 5),
        ];
        let got = einsum!($spec, &ops[0], &ops[1], &ops[2], &ops[3], &ops[4]).into_dyn();
        assert_close(&got, &reference_einsum($spec, &ops), $spec);
    }};
    ($spec:literal; $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr) => {{
        let ops = [
            random(&$a, 1),
            random(&$b, 2),
            random(&$c, 3),
            random(&$d, 4),
            random(&$e, 5),
            random(&$f, 6),
            random(&$g, 7),
        ];
        let got = einsum!($spec, &ops[0], &ops[1], &ops[2], &ops[3], &ops[4], &ops[5], &ops[6])
            .into_dyn();
        assert_close(&got, &reference_einsum($spec, &ops), $spec);
    }};
}

#[test]
fn matrix_forms_match_reference() {
    check!("ij,jk->ik"; [2, 3], [3, 4]);
    check!("ij,jk"; [2, 3], [3, 4]);
    check!("ij,kj->ik"; [2, 3], [4, 3]);
    check!("ij->ji"; [2, 3]);
    check!("ij"; [2, 3]);
    check!("ji"; [2, 3]);
    check!("ij->"; [2, 3]);
    check!("ij->i"; [2, 3]);
    check!("ij->j"; [2, 3]);
    check!("bij,bjk->bik"; [2, 3, 4], [2, 4, 5]);
    check!("i,i->"; [5], [5]);
    check!("i,i"; [5], [5]);
    check!("i,j->ij"; [3], [4]);
    check!("i,j"; [3], [4]);
    check!("i,j->ji"; [3], [4]);
    check!("ij,ij->ij"; [2, 3], [2, 3]);
    check!("ij,ij->"; [2, 3], [2, 3]);
    check!(" i j , j k -> i k "; [2, 3], [3, 2]);
}

#[test]
fn diagonals_and_traces_match_reference() {
    check!("ii"; [3, 3]);
    check!("ii->"; [3, 3]);
    check!("ii->i"; [3, 3]);
    check!("iij->ji"; [2, 2, 3]);
    check!("iij"; [2, 2, 3]);
    check!("aabb->ab"; [2, 2, 3, 3]);
    check!("iii->i"; [3, 3, 3]);
    check!("ijij->ij"; [2, 3, 2, 3]);
    check!("ii,i->i"; [3, 3], [3]);
    check!("ij,ii->j"; [3, 2], [3, 3]);
}

#[test]
fn scalars_match_reference() {
    check!(",i->i"; [], [4]);
    check!("i,->i"; [4], []);
    check!("->"; []);
    check!(""; []);
    check!(",->"; [], []);
    check!(",ij"; [], [2, 3]);
    check!("i->"; [4]);
}

#[test]
fn implicit_output_sorts_upper_case_first() {
    check!("aB,Bc"; [2, 3], [3, 4]);
    check!("ba"; [2, 3]);
    check!("Ba,ab"; [2, 3], [3, 4]);
    check!("zA,Az"; [2, 3], [3, 2]);
    check!("zA,AB"; [2, 3], [3, 4]);
}

#[test]
fn ellipsis_forms_match_reference() {
    check!("...ij,...jk->...ik"; [2, 3, 4], [2, 4, 5]);
    check!("...ij,...jk->...ik"; [2, 3, 4], [4, 5]);
    check!("...ij,...jk->...ik"; [1, 3, 4], [2, 4, 5]);
    check!("...ij,...jk"; [2, 1, 3, 4], [5, 4, 2]);
    check!("...i->..."; [2, 3, 4]);
    check!("i...->..."; [2, 3, 4]);
    check!("...i->i"; [2, 3, 4]);
    check!("...->"; [2, 3]);
    check!("...,...->..."; [3, 1], [1, 4]);
    check!("...,..."; [3, 1], [4]);
    check!("i...i->..."; [3, 2, 3]);
    check!("...ii->...i"; [2, 3, 3]);
    check!("...ij->...ji"; [3, 4]);
    check!("ij...,jk...->ik..."; [2, 3, 4], [3, 2, 1]);
    check!("...,i->...i"; [2, 3], [4]);
    check!("i->...i"; [3]);
}

#[test]
fn named_size_one_axes_broadcast() {
    check!("ij,ij->ij"; [1, 3], [2, 3]);
    check!("ij,jk->ik"; [2, 1], [3, 4]);
    check!("i,i->i"; [1], [5]);
}

#[test]
fn zero_size_axes_give_zeros_or_empty_arrays() {
    check!("ij,jk->ik"; [2, 0], [0, 3]);
    check!("ij->"; [0, 3]);
    check!("ij->ji"; [0, 3]);
    check!("i,j->ij"; [0], [3]);
}

#[test]
fn chains_of_three_to_seven_operands_match_reference() {
    check!("ij,jk,kl->il"; [2, 3], [3, 4], [4, 2]);
    check!("ijk,j,k->i"; [3, 3, 3], [3], [3]);
    check!("bi,bijk,bk->bj"; [2, 3], [2, 3, 4, 3], [2, 3]);
    check!("bi,bjik,bk->bj"; [2, 3], [2, 4, 3, 3], [2, 3]);
    check!("ea,fb,abcd,gc,hd->efgh"; [2, 3], [2, 2], [3, 2, 2, 3], [2, 2], [2, 3]);
    check!("abc,cd,de,ef,fa->b"; [2, 3, 2], [2, 3], [3, 2], [2, 2], [2, 2]);
    check!("ab,bc,cd,de,ef,fg,gh->ah"; [2, 3], [3, 2], [2, 2], [2, 3], [3, 2], [2, 2], [2, 3]);
    check!("a,b,c,d,e,f,g->"; [2], [3], [2], [1], [2], [3], [2]);
    check!("abhe,hidj,jgba,hiab,gab"; [2, 2, 2, 3], [2, 2, 3, 2], [2, 2, 2, 2], [2, 2, 2, 2], [2, 2, 2]);
    check!("nmkd,kdef->nmef"; [4, 3, 2, 6], [2, 6, 2, 3]);
    check!("a,a,a->a"; [3], [3], [3]);
}

#[test]
fn output_of_rank_above_six_is_dynamic() {
    let a = random(&[2, 1, 2, 1, 2, 1, 2], 9);
    let got: ndarray::ArrayD<f64> = einsum!("abcdefg->gfedcba", &a);
    assert_close(
        &got,
        &reference_einsum("abcdefg->gfedcba", std::slice::from_ref(&a)),
        "rank 7",
    );
}

#[test]
fn rank_of_dynamic_operand_is_checked_at_run_time() {
    let a = random(&[2, 3, 4], 1);
    let err = try_einsum!("ij->", &a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij->`: operand 0 has rank 3 but its term `ij` has 2 labels"
    );
}

#[test]
fn extent_mismatch_names_label_operands_and_extents() {
    let a = random(&[2, 3], 1);
    let b = random(&[4, 5], 2);
    let err = try_einsum!("ij,jk->ik", &a, &b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1"
    );
}

#[test]
fn diagonal_of_unequal_axes_is_an_error() {
    let a = random(&[2, 3], 1);
    let err = try_einsum!("ii->", &a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ii->`: label `i` is repeated in operand 0 with unequal extents 2 and 3: a \
         diagonal needs equal extents"
    );
}

#[test]
fn ellipsis_that_does_not_broadcast_is_an_error() {
    let a = random(&[2, 3], 1);
    let b = random(&[4, 3], 2);
    let err = try_einsum!("...i,...i->...", &a, &b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `...i,...i->...`: the `...` axes do not broadcast: broadcast axis 0 is 2 in \
         operand 0 but 4 in operand 1"
    );
}

#[test]
#[should_panic(expected = "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1")]
fn einsum_panics_with_the_error_message() {
    let a = random(&[2, 3], 1);
    let b = random(&[4, 5], 2);
    let _ = einsum!("ij,jk->ik", &a, &b);
}
