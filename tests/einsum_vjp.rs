//! `einsum_vjp!` against central differences of the naive reference evaluator: for
//! `L = sum(g * einsum(ops))`, `back(&g)` must return `dL/d op` for every operand, on
//! ndarray operands (dynamic and static rank, any layout) and fixed-size arrays.

mod common;

use common::fd::assert_gradient_close;
use common::reference::reference_einsum;
use common::{fixed_to_dyn, random, reference_gradient};
use einsum::einsum_vjp;
use ndarray::{ArrayD, Ix2};

/// Random `ArrayD` operands of the given shapes and a random upstream gradient; compares
/// every gradient `einsum_vjp!` returns with central differences. One arm per operand count.
macro_rules! check {
    ($spec:literal; $a:expr) => {{
        let ops = [random(&$a, 1)];
        let (y, back) = einsum_vjp!($spec, &ops[0]);
        let g = random(y.shape(), 99).into_dimensionality().unwrap();
        let (g0,) = back(&g);
        let g = g.into_dyn();
        assert_gradient_close(
            &g0.into_dyn(),
            &reference_gradient($spec, &ops, &g, 0),
            1e-7,
            $spec,
        );
    }};
    ($spec:literal; $a:expr, $b:expr) => {{
        let ops = [random(&$a, 1), random(&$b, 2)];
        let (y, back) = einsum_vjp!($spec, &ops[0], &ops[1]);
        let g = random(y.shape(), 99).into_dimensionality().unwrap();
        let (g0, g1) = back(&g);
        let g = g.into_dyn();
        assert_gradient_close(
            &g0.into_dyn(),
            &reference_gradient($spec, &ops, &g, 0),
            1e-7,
            $spec,
        );
        assert_gradient_close(
            &g1.into_dyn(),
            &reference_gradient($spec, &ops, &g, 1),
            1e-7,
            $spec,
        );
    }};
    ($spec:literal; $a:expr, $b:expr, $c:expr) => {{
        let ops = [random(&$a, 1), random(&$b, 2), random(&$c, 3)];
        let (y, back) = einsum_vjp!($spec, &ops[0], &ops[1], &ops[2]);
        let g = random(y.shape(), 99).into_dimensionality().unwrap();
        let (g0, g1, g2) = back(&g);
        let g = g.into_dyn();
        assert_gradient_close(
            &g0.into_dyn(),
            &reference_gradient($spec, &ops, &g, 0),
            1e-7,
            $spec,
        );
        assert_gradient_close(
            &g1.into_dyn(),
            &reference_gradient($spec, &ops, &g, 1),
            1e-7,
            $spec,
        );
        assert_gradient_close(
            &g2.into_dyn(),
            &reference_gradient($spec, &ops, &g, 2),
            1e-7,
            $spec,
        );
    }};
}

#[test]
fn gradients_of_matrix_forms() {
    check!("ij,jk->ik"; [2, 3], [3, 4]);
    check!("ij,kj->ik"; [2, 3], [4, 3]);
    check!("ij->ji"; [2, 3]);
    check!("ij"; [2, 3]);
    check!("bij,bjk->bik"; [2, 3, 2], [2, 2, 3]);
    check!("i,j->ij"; [3], [4]);
}

#[test]
fn gradients_of_summed_out_labels_broadcast_back() {
    check!("ij->i"; [2, 3]);
    check!("ij->j"; [2, 3]);
    check!("ij->"; [2, 3]);
    check!("ijk,k->i"; [2, 3, 2], [2]);
}

#[test]
fn gradients_of_diagonals_land_on_the_diagonal() {
    check!("ii->"; [3, 3]);
    check!("ii->i"; [3, 3]);
    check!("iij->ji"; [2, 2, 3]);
    check!("aabb->ab"; [2, 2, 3, 3]);
    check!("ii,i->i"; [3, 3], [3]);
}

#[test]
fn gradients_with_scalars() {
    check!(",i->i"; [], [4]);
    check!("i,->"; [4], []);
    check!("->"; []);
    check!("i,i->"; [4], [4]);
}

#[test]
fn gradients_with_ellipsis_and_size_one_broadcasting() {
    check!("...ij,...jk->...ik"; [2, 3, 2], [2, 4]);
    check!("...ij,...jk->...ik"; [1, 3, 2], [2, 2, 4]);
    check!("...,...->..."; [3, 1], [1, 4]);
    check!("...i->i"; [2, 3, 4]);
    check!("ij,ij->ij"; [1, 3], [2, 3]);
    check!("i...i->..."; [3, 2, 3]);
}

#[test]
fn gradients_of_chains() {
    check!("ij,jk,kl->il"; [2, 3], [3, 2], [2, 2]);
    check!("ijk,j,k->i"; [3, 3, 3], [3], [3]);
    check!("bi,bjik,bk->bj"; [2, 3], [2, 2, 3, 3], [2, 3]);
}

/// `einsum_vjp!` on three operands against `einsum_vjp_dyn`, which computes every gradient from
/// scratch (and is itself checked against central differences in
/// einsum-runtime/tests/proptest_vjp.rs); central differences through the reference
/// evaluator take minutes at these sizes.
macro_rules! check_against_dyn {
    ($spec:literal; $a:expr, $b:expr, $c:expr) => {{
        let ops = [random(&$a, 1), random(&$b, 2), random(&$c, 3)];
        let (y, back) = einsum_vjp!($spec, &ops[0], &ops[1], &ops[2]);
        let g = random(y.shape(), 99).into_dimensionality().unwrap();
        let grads = back(&g);
        let g = g.into_dyn();
        let views = [ops[0].view(), ops[1].view(), ops[2].view()];
        let want = einsum::einsum_vjp_dyn($spec, &views, g.view()).unwrap();
        for (k, got) in [grads.0, grads.1, grads.2].iter().enumerate() {
            assert_gradient_close(got, &want[k], 1e-12, &format!("{}, operand {k}", $spec));
        }
    }};
}

/// Above a few thousand index combinations the forward pass is planned pairwise and
/// `einsum_vjp!` keeps its intermediates, which the gradients then reuse (the chain's
/// gradient of `c` is `(ab)^T g` from the forward's `ab`).
#[test]
fn gradients_of_planned_contractions_reuse_the_forward_intermediates() {
    check_against_dyn!("ij,jk,kl->il"; [12, 14], [14, 16], [16, 10]);
    check_against_dyn!("bi,bjik,bk->bj"; [8, 9], [8, 9, 9, 9], [8, 9]);
    check_against_dyn!("ijk,bj,bk->bi"; [3, 3, 3], [600, 3], [600, 3]);
}

#[test]
fn the_same_array_twice_gets_one_gradient_per_position() {
    let x = random(&[3], 5);
    let (y, back) = einsum_vjp!("i,i->", &x, &x);
    assert!((y[()] - (&x * &x).sum()).abs() < 1e-12);
    let (g1, g2) = back(&ndarray::arr0(1.0));
    assert_eq!(g1, x.view().into_dimensionality().unwrap());
    assert_eq!(g2, x.view().into_dimensionality().unwrap());
    let total = &g1 + &g2;
    assert_gradient_close(&total.into_dyn(), &(&x * 2.0), 1e-12, "d(x.x)/dx = 2x");
}

#[test]
fn static_rank_operands_get_static_rank_gradients_in_any_layout() {
    let a = random(&[3, 4], 1).into_dimensionality::<Ix2>().unwrap();
    let b = random(&[4, 2], 2).into_dimensionality::<Ix2>().unwrap();
    // Views that `back` keeps are bound to variables: a temporary would end with the statement.
    let at = a.t();
    let b_reversed = b.slice(ndarray::s![..;-1, ..]);
    let (y, back) = einsum_vjp!("ji,jk->ik", &at, &b_reversed);
    let g = random(y.shape(), 3).into_dimensionality::<Ix2>().unwrap();
    let (ga, gb): (ndarray::Array2<f64>, ndarray::Array2<f64>) = back(&g);
    let ops = [at.to_owned().into_dyn(), b_reversed.to_owned().into_dyn()];
    let gd = g.into_dyn();
    assert_gradient_close(
        &ga.into_dyn(),
        &reference_gradient("ji,jk->ik", &ops, &gd, 0),
        1e-7,
        "transposed",
    );
    assert_gradient_close(
        &gb.into_dyn(),
        &reference_gradient("ji,jk->ik", &ops, &gd, 1),
        1e-7,
        "reversed",
    );
}

#[test]
fn fixed_size_gradients_are_fixed_size_arrays() {
    let a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let b = [[1.0, -1.0], [0.5, 2.0], [-3.0, 1.0]];
    let (y, back) = einsum_vjp!("ij,jk->ik", a, b);
    let g = [[0.5, -1.0], [2.0, 1.5]];
    let (ga, gb): ([[f64; 3]; 2], [[f64; 2]; 3]) = back(&g);
    let ops = [
        fixed_to_dyn(&[2, 3], a.as_flattened()),
        fixed_to_dyn(&[3, 2], b.as_flattened()),
    ];
    let gd = fixed_to_dyn(&[2, 2], g.as_flattened());
    assert_eq!(
        fixed_to_dyn(&[2, 2], y.as_flattened()),
        reference_einsum("ij,jk->ik", &ops)
    );
    assert_gradient_close(
        &fixed_to_dyn(&[2, 3], ga.as_flattened()),
        &reference_gradient("ij,jk->ik", &ops, &gd, 0),
        1e-9,
        "dA",
    );
    assert_gradient_close(
        &fixed_to_dyn(&[3, 2], gb.as_flattened()),
        &reference_gradient("ij,jk->ik", &ops, &gd, 1),
        1e-9,
        "dB",
    );
}

#[test]
fn fixed_size_cross_product_gradient() {
    let eps = common::levi_civita();
    let a = [1.0, 2.0, 3.0];
    let b = [-1.0, 0.5, 2.0];
    let (c, back) = einsum_vjp!("ijk,j,k->i", eps, a, b);
    let cross = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    assert_eq!(c, cross);
    let g = [1.0, 0.0, 0.0];
    let (g_eps, g_a, g_b) = back(&g);
    // d c_0 / d eps_0jk = a_j b_k; d c_0 / d a = (0, b_2, -b_1); d c_0 / d b = (0, -a_2, a_1).
    for j in 0..3 {
        for k in 0..3 {
            assert_eq!(g_eps[0][j][k], a[j] * b[k]);
            assert_eq!(g_eps[1][j][k], 0.0);
        }
    }
    assert_eq!(g_a, [0.0, b[2], -b[1]]);
    assert_eq!(g_b, [0.0, -a[2], a[1]]);
}

#[test]
fn fixed_size_diagonal_and_scalar_gradients() {
    let m = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    let (diag, back) = einsum_vjp!("ii->i", m);
    assert_eq!(diag, [1.0, 5.0, 9.0]);
    let (gm,) = back(&[1.0, 2.0, 3.0]);
    assert_eq!(gm, [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]);

    let (scaled, back) = einsum_vjp!(",i->i", 2.0, [1.0, 2.0]);
    assert_eq!(scaled, [2.0, 4.0]);
    let (g_scale, g_vector) = back(&[1.0, 1.0]);
    assert_eq!(g_scale, 3.0);
    assert_eq!(g_vector, [2.0, 2.0]);

    let (sums, back) = einsum_vjp!("ij->i", m);
    assert_eq!(sums, [6.0, 15.0, 24.0]);
    assert_eq!(back(&[1.0, 0.0, 2.0]).0, [[1.0; 3], [0.0; 3], [2.0; 3]]);
}

#[test]
fn ellipsis_specs_return_gradients_of_each_operands_own_kind() {
    let batch = [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]];
    let w = ndarray::array![[1.0, 0.0], [0.0, 2.0]];
    let (y, back) = einsum_vjp!("...ij,jk->...ik", batch, &w);
    assert_eq!(y.shape(), &[2, 2, 2]);
    let g = ArrayD::ones(y.raw_dim());
    let (g_batch, g_w): ([[[f64; 2]; 2]; 2], ndarray::Array2<f64>) = back(&g);
    // d/d batch_bij = sum_k g_bik w_jk = row sums of w; d/d w_jk = sum_bi batch_bij.
    assert_eq!(
        g_batch,
        [[[1.0, 2.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0]]]
    );
    assert_eq!(g_w, ndarray::array![[16.0, 16.0], [20.0, 20.0]]);
}

#[test]
#[should_panic(
    expected = "einsum `ij->i`: the output gradient has shape [3] but the output has shape [2]"
)]
fn back_panics_when_the_gradient_has_the_wrong_shape() {
    let a = random(&[2, 3], 1);
    let (_, back) = einsum_vjp!("ij->i", &a);
    let _ = back(&ndarray::Array1::zeros(3).into_dimensionality().unwrap());
}
