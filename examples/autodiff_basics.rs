//! Automatic differentiation, first steps: exact derivatives without working them out by hand.
//!
//! The autograd records every operation done on [`Var`]s; a backward pass then walks that
//! record in reverse and applies the chain rule, node by node. This demo
//!
//! 1. differentiates `z = x * y^5` at `x = 3`, `y = 7` and gets the partial derivatives
//!    `dz/dx = y^5 = 16807` and `dz/dy = 5 x y^4 = 36015` exactly,
//! 2. differentiates a contraction written with `einsum!` (a dot product), which is one node
//!    of the record like any other operation,
//! 3. differentiates `sin` at 100 points of `[0, 2 pi]` in one backward pass, compares the
//!    result with `cos` (the largest difference must be below 1e-12), goes once more for the
//!    second derivative `-sin`, and plots `sin`, its derivative and `cos` together.
//!
//! Run: `cargo run --release --example autodiff_basics` (`--json` for a machine-readable last
//! line; `--quick` is accepted, and changes nothing: the whole demo takes milliseconds). The
//! plot is written to `target/plots/autodiff_basics_sin.svg`.

mod common;

use common::{json_line, plot_lines, plot_path, Mode};
use einsum::autograd::Var;
use einsum::einsum;
use ndarray::{arr0, array, Array1};
use std::f64::consts::PI;

/// Points on the grid over `[0, 2 pi]` (both ends included).
const POINTS: usize = 100;

/// The largest absolute difference between two equally long sequences of numbers.
fn max_abs_diff<'a>(
    a: impl IntoIterator<Item = &'a f64>,
    b: impl IntoIterator<Item = &'a f64>,
) -> f64 {
    a.into_iter()
        .zip(b)
        .fold(0.0_f64, |m, (p, q)| m.max((p - q).abs()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = Mode::from_args();

    // ---------------------------------------------------------------------------------------
    // 1. Partial derivatives of z = x * y^5 at x = 3, y = 7.
    //
    // `Var::new` makes a leaf that wants its gradient (PyTorch's `requires_grad=True`); the
    // arithmetic on `Var`s both computes the value and records how it was computed.
    // `backward` then gives the derivative of `z` with respect to every leaf at once.
    // By hand: dz/dx = y^5 = 16807 and dz/dy = 5 x y^4 = 15 * 2401 = 36015.
    // ---------------------------------------------------------------------------------------
    let x = Var::new(arr0(3.0));
    let y = Var::new(arr0(7.0));
    let z = &x * &y.powi(5);
    let grads = z.backward();
    let dz_dx = grads.grad(&x).expect("z depends on x")[[]];
    let dz_dy = grads.grad(&y).expect("z depends on y")[[]];

    println!("1. z = x * y^5 at x = 3, y = 7");
    println!("   z     = {}", z.item());
    println!("   dz/dx = {dz_dx}   (y^5 = {})", 7_i64.pow(5));
    println!("   dz/dy = {dz_dy}   (5 x y^4 = {})", 5 * 3 * 7_i64.pow(4));
    // Every intermediate value is an integer well below 2^53, so the derivatives are exact.
    assert_eq!(z.item(), 50421.0, "z = 3 * 7^5");
    assert_eq!(dz_dx, 16807.0, "dz/dx must be y^5 = 16807");
    assert_eq!(dz_dy, 36015.0, "dz/dy must be 5 x y^4 = 36015");

    // ---------------------------------------------------------------------------------------
    // 2. A contraction is differentiable too.
    //
    // `einsum!("i,i->", a, b)` is the dot product sum_i a_i b_i. On `Var`s it is recorded as a
    // single node, whose backward pass is again a contraction: d(a.b)/da_i = b_i.
    // ---------------------------------------------------------------------------------------
    let a = Var::new(array![1.0, 2.0, 3.0]);
    let b = Var::constant(array![4.0, 5.0, 6.0]); // a constant: no gradient wanted
    let dot = einsum!("i,i->", &a, &b);
    let d_dot_da = dot
        .backward()
        .grad(&a)
        .expect("the dot product depends on a");

    println!();
    println!("2. the dot product a.b = einsum!(\"i,i->\", a, b), a = [1, 2, 3], b = [4, 5, 6]");
    println!("   a.b       = {}", dot.item());
    println!("   d(a.b)/da = {d_dot_da}   (that is b)");
    assert_eq!(dot.item(), 32.0, "1*4 + 2*5 + 3*6 = 32");
    assert_eq!(
        d_dot_da,
        b.value().clone(),
        "the gradient of a.b with respect to a is b"
    );

    // ---------------------------------------------------------------------------------------
    // 3. The derivative of sin on a grid, compared with cos.
    //
    // `y = sin(x)` is applied element by element to the 100 grid points, so y_i depends on
    // x_i alone and dy_i/dx_i = cos(x_i). A backward pass needs a single number to start
    // from; the sum s = sum_i y_i is one, and ds/dx_i = dy_i/dx_i: one backward pass gives
    // the derivative at every point. (PyTorch's `y.backward(torch.ones_like(x))` is this sum
    // in disguise.)
    // ---------------------------------------------------------------------------------------
    let grid = Array1::linspace(0.0, 2.0 * PI, POINTS);
    let x = Var::new(grid.clone());
    let sin = x.sin();
    // `backward_with_graph` also records the backward pass, so the derivative can itself be
    // differentiated in step 3b.
    let derivative = sin
        .sum()
        .backward_with_graph()
        .grad_var(&x)
        .expect("sin(x) depends on x");
    let cos = grid.mapv(f64::cos);
    let max_abs_error_cos = max_abs_diff(derivative.value(), &cos);

    println!();
    println!("3. d/dx sin(x) on {POINTS} points of [0, 2 pi], against cos(x)");
    // Values that round to zero print as 0, not -0.
    let shown = |v: f64| if v.abs() < 5e-7 { 0.0 } else { v };
    for i in [0, POINTS / 4, POINTS / 2, 3 * POINTS / 4, POINTS - 1] {
        println!(
            "   x = {:.4}: sin = {:+.6}, d/dx sin = {:+.6}, cos = {:+.6}",
            grid[i],
            shown(sin.value()[[i]]),
            shown(derivative.value()[[i]]),
            shown(cos[i])
        );
    }
    println!("   largest |d/dx sin - cos| over the grid: {max_abs_error_cos:e}");
    assert!(
        max_abs_error_cos < 1e-12,
        "the autograd's derivative of sin must be cos to 1e-12, not {max_abs_error_cos:e}"
    );

    // 3b. Once more: the derivative of the derivative. Each d/dx_i sin depends on x_i alone
    // again, so the same sum trick gives the second derivative, -sin, at every point.
    let second = derivative
        .sum()
        .backward()
        .grad(&x)
        .expect("cos(x) depends on x");
    let max_abs_error_second = max_abs_diff(&second, &grid.mapv(|t| -t.sin()));
    println!("   largest |d2/dx2 sin - (-sin)| over the grid: {max_abs_error_second:e}");
    assert!(
        max_abs_error_second < 1e-12,
        "the second derivative of sin must be -sin to 1e-12, not {max_abs_error_second:e}"
    );

    // ---------------------------------------------------------------------------------------
    // 4. The plot: sin, its derivative by the autograd, and cos. The last two coincide, so
    //    only two curves are visible; the legend names all three.
    // ---------------------------------------------------------------------------------------
    let curve = |values: &[f64]| -> Vec<(f64, f64)> {
        grid.iter().copied().zip(values.iter().copied()).collect()
    };
    let sin_values: Vec<f64> = sin.value().iter().copied().collect();
    let derivative_values: Vec<f64> = derivative.value().iter().copied().collect();
    let plot = plot_path("autodiff_basics_sin.svg")?;
    plot_lines(
        &plot,
        "x",
        "y",
        &[
            ("sin(x)", curve(&sin_values)),
            ("d/dx sin(x), by the autograd", curve(&derivative_values)),
            (
                "cos(x)",
                curve(cos.as_slice().expect("a fresh array is contiguous")),
            ),
        ],
        false,
    )?;
    println!();
    println!(
        "4. plot of sin, d/dx sin and cos (the last two lie on top of each other): {}",
        plot.display()
    );

    if mode.json {
        println!(
            "{}",
            json_line(&[
                ("dz_dx", format!("{dz_dx:?}")),
                ("dz_dy", format!("{dz_dy:?}")),
                ("max_abs_error_cos", format!("{max_abs_error_cos:e}")),
            ])
        );
    }
    Ok(())
}
