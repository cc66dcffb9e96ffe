//! Learning the cross product: the README's main demo.
//!
//! The cross product of two 3-vectors is a contraction with the Levi-Civita tensor:
//! `c_i = sum_jk eps_ijk a_j b_k`, where `eps` is +1 on even permutations of (0, 1, 2), -1 on
//! odd ones and 0 wherever an index repeats. Here nobody tells the program that. Its only
//! parameter is a 3x3x3 tensor `eps`, initialised at random; each step it
//!
//! 1. draws a batch of random vector pairs `a`, `b` and their true cross products,
//! 2. predicts them with `einsum!("ijk,bj,bk->bi", eps, a, b)` — the same contraction for
//!    every pair `b`, recorded as one node of the autograd graph,
//! 3. measures the mean squared error, and lets Adam (with a learning rate that decays
//!    exponentially over the run) move `eps` down its gradient.
//!
//! At the end `eps` must be the Levi-Civita tensor to within 1e-4, with a loss below 1e-8.
//!
//! Run: `cargo run --release --example cross_product` (add `--quick` for a short run, `--json`
//! for a machine-readable last line). The loss curve is written to
//! `target/plots/cross_product_loss.svg`.

mod common;

use common::{json_line, levi_civita, max_abs, plot_lines, plot_path, Mode};
use einsum::autograd::Var;
use einsum::einsum;
use einsum::optim::{train_step, Adam, AdamConfig, Exponential, Scheduled};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

/// Vector pairs per step.
const BATCH: usize = 16;

/// A batch of random vector pairs (rows) and their cross products, by the textbook formula.
fn batch(rng: &mut StdRng) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    let mut random_rows = || -> Vec<f64> {
        (0..BATCH * 3)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect()
    };
    let (a, b) = (random_rows(), random_rows());
    let c: Vec<f64> = (0..BATCH * 3)
        .map(|at| {
            let (row, i) = (at - at % 3, at % 3);
            let (j, k) = (row + (i + 1) % 3, row + (i + 2) % 3);
            a[j] * b[k] - a[k] * b[j]
        })
        .collect();
    let rows = |values| Array2::from_shape_vec((BATCH, 3), values).expect("BATCH rows of 3");
    (rows(a), rows(b), rows(c))
}

/// The mean squared error of `eps` on one batch: the loss the optimizer minimises.
fn loss(eps: &Var<f64>, a: &Var<f64>, b: &Var<f64>, c: &Var<f64>) -> Var<f64> {
    let predicted = einsum!("ijk,bj,bk->bi", eps, a, b);
    let error = &predicted - c;
    (&error * &error).mean()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = Mode::from_args();
    let steps = if mode.quick { 2_000 } else { 10_000 };
    let mut rng = StdRng::seed_from_u64(2026);

    // The model: one 3x3x3 tensor, drawn at random.
    let mut eps = ArrayD::from_shape_fn(IxDyn(&[3, 3, 3]), |_| rng.random_range(-1.0..1.0));

    // Adam at rate 0.05, decaying by a factor of 1000 over the run: at a constant rate Adam
    // keeps making occasional jumps once the gradients are tiny.
    let adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let gamma = 1e-3_f64.powf(1.0 / steps as f64);
    let mut optimizer = Scheduled::new(adam, Exponential { gamma });

    let progress = mode.progress(steps);
    let started = Instant::now();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (a, b, c) = batch(&mut rng);
        let (a, b, c) = (Var::constant(a), Var::constant(b), Var::constant(c));
        let value = train_step(&mut eps, &mut optimizer, |p| loss(&p[0], &a, &b, &c))?;
        losses.push(value);
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    // How good is it? The loss on fresh pairs, and the distance to the Levi-Civita tensor.
    let (a, b, c) = batch(&mut rng);
    let final_loss = loss(
        &Var::constant(eps.clone()),
        &Var::constant(a),
        &Var::constant(b),
        &Var::constant(c),
    )
    .item();
    let max_abs_error = max_abs(&(&eps - &levi_civita()));

    let plot_path = plot_path("cross_product_loss.svg")?;
    let curve: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .map(|(step, &l)| (step as f64, l))
        .collect();
    plot_lines(
        &plot_path,
        "step",
        "loss (log scale)",
        &[("training loss", curve)],
        true,
    )?;

    println!("learned eps (rounded to 6 decimals), one 3x3 slice per i:");
    for i in 0..3 {
        println!("  i = {i}:");
        for j in 0..3 {
            // Values that round to zero print as 0, not -0.
            let shown = |x: f64| if x.abs() < 5e-7 { 0.0 } else { x };
            let row: Vec<String> = (0..3)
                .map(|k| format!("{:>10.6}", shown(eps[[i, j, k]])))
                .collect();
            println!("    {}", row.join(" "));
        }
    }
    println!(
        "steps: {steps}, {:.3} s ({:.1} µs a step)",
        seconds,
        seconds * 1e6 / steps as f64
    );
    println!("final loss on fresh pairs: {final_loss:.3e}");
    println!("largest |eps - Levi-Civita|: {max_abs_error:.3e}");
    println!("loss curve: {}", plot_path.display());
    if mode.json {
        println!(
            "{}",
            json_line(&[
                ("final_loss", format!("{final_loss:e}")),
                ("max_abs_error", format!("{max_abs_error:e}")),
                ("steps", steps.to_string()),
                ("seconds", seconds.to_string()),
            ])
        );
    }

    assert!(
        final_loss < 1e-8,
        "the loss must end below 1e-8, not {final_loss:e}"
    );
    assert!(
        max_abs_error < 1e-4,
        "eps must be within 1e-4 of Levi-Civita, not {max_abs_error:e}"
    );
    Ok(())
}
