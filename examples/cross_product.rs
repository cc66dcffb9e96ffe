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
//! At the end `eps` must be the Levi-Civita tensor to within 1e-4, with a loss below 1e-8
//! (`Report::check`; the test at the bottom of this file runs the `--quick` mode and checks
//! the same claims).
//!
//! Run: `cargo run --release --example cross_product` (add `--quick` for a short run, `--json`
//! for a machine-readable last line). The loss curve is written to
//! `target/plots/cross_product_loss.svg`.

mod common;

use common::{claim, conclude, levi_civita, max_abs, options, plot_losses};
use common::{Args, ClaimFailed, Mode, Outcome, Training};
use einsum::autograd::Var;
use einsum::einsum;
use einsum::optim::{train_step, Adam, AdamConfig, Exponential, Scheduled};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::error::Error;

/// Vector pairs per step.
const BATCH: usize = 16;

/// How to run: `--quick` trains for 2,000 steps instead of 10,000; `--json` ends the output
/// with one JSON line.
struct Options {
    mode: Mode,
    steps: usize,
}

impl Options {
    fn parse(args: &Args) -> Result<Options, String> {
        let mode = args.mode();
        let steps = if mode.quick { 2_000 } else { 10_000 };
        Ok(Options { mode, steps })
    }
}

/// What the run found.
struct Report {
    /// The learned tensor.
    eps: ArrayD<f64>,
    /// The loss on fresh pairs, after training.
    final_loss: f64,
    /// The largest `|eps - Levi-Civita|`.
    max_abs_error: f64,
    /// The training loss of every step, and the time the training took.
    training: Training<f64>,
}

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

/// The training, and how close it gets.
fn run(options: &Options) -> Result<Report, Box<dyn Error>> {
    let steps = options.steps;
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

    // Each step: a fresh batch, its loss, one Adam step down the gradient.
    let training = Training::run(&options.mode, steps, || {
        let (a, b, c) = batch(&mut rng);
        let (a, b, c) = (Var::constant(a), Var::constant(b), Var::constant(c));
        Ok(train_step(&mut eps, &mut optimizer, |p| {
            loss(&p[0], &a, &b, &c)
        })?)
    })?;

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
    Ok(Report {
        eps,
        final_loss,
        max_abs_error,
        training,
    })
}

impl Outcome for Report {
    fn figures(&self) -> Vec<(&'static str, String)> {
        let mut figures = vec![
            ("final_loss", format!("{:e}", self.final_loss)),
            ("max_abs_error", format!("{:e}", self.max_abs_error)),
        ];
        figures.extend(self.training.figures());
        figures
    }

    /// The claims: the loss ends below 1e-8, and `eps` is the Levi-Civita tensor to 1e-4.
    fn check(&self) -> Result<(), ClaimFailed> {
        let (loss, error) = (self.final_loss, self.max_abs_error);
        claim(loss < 1e-8, || {
            format!("the loss must end below 1e-8, not {loss:e}")
        })?;
        claim(error < 1e-4, || {
            format!("eps must be within 1e-4 of Levi-Civita, not {error:e}")
        })
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = options(Options::parse);
    let report = run(&options)?;
    let eps = &report.eps;

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
    println!("{}", report.training.timing());
    println!("final loss on fresh pairs: {:.3e}", report.final_loss);
    println!("largest |eps - Levi-Civita|: {:.3e}", report.max_abs_error);
    let curve = [("training loss", report.training.history.clone())];
    let plot = plot_losses("cross_product_loss.svg", "loss (log scale)", &curve)?;
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
