//! `einsum!` on autograd `Var`s records one contraction node whose gradient is the
//! contraction's own gradient, checked against central differences.

mod common;

use common::fd::{assert_gradient_close, central_difference};
use common::random;
use einsum::autograd::Var;
use einsum::{einsum, try_einsum};

#[test]
fn einsum_on_vars_is_a_differentiable_node() {
    let a0 = random(&[2, 3], 1);
    let b0 = random(&[3, 4], 2);
    let a = Var::new(a0.clone());
    let b = Var::new(b0.clone());
    let y: Var<f64> = einsum!("ij,jk->ik", &a, &b);
    assert_eq!(y.shape(), &[2, 4]);
    let loss = einsum!("ik,ik->", &y, &y);
    let grads = einsum::autograd::grad_vars(&loss, &[&a, &b]);
    let numeric_a = central_difference(
        |x| {
            let y = einsum::einsum_dyn("ij,jk->ik", &[x.view(), b0.view()]).unwrap();
            (&y * &y).sum()
        },
        &a0,
        1e-5,
    );
    assert_gradient_close(grads[0].value(), &numeric_a, 1e-6, "d loss / d a");
}

#[test]
fn shape_errors_on_vars_are_einsum_errors() {
    let a = Var::new(random(&[2, 3], 1));
    let b = Var::new(random(&[4, 5], 2));
    let err = try_einsum!("ij,jk->ik", &a, &b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ij,jk->ik`: label `j` is 3 in operand 0 but 4 in operand 1"
    );
}
