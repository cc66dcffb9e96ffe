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
//! Every figure is a claim (`Report::check`), checked when the demo runs and by the test at the
//! bottom of this file; `run` computes them, `main` prints them.
//!
//! Run: `cargo run --release --example hessian_contraction` (`--json` for a machine-readable
//! last line with `result`; `--quick` is accepted and changes nothing: the demo takes
//! milliseconds).

mod common;

use common::{claim, conclude, Args, ClaimFailed, Outcome};
use einsum::autograd::{batch_hessian, batch_jacobian, Var};
use einsum::{einsum, try_einsum, EinsumError};
use ndarray::{array, Array2, Array3, Array4, ArrayView2, ArrayViewD, Axis, Dimension, Ix2, IxDyn};
use std::error::Error;

/// What the run found, step by step.
struct Report {
    // The inputs: the samples `x` (one per row) and the matrix `C`.
    x: Array2<f64>,
    c: Array2<f64>,
    // 1. The outputs `y = (x C)^2`.
    y: Array2<f64>,
    // 2. The per-sample Jacobians `J[b, j, i]`, by the autograd and by hand.
    jacobian: Array3<f64>,
    jacobian_by_hand: Array3<f64>,
    // 3. The per-sample Hessians `H[b, j, i, k]`, by the autograd and by hand.
    hessian: Array4<f64>,
    hessian_by_hand: Array4<f64>,
    // 4. The quadratic forms `x_b^T H_bj x_b`, by two loops and by one einsum.
    by_loops: Array2<f64>,
    result: Array2<f64>,
    // 5. The trap: what `bi,bijk,bk->bj` computes, and the vector-Jacobian product it equals.
    wrong: Array2<f64>,
    vjp: Array2<f64>,
    // With 4 outputs: the Hessian's shape, what the wrong spec gives (an error), and the
    // quadratic forms by the right one.
    wide_shape: Vec<usize>,
    wide_wrong: Result<Array2<f64>, EinsumError>,
    wide_result: Array2<f64>,
}

/// `f(x) = (x C)^2` row by row: `y_bj = (sum_i x_bi C_ij)^2`. Rows are independent (row `b`
/// of `y` depends on row `b` of `x` only), which `batch_jacobian` and `batch_hessian` need.
fn f(x: &Var<f64>, c: &Var<f64>) -> Var<f64> {
    einsum!("bi,ij->bj", x, c).powi(2)
}

/// The five steps.
fn run() -> Report {
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
    let jacobian: Array3<f64> = batch_jacobian(|x| f(x, &c), &x);
    let xc = x.dot(&c_value);
    let jacobian_by_hand = Array3::from_shape_fn((batch, n_out, n_in), |(b, j, i)| {
        2.0 * xc[[b, j]] * c_value[[i, j]]
    });

    // ---------------------------------------------------------------------------------------
    // 3. Per-sample Hessians, H[b, j, i, k] = d^2 y_bj / (dx_bi dx_bk), shape
    //    [sample, output, input, input]: the output index comes second, right after the
    //    sample. That order matters in step 5.
    //
    //    By hand: y_bj is a quadratic in x_b, so its Hessian is constant: 2 C_ij C_kj.
    // ---------------------------------------------------------------------------------------
    let hessian: Array4<f64> = batch_hessian(|x| f(x, &c), &x);
    let hessian_by_hand = Array4::from_shape_fn((batch, n_out, n_in, n_in), |(_, j, i, k)| {
        2.0 * c_value[[i, j]] * c_value[[k, j]]
    });

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
                    sum += x[[b, i]] * hessian[[b, j, i, k]] * x[[b, k]];
                }
            }
            by_loops[[b, j]] = sum;
        }
    }

    //    Now the same with one contraction. Read the spec term by term: x is `bi`, H is
    //    `bjik` — sample b, output j, inputs i and k, exactly the axes of step 3 — and the
    //    second x is `bk`. Labels i and k are absent from the output `bj`, so they are summed:
    //    that is the double loop above, and b and j are the two outer loops.
    let result: Array2<f64> = einsum!("bi,bjik,bk->bj", &x, &hessian, &x);
    //    Every product and sum here is an integer well below 2^53, so the two must be equal,
    //    exactly (`check` compares them). It has a second check that needs no Hessian at all:
    //    y_bj is homogeneous of degree 2 in x_b, so by Euler's theorem x_b^T H_bj x_b = 2 y_bj.

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
    let wrong: Array2<f64> = einsum!("bi,bijk,bk->bj", &x, &hessian, &x);
    let vjp: Array2<f64> = einsum!("bo,boj->bj", &x, &jacobian);

    //    With a non-square C (3 inputs, 4 outputs) the mistake cannot hide: label i would be
    //    3 in x but 4 in H. `try_einsum!` reports it instead of panicking; the right spec
    //    still works.
    let c_wide = Var::constant(array![
        [1.0, 2.0, 3.0, 1.0],
        [4.0, 5.0, 6.0, 0.0],
        [7.0, 8.0, 9.0, 2.0]
    ]);
    let hessian_wide = batch_hessian(|x| f(x, &c_wide), &x);
    let wide_wrong = try_einsum!("bi,bijk,bk->bj", &x, &hessian_wide, &x);
    let wide_result: Array2<f64> = einsum!("bi,bjik,bk->bj", &x, &hessian_wide, &x);

    Report {
        x,
        c: c_value,
        y,
        jacobian,
        jacobian_by_hand,
        hessian,
        hessian_by_hand,
        by_loops,
        result,
        wrong,
        vjp,
        wide_shape: hessian_wide.shape().to_vec(),
        wide_wrong,
        wide_result,
    }
}

impl Outcome for Report {
    fn figures(&self) -> Vec<(&'static str, String)> {
        vec![("result", json_matrix(&self.result))]
    }

    /// The claims: every figure of the five steps, exactly (all are integers well below 2^53).
    fn check(&self) -> Result<(), ClaimFailed> {
        let r = self;
        let equal = |what: &str, got: &Array2<f64>, want: &Array2<f64>| {
            claim(got == want, || {
                format!("{what} must be\n{want}\nnot\n{got}")
            })
        };
        equal(
            "y",
            &r.y,
            &array![[144.0, 225.0, 324.0], [576.0, 900.0, 1296.0]],
        )?;
        claim(r.jacobian == r.jacobian_by_hand, || {
            format!("J[b, j, i] must be 2 (x_b C)_j C_ij, not\n{}", r.jacobian)
        })?;
        claim(r.hessian == r.hessian_by_hand, || {
            format!("H[b, j, i, k] must be 2 C_ij C_kj, not\n{}", r.hessian)
        })?;
        equal("the einsum (the double loop)", &r.result, &r.by_loops)?;
        let expected = array![[288.0, 450.0, 648.0], [1152.0, 1800.0, 2592.0]];
        equal("bi,bjik,bk->bj", &r.result, &expected)?;
        equal("x^T H_j x (2 y_j, y_j quadratic)", &r.result, &(&r.y * 2.0))?;
        let trap = array![[192.0, 462.0, 732.0], [768.0, 1848.0, 2928.0]];
        equal("bi,bijk,bk->bj", &r.wrong, &trap)?;
        claim(r.wrong != r.result, || {
            "the two specs must compute different things".to_string()
        })?;
        equal("for this f the wrong spec (x_b^T J_b)", &r.wrong, &r.vjp)?;
        claim(r.wide_wrong.is_err(), || {
            "a 3-input, 4-output Hessian must not fit bi,bijk,bk->bj".to_string()
        })?;
        claim(r.wide_result.dim() == (r.x.nrows(), 4), || {
            format!(
                "the 4-output quadratic forms must be 2x4, not {:?}",
                r.wide_result.dim()
            )
        })
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mode = Args::from_env().mode();
    let report = run();

    println!("x =");
    print_matrix("  ", report.x.view());
    println!("C =");
    print_matrix("  ", report.c.view());
    println!();
    println!("1. y = (x C)^2 =");
    print_matrix("  ", report.y.view());

    println!();
    println!(
        "2. per-sample Jacobians J[b, j, i] = dy_bj/dx_bi, shape {:?}:",
        report.jacobian.shape()
    );
    print_matrices(report.jacobian.view().into_dyn(), |at| {
        format!("sample {} (row j = output, column i = input):", at[0])
    });

    println!();
    println!(
        "3. per-sample Hessians H[b, j, i, k] = d2 y_bj/(dx_bi dx_bk), shape {:?}:",
        report.hessian.shape()
    );
    print_matrices(report.hessian.view().into_dyn(), |at| {
        format!("sample {}, output {} (row i, column k):", at[0], at[1])
    });

    println!();
    println!("4. r_bj = sum_ik x_bi H_bjik x_bk");
    println!("  by two loops:");
    print_matrix("    ", report.by_loops.view());
    println!("  by einsum!(\"bi,bjik,bk->bj\", x, H, x):");
    print_matrix("    ", report.result.view());
    println!("  = 2 y, as it must be: y_bj is a homogeneous quadratic in x_b (Euler)");

    println!();
    println!("5. the trap: einsum!(\"bi,bijk,bk->bj\", x, H, x) contracts x with H's output axis:");
    print_matrix("    ", report.wrong.view());
    println!("  = x_b^T J_b, a vector-Jacobian product, not the quadratic form of step 4");
    println!(
        "  with 4 outputs instead of 3 (H of shape {:?}), that spec is an error:",
        report.wide_shape
    );
    match &report.wide_wrong {
        Err(error) => println!("    {error}"),
        Ok(_) => println!("    (it is not: see the failed claim below)"),
    }
    println!("  while bi,bjik,bk->bj gives the 2x4 quadratic forms:");
    print_matrix("    ", report.wide_result.view());

    Ok(conclude(&mode, &report)?)
}

/// One matrix as aligned rows, indented.
fn print_matrix(indent: &str, m: ArrayView2<f64>) {
    for row in m.rows() {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:>6}")).collect();
        println!("{indent}[{}]", cells.join(""));
    }
}

/// Every matrix of a tensor (its last two axes), one after the other: for the leading indices
/// `at` of each (the sample, then the output), the heading `title(at)`, then the matrix.
fn print_matrices(tensor: ArrayViewD<f64>, title: impl Fn(&[usize]) -> String) {
    let leading = &tensor.shape()[..tensor.ndim() - 2];
    for at in ndarray::indices(IxDyn(leading)) {
        let mut matrix = tensor.view();
        for &i in at.slice() {
            matrix = matrix.index_axis_move(Axis(0), i);
        }
        let matrix = matrix
            .into_dimensionality::<Ix2>()
            .expect("the last two axes");
        println!("  {}", title(at.slice()));
        print_matrix("    ", matrix);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every claim holds (the demo has no long mode: `--quick` changes nothing).
    #[test]
    fn quick_run_meets_its_claims() {
        run().check().unwrap();
    }
}
