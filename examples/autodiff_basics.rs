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
//! `run` computes, `Report::check` states what must come out (exactly, where the arithmetic
//! is exact), and `main` prints, plots and checks; the test at the bottom checks the same.
//!
//! Run: `cargo run --release --example autodiff_basics` (`--json` for a machine-readable last
//! line; `--quick` is accepted, and changes nothing: the whole demo takes milliseconds). The
//! plot is written to `target/plots/autodiff_basics_sin.svg`.

mod common;

use common::{claim, conclude, plot, Args, ClaimFailed, Outcome, Scale};
use einsum::autograd::Var;
use einsum::einsum;
use ndarray::{arr0, array, Array1, ArrayD};
use std::error::Error;
use std::f64::consts::PI;

/// Points on the grid over `[0, 2 pi]` (both ends included).
const POINTS: usize = 100;

/// What the run found.
struct Report {
    // Step 1: `z = x y^5` at `x = 3`, `y = 7`, and its partial derivatives.
    z: f64,
    dz_dx: f64,
    dz_dy: f64,
    // Step 2: the dot product `a.b`, its gradient with respect to `a`, and `b`.
    dot: f64,
    d_dot_da: ArrayD<f64>,
    b: ArrayD<f64>,
    // Step 3: the grid, `sin` on it, the autograd's derivative, and `cos`.
    grid: Array1<f64>,
    sin: ArrayD<f64>,
    derivative: ArrayD<f64>,
    cos: Array1<f64>,
    // The largest `|d/dx sin - cos|` and `|d2/dx2 sin - (-sin)|` over the grid.
    max_abs_error_cos: f64,
    max_abs_error_second: f64,
}

/// The largest absolute difference between two equally long sequences of numbers.
fn max_abs_diff<'a>(
    a: impl IntoIterator<Item = &'a f64>,
    b: impl IntoIterator<Item = &'a f64>,
) -> f64 {
    a.into_iter()
        .zip(b)
        .fold(0.0_f64, |m, (p, q)| m.max((p - q).abs()))
}

/// The three steps.
fn run() -> Report {
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

    // 3b. Once more: the derivative of the derivative. Each d/dx_i sin depends on x_i alone
    // again, so the same sum trick gives the second derivative, -sin, at every point.
    let second = derivative
        .sum()
        .backward()
        .grad(&x)
        .expect("cos(x) depends on x");
    let max_abs_error_second = max_abs_diff(&second, &grid.mapv(|t| -t.sin()));

    Report {
        z: z.item(),
        dz_dx,
        dz_dy,
        dot: dot.item(),
        d_dot_da,
        b: b.value().clone(),
        grid,
        sin: sin.value().clone(),
        derivative: derivative.value().clone(),
        cos,
        max_abs_error_cos,
        max_abs_error_second,
    }
}

impl Outcome for Report {
    fn figures(&self) -> Vec<(&'static str, String)> {
        vec![
            ("dz_dx", format!("{:?}", self.dz_dx)),
            ("dz_dy", format!("{:?}", self.dz_dy)),
            ("max_abs_error_cos", format!("{:e}", self.max_abs_error_cos)),
        ]
    }

    /// The claims. Every intermediate value of steps 1 and 2 is an integer well below 2^53,
    /// so the values and derivatives there are exact; the derivatives of `sin` are within
    /// 1e-12 of `cos` and `-sin`.
    fn check(&self) -> Result<(), ClaimFailed> {
        let (first, second) = (self.max_abs_error_cos, self.max_abs_error_second);
        claim(self.z == 50421.0, || {
            format!("z = 3 * 7^5 = 50421, not {}", self.z)
        })?;
        claim(self.dz_dx == 16807.0, || {
            format!("dz/dx must be y^5 = 16807, not {}", self.dz_dx)
        })?;
        claim(self.dz_dy == 36015.0, || {
            format!("dz/dy must be 5 x y^4 = 36015, not {}", self.dz_dy)
        })?;
        claim(self.dot == 32.0, || {
            format!("1*4 + 2*5 + 3*6 = 32, not {}", self.dot)
        })?;
        claim(self.d_dot_da == self.b, || {
            format!(
                "the gradient of a.b with respect to a is b, not {}",
                self.d_dot_da
            )
        })?;
        claim(first < 1e-12, || {
            format!("the autograd's derivative of sin must be cos to 1e-12, not {first:e}")
        })?;
        claim(second < 1e-12, || {
            format!("the second derivative of sin must be -sin to 1e-12, not {second:e}")
        })
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mode = Args::from_env().mode();
    let report = run();

    println!("1. z = x * y^5 at x = 3, y = 7");
    println!("   z     = {}", report.z);
    println!("   dz/dx = {}   (y^5 = {})", report.dz_dx, 7_i64.pow(5));
    println!(
        "   dz/dy = {}   (5 x y^4 = {})",
        report.dz_dy,
        5 * 3 * 7_i64.pow(4)
    );

    println!();
    println!("2. the dot product a.b = einsum!(\"i,i->\", a, b), a = [1, 2, 3], b = [4, 5, 6]");
    println!("   a.b       = {}", report.dot);
    println!("   d(a.b)/da = {}   (that is b)", report.d_dot_da);

    println!();
    println!("3. d/dx sin(x) on {POINTS} points of [0, 2 pi], against cos(x)");
    // Values that round to zero print as 0, not -0.
    let shown = |v: f64| if v.abs() < 5e-7 { 0.0 } else { v };
    for i in [0, POINTS / 4, POINTS / 2, 3 * POINTS / 4, POINTS - 1] {
        println!(
            "   x = {:.4}: sin = {:+.6}, d/dx sin = {:+.6}, cos = {:+.6}",
            report.grid[i],
            shown(report.sin[[i]]),
            shown(report.derivative[[i]]),
            shown(report.cos[i])
        );
    }
    println!(
        "   largest |d/dx sin - cos| over the grid: {:e}",
        report.max_abs_error_cos
    );
    println!(
        "   largest |d2/dx2 sin - (-sin)| over the grid: {:e}",
        report.max_abs_error_second
    );

    // The plot: sin, its derivative by the autograd, and cos. The last two coincide, so only
    // two curves are visible; the legend names all three.
    let curve = |values: &[f64]| -> Vec<(f64, f64)> {
        report
            .grid
            .iter()
            .copied()
            .zip(values.iter().copied())
            .collect()
    };
    let values = |array: &ArrayD<f64>| array.iter().copied().collect::<Vec<f64>>();
    let curves = [
        ("sin(x)", curve(&values(&report.sin))),
        (
            "d/dx sin(x), by the autograd",
            curve(&values(&report.derivative)),
        ),
        ("cos(x)", curve(&report.cos.to_vec())),
    ];
    let plot = plot("autodiff_basics_sin.svg", "x", "y", Scale::Linear, &curves)?;
    println!();
    println!(
        "4. plot of sin, d/dx sin and cos (the last two lie on top of each other): {}",
        plot.display()
    );

    Ok(conclude(&mode, &report)?)
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
