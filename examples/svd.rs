//! A singular value decomposition by gradient descent.
//!
//! Every real `m x n` matrix factors as `A = U diag(s) V^T`, with orthonormal columns in `U`
//! (`m x k`) and `V` (`n x k`), `k = min(m, n)`, and the singular values `s`. Libraries compute
//! it with Householder reflections and QR sweeps; this program instead treats `U`, `s` and `V`
//! as the parameters of a model and trains them. The steps:
//!
//! 1. draw a random `A` (default 10 x 8) and ask nalgebra for its singular values, to compare
//!    with at the end;
//! 2. write the loss: the reconstruction error `|A - U diag(s) V^T|^2`, the product being one
//!    `einsum!("ik,k,jk->ij", u, s, v)`, plus the penalties `|U^T U - I|^2 + |V^T V - I|^2`
//!    that push the columns of `U` and `V` to be orthonormal;
//! 3. minimise it with Adam from a small random start, the learning rate following a cosine
//!    from 0.1 down to 1e-5;
//! 4. compare: the learned `|s|`, sorted, must match nalgebra's singular values to within
//!    1e-4, `U diag(s) V^T` must rebuild `A`, and `U`, `V` must be orthonormal.
//!
//! The loss is zero exactly when `U diag(s) V^T = A` with orthonormal `U` and `V`, which is an
//! SVD: the training may land on any ordering of the singular values and any signs (flipping
//! a column of `U` together with the sign of its `s_k` changes nothing), which is why the
//! comparison sorts `|s|`. The loss is not convex, and its slowest direction turns a pair of
//! singular vectors into each other: its curvature there is the squared gap between their
//! singular values, so matrices with nearly equal singular values take longer.
//!
//! Run: `cargo run --release --example svd` (add `--quick` for a short run, `--json` for a
//! machine-readable last line, `--shape 6x5` for another size and `--steps N` for a longer run,
//! which bigger or harder matrices need). The loss curves are written to
//! `target/plots/svd_loss.svg`.

mod common;

use common::{flag_value, json_line, plot_lines, plot_path, Mode};
use einsum::autograd::Var;
use einsum::einsum;
use einsum::optim::{train_step, Adam, AdamConfig, CosineAnnealing, Scheduled};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

/// The three parts of the loss: reconstruction, orthonormality of `U`, orthonormality of `V`.
struct LossParts {
    reconstruction: Var<f64>,
    u_penalty: Var<f64>,
    v_penalty: Var<f64>,
}

impl LossParts {
    fn new(a: &Var<f64>, u: &Var<f64>, s: &Var<f64>, v: &Var<f64>, identity: &Var<f64>) -> Self {
        let squared = |m: &Var<f64>| (m * m).sum();
        // U diag(s) V^T in one contraction: sum over k of u_ik s_k v_jk.
        let rebuilt = einsum!("ik,k,jk->ij", u, s, v);
        // U^T U and V^T V: the Gram matrices of the columns, I when they are orthonormal.
        let u_gram = einsum!("ik,il->kl", u, u);
        let v_gram = einsum!("jk,jl->kl", v, v);
        LossParts {
            reconstruction: squared(&(a - &rebuilt)),
            u_penalty: squared(&(&u_gram - identity)),
            v_penalty: squared(&(&v_gram - identity)),
        }
    }

    fn total(&self) -> Var<f64> {
        &(&self.reconstruction + &self.u_penalty) + &self.v_penalty
    }
}

/// The largest absolute entry.
fn max_abs(m: &ArrayD<f64>) -> f64 {
    m.iter().fold(0.0_f64, |acc, v| acc.max(v.abs()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = Mode::from_args();
    let shape: String = flag_value("--shape", "10x8".to_string());
    let (m, n) = shape
        .split_once('x')
        .and_then(|(m, n)| Some((m.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        .filter(|&(m, n)| m > 0 && n > 0)
        .ok_or("--shape takes ROWSxCOLS, such as 10x8")?;
    let k = m.min(n);
    let steps: usize = flag_value("--steps", if mode.quick { 2_000 } else { 5_000 });
    let mut rng = StdRng::seed_from_u64(2026);

    // Step 1: the matrix, entries uniform in [-1, 1], and nalgebra's singular values,
    // largest first.
    let a = Array2::from_shape_fn((m, n), |_| rng.random_range(-1.0..1.0));
    let a_nalgebra = nalgebra::DMatrix::from_fn(m, n, |i, j| a[[i, j]]);
    let mut reference: Vec<f64> = a_nalgebra.singular_values().iter().copied().collect();
    reference.sort_by(|x, y| y.total_cmp(x));
    let smallest_gap = reference
        .windows(2)
        .map(|w| w[0] - w[1])
        .fold(f64::INFINITY, f64::min);
    println!("A: {m} x {n}, entries uniform in [-1, 1]");
    println!("nalgebra's singular values: {}", format_list(&reference));
    println!("smallest gap between two of them: {smallest_gap:.3}");

    // Step 2: the model, a tuple (U, s, V) — a tuple of arrays is a `Module`, so the optimizer
    // walks all three — drawn small and at random. A and I are constants.
    let mut small = |shape: &[usize]| {
        ArrayD::from_shape_fn(IxDyn(shape), |_| 0.3 * rng.random_range(-1.0..1.0))
    };
    let mut model = (small(&[m, k]), small(&[k]), small(&[n, k]));
    let a_var = Var::constant(a.clone());
    let identity = Var::constant(Array2::<f64>::eye(k));

    // Step 3: Adam, its rate following half a cosine from 0.1 to 1e-5 over the run. The rate
    // stays high for long, which the slow turning of singular vectors needs, then comes down
    // smoothly so that Adam settles on the minimum instead of hopping around it.
    let adam = Adam::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    });
    let schedule = CosineAnnealing {
        t_max: steps,
        eta_min: 1e-5,
    };
    let mut optimizer = Scheduled::new(adam, schedule);

    let progress = mode.progress(steps);
    let started = Instant::now();
    // Per step: the total loss, the reconstruction term, the two penalties together.
    let mut history: Vec<[f64; 3]> = Vec::with_capacity(steps);
    for _ in 0..steps {
        let mut parts = [0.0; 2];
        let total = train_step(&mut model, &mut optimizer, |p| {
            let [u, s, v] = p else {
                unreachable!("the model has three parameters")
            };
            let loss = LossParts::new(&a_var, u, s, v, &identity);
            parts = [
                loss.reconstruction.item(),
                loss.u_penalty.item() + loss.v_penalty.item(),
            ];
            loss.total()
        })?;
        history.push([total, parts[0], parts[1]]);
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    // Step 4: the learned singular values (absolute, sorted) against nalgebra's; how well
    // U diag(s) V^T rebuilds A; how orthonormal U and V are.
    let (u, s, v) = &model;
    let mut learned: Vec<f64> = s.iter().map(|x| x.abs()).collect();
    learned.sort_by(|x, y| y.total_cmp(x));
    let max_singular_value_error = learned
        .iter()
        .zip(&reference)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0_f64, f64::max);
    let rebuilt = einsum!("ik,k,jk->ij", u, s, v);
    let reconstruction_error = max_abs(&(&a.clone().into_dyn() - &rebuilt));
    let eye = Array2::<f64>::eye(k).into_dyn();
    let u_error = max_abs(&(&einsum!("ik,il->kl", u, u) - &eye));
    let v_error = max_abs(&(&einsum!("jk,jl->kl", v, v) - &eye));
    let final_loss = history.last().map_or(f64::NAN, |h| h[0]);

    let plot_path = plot_path("svd_loss.svg")?;
    let series = |column: usize| -> Vec<(f64, f64)> {
        history
            .iter()
            .enumerate()
            .map(|(step, h)| (step as f64, h[column]))
            .collect()
    };
    plot_lines(
        &plot_path,
        "step",
        "loss (log scale)",
        &[
            ("total loss", series(0)),
            ("|A - U diag(s) V^T|^2", series(1)),
            ("|U^T U - I|^2 + |V^T V - I|^2", series(2)),
        ],
        true,
    )?;

    println!(
        "learned s (signs and order as trained): {}",
        format_list(&s.iter().copied().collect::<Vec<_>>())
    );
    println!(
        "learned |s|, sorted:                     {}",
        format_list(&learned)
    );
    println!(
        "steps: {steps}, {:.3} s ({:.1} µs a step)",
        seconds,
        seconds * 1e6 / steps as f64
    );
    println!("final loss: {final_loss:.3e}");
    println!("largest singular value error (against nalgebra): {max_singular_value_error:.3e}");
    println!("largest |A - U diag(s) V^T|: {reconstruction_error:.3e}");
    println!("largest |U^T U - I|: {u_error:.3e}, largest |V^T V - I|: {v_error:.3e}");
    println!("loss curves: {}", plot_path.display());
    if mode.json {
        println!(
            "{}",
            json_line(&[
                (
                    "max_singular_value_error",
                    format!("{max_singular_value_error:e}")
                ),
                ("reconstruction_error", format!("{reconstruction_error:e}")),
                ("steps", steps.to_string()),
                ("seconds", seconds.to_string()),
            ])
        );
    }

    assert!(
        max_singular_value_error < 1e-4,
        "the singular values must match nalgebra's to within 1e-4, not {max_singular_value_error:e}"
    );
    assert!(
        reconstruction_error < 1e-4,
        "U diag(s) V^T must rebuild A to within 1e-4, not {reconstruction_error:e}"
    );
    assert!(
        u_error.max(v_error) < 1e-4,
        "U and V must be orthonormal to within 1e-4, not {:e}",
        u_error.max(v_error)
    );
    Ok(())
}

/// `[3.0495, 2.5596, ...]`, four decimals.
fn format_list(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().map(|v| format!("{v:.4}")).collect();
    format!("[{}]", shown.join(", "))
}
