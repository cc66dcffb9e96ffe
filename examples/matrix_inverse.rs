//! A matrix inverse by gradient descent.
//!
//! The inverse of a square matrix `A` is the `X` with `A X = I`. Instead of eliminating rows,
//! this program *searches* for it: it starts from `X = 0` and lets an optimizer walk downhill
//! on the loss `L(X) = |A X - I|^2` (the sum of the squared entries), exactly as one trains a
//! model. The steps:
//!
//! 1. draw a well-conditioned `n x n` matrix `A = I + P`, with a small random perturbation `P`,
//!    and ask nalgebra (LU decomposition) for its exact inverse, to compare with at the end;
//! 2. write the loss with `einsum!("ij,jk->ik", a, x)` on autograd `Var`s, and check that the
//!    autograd's gradient is the textbook one, `dL/dX = 2 A^T (A X - I)`;
//! 3. minimise the loss with Adam, its learning rate decaying exponentially;
//! 4. compare the result with nalgebra's inverse: the largest entry-wise difference must be
//!    below 1e-6 (it ends near 1e-15, the rounding error of `f64`).
//!
//! `run` does the four steps, `Report::check` states the claims, and `main` prints, plots
//! and checks; the test at the bottom runs the `--quick` mode against the same claims.
//!
//! `L` is a convex quadratic in `X` with a single minimum, `X = A^-1`, so gradient descent
//! cannot get lost; how fast it gets there depends on the condition number of `A`.
//!
//! Run: `cargo run --release --example matrix_inverse` (add `--quick` for a short run, `--json`
//! for a machine-readable last line, `--n 20` for another size). The loss curve is written to
//! `target/plots/matrix_inverse_loss.svg`.

mod common;

use common::{claim, conclude, max_abs, options, plot_losses};
use common::{Args, ClaimFailed, Mode, Outcome, Training};
use einsum::autograd::{grad, Var};
use einsum::einsum;
use einsum::optim::{train_step, Adam, AdamConfig, Exponential, Scheduled};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::error::Error;

/// How to run: `--n N` for an `N x N` matrix (default 10), `--quick` for 1,000 steps instead
/// of 3,000, `--json` to end the output with one JSON line.
struct Options {
    mode: Mode,
    n: usize,
    steps: usize,
}

impl Options {
    fn parse(args: &Args) -> Result<Options, String> {
        let mode = args.mode();
        let n = args.value("--n", 10)?;
        let steps = if mode.quick { 1_000 } else { 3_000 };
        Ok(Options { mode, n, steps })
    }
}

/// What the run found.
struct Report {
    /// The perturbation's entries were drawn from `[-spread, spread]`.
    spread: f64,
    /// The condition number of `A`, by nalgebra.
    condition: f64,
    /// The largest difference between the autograd's gradient at `X = 0` and `-2 A^T`.
    gradient_error: f64,
    /// The learned inverse.
    x: ArrayD<f64>,
    /// nalgebra's inverse.
    exact: ArrayD<f64>,
    /// The largest `|X - A^-1|`.
    max_abs_error: f64,
    /// The largest `|A X - I|`.
    residual: f64,
    /// `|A X - I|^2` at the end.
    final_loss: f64,
    /// The loss of every step, and the time the training took.
    training: Training<f64>,
}

/// The loss `|A X - I|^2`: zero exactly when `X` is the inverse of `A`.
fn loss(a: &Var<f64>, x: &Var<f64>, identity: &Var<f64>) -> Var<f64> {
    let residual = &einsum!("ij,jk->ik", a, x) - identity;
    (&residual * &residual).sum()
}

/// The four steps.
fn run(options: &Options) -> Result<Report, Box<dyn Error>> {
    let (n, steps) = (options.n, options.steps);
    let mut rng = StdRng::seed_from_u64(2026);

    // Step 1: the matrix, and the reference inverse.
    //
    // P has entries drawn uniformly from [-s, s] with s = 0.5 / sqrt(n), which keeps its
    // spectral norm near 0.6 for any n, so every singular value of A = I + P stays well away
    // from zero: A is well conditioned.
    let spread = 0.5 / (n as f64).sqrt();
    let a = Array2::from_shape_fn((n, n), |(i, j)| {
        let diagonal = if i == j { 1.0 } else { 0.0 };
        diagonal + rng.random_range(-spread..spread)
    });
    let a_nalgebra = nalgebra::DMatrix::from_fn(n, n, |i, j| a[[i, j]]);
    let singular_values = a_nalgebra.singular_values();
    let condition = singular_values.max() / singular_values.min();
    let exact = a_nalgebra
        .try_inverse()
        .ok_or("the random matrix is singular")?;
    let exact = ArrayD::from_shape_fn(IxDyn(&[n, n]), |index| exact[(index[0], index[1])]);

    // Step 2: the loss on autograd variables. `A` and `I` are constants; `X` is the parameter.
    // At X = 0 the gradient 2 A^T (A X - I) is -2 A^T: the autograd must agree.
    let a_var = Var::constant(a.clone());
    let identity = Var::constant(Array2::<f64>::eye(n));
    let mut x = ArrayD::<f64>::zeros(IxDyn(&[n, n]));
    let gradient_at_zero = grad(|x| loss(&a_var, x, &identity), &x);
    let expected = a.t().mapv(|v| -2.0 * v).into_dyn();
    let gradient_error = max_abs(&(&gradient_at_zero - &expected));

    // Step 3: Adam from X = 0, rate 0.05 shrinking by 0.35% a step (halving about every 200
    // steps). A constant rate would stall: near the minimum Adam's steps keep the size of the
    // rate, so it would hop around the inverse instead of settling on it.
    let adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let mut optimizer = Scheduled::new(adam, Exponential { gamma: 0.9965 });
    let training = Training::run(&options.mode, steps, || {
        Ok(train_step(&mut x, &mut optimizer, |p| {
            loss(&a_var, &p[0], &identity)
        })?)
    })?;

    // Step 4: how close is X to the exact inverse, and how close is A X to I?
    let max_abs_error = max_abs(&(&x - &exact));
    let residual = max_abs(
        &(&einsum!("ij,jk->ik", &a.clone().into_dyn(), &x) - &Array2::<f64>::eye(n).into_dyn()),
    );
    let final_loss = loss(&a_var, &Var::constant(x.clone()), &identity).item();
    Ok(Report {
        spread,
        condition,
        gradient_error,
        x,
        exact,
        max_abs_error,
        residual,
        final_loss,
        training,
    })
}

impl Outcome for Report {
    fn figures(&self) -> Vec<(&'static str, String)> {
        let mut figures = vec![("max_abs_error", format!("{:e}", self.max_abs_error))];
        figures.extend(self.training.figures());
        figures
    }

    /// The claims: the autograd's gradient is the textbook one (to 1e-12), and the learned
    /// `X` is the inverse to 1e-6.
    fn check(&self) -> Result<(), ClaimFailed> {
        let (gradient_error, error) = (self.gradient_error, self.max_abs_error);
        claim(gradient_error < 1e-12, || {
            format!("the autograd gradient must be 2 A^T (A X - I), off by {gradient_error:e}")
        })?;
        claim(error < 1e-6, || {
            format!("X must be within 1e-6 of the exact inverse, not {error:e}")
        })
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = options(Options::parse);
    let report = run(&options)?;
    let (n, spread) = (options.n, report.spread);

    println!(
        "A: {n} x {n}, I plus entries in [-{spread:.3}, {spread:.3}], condition number {:.3}",
        report.condition
    );
    println!(
        "gradient at X = 0 against -2 A^T: largest difference {:.1e}",
        report.gradient_error
    );
    let shown = n.min(4);
    println!("top-left {shown} x {shown} corner, learned X | nalgebra's inverse:");
    for i in 0..shown {
        let row = |m: &ArrayD<f64>| -> String {
            (0..shown)
                .map(|j| format!("{:>10.6}", m[[i, j]]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("  {} | {}", row(&report.x), row(&report.exact));
    }
    let losses = &report.training.history;
    println!("{}", report.training.timing());
    if let Some(step) = losses.iter().position(|&l| l < 1e-24) {
        println!("loss first below 1e-24 at step {step}");
    }
    println!("final loss |A X - I|^2: {:.3e}", report.final_loss);
    println!("largest |A X - I|: {:.3e}", report.residual);
    println!(
        "largest |X - inverse| (nalgebra): {:.3e}",
        report.max_abs_error
    );
    let curve = [("training loss", losses.clone())];
    let plot = plot_losses("matrix_inverse_loss.svg", "|A X - I|^2 (log scale)", &curve)?;
    println!("loss curve: {}", plot.display());

    Ok(conclude(&options.mode, &report)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CI runs, `--quick`, meets every claim.
    #[test]
    fn quick_run_meets_its_claims() {
        let options = Options::parse(&Args::new(["--quick"])).expect("--quick parses");
        let report = run(&options).expect("the quick run completes");
        report.check().unwrap();
    }
}
