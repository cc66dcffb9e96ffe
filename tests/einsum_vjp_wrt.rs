//! `einsum_vjp!`'s gradients of chosen operands only (`; wrt = …`) and into the caller's
//! buffers (`einsum_vjp!(&mut y, …)` returning `back(&g, (&mut ga, …), write)`), against
//! central differences of the naive reference evaluator, on ndarray operands (static and
//! dynamic rank, any layout), fixed-size arrays, batches of rows and `...` specs; and
//! `einsum_fn!`'s `#[vjp(name, wrt = …)]`.

mod common;

use common::fd::assert_gradient_close;
use common::reference::reference_einsum;
use common::{assert_close, fixed_to_dyn, random, reference_gradient};
use einsum::{einsum_vjp, Write};
use ndarray::{Array1, Array2, Array3, ArrayD, Ix2, Ix3, ShapeBuilder};

/// The reference gradient of operand `k` for `spec` on `ops` and upstream gradient `g`.
fn want(spec: &str, ops: &[ArrayD<f64>], g: &ArrayD<f64>, k: usize) -> ArrayD<f64> {
    reference_gradient(spec, ops, g, k)
}

#[test]
fn wrt_gives_the_chosen_gradients_in_the_order_listed() {
    let spec = "ij,jk,kl->il";
    let ops = [random(&[2, 3], 1), random(&[3, 4], 2), random(&[4, 5], 3)];
    let [a, b, c] = [0, 1, 2].map(|k| ops[k].clone().into_dimensionality::<Ix2>().unwrap());
    let g = random(&[2, 5], 9);
    let g2 = g.clone().into_dimensionality::<Ix2>().unwrap();

    let (y, back) = einsum_vjp!("ij,jk,kl->il", &a, &b, &c; wrt = 1);
    assert_close(&y.into_dyn(), &reference_einsum(spec, &ops), spec);
    let (gb,): (Array2<f64>,) = back(&g2);
    assert_gradient_close(&gb.into_dyn(), &want(spec, &ops, &g, 1), 1e-7, "wrt = 1");

    let (_, back) = einsum_vjp!("ij,jk,kl->il", &a, &b, &c; wrt = (2, 0));
    let (gc, ga) = back(&g2);
    assert_gradient_close(
        &gc.into_dyn(),
        &want(spec, &ops, &g, 2),
        1e-7,
        "wrt (2, 0): c",
    );
    assert_gradient_close(
        &ga.into_dyn(),
        &want(spec, &ops, &g, 0),
        1e-7,
        "wrt (2, 0): a",
    );
}

#[test]
fn wrt_on_matrix_products_diagonals_and_sums() {
    let a = random(&[3, 4], 1).into_dimensionality::<Ix2>().unwrap();
    let b = random(&[4, 2], 2).into_dimensionality::<Ix2>().unwrap();
    let ops = [a.clone().into_dyn(), b.clone().into_dyn()];
    let g = random(&[3, 2], 7);
    let (_, back) = einsum_vjp!("ij,jk->ik", &a, &b; wrt = 1);
    let (gb,) = back(&g.clone().into_dimensionality().unwrap());
    assert_gradient_close(&gb.into_dyn(), &want("ij,jk->ik", &ops, &g, 1), 1e-7, "dB");

    let m = random(&[3, 3], 3).into_dimensionality::<Ix2>().unwrap();
    let v = random(&[3], 4)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let ops = [m.clone().into_dyn(), v.clone().into_dyn()];
    let g = random(&[3], 8);
    let (_, back) = einsum_vjp!("ii,i->i", &m, &v; wrt = 0);
    let (gm,) = back(&g.clone().into_dimensionality().unwrap());
    assert_gradient_close(
        &gm.into_dyn(),
        &want("ii,i->i", &ops, &g, 0),
        1e-7,
        "diagonal",
    );
}

#[test]
fn wrt_on_fixed_size_arrays() {
    let eps = common::levi_civita();
    let (a, b) = ([1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]);
    let (c, back) = einsum_vjp!("ijk,j,k->i", eps, a, b; wrt = (2, 1));
    let g = [0.5, -1.0, 2.0];
    let (gb, ga): ([f64; 3], [f64; 3]) = back(&g);
    let (_, all) = einsum_vjp!("ijk,j,k->i", eps, a, b);
    let (_, ga_all, gb_all) = all(&g);
    assert_eq!((ga, gb), (ga_all, gb_all));
    assert_eq!(
        c,
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0]
        ]
    );
}

/// `n` rows of 3 with values from `seed`.
fn rows(n: usize, seed: u64) -> Vec<[f64; 3]> {
    common::values(3 * n, seed)
        .chunks(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

fn rows_to_dyn(rows: &[[f64; 3]]) -> ArrayD<f64> {
    fixed_to_dyn(&[rows.len(), 3], rows.as_flattened())
}

#[test]
fn wrt_on_batches_of_rows() {
    let r = [[1.0, 0.5, -0.25], [0.0, 2.0, 1.0], [-1.0, 0.25, 0.5]];
    let x = rows(7, 1);
    let ops = [fixed_to_dyn(&[3, 3], r.as_flattened()), rows_to_dyn(&x)];
    let g = rows(7, 2);
    let gd = rows_to_dyn(&g);

    let (y, back) = einsum_vjp!("ij,bj->bi", &r, &x; wrt = 0);
    assert_close(
        &rows_to_dyn(&y),
        &reference_einsum("ij,bj->bi", &ops),
        "forward",
    );
    let (gr,): ([[f64; 3]; 3],) = back(&g);
    assert_gradient_close(
        &fixed_to_dyn(&[3, 3], gr.as_flattened()),
        &want("ij,bj->bi", &ops, &gd, 0),
        1e-7,
        "dR",
    );

    let (_, back) = einsum_vjp!("ij,bj->bi", &r, &x; wrt = 1);
    let (gx,): (Vec<[f64; 3]>,) = back(&g);
    assert_gradient_close(
        &rows_to_dyn(&gx),
        &want("ij,bj->bi", &ops, &gd, 1),
        1e-7,
        "dX",
    );
}

#[test]
fn wrt_on_ellipsis_specs() {
    let batch = random(&[2, 3, 4], 1);
    let w = random(&[4, 2], 2).into_dimensionality::<Ix2>().unwrap();
    let ops = [batch.clone(), w.clone().into_dyn()];
    let (y, back) = einsum_vjp!("...ij,jk->...ik", &batch, &w; wrt = 1);
    let g = random(y.shape(), 5);
    let (gw,): (Array2<f64>,) = back(&g);
    assert_gradient_close(
        &gw.into_dyn(),
        &want("...ij,jk->...ik", &ops, &g, 1),
        1e-7,
        "dW",
    );
}

/// Fills every buffer with `start`, runs `back` as `write` says, and checks each buffer holds
/// `start + gradient` (add) or the gradient (assign).
#[test]
fn back_writes_or_adds_into_ndarray_buffers_of_any_layout() {
    let spec = "ij,jk,kl->il";
    let ops = [random(&[2, 3], 1), random(&[3, 4], 2), random(&[4, 5], 3)];
    let [a, b, c] = [0, 1, 2].map(|k| ops[k].clone().into_dimensionality::<Ix2>().unwrap());
    let g = random(&[2, 5], 9);
    let mut y = Array2::<f64>::zeros((2, 5));
    let back = einsum_vjp!(&mut y, "ij,jk,kl->il", &a, &b, &c; wrt = (2, 0));
    assert_close(
        &y.clone().into_dyn(),
        &reference_einsum(spec, &ops),
        "forward into y",
    );
    let g2 = g.clone().into_dimensionality::<Ix2>().unwrap();
    for write in [Write::Assign, Write::Add] {
        let start_c = random(&[4, 5], 20).into_dimensionality::<Ix2>().unwrap();
        // A column-major buffer for `c`, a transposed view for `a`.
        let mut gc = Array2::<f64>::zeros((4, 5).f());
        gc.assign(&start_c);
        let start_a = random(&[2, 3], 21).into_dimensionality::<Ix2>().unwrap();
        let mut ga_t = start_a.t().to_owned();
        back(&g2, (gc.view_mut(), ga_t.view_mut().reversed_axes()), write);
        let base = |start: &Array2<f64>| match write {
            Write::Assign => Array2::zeros(start.raw_dim()),
            Write::Add => start.clone(),
        };
        let got_c = (&gc - &base(&start_c)).into_dyn();
        let got_a = (&ga_t.t() - &base(&start_a)).into_dyn();
        assert_gradient_close(&got_c, &want(spec, &ops, &g, 2), 1e-7, "dC into");
        assert_gradient_close(&got_a, &want(spec, &ops, &g, 0), 1e-7, "dA into");
    }
}

#[test]
fn back_writes_into_buffers_on_every_engine_route() {
    // One operand; a matrix product; a matrix-vector product; a diagonal; a broadcast sum.
    let m = random(&[3, 4], 1).into_dimensionality::<Ix2>().unwrap();
    let n = random(&[4, 2], 2).into_dimensionality::<Ix2>().unwrap();
    let v = random(&[4], 3)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let sq = random(&[3, 3], 4).into_dimensionality::<Ix2>().unwrap();

    let mut y = Array1::<f64>::zeros(4);
    let back = einsum_vjp!(&mut y, "ij->j", &m);
    let g = random(&[4], 5);
    let mut gm = Array2::from_elem((3, 4), 1.0);
    back(
        &g.clone().into_dimensionality().unwrap(),
        (gm.view_mut(),),
        Write::Add,
    );
    let want_m = want("ij->j", &[m.clone().into_dyn()], &g, 0);
    assert_gradient_close(&(gm - 1.0).into_dyn(), &want_m, 1e-7, "ij->j");

    let mut y = Array2::<f64>::zeros((3, 2));
    let back = einsum_vjp!(&mut y, "ij,jk->ik", &m, &n; wrt = 1);
    let g = random(&[3, 2], 6);
    let mut gn = Array2::zeros((4, 2));
    back(
        &g.clone().into_dimensionality().unwrap(),
        (gn.view_mut(),),
        Write::Assign,
    );
    let ops = [m.clone().into_dyn(), n.clone().into_dyn()];
    assert_gradient_close(
        &gn.into_dyn(),
        &want("ij,jk->ik", &ops, &g, 1),
        1e-7,
        "matmul dB",
    );

    let mut y = Array1::<f64>::zeros(3);
    let back = einsum_vjp!(&mut y, "ij,j->i", &m, &v);
    let g = random(&[3], 7);
    let (mut gm, mut gv) = (Array2::zeros((3, 4)), Array1::zeros(4));
    back(
        &g.clone().into_dimensionality().unwrap(),
        (gm.view_mut(), gv.view_mut()),
        Write::Assign,
    );
    let ops = [m.clone().into_dyn(), v.clone().into_dyn()];
    assert_gradient_close(
        &gm.into_dyn(),
        &want("ij,j->i", &ops, &g, 0),
        1e-7,
        "matvec dM",
    );
    assert_gradient_close(
        &gv.into_dyn(),
        &want("ij,j->i", &ops, &g, 1),
        1e-7,
        "matvec dv",
    );

    let mut y = Array1::<f64>::zeros(3);
    let back = einsum_vjp!(&mut y, "ii->i", &sq);
    let g = random(&[3], 8);
    let mut gs = Array2::zeros((3, 3));
    back(
        &g.clone().into_dimensionality().unwrap(),
        (gs.view_mut(),),
        Write::Assign,
    );
    assert_gradient_close(
        &gs.into_dyn(),
        &want("ii->i", &[sq.clone().into_dyn()], &g, 0),
        1e-7,
        "diagonal",
    );

    let x = random(&[2, 3, 4], 9).into_dimensionality::<Ix3>().unwrap();
    let mut y = Array2::<f64>::zeros((2, 4));
    let back = einsum_vjp!(&mut y, "bij->bj", &x);
    let g = random(&[2, 4], 10);
    let mut gx = Array3::zeros((2, 3, 4));
    back(
        &g.clone().into_dimensionality().unwrap(),
        (gx.view_mut(),),
        Write::Assign,
    );
    assert_gradient_close(
        &gx.into_dyn(),
        &want("bij->bj", &[x.clone().into_dyn()], &g, 0),
        1e-7,
        "bij->bj",
    );
}

#[test]
fn back_writes_fixed_size_and_row_gradients_into_buffers() {
    let eps = common::levi_civita();
    let (a, b) = ([1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]);
    let mut c = [0.0; 3];
    let back = einsum_vjp!(&mut c, "ijk,j,k->i", &eps, &a, &b; wrt = (1, 0));
    assert_eq!(
        c,
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0]
        ]
    );
    let g = [0.5, -1.0, 2.0];
    let (_, all) = einsum_vjp!("ijk,j,k->i", eps, a, b);
    let (g_eps, g_a, _) = all(&g);
    let (mut ga, mut g_eps_buffer) = ([1.0; 3], [[[0.0; 3]; 3]; 3]);
    back(&g, (&mut ga, &mut g_eps_buffer), Write::Add);
    assert_eq!(ga, g_a.map(|v| v + 1.0));
    assert_eq!(g_eps_buffer, g_eps);

    // Rows: the 3x3 parameter alone, and the rows alone, assigned then added.
    let r = [[1.0, 0.5, -0.25], [0.0, 2.0, 1.0], [-1.0, 0.25, 0.5]];
    let x = rows(6, 1);
    let g = rows(6, 2);
    let (_, all) = einsum_vjp!("ij,bj->bi", &r, &x);
    let (gr_all, gx_all) = all(&g);
    let mut y = vec![[0.0; 3]; 6];
    let back = einsum_vjp!(&mut y, "ij,bj->bi", &r, &x; wrt = 0);
    let ops = [fixed_to_dyn(&[3, 3], r.as_flattened()), rows_to_dyn(&x)];
    assert_close(
        &rows_to_dyn(&y),
        &reference_einsum("ij,bj->bi", &ops),
        "rows forward",
    );
    let mut gr = [[5.0; 3]; 3];
    back(&g, (&mut gr,), Write::Assign);
    assert_eq!(gr, gr_all);
    back(&g, (&mut gr,), Write::Add);
    assert_eq!(gr, gr_all.map(|row| row.map(|v| 2.0 * v)));

    let back = einsum_vjp!(&mut y, "ij,bj->bi", &r, &x; wrt = 1);
    let mut gx = vec![[1.0; 3]; 6];
    back(&g, (&mut gx,), Write::Add);
    let expected: Vec<[f64; 3]> = gx_all.iter().map(|row| row.map(|v| v + 1.0)).collect();
    assert_eq!(gx, expected);
    back(&g, (&mut gx[..],), Write::Assign);
    assert_eq!(gx, gx_all);
}

#[test]
#[should_panic(
    expected = "einsum `ij,bj->bi`: the gradient buffer of operand 1 has shape [5, 3] but operand 1 has shape [6, 3]"
)]
fn a_row_buffer_of_the_wrong_length_is_an_error_naming_the_operand() {
    let r = [[1.0; 3]; 3];
    let x = rows(6, 1);
    let mut y = vec![[0.0; 3]; 6];
    let back = einsum_vjp!(&mut y, "ij,bj->bi", &r, &x; wrt = 1);
    let mut gx = vec![[0.0; 3]; 5];
    back(&rows(6, 2), (&mut gx,), Write::Assign);
}

#[test]
#[should_panic(
    expected = "einsum `ij,jk->ik`: the gradient buffer of operand 0 has shape [3, 2] but operand 0 has shape [2, 3]"
)]
fn an_ndarray_buffer_of_the_wrong_shape_is_an_error_naming_the_operand() {
    let a = Array2::<f64>::ones((2, 3));
    let b = Array2::<f64>::ones((3, 4));
    let mut y = Array2::<f64>::zeros((2, 4));
    let back = einsum_vjp!(&mut y, "ij,jk->ik", &a, &b; wrt = 0);
    let mut ga = Array2::zeros((3, 2));
    back(&Array2::ones((2, 4)), (ga.view_mut(),), Write::Assign);
}

einsum::einsum_fn! {
    /// The rotated rows.
    #[vjp(rotate_vjp, wrt = r)]
    fn rotate(r: &[[f64; 3]; 3], x: &[[f64; 3]]) -> Vec<[f64; 3]> = "ij,bj->bi";

    /// A chain of three.
    #[vjp(chain_vjp, wrt = (c, a))]
    fn chain(a: &Array2<f64>, b: &Array2<f64>, c: &Array2<f64>) -> Array2<f64> = "ij,jk,kl->il";
}

#[test]
fn einsum_fn_gradients_of_chosen_parameters() {
    let r = [[1.0, 0.5, -0.25], [0.0, 2.0, 1.0], [-1.0, 0.25, 0.5]];
    let x = rows(5, 1);
    let g = rows(5, 2);
    let (gr,): ([[f64; 3]; 3],) = rotate_vjp(&r, &x, &g.clone());
    let (_, all) = einsum_vjp!("ij,bj->bi", &r, &x);
    assert_eq!(gr, all(&g).0);
    assert_eq!(rotate(&r, &x).len(), 5);

    let ops = [random(&[2, 3], 1), random(&[3, 4], 2), random(&[4, 5], 3)];
    let [a, b, c] = [0, 1, 2].map(|k| ops[k].clone().into_dimensionality::<Ix2>().unwrap());
    let g = random(&[2, 5], 9);
    let (gc, ga) = chain_vjp(&a, &b, &c, &g.clone().into_dimensionality().unwrap());
    assert_gradient_close(
        &gc.into_dyn(),
        &want("ij,jk,kl->il", &ops, &g, 2),
        1e-7,
        "dc",
    );
    assert_gradient_close(
        &ga.into_dyn(),
        &want("ij,jk,kl->il", &ops, &g, 0),
        1e-7,
        "da",
    );
    assert_eq!(chain(&a, &b, &c).shape(), &[2, 5]);
}

/// Batch kernels with a summed batch (`bi,bj->ij`, a fixed-size output) and with a shared
/// factor (`ijk,bj,bk->bi`): every choice of gradients, into buffers, against every gradient
/// as values.
#[test]
fn row_kernels_write_every_choice_of_gradients() {
    let (x, z) = (rows(9, 1), rows(9, 2));
    let g = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [2.0, 1.5, 1.0]];
    let (_, all) = einsum_vjp!("bi,bj->ij", &x, &z);
    let (gx_all, gz_all) = all(&g);
    let mut covariance = [[0.0; 3]; 3];
    let back = einsum_vjp!(&mut covariance, "bi,bj->ij", &x, &z; wrt = (1, 0));
    let (mut gz, mut gx) = (vec![[1.0; 3]; 9], vec![[0.0; 3]; 9]);
    back(&g, (&mut gz, &mut gx), Write::Add);
    assert_eq!(gx, gx_all);
    let plus_one: Vec<[f64; 3]> = gz_all.iter().map(|r| r.map(|v| v + 1.0)).collect();
    assert_eq!(gz, plus_one);

    let eps = common::levi_civita();
    let gc = rows(9, 3);
    let (_, all) = einsum_vjp!("ijk,bj,bk->bi", &eps, &x, &z);
    let (g_eps, gx_all, gz_all) = all(&gc);
    let mut c = vec![[0.0; 3]; 9];
    let back = einsum_vjp!(&mut c, "ijk,bj,bk->bi", &eps, &x, &z; wrt = (2, 0));
    let (mut gz, mut ge) = (vec![[0.0; 3]; 9], [[[0.0; 3]; 3]; 3]);
    back(&gc, (&mut gz, &mut ge), Write::Assign);
    assert_eq!(gz, gz_all);
    assert_eq!(ge, g_eps);
    let back = einsum_vjp!(&mut c, "ijk,bj,bk->bi", &eps, &x, &z; wrt = 1);
    let mut gx = vec![[0.0; 3]; 9];
    back(&gc, (&mut gx,), Write::Assign);
    assert_eq!(gx, gx_all);
}

/// `einsum_vjp!(_, …)`: `back` alone, no value computed; the same gradients as with an output.
#[test]
fn back_without_the_value() {
    let r = [[1.0, 0.5, -0.25], [0.0, 2.0, 1.0], [-1.0, 0.25, 0.5]];
    let (x, g) = (rows(7, 1), rows(7, 2));
    let (_, all) = einsum_vjp!("ij,bj->bi", &r, &x);
    let (gr_all, gx_all) = all(&g);
    let back = einsum_vjp!(_, "ij,bj->bi", &r, &x; wrt = 0);
    let mut gr = [[0.0; 3]; 3];
    back(&g, (&mut gr,), Write::Assign);
    assert_eq!(gr, gr_all);
    let back = einsum_vjp!(_, "ij,bj->bi", &r, &x);
    let (mut gr, mut gx) = ([[0.0; 3]; 3], vec![[0.0; 3]; 7]);
    back(&g, (&mut gr, &mut gx), Write::Assign);
    assert_eq!((gr, gx), (gr_all, gx_all));

    let a = random(&[3, 4], 1).into_dimensionality::<Ix2>().unwrap();
    let b = random(&[4, 2], 2).into_dimensionality::<Ix2>().unwrap();
    let ops = [a.clone().into_dyn(), b.clone().into_dyn()];
    let g = random(&[3, 2], 3);
    let back = einsum_vjp!(_, "ij,jk->ik", &a, &b; wrt = 1);
    let mut gb = Array2::zeros((4, 2));
    back(
        &g.clone().into_dimensionality().unwrap(),
        (gb.view_mut(),),
        Write::Assign,
    );
    assert_gradient_close(&gb.into_dyn(), &want("ij,jk->ik", &ops, &g, 1), 1e-7, "dB");
}

einsum::einsum_fn! {
    /// The rotated rows, with the rotation's gradient into a buffer.
    #[vjp_into(rotate_grad_into, wrt = r)]
    fn rotate_rows(r: &[[f64; 3]; 3], x: &[[f64; 3]]) -> Vec<[f64; 3]> = "ij,bj->bi";

    /// A matrix product, both gradients into buffers.
    #[vjp(product_vjp)]
    #[vjp_into(product_vjp_into)]
    fn product(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> = "ij,jk->ik";
}

#[test]
fn einsum_fn_gradients_into_buffers() {
    let r = [[1.0, 0.5, -0.25], [0.0, 2.0, 1.0], [-1.0, 0.25, 0.5]];
    let (x, g) = (rows(5, 1), rows(5, 2));
    let mut dr = [[1.0; 3]; 3];
    rotate_grad_into(&r, &x, &g, &mut dr, Write::Add);
    let (_, all) = einsum_vjp!("ij,bj->bi", &r, &x);
    assert_eq!(dr, all(&g).0.map(|row| row.map(|v| v + 1.0)));
    assert_eq!(rotate_rows(&r, &x).len(), 5);

    let a = random(&[3, 4], 1).into_dimensionality::<Ix2>().unwrap();
    let b = random(&[4, 2], 2).into_dimensionality::<Ix2>().unwrap();
    let g = random(&[3, 2], 3).into_dimensionality::<Ix2>().unwrap();
    let (da_want, db_want) = product_vjp(&a, &b, &g);
    let (mut da, mut db) = (Array2::zeros((3, 4)), Array2::zeros((4, 2)));
    product_vjp_into(&a, &b, &g, da.view_mut(), db.view_mut(), Write::Assign);
    assert_eq!((da, db), (da_want, db_want));
    assert_eq!(product(&a, &b).dim(), (3, 2));
}
