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
//! `L` is a convex quadratic in `X` with a single minimum, `X = A^-1`, so gradient descent
//! cannot get lost; how fast it gets there depends on the condition number of `A`.
//!
//! Run: `cargo run --release --example matrix_inverse` (add `--quick` for a short run, `--json`
//! for a machine-readable last line, `--n 20` for another size). The loss curve is written to
//! `target/plots/matrix_inverse_loss.svg`.

mod common;

use common::{flag_value, json_line, plot_lines, plot_path, Mode};
use einsum::autograd::{grad, Var};
use einsum::einsum;
use einsum::optim::{train_step, Adam, AdamConfig, Exponential, Scheduled};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

/// The loss `|A X - I|^2`: zero exactly when `X` is the inverse of `A`.
fn loss(a: &Var<f64>, x: &Var<f64>, identity: &Var<f64>) -> Var<f64> {
    let residual = &einsum!("ij,jk->ik", a, x) - identity;
    (&residual * &residual).sum()
}

/// The largest absolute entry of a matrix.
fn max_abs(m: &ArrayD<f64>) -> f64 {
    m.iter().fold(0.0_f64, |acc, v| acc.max(v.abs()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = Mode::from_args();
    let n: usize = flag_value("--n", 10);
    let steps = if mode.quick { 1_000 } else { 3_000 };
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
    println!("A: {n} x {n}, I plus entries in [-{spread:.3}, {spread:.3}], condition number {condition:.3}");

    // Step 2: the loss on autograd variables. `A` and `I` are constants; `X` is the parameter.
    // At X = 0 the gradient 2 A^T (A X - I) is -2 A^T: the autograd must agree.
    let a_var = Var::constant(a.clone());
    let identity = Var::constant(Array2::<f64>::eye(n));
    let mut x = ArrayD::<f64>::zeros(IxDyn(&[n, n]));
    let gradient_at_zero = grad(|x| loss(&a_var, x, &identity), &x);
    let expected = a.t().mapv(|v| -2.0 * v).into_dyn();
    let gradient_error = max_abs(&(&gradient_at_zero - &expected));
    println!("gradient at X = 0 against -2 A^T: largest difference {gradient_error:.1e}");
    assert!(
        gradient_error < 1e-12,
        "the autograd gradient must be 2 A^T (A X - I), off by {gradient_error:e}"
    );

    // Step 3: Adam from X = 0, rate 0.05 shrinking by 0.35% a step (halving about every 200
    // steps). A constant rate would stall: near the minimum Adam's steps keep the size of the
    // rate, so it would hop around the inverse instead of settling on it.
    let adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let mut optimizer = Scheduled::new(adam, Exponential { gamma: 0.9965 });

    let progress = mode.progress(steps);
    let started = Instant::now();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let value = train_step(&mut x, &mut optimizer, |p| loss(&a_var, &p[0], &identity))?;
        losses.push(value);
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    // Step 4: how close is X to the exact inverse, and how close is A X to I?
    let max_abs_error = max_abs(&(&x - &exact));
    let residual = max_abs(
        &(&einsum!("ij,jk->ik", &a.clone().into_dyn(), &x) - &Array2::<f64>::eye(n).into_dyn()),
    );
    let final_loss = loss(&a_var, &Var::constant(x.clone()), &identity).item();

    let plot_path = plot_path("matrix_inverse_loss.svg")?;
    let curve: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .map(|(step, &l)| (step as f64, l))
        .collect();
    plot_lines(
        &plot_path,
        "step",
        "|A X - I|^2 (log scale)",
        &[("training loss", curve)],
        true,
    )?;

    let shown = n.min(4);
    println!("top-left {shown} x {shown} corner, learned X | nalgebra's inverse:");
    for i in 0..shown {
        let row = |m: &ArrayD<f64>| -> String {
            (0..shown)
                .map(|j| format!("{:>10.6}", m[[i, j]]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("  {} | {}", row(&x), row(&exact));
    }
    println!(
        "steps: {steps}, {:.3} s ({:.1} µs a step)",
        seconds,
        seconds * 1e6 / steps as f64
    );
    if let Some(step) = losses.iter().position(|&l| l < 1e-24) {
        println!("loss first below 1e-24 at step {step}");
    }
    println!("final loss |A X - I|^2: {final_loss:.3e}");
    println!("largest |A X - I|: {residual:.3e}");
    println!("largest |X - inverse| (nalgebra): {max_abs_error:.3e}");
    println!("loss curve: {}", plot_path.display());
    if mode.json {
        println!(
            "{}",
            json_line(&[
                ("max_abs_error", format!("{max_abs_error:e}")),
                ("steps", steps.to_string()),
                ("seconds", seconds.to_string()),
            ])
        );
    }

    assert!(
        max_abs_error < 1e-6,
        "X must be within 1e-6 of the exact inverse, not {max_abs_error:e}"
    );
    Ok(())
}
