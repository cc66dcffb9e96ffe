//! `Var::einsum` as one node: gradients of every spec form against central differences (first
//! and second order, through the shared checker), exact Hessians, and errors.

#[path = "autograd_common.rs"]
mod common;

use common::{assert_close, check_gradients, random};
use einsum_runtime::autograd::{grad, grad_vars, hessian, Var};
use einsum_runtime::EinsumErrorKind;
use ndarray::{arr0, array, Array2, ArrayD, Axis};

/// `Var::einsum(spec, operands)` as a function of the checker's inputs.
fn einsum_of(spec: &'static str) -> impl Fn(&[Var<f64>]) -> Var<f64> {
    move |v| {
        let operands: Vec<&Var<f64>> = v.iter().collect();
        Var::einsum(spec, &operands).unwrap()
    }
}

/// Checks `spec` on random operands of `shapes`, seeded by `seed`.
#[track_caller]
fn check_spec(spec: &'static str, shapes: &[&[usize]], seed: u64) {
    let inputs: Vec<ArrayD<f64>> = shapes
        .iter()
        .enumerate()
        .map(|(k, s)| random(s, seed * 10 + k as u64))
        .collect();
    check_gradients(spec, einsum_of(spec), &inputs);
}

#[test]
fn matmul_gradients() {
    // dA = g B^T, dB = A^T g
    check_spec("ij,jk->ik", &[&[2, 3], &[3, 4]], 1);
    check_spec("ij,kj->ki", &[&[2, 3], &[4, 3]], 2);
    check_spec("bij,bjk->bik", &[&[2, 2, 3], &[2, 3, 2]], 3);
}

#[test]
fn trace_and_diagonal_gradients() {
    // d tr(A) = I; d diag(A) puts g on the diagonal, zeros elsewhere.
    check_spec("ii->", &[&[3, 3]], 4);
    check_spec("ii->i", &[&[3, 3]], 5);
    check_spec("iij->ji", &[&[2, 2, 3]], 6);
    check_spec("ii,ij->j", &[&[3, 3], &[3, 2]], 7);
}

#[test]
fn trace_gradient_is_the_identity() {
    let a = Var::new(random(&[3, 3], 8));
    let grads = Var::einsum("ii->", &[&a]).unwrap().backward();
    assert_eq!(grads.grad(&a).unwrap(), Array2::<f64>::eye(3).into_dyn());
}

#[test]
fn summed_out_label_gradient_broadcasts() {
    // ij->i: every j gets g_i.
    check_spec("ij->i", &[&[2, 4]], 9);
    check_spec("ijk->", &[&[2, 3, 2]], 10);
    check_spec("ij,k->i", &[&[2, 3], &[4]], 11);
    let a = Var::new(random(&[2, 3], 12));
    let y = Var::einsum("ij->i", &[&a]).unwrap();
    let grads = y.backward_with(array![1.0, 2.0].into_dyn(), false);
    assert_eq!(
        grads.grad(&a).unwrap(),
        array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]].into_dyn()
    );
}

#[test]
fn outer_product_gradients() {
    // d(a_i b_j): da_i = sum_j g_ij b_j, db_j = sum_i g_ij a_i
    check_spec("i,j->ij", &[&[3], &[2]], 13);
    check_spec("i,j,k->kji", &[&[2], &[3], &[2]], 14);
}

#[test]
fn same_var_twice_accumulates() {
    // f = x . x: df/dx = 2x, from both positions.
    check_gradients(
        "i,i-> (same Var)",
        |v| Var::einsum("i,i->", &[&v[0], &v[0]]).unwrap(),
        &[random(&[4], 15)],
    );
    check_gradients(
        "ij,jk->ik (same Var)",
        |v| Var::einsum("ij,jk->ik", &[&v[0], &v[0]]).unwrap(),
        &[random(&[3, 3], 16)],
    );
    check_gradients(
        "i,ij,j-> (same Var)",
        |v| Var::einsum("i,ij,j->", &[&v[0], &v[1], &v[0]]).unwrap(),
        &[random(&[3], 17), random(&[3, 3], 18)],
    );
    let x = Var::new(array![1.0, -2.0, 3.0]);
    let grads = Var::einsum("i,i->", &[&x, &x]).unwrap().backward();
    assert_eq!(grads.grad(&x).unwrap(), array![2.0, -4.0, 6.0].into_dyn());
}

#[test]
fn ellipsis_with_size_one_broadcasting() {
    // Batch axes `...` broadcast as numpy does, size-1 axes included; the gradient of a
    // broadcast operand is summed over the axes it was stretched along.
    check_spec("...ij,...jk->...ik", &[&[2, 1, 2, 3], &[1, 3, 3, 2]], 19);
    check_spec("...ij,jk->...ik", &[&[2, 2, 3], &[3, 2]], 20);
    check_spec("...i,...i->...", &[&[3, 1, 2], &[4, 2]], 21);
    check_spec("...->", &[&[2, 3]], 22);
    // Size 1 along a named label.
    check_spec("ij,ij->ij", &[&[1, 3], &[2, 3]], 23);
    check_spec("ij,jk->ik", &[&[2, 1], &[3, 4]], 24);
    // The other operand has size 1 where this one does not: the reduced gradient comes out of
    // its contraction with extent 1 and is stretched back.
    check_spec("i,i->", &[&[3], &[1]], 42);
    check_spec("ij,ij->", &[&[2, 1], &[1, 3]], 43);
    check_spec("...i,...i->...i", &[&[2, 1, 3], &[4, 1]], 44);
    let a = Var::new(array![[1.0, 2.0, 3.0]]);
    let b = Var::new(array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]);
    let grads = Var::einsum("ij,ij->ij", &[&a, &b])
        .unwrap()
        .sum()
        .backward();
    assert_eq!(grads.grad(&a).unwrap(), array![[3.0, 3.0, 3.0]].into_dyn());
}

#[test]
fn scalar_output_and_scalar_operands() {
    check_spec("ij,ij->", &[&[2, 3], &[2, 3]], 25);
    check_spec("i->", &[&[5]], 26);
    check_spec(",ij->ij", &[&[], &[2, 2]], 27);
    check_spec("->", &[&[]], 28);
}

#[test]
fn implicit_mode_and_three_operands() {
    check_spec("ij,jk", &[&[2, 3], &[3, 2]], 29);
    check_spec("bi,bjik,bk->bj", &[&[2, 3], &[2, 2, 3, 3], &[2, 3]], 30);
    check_spec("ijk,j,k->i", &[&[3, 3, 3], &[3], &[3]], 31);
}

#[test]
fn einsum_composes_with_other_operations() {
    // A two-layer network: tanh(x W1) W2, squared.
    check_gradients(
        "network",
        |v| {
            let h = Var::einsum("bi,ij->bj", &[&v[0], &v[1]]).unwrap().tanh();
            Var::einsum("bj,jk->bk", &[&h, &v[2]]).unwrap().powi(2)
        },
        &[
            random(&[2, 3], 32),
            random(&[3, 4], 33),
            random(&[4, 2], 34),
        ],
    );
}

#[test]
fn constant_operand_gets_no_gradient() {
    let a = Var::constant(random(&[2, 2], 35));
    let x = Var::new(random(&[2], 36));
    let grads = Var::einsum("ij,j->", &[&a, &x]).unwrap().backward();
    assert!(grads.grad(&a).is_none());
    assert_close(
        &grads.grad(&x).unwrap(),
        &a.value().sum_axis(Axis(0)),
        1e-15,
        "gradient of 1^T A x",
    );
}

// ---------------------------------------------------------------------------------------------
// Second order: Hessians through einsum nodes.

#[test]
fn hessian_of_quadratic_form_is_exact() {
    // f(x) = x^T A x + tr(x x^T) = x^T (A + I) x: H = A + A^T + 2I.
    let a = random(&[3, 3], 37)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let av = Var::constant(a.clone());
    let f = |x: &Var<f64>| {
        let quadratic = Var::einsum("i,ij,j->", &[x, &av, x]).unwrap();
        let outer = Var::einsum("i,j->ij", &[x, x]).unwrap();
        &quadratic + &Var::einsum("ii->", &[&outer]).unwrap()
    };
    let h = hessian(f, &random(&[3], 38));
    let want = (&a + &a.t() + Array2::<f64>::eye(3) * 2.0).into_dyn();
    assert_close(&h, &want, 1e-15, "hessian of x^T (A + I) x");
}

#[test]
fn hessian_of_einsum_function_matches_central_differences_of_gradient() {
    // f(x) = sum_i tanh((A x)_i)^2 + (x . x)^2 + tr(diag(x) B diag(x)), with diagonal and
    // repeated-operand einsums.
    let a = Var::constant(random(&[4, 3], 39));
    let b = Var::constant(random(&[3, 3], 40));
    let f = |x: &Var<f64>| {
        let ax = Var::einsum("ij,j->i", &[&a, x]).unwrap().tanh();
        let sq = Var::einsum("i,i->", &[&ax, &ax]).unwrap();
        let norm4 = Var::einsum("i,i->", &[x, x]).unwrap().powi(2);
        let diag = Var::einsum("i,ii,i->", &[x, &b, x]).unwrap();
        &(&sq + &norm4) + &diag
    };
    let x = random(&[3], 41);
    let h = hessian(f, &x);
    let step = 1e-5;
    for k in 0..3 {
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[k] += step;
        minus[k] -= step;
        let column = (grad(f, &plus) - grad(f, &minus)) / (2.0 * step);
        assert_close(
            &h.index_axis(Axis(1), k).to_owned(),
            &column,
            1e-7,
            &format!("column {k}"),
        );
    }
}

#[test]
fn third_derivative_through_einsum() {
    // f(x) = sum_i x_i^3 as einsum("i,i,i->"): f''' along e_0 three times is 6.
    let x = Var::new(array![2.0, 3.0]);
    let f = Var::einsum("i,i,i->", &[&x, &x, &x]).unwrap();
    let d1 = grad_vars(&f, &[&x]).remove(0); // 3 x^2
    assert_eq!(d1.value(), &array![12.0, 27.0].into_dyn());
    let d2 = grad_vars(&d1.row(0), &[&x]).remove(0); // [6 x_0, 0]
    assert_eq!(d2.value(), &array![12.0, 0.0].into_dyn());
    let d3 = d2.row(0).backward().grad(&x).unwrap();
    assert_eq!(d3, array![6.0, 0.0].into_dyn());
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[test]
fn invalid_spec_is_an_error() {
    let a = Var::new(arr0(1.0));
    let err = Var::einsum("i1->", &[&a]).unwrap_err();
    assert!(matches!(err.kind(), EinsumErrorKind::Spec(_)));
    assert_eq!(err.spec(), "i1->");
}

#[test]
fn shape_mismatch_names_label_and_extents() {
    let a = Var::new(Array2::<f64>::zeros((2, 3)));
    let b = Var::new(Array2::<f64>::zeros((4, 5)));
    let err = Var::einsum("ij,jk->ik", &[&a, &b]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1"
    );
    let err = Var::einsum("ij,jk->ik", &[&a]).unwrap_err();
    assert!(matches!(err.kind(), EinsumErrorKind::Shape(_)));
    let err = Var::einsum("ijk->", &[&a]).unwrap_err();
    assert!(err.to_string().contains("rank 2"), "{err}");
}
