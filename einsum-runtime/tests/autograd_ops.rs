//! Every autograd operation against central differences (first and second order), gradient
//! accumulation, stopping gradients, and the derivatives the source articles quote.

#[path = "autograd_common.rs"]
mod common;

use common::{
    assert_close, check_gradients, check_unary, random, random_away_from_zero, random_in,
};
use einsum_runtime::autograd::{grad_vars, is_grad_enabled, no_grad, Var};
use ndarray::{arr0, array, Array1, ArrayD};
use std::f64::consts::PI;

// ---------------------------------------------------------------------------------------------
// Binary operations, with and without broadcasting.

/// Shape pairs that broadcast: equal, a trailing vector, size-1 axes on both sides, a scalar.
const BROADCAST_PAIRS: [(&[usize], &[usize]); 5] = [
    (&[2, 3], &[2, 3]),
    (&[2, 3], &[3]),
    (&[2, 1], &[1, 3]),
    (&[], &[2, 3]),
    (&[4, 1, 3], &[2, 1]),
];

#[test]
fn add_sub_mul_gradients_with_broadcasting() {
    // d(a + b) = da + db, d(a - b) = da - db, d(ab) = b da + a db; broadcast operands sum.
    for (n, (sa, sb)) in BROADCAST_PAIRS.iter().enumerate() {
        let inputs = [random(sa, 2 * n as u64), random(sb, 2 * n as u64 + 1)];
        check_gradients("add", |v| &v[0] + &v[1], &inputs);
        check_gradients("sub", |v| &v[0] - &v[1], &inputs);
        check_gradients("mul", |v| &v[0] * &v[1], &inputs);
        check_gradients("mul reversed", |v| &v[1] * &v[0], &inputs);
    }
}

#[test]
fn div_gradient_with_broadcasting() {
    // d(a / b) = da / b - a / b^2 db; divisors kept away from 0.
    for (n, (sa, sb)) in BROADCAST_PAIRS.iter().enumerate() {
        let inputs = [
            random(sa, 10 + n as u64),
            random_in(sb, 20 + n as u64, 0.5, 2.0),
        ];
        check_gradients("div", |v| &v[0] / &v[1], &inputs);
    }
}

#[test]
fn broadcast_operand_gradient_is_summed_over_broadcast_axes() {
    let a = Var::new(Array1::from(vec![1.0, 2.0, 3.0]));
    let b = Var::new(ndarray::Array2::<f64>::ones((4, 3)));
    let grads = (&a * &b).sum().backward();
    assert_eq!(grads.grad(&a).unwrap(), array![4.0, 4.0, 4.0].into_dyn());
    assert_eq!(grads.grad(&a).unwrap().shape(), a.shape());
}

#[test]
fn neg_and_scalar_operations() {
    let x = random(&[2, 3], 1);
    check_unary("neg", |a| -a, x.clone());
    check_unary("neg owned", |a| -(a.clone()), x.clone());
    check_unary("add_scalar", |a| a + 2.5, x.clone());
    check_unary("sub_scalar", |a| a - 2.5, x.clone());
    check_unary("rsub_scalar", |a| 2.5 - a, x.clone());
    check_unary("mul_scalar", |a| a * -1.5, x.clone());
    check_unary("scalar mul", |a| 3.0 * a, x.clone());
    check_unary("scalar add", |a| 3.0 + a.clone(), x.clone());
    check_unary("div_scalar", |a| a / 4.0, x.clone());
    check_unary(
        "owned operators",
        |a| (a.clone() * a.clone() - a.clone()) / 2.0 + 1.0,
        x,
    );
}

#[test]
fn scalar_operation_values() {
    let a = Var::new(arr0(2.0_f64));
    assert_eq!((&a + 1.0).item(), 3.0);
    assert_eq!((&a - 1.0).item(), 1.0);
    assert_eq!((1.0 - &a).item(), -1.0);
    assert_eq!((&a * 3.0).item(), 6.0);
    assert_eq!((&a / 4.0).item(), 0.5);
}

// ---------------------------------------------------------------------------------------------
// Elementwise functions.

#[test]
fn powers_gradients() {
    // d(a^n) = n a^(n-1) da; d(a^p) = p a^(p-1) da.
    let x = random(&[2, 3], 3);
    for n in [0, 1, 2, 3, 5] {
        check_unary(&format!("powi({n})"), |a| a.powi(n), x.clone());
    }
    let positive = random_in(&[2, 3], 4, 0.5, 2.0);
    for n in [-1, -3] {
        check_unary(&format!("powi({n})"), |a| a.powi(n), positive.clone());
    }
    for p in [0.5, 1.5, -0.7, 3.0] {
        check_unary(&format!("powf({p})"), |a| a.powf(p), positive.clone());
    }
}

#[test]
fn powi_zero_has_zero_gradient_even_at_zero() {
    let x = Var::new(array![0.0, 2.0]);
    let grads = x.powi(0).sum().backward_with_graph();
    assert_eq!(grads.grad(&x), None); // no contribution at all: the result is constant
}

#[test]
fn transcendental_gradients() {
    // d e^a = e^a da, d ln a = da / a, d sqrt a = da / (2 sqrt a), d sin a = cos a da,
    // d cos a = -sin a da, d tanh a = (1 - tanh^2 a) da.
    let x = random(&[3, 2], 5);
    let positive = random_in(&[3, 2], 6, 0.3, 3.0);
    check_unary("exp", Var::exp, x.clone());
    check_unary("ln", Var::ln, positive.clone());
    check_unary("sqrt", Var::sqrt, positive);
    check_unary("sin", Var::sin, x.clone() * 3.0);
    check_unary("cos", Var::cos, x.clone() * 3.0);
    check_unary("tanh", Var::tanh, x * 2.0);
}

#[test]
fn abs_gradient_away_from_zero() {
    // d|a| = sign(a) da.
    check_unary("abs", Var::abs, random_away_from_zero(&[2, 4], 7));
    check_unary(
        "abs squared",
        |a| a.abs() * a,
        random_away_from_zero(&[5], 8),
    );
}

#[test]
fn derivative_of_sin_is_cos_on_a_grid() {
    let grid = Array1::linspace(-2.0 * PI, 2.0 * PI, 201);
    let x = Var::new(grid.clone());
    let grads = x.sin().sum().backward();
    // The backward of sin multiplies the upstream 1 by cos x: exactly cos x.
    assert_eq!(grads.grad(&x).unwrap(), grid.mapv(f64::cos).into_dyn());
    // And the second derivative is -sin x.
    let dsin = grad_vars(&x.sin().sum(), &[&x]).remove(0);
    let second = dsin.sum().backward().grad(&x).unwrap();
    assert_close(
        &second,
        &grid.mapv(|t| -t.sin()).into_dyn(),
        1e-15,
        "d2 sin",
    );
}

#[test]
fn x_times_y_to_the_fifth() {
    // z = x y^5 at x = 3, y = 7: dz/dx = y^5 = 16807, dz/dy = 5 x y^4 = 36015.
    let x = Var::new(arr0(3.0));
    let y = Var::new(arr0(7.0));
    let z = &x * &y.powi(5);
    assert_eq!(z.item(), 50421.0);
    let grads = z.backward();
    assert_eq!(grads.grad(&x).unwrap()[[]], 16807.0);
    assert_eq!(grads.grad(&y).unwrap()[[]], 36015.0);
}

// ---------------------------------------------------------------------------------------------
// Reductions and shape operations.

#[test]
fn reduction_gradients() {
    // d sum a = sum da; d mean a = sum da / n; d |a| = a / |a| . da; d(a.b) = b.da + a.db.
    let x = random(&[2, 3, 4], 9);
    check_unary("sum", Var::sum, x.clone());
    check_unary("mean", Var::mean, x.clone());
    check_unary("norm", Var::norm, x.clone());
    for axis in 0..3 {
        check_unary(
            &format!("sum_axis({axis})"),
            |a| a.sum_axis(axis),
            x.clone(),
        );
        check_unary(
            &format!("mean_axis({axis})"),
            |a| a.mean_axis(axis),
            x.clone(),
        );
    }
    check_gradients(
        "dot",
        |v| v[0].dot(&v[1]),
        &[random(&[5], 10), random(&[5], 11)],
    );
    check_unary("dot with itself", |a| a.dot(a), random(&[4], 12));
}

#[test]
fn reduction_values() {
    let a = Var::new(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(a.sum().item(), 21.0);
    assert_eq!(a.mean().item(), 3.5);
    assert_eq!(a.sum_axis(0).value(), &array![5.0, 7.0, 9.0].into_dyn());
    assert_eq!(a.mean_axis(1).value(), &array![2.0, 5.0].into_dyn());
    assert_eq!(Var::new(array![2.0, 3.0, 6.0]).norm().item(), 7.0);
}

#[test]
fn shape_operation_gradients() {
    // row: g lands in row i; stack_rows: operand k gets row k; reshape: g reshaped back;
    // broadcast_to and sum_to are each other's adjoints.
    let m = random(&[3, 4], 13);
    for i in 0..3 {
        check_unary(&format!("row({i})"), |a| a.row(i), m.clone());
    }
    check_unary("row of a vector", |a| a.row(2), random(&[4], 14));
    check_unary("row of a 3-d array", |a| a.row(1), random(&[2, 2, 3], 15));
    check_gradients(
        "stack_rows",
        |v| Var::stack_rows(&[v[0].clone(), v[1].clone(), v[0].clone()]),
        &[random(&[2, 3], 16), random(&[2, 3], 17)],
    );
    check_unary("reshape", |a| a.reshape(&[2, 6]), m.clone());
    check_unary("reshape to 3-d", |a| a.reshape(&[2, 3, 2]).sin(), m.clone());
    check_unary("broadcast_to", |a| a.broadcast_to(&[2, 3, 4]), m.clone());
    check_unary(
        "broadcast_to size 1",
        |a| a.broadcast_to(&[3, 4]),
        random(&[3, 1], 18),
    );
    check_unary("sum_to", |a| a.sum_to(&[4]), m.clone());
    check_unary("sum_to size 1", |a| a.sum_to(&[3, 1]), m);
}

#[test]
fn stack_rows_and_row_values() {
    let a = Var::new(array![1.0, 2.0]);
    let b = Var::new(array![3.0, 4.0]);
    let m = Var::stack_rows(&[a, b]);
    assert_eq!(m.value(), &array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
    assert_eq!(m.row(1).value(), &array![3.0, 4.0].into_dyn());
    assert_eq!(m.row(0).row(1).item(), 2.0);
}

#[test]
fn reshape_of_a_transposed_leaf_uses_logical_order() {
    let t = array![[1.0, 2.0], [3.0, 4.0]].reversed_axes(); // [[1, 3], [2, 4]]
    let x = Var::new(t);
    assert_eq!(
        x.reshape(&[4]).value(),
        &array![1.0, 3.0, 2.0, 4.0].into_dyn()
    );
    let w = Var::constant(array![1.0, 2.0, 3.0, 4.0]);
    let grads = (&x.reshape(&[4]) * &w).sum().backward();
    assert_eq!(
        grads.grad(&x).unwrap(),
        array![[1.0, 2.0], [3.0, 4.0]].into_dyn()
    );
}

#[test]
fn composite_network_layer() {
    // y = tanh(x W + b)^2 summed per row, through broadcasting, exp and division.
    check_gradients(
        "layer",
        |v| {
            let xw = (&v[0].reshape(&[2, 3, 1]) * &v[1]).sum_axis(1); // [2, 4]
            let h = (&xw + &v[2]).tanh();
            let soft = &h.exp() / &h.exp().sum_axis(1).reshape(&[2, 1]);
            &(&soft * &h).sum_axis(1) + &v[0].norm()
        },
        &[random(&[2, 3], 19), random(&[3, 4], 20), random(&[4], 21)],
    );
}

// ---------------------------------------------------------------------------------------------
// Accumulation, stopping gradients, higher order.

#[test]
fn value_used_twice_accumulates() {
    // d(x x)/dx = 2x
    let x = Var::new(array![1.0, -2.0, 3.0]);
    let grads = (&x * &x).sum().backward();
    assert_eq!(grads.grad(&x).unwrap(), array![2.0, -4.0, 6.0].into_dyn());
}

#[test]
fn value_used_in_several_branches_accumulates() {
    // f = x y + e^x + x sin x + y: df/dx = y + e^x + sin x + x cos x, df/dy = x + 1
    let (xv, yv) = (0.7_f64, -1.3_f64);
    let x = Var::new(arr0(xv));
    let y = Var::new(arr0(yv));
    let f = &(&(&(&x * &y) + &x.exp()) + &(&x * &x.sin())) + &y;
    let grads = f.backward();
    let dx = yv + xv.exp() + xv.sin() + xv * xv.cos();
    assert!((grads.grad(&x).unwrap()[[]] - dx).abs() < 1e-15);
    assert_eq!(grads.grad(&y).unwrap()[[]], xv + 1.0);
    // An intermediate used twice: u = x^2, f = u u, df/dx = 4 x^3.
    let u = x.powi(2);
    let grads = (&u * &u).backward();
    assert!((grads.grad(&x).unwrap()[[]] - 4.0 * xv.powi(3)).abs() < 1e-14);
    assert!((grads.grad(&u).unwrap()[[]] - 2.0 * xv * xv).abs() < 1e-15);
}

#[test]
fn detach_stops_the_gradient() {
    let x = Var::new(arr0(3.0));
    let d = x.detach();
    assert!(!d.requires_grad() && !d.is_leaf());
    assert_eq!(d.value(), x.value());
    // f = x^2 detach(x): df/dx = 2x detach(x) = 18, not 3 x^2 = 27.
    let grads = (&x.powi(2) * &d).backward();
    assert_eq!(grads.grad(&x).unwrap()[[]], 18.0);
    assert!(grads.grad(&d).is_none());
}

#[test]
fn no_grad_stops_recording_and_restores_the_mode() {
    let x = Var::new(array![1.0, 2.0]);
    let frozen = no_grad(|| {
        assert!(!is_grad_enabled());
        let y = x.exp();
        assert!(!y.requires_grad());
        // A leaf made inside no_grad still requires grad.
        assert!(Var::new(arr0(1.0)).requires_grad());
        y
    });
    assert!(is_grad_enabled());
    let grads = (&x + &frozen).sum().backward();
    assert_eq!(grads.grad(&x).unwrap(), array![1.0, 1.0].into_dyn());
    // Nested scopes, and a panic inside one, restore the mode.
    no_grad(|| no_grad(|| assert!(!is_grad_enabled())));
    assert!(is_grad_enabled());
    let caught = std::panic::catch_unwind(|| no_grad(|| panic!("inside no_grad")));
    assert!(caught.is_err());
    assert!(is_grad_enabled());
}

#[test]
fn output_without_grad_has_no_gradients() {
    let c = Var::constant(array![1.0, 2.0]);
    let grads = c.exp().sum().backward();
    assert!(grads.is_empty());
    let x = Var::new(arr0(1.0));
    let unrelated = Var::new(arr0(2.0));
    assert_eq!(grad_vars(&x.exp(), &[&unrelated])[0].item(), 0.0);
}

#[test]
fn gradients_of_intermediate_results_are_available() {
    let x = Var::new(array![1.0, 2.0]);
    let y = &x * 3.0;
    let z = y.powi(2).sum(); // dz/dy = 2y
    let grads = z.backward();
    assert_eq!(grads.grad(&y).unwrap(), array![6.0, 12.0].into_dyn());
    assert_eq!(grads.grad(&x).unwrap(), array![18.0, 36.0].into_dyn());
}

#[test]
fn third_derivative_by_differentiating_twice_recorded() {
    // f = x^4 at x = 2: f' = 4x^3 = 32, f'' = 12 x^2 = 48, f''' = 24 x = 48, f'''' = 24.
    let x = Var::new(arr0(2.0));
    let d1 = grad_vars(&x.powi(4), &[&x]).remove(0);
    let d2 = grad_vars(&d1, &[&x]).remove(0);
    let d3 = grad_vars(&d2, &[&x]).remove(0);
    let d4 = d3.backward().grad(&x).unwrap()[[]];
    assert_eq!(
        (d1.item(), d2.item(), d3.item(), d4),
        (32.0, 48.0, 48.0, 24.0)
    );
}

#[test]
fn backward_with_graph_gradient_is_recorded_backward_is_not() {
    let x = Var::new(arr0(1.5));
    let y = x.powi(3);
    assert!(y
        .backward_with_graph()
        .grad_var(&x)
        .unwrap()
        .requires_grad());
    assert!(!y.backward().grad_var(&x).unwrap().requires_grad());
}

#[test]
fn f32_computes_the_same_derivatives() {
    let x = Var::new(array![1.0_f32, 2.0]);
    let grads = (&x.powi(3) * 2.0).sum().backward(); // 6 x^2
    assert_eq!(grads.grad(&x).unwrap(), array![6.0_f32, 24.0].into_dyn());
    let d2 = grad_vars(&x.sin().sum(), &[&x])[0].sum().backward();
    assert_eq!(d2.grad(&x).unwrap(), x.value().mapv(|t| -t.sin()));
}

#[test]
fn a_long_chain_is_differentiated_and_dropped_without_recursion() {
    let x = Var::new(arr0(1.0));
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = &y * 1.0 + 0.0;
    }
    assert_eq!(y.backward().grad(&x).unwrap()[[]], 1.0);
    drop(y);
}

#[test]
fn backward_seed_gives_vector_jacobian_products() {
    let x = Var::new(array![1.0, 2.0, 3.0]);
    let y = x.powi(2); // diagonal Jacobian 2x
    let grads = y.backward_with(array![1.0, 0.5, -1.0].into_dyn(), false);
    assert_eq!(grads.grad(&x).unwrap(), array![2.0, 2.0, -6.0].into_dyn());
}

// ---------------------------------------------------------------------------------------------
// Misuse panics at the caller with the shapes.

#[test]
#[should_panic(expected = "autograd: cannot add shapes [2, 3] and [2]: they do not broadcast")]
fn adding_shapes_that_do_not_broadcast_panics() {
    let _ = &Var::new(ArrayD::<f64>::zeros(vec![2, 3])) + &Var::new(ArrayD::zeros(vec![2]));
}

#[test]
#[should_panic(expected = "`backward` needs an output with one element, not shape [2]")]
fn backward_of_a_vector_panics() {
    let _ = Var::new(array![1.0, 2.0]).exp().backward();
}

#[test]
#[should_panic(expected = "`dot` needs two vectors of equal length")]
fn dot_of_unequal_lengths_panics() {
    let _ = Var::new(array![1.0, 2.0]).dot(&Var::new(array![1.0]));
}

#[test]
#[should_panic(expected = "`row(2)` is out of range for shape [2, 2]")]
fn row_out_of_range_panics() {
    let _ = Var::new(ndarray::Array2::<f64>::zeros((2, 2))).row(2);
}

#[test]
#[should_panic(expected = "cannot reshape shape [2, 2] into [3]")]
fn reshape_to_another_length_panics() {
    let _ = Var::new(ndarray::Array2::<f64>::zeros((2, 2))).reshape(&[3]);
}

#[test]
#[should_panic(expected = "`stack_rows` needs rows of equal shapes, not [2] and [3]")]
fn stacking_unequal_rows_panics() {
    let _ = Var::stack_rows(&[
        Var::new(Array1::<f64>::zeros(2)),
        Var::new(Array1::<f64>::zeros(3)),
    ]);
}
