//! Per-sample Jacobians and Hessians, and a quadratic form contracted by one einsum.
//!
//! A small "network" maps each sample (a row of `x`) to three outputs:
//! `f(x) = (x C)^2`, squared element by element, with `C = [[1,2,3],[4,5,6],[7,8,9]]`, on the
//! two samples `[1,1,1]` and `[2,2,2]`. This demo
//!
//! 1. evaluates `y = f(x)`,
//! 2. gets every sample's Jacobian `J[b, j, i] = dy_bj / dx_bi` (2x3x3) with `batch_jacobian`,
//! 3. gets every sample's Hessian `H[b, j, i, k] = d^2 y_bj / (dx_bi dx_bk)` (2x3x3x3) with
//!    `batch_hessian` (exact: the recorded gradient is differentiated again),
//! 4. computes, for each sample `b` and output `j`, the quadratic form
//!    `r_bj = x_b^T H_bj x_b = sum_ik x_bi H_bjik x_bk` twice: with two loops, and with the
//!    single contraction `einsum!("bi,bjik,bk->bj", x, H, x)`. Both must give
//!    `[[288, 450, 648], [1152, 1800, 2592]]`,
//! 5. shows the trap: the spec `bi,bijk,bk->bj` (the one usually suggested for this problem)
//!    names the Hessian's axes in the wrong order, contracts `x` with the *output* axis, and
//!    gives `[[192, 462, 732], [768, 1848, 2928]]` — a different quantity, not a rounding
//!    difference — and explains why nothing complains.
//!
//! Every figure is asserted, so running the demo checks it.
//!
//! Run: `cargo run --release --example hessian_contraction` (`--json` for a machine-readable
//! last line with `result`; `--quick` is accepted and changes nothing: the demo takes
//! milliseconds).

mod common;

use common::{json_line, Mode};
use einsum::autograd::{batch_hessian, batch_jacobian, Var};
use einsum::{einsum, try_einsum};
use ndarray::{array, Array2, Array3, Array4};

/// `f(x) = (x C)^2` row by row: `y_bj = (sum_i x_bi C_ij)^2`. Rows are independent (row `b`
/// of `y` depends on row `b` of `x` only), which `batch_jacobian` and `batch_hessian` need.
fn f(x: &Var<f64>, c: &Var<f64>) -> Var<f64> {
    einsum!("bi,ij->bj", x, c).powi(2)
}

/// One matrix as aligned rows, indented.
fn print_matrix(indent: &str, m: &Array2<f64>) {
    for row in m.rows() {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:>6}")).collect();
        println!("{indent}[{}]", cells.join(""));
    }
}

/// A nested JSON list of numbers, e.g. `[[1.0, 2.0], [3.0, 4.0]]`.
fn json_matrix(m: &Array2<f64>) -> String {
    let rows: Vec<String> = m
        .rows()
        .into_iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
            format!("[{}]", cells.join(", "))
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

fn main() {
    let mode = Mode::from_args();

    let c_value = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    let c = Var::constant(c_value.clone());
    let x = array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
    let (batch, n_in) = x.dim();
    let n_out = c_value.ncols();

    // ---------------------------------------------------------------------------------------
    // 1. The outputs. For x_0 = [1,1,1], x_0 C = [12, 15, 18] (the column sums of C), so
    //    y_0 = [144, 225, 324]; x_1 = 2 x_0, and squaring makes y_1 = 4 y_0.
    // ---------------------------------------------------------------------------------------
    let y: Array2<f64> = f(&Var::constant(x.clone()), &c)
        .value()
        .clone()
        .into_dimensionality()
        .expect("f maps [2, 3] to [2, 3]");
    println!("x =");
    print_matrix("  ", &x);
    println!("C =");
    print_matrix("  ", &c_value);
    println!();
    println!("1. y = (x C)^2 =");
    print_matrix("  ", &y);
    assert_eq!(y, array![[144.0, 225.0, 324.0], [576.0, 900.0, 1296.0]]);

    // ---------------------------------------------------------------------------------------
    // 2. Per-sample Jacobians, J[b, j, i] = dy_bj / dx_bi, shape [sample, output, input].
    //
    //    PyTorch's `jacobian` of the whole batch is [b, out, b, in], mostly zeros (sample b's
    //    outputs do not depend on sample b''s inputs); the usual recipe sums the second batch
    //    axis away and transposes. `batch_jacobian` returns the [b, out, in] block directly,
    //    with one backward pass per output column whatever the batch size.
    //
    //    By hand: dy_bj/dx_bi = 2 (x_b C)_j C_ij.
    // ---------------------------------------------------------------------------------------
    let jac: Array3<f64> = batch_jacobian(|x| f(x, &c), &x);
    println!();
    println!(
        "2. per-sample Jacobians J[b, j, i] = dy_bj/dx_bi, shape {:?}:",
        jac.shape()
    );
    for b in 0..batch {
        println!("  sample {b} (row j = output, column i = input):");
        print_matrix("    ", &jac.index_axis(ndarray::Axis(0), b).to_owned());
    }
    let xc = x.dot(&c_value);
    let jac_by_hand = Array3::from_shape_fn((batch, n_out, n_in), |(b, j, i)| {
        2.0 * xc[[b, j]] * c_value[[i, j]]
    });
    assert_eq!(jac, jac_by_hand, "J[b, j, i] must be 2 (x_b C)_j C_ij");

    // ---------------------------------------------------------------------------------------
    // 3. Per-sample Hessians, H[b, j, i, k] = d^2 y_bj / (dx_bi dx_bk), shape
    //    [sample, output, input, input]: the output index comes second, right after the
    //    sample. That order matters in step 5.
    //
    //    By hand: y_bj is a quadratic in x_b, so its Hessian is constant: 2 C_ij C_kj.
    // ---------------------------------------------------------------------------------------
    let hess: Array4<f64> = batch_hessian(|x| f(x, &c), &x);
    println!();
    println!(
        "3. per-sample Hessians H[b, j, i, k] = d2 y_bj/(dx_bi dx_bk), shape {:?}:",
        hess.shape()
    );
    for b in 0..batch {
        for j in 0..n_out {
            println!("  sample {b}, output {j} (row i, column k):");
            let block = hess.slice(ndarray::s![b, j, .., ..]).to_owned();
            print_matrix("    ", &block);
        }
    }
    let hess_by_hand = Array4::from_shape_fn((batch, n_out, n_in, n_in), |(_, j, i, k)| {
        2.0 * c_value[[i, j]] * c_value[[k, j]]
    });
    assert_eq!(hess, hess_by_hand, "H[b, j, i, k] must be 2 C_ij C_kj");

    // ---------------------------------------------------------------------------------------
    // 4. The quadratic forms r_bj = x_b^T H_bj x_b.
    //
    //    First the loops, the way one would write it without einsum: for each sample and each
    //    output, the double sum over the two input indices i and k.
    // ---------------------------------------------------------------------------------------
    let mut by_loops = Array2::<f64>::zeros((batch, n_out));
    for b in 0..batch {
        for j in 0..n_out {
            let mut sum = 0.0;
            for i in 0..n_in {
                for k in 0..n_in {
                    sum += x[[b, i]] * hess[[b, j, i, k]] * x[[b, k]];
                }
            }
            by_loops[[b, j]] = sum;
        }
    }

    //    Now the same with one contraction. Read the spec term by term: x is `bi`, H is
    //    `bjik` — sample b, output j, inputs i and k, exactly the axes of step 3 — and the
    //    second x is `bk`. Labels i and k are absent from the output `bj`, so they are summed:
    //    that is the double loop above, and b and j are the two outer loops.
    let result: Array2<f64> = einsum!("bi,bjik,bk->bj", &x, &hess, &x);
    println!();
    println!("4. r_bj = sum_ik x_bi H_bjik x_bk");
    println!("  by two loops:");
    print_matrix("    ", &by_loops);
    println!("  by einsum!(\"bi,bjik,bk->bj\", x, H, x):");
    print_matrix("    ", &result);
    let expected = array![[288.0, 450.0, 648.0], [1152.0, 1800.0, 2592.0]];
    // Every product and sum here is an integer well below 2^53: equality is exact.
    assert_eq!(result, by_loops, "the einsum must equal the double loop");
    assert_eq!(result, expected);
    //    A check that needs no Hessian at all: y_bj is homogeneous of degree 2 in x_b, so by
    //    Euler's theorem x_b^T H_bj x_b = 2 y_bj.
    assert_eq!(
        result,
        &y * 2.0,
        "x^T H_j x must be 2 y_j for a quadratic y_j"
    );
    println!("  = 2 y, as it must be: y_bj is a homogeneous quadratic in x_b (Euler)");

    // ---------------------------------------------------------------------------------------
    // 5. The trap: `bi,bijk,bk->bj`.
    //
    //    This spec reads H's axes as (b, i, j, k), but they are (sample, output, input,
    //    input). So the label i, which it shares with x, lands on the OUTPUT axis, and the
    //    label j, which it keeps, lands on the first INPUT axis:
    //
    //        w_bj = sum_{o,k} x_bo H[b, o, j, k] x_bk
    //
    //    It weights the different outputs o by the input coordinates x_bo, which means
    //    nothing, and returns a function of an input index j. Here it works out to
    //    w_b = x_b^T J_b (a vector-Jacobian product), because sum_k H[b, o, j, k] x_bk =
    //    J[b, o, j] for a quadratic (Euler again).
    //
    //    Why does nothing complain? Because this f has as many outputs as inputs (3 and 3),
    //    so every label still has one extent. The result has the right shape and plausible
    //    numbers; only the values are wrong.
    // ---------------------------------------------------------------------------------------
    let wrong: Array2<f64> = einsum!("bi,bijk,bk->bj", &x, &hess, &x);
    println!();
    println!("5. the trap: einsum!(\"bi,bijk,bk->bj\", x, H, x) contracts x with H's output axis:");
    print_matrix("    ", &wrong);
    assert_eq!(
        wrong,
        array![[192.0, 462.0, 732.0], [768.0, 1848.0, 2928.0]]
    );
    assert_ne!(wrong, result, "the two specs compute different things");
    let vjp: Array2<f64> = einsum!("bo,boj->bj", &x, &jac);
    assert_eq!(wrong, vjp, "for this f the wrong spec gives x_b^T J_b");
    println!("  = x_b^T J_b, a vector-Jacobian product, not the quadratic form of step 4");

    //    With a non-square C (3 inputs, 4 outputs) the mistake cannot hide: label i would be
    //    3 in x but 4 in H. `try_einsum!` reports it instead of panicking; the right spec
    //    still works.
    let c_wide = Var::constant(array![
        [1.0, 2.0, 3.0, 1.0],
        [4.0, 5.0, 6.0, 0.0],
        [7.0, 8.0, 9.0, 2.0]
    ]);
    let hess_wide = batch_hessian(|x| f(x, &c_wide), &x);
    let error = try_einsum!("bi,bijk,bk->bj", &x, &hess_wide, &x)
        .expect_err("a 3-input, 4-output Hessian does not fit bi,bijk,bk->bj");
    println!(
        "  with 4 outputs instead of 3 (H of shape {:?}), that spec is an error:",
        hess_wide.shape()
    );
    println!("    {error}");
    let right_wide: Array2<f64> = einsum!("bi,bjik,bk->bj", &x, &hess_wide, &x);
    assert_eq!(right_wide.dim(), (batch, 4));
    println!("  while bi,bjik,bk->bj gives the 2x4 quadratic forms:");
    print_matrix("    ", &right_wide);

    if mode.json {
        println!("{}", json_line(&[("result", json_matrix(&result))]));
    }
}
