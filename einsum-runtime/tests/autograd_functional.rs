//! The functional API: grad, jacobian, hessian and their per-sample forms, against analytic
//! derivatives and central differences, and the Hessian contraction `bi,bjik,bk->bj`.

#[path = "autograd_common.rs"]
mod common;

use common::{assert_close, random};
use einsum_runtime::autograd::{
    batch_hessian, batch_jacobian, grad, hessian, jacobian, no_grad, Var,
};
use einsum_runtime::einsum_dyn;
use ndarray::{array, s, Array2, Array3, Array4, ArrayD, Axis, IxDyn};

/// `C = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]` of the Hessian-contraction article.
fn c_matrix() -> Array2<f64> {
    array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
}

/// `f(x) = (x C)^2`, row by row: `y_bj = (sum_i x_bi C_ij)^2`.
fn squared_projection(c: &Var<f64>) -> impl Fn(&Var<f64>) -> Var<f64> + '_ {
    move |x| Var::einsum("bi,ij->bj", &[x, c]).unwrap().powi(2)
}

/// The same function on one row: `y_j = (sum_i x_i C_ij)^2`.
fn squared_projection_row(c: &Var<f64>) -> impl Fn(&Var<f64>) -> Var<f64> + '_ {
    move |x| Var::einsum("i,ij->j", &[x, c]).unwrap().powi(2)
}

#[test]
fn grad_of_a_quadratic_form() {
    // f(x) = x^T A x: grad = (A + A^T) x
    let a = random(&[3, 3], 1)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let x = random(&[3], 2)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let av = Var::constant(a.clone());
    let g = grad(|x| Var::einsum("i,ij,j->", &[x, &av, x]).unwrap(), &x);
    let want = (&a + &a.t()).dot(&x).into_dyn();
    assert_close(&g, &want, 1e-14, "grad of x^T A x");
}

#[test]
fn jacobian_layout_is_output_then_input() {
    // f: [2] -> [3, 2], f(x)[p, q] = x_q^(p + 1): df[p, q]/dx_r = (p + 1) x_q^p [q = r]
    let x = array![2.0_f64, 3.0];
    let j = jacobian(|x| Var::stack_rows(&[x.clone(), x.powi(2), x.powi(3)]), &x);
    assert_eq!(j.shape(), &[3, 2, 2]);
    let want = ArrayD::from_shape_fn(IxDyn(&[3, 2, 2]), |ix| {
        let (p, q, r) = (ix[0], ix[1], ix[2]);
        if q == r {
            (p as f64 + 1.0) * x[q].powi(p as i32)
        } else {
            0.0
        }
    });
    assert_eq!(j, want);
}

#[test]
fn jacobian_matches_central_differences() {
    let x = random(&[2, 2], 3);
    let w = Var::constant(random(&[2, 3], 4));
    let f = |x: &Var<f64>| {
        Var::einsum("ij,jk->ik", &[x, &w])
            .unwrap()
            .tanh()
            .sum_axis(0)
    };
    let j = jacobian(f, &x);
    assert_eq!(j.shape(), &[3, 2, 2]);
    let h = 1e-6;
    for n in 0..4 {
        let shifted = |d: f64| {
            let mut moved = x.clone();
            *moved.iter_mut().nth(n).unwrap() += d;
            no_grad(|| f(&Var::constant(moved))).value().clone()
        };
        let column = (shifted(h) - shifted(-h)) / (2.0 * h);
        let got = j
            .view()
            .into_shape_with_order((3, 4))
            .unwrap()
            .column(n)
            .to_owned()
            .into_dyn();
        assert_close(&got, &column, 1e-8, &format!("jacobian column {n}"));
    }
}

#[test]
fn hessian_of_scalar_function_is_input_by_input() {
    // f(x) = sum(x^3) + x_0 x_1: H = diag(6x) + [[0, 1], [1, 0]]
    let x = array![2.0, -1.0];
    let h = hessian(|v| &v.powi(3).sum() + &(&v.row(0) * &v.row(1)), &x);
    assert_eq!(h, array![[12.0, 1.0], [1.0, -6.0]].into_dyn());
}

#[test]
fn hessian_layout_is_output_then_input_then_input() {
    // f(x) = [x0^2 x1, sin x0]: H[0] = [[2 x1, 2 x0], [2 x0, 0]], H[1] = [[-sin x0, 0], [0, 0]]
    let x = array![0.5, 2.0];
    let h = hessian(
        |v| Var::stack_rows(&[&v.row(0).powi(2) * &v.row(1), v.row(0).sin()]),
        &x,
    );
    assert_eq!(h.shape(), &[2, 2, 2]);
    let want = array![[[4.0, 1.0], [1.0, 0.0]], [[-0.5f64.sin(), 0.0], [0.0, 0.0]]].into_dyn();
    assert_close(&h, &want, 1e-15, "hessian layout");
}

#[test]
fn hessian_matches_central_differences_of_the_gradient() {
    let a = Var::constant(random(&[3, 4], 5));
    let f = |x: &Var<f64>| {
        let y = Var::einsum("ij,j->i", &[&a, x]).unwrap().tanh();
        &(&y * &y).sum() + &x.exp().dot(x)
    };
    let x = random(&[4], 6);
    let h = hessian(f, &x);
    let step = 1e-5;
    for k in 0..4 {
        let mut plus = x.clone();
        plus[k] += step;
        let mut minus = x.clone();
        minus[k] -= step;
        let column = (grad(f, &plus) - grad(f, &minus)) / (2.0 * step);
        assert_close(
            &h.index_axis(Axis(1), k).to_owned(),
            &column,
            1e-7,
            &format!("hessian column {k}"),
        );
    }
    // Symmetric, as a Hessian of a smooth function is.
    assert_close(&h.t().to_owned(), &h, 1e-13, "symmetry");
}

#[test]
fn functional_api_records_even_inside_no_grad() {
    let h = no_grad(|| hessian(|x| x.powi(3).sum(), &array![1.0, 2.0]));
    assert_eq!(h, array![[6.0, 0.0], [0.0, 12.0]].into_dyn());
}

#[test]
fn derivatives_of_a_function_independent_of_x_are_zero() {
    let c = Var::constant(array![1.0, 2.0]);
    assert_eq!(grad(|_| c.sum(), &array![5.0]), array![0.0].into_dyn());
    assert_eq!(
        jacobian(|_| c.clone(), &array![5.0]),
        ArrayD::zeros(IxDyn(&[2, 1]))
    );
    // Linear in x: the gradient is constant, so the Hessian is zero.
    assert_eq!(
        hessian(|x| (x * 3.0).sum(), &array![1.0, 2.0]),
        ArrayD::zeros(IxDyn(&[2, 2]))
    );
}

// ---------------------------------------------------------------------------------------------
// Per-sample derivatives of f(x) = (x C)^2, the article's example.

#[test]
fn batch_jacobian_of_squared_projection() {
    // J_bji = d y_bj / d x_bi = 2 (x_b C)_j C_ij
    let c = c_matrix();
    let cv = Var::constant(c.clone());
    let x = array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
    let j = batch_jacobian(squared_projection(&cv), &x);
    assert_eq!(j.shape(), &[2, 3, 3]);
    let xc = x.dot(&c);
    let want = Array3::from_shape_fn((2, 3, 3), |(b, jj, i)| 2.0 * xc[[b, jj]] * c[[i, jj]]);
    assert_eq!(j, want);
}

#[test]
fn batch_hessian_of_squared_projection_is_two_c_c() {
    // H_bjik = 2 C_ij C_kj, whatever x.
    let c = c_matrix();
    let cv = Var::constant(c.clone());
    let want = Array4::from_shape_fn((2, 3, 3, 3), |(_, j, i, k)| 2.0 * c[[i, j]] * c[[k, j]]);
    for x in [
        array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]],
        random(&[2, 3], 7).into_dimensionality().unwrap(),
    ] {
        let h = batch_hessian(squared_projection(&cv), &x);
        assert_eq!(h.shape(), &[2, 3, 3, 3]);
        assert_eq!(h, want);
    }
}

#[test]
fn hessian_contraction_bi_bjik_bk() {
    // r_bj = x_b^T H_bj x_b, with H in the layout [b, j, i, k].
    let cv = Var::constant(c_matrix());
    let x = array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
    let h = batch_hessian(squared_projection(&cv), &x);
    let want = array![[288.0, 450.0, 648.0], [1152.0, 1800.0, 2592.0]];

    // Two loops, as the article writes them.
    let mut looped = Array2::<f64>::zeros((2, 3));
    for b in 0..2 {
        for j in 0..3 {
            let hbj = h.slice(s![b, j, .., ..]);
            looped[[b, j]] = x.row(b).dot(&hbj.dot(&x.row(b)));
        }
    }
    assert_eq!(looped, want);

    // One einsum.
    let (xd, hd) = (x.clone().into_dyn(), h.clone().into_dyn());
    let r = einsum_dyn("bi,bjik,bk->bj", &[xd.view(), hd.view(), xd.view()]).unwrap();
    assert_eq!(r, want.clone().into_dyn());

    // The trap: `bijk` contracts the output index with x and gives another answer.
    let wrong = einsum_dyn("bi,bijk,bk->bj", &[xd.view(), hd.view(), xd.view()]).unwrap();
    assert_eq!(
        wrong,
        array![[192.0, 462.0, 732.0], [768.0, 1848.0, 2928.0]].into_dyn()
    );

    // On Vars, the contraction is differentiable too: dr_bj/dx_b = 2 H_bj x_b.
    let xv = Var::new(x.clone());
    let hv = Var::constant(h.clone());
    let rv = Var::einsum("bi,bjik,bk->bj", &[&xv, &hv, &xv]).unwrap();
    assert_eq!(rv.value(), &want.into_dyn());
    let g = rv.sum().backward().grad(&xv).unwrap();
    let want_g = Array2::from_shape_fn((2, 3), |(b, i)| {
        (0..3)
            .map(|j| {
                (0..3)
                    .map(|k| 2.0 * h[[b, j, i, k]] * x[[b, k]])
                    .sum::<f64>()
            })
            .sum::<f64>()
    });
    assert_eq!(g, want_g.into_dyn());
}

#[test]
fn batch_derivatives_equal_per_row_derivatives() {
    // A nonlinear row-wise function: per-sample results must equal jacobian/hessian of each row.
    let w = Var::constant(random(&[3, 2], 8));
    let batched = |x: &Var<f64>| {
        let z = Var::einsum("bi,ij->bj", &[x, &w]).unwrap();
        &z.sin() * &z.tanh()
    };
    let row_wise = |x: &Var<f64>| {
        let z = Var::einsum("i,ij->j", &[x, &w]).unwrap();
        &z.sin() * &z.tanh()
    };
    let x = random(&[4, 3], 9)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let j = batch_jacobian(batched, &x);
    let h = batch_hessian(batched, &x);
    assert_eq!(h.shape(), &[4, 2, 3, 3]);
    for b in 0..4 {
        let row = x.row(b);
        assert_close(
            &j.index_axis(Axis(0), b).to_owned().into_dyn(),
            &jacobian(row_wise, &row),
            1e-14,
            &format!("jacobian of row {b}"),
        );
        assert_close(
            &h.index_axis(Axis(0), b).to_owned().into_dyn(),
            &hessian(row_wise, &row),
            1e-14,
            &format!("hessian of row {b}"),
        );
    }
    // And the row function of the article agrees with the batched one.
    let cv = Var::constant(c_matrix());
    let xa = array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
    let hb = batch_hessian(squared_projection(&cv), &xa);
    let h1 = hessian(squared_projection_row(&cv), &xa.row(1));
    assert_eq!(hb.index_axis(Axis(0), 1).to_owned().into_dyn(), h1);
}

#[test]
#[should_panic(
    expected = "a batched function must map shape [b, in] = [2, 3] to [b, out], not [3]"
)]
fn batched_function_must_keep_the_batch_axis() {
    let _ = batch_jacobian(|x| x.sum_axis(0), &Array2::<f64>::zeros((2, 3)));
}
