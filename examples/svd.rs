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
//! `run` does the four steps, `Report::check` states the claims, and `main` prints, plots
//! and checks; the test at the bottom runs the `--quick` mode against the same claims.
//!
//! Run: `cargo run --release --example svd` (add `--quick` for a short run, `--json` for a
//! machine-readable last line, `--shape 6x5` for another size and `--steps N` for a longer run,
//! which bigger or harder matrices need). The loss curves are written to
//! `target/plots/svd_loss.svg`.

mod common;

use common::{claim, conclude, max_abs, options, plot_losses};
use common::{Args, ClaimFailed, Mode, Outcome, Training};
use einsum::autograd::Var;
use einsum::einsum;
use einsum::optim::{train_step, Adam, AdamConfig, CosineAnnealing, Scheduled};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::error::Error;

/// How to run: `--shape MxN` for the matrix (default 10x8), `--steps N` for the length of the
/// training (default 5,000, or 2,000 with `--quick`), `--json` to end the output with one
/// JSON line.
struct Options {
    mode: Mode,
    m: usize,
    n: usize,
    steps: usize,
}

impl Options {
    fn parse(args: &Args) -> Result<Options, String> {
        let mode = args.mode();
        let shape: String = args.value("--shape", "10x8".to_string())?;
        let (m, n) = shape
            .split_once('x')
            .and_then(|(m, n)| Some((m.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|&(m, n)| m > 0 && n > 0)
            .ok_or("--shape takes ROWSxCOLS, such as 10x8")?;
        let steps = args.value("--steps", if mode.quick { 2_000 } else { 5_000 })?;
        Ok(Options { mode, m, n, steps })
    }
}

/// What the run found.
struct Report {
    /// nalgebra's singular values, largest first.
    reference: Vec<f64>,
    /// The learned `s`, signs and order as trained.
    s: Vec<f64>,
    /// The learned `|s|`, largest first.
    learned: Vec<f64>,
    /// The largest difference between `learned` and `reference`.
    max_singular_value_error: f64,
    /// The largest `|A - U diag(s) V^T|`.
    reconstruction_error: f64,
    /// The largest `|U^T U - I|`.
    u_error: f64,
    /// The largest `|V^T V - I|`.
    v_error: f64,
    /// Per step: the total loss, the reconstruction term, the two penalties together; and the
    /// time the training took.
    training: Training<[f64; 3]>,
}

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

/// The four steps.
fn run(options: &Options) -> Result<Report, Box<dyn Error>> {
    let (m, n, steps) = (options.m, options.n, options.steps);
    let k = m.min(n);
    let mut rng = StdRng::seed_from_u64(2026);

    // Step 1: the matrix, entries uniform in [-1, 1], and nalgebra's singular values,
    // largest first.
    let a = Array2::from_shape_fn((m, n), |_| rng.random_range(-1.0..1.0));
    let a_nalgebra = nalgebra::DMatrix::from_fn(m, n, |i, j| a[[i, j]]);
    let mut reference: Vec<f64> = a_nalgebra.singular_values().iter().copied().collect();
    reference.sort_by(|x, y| y.total_cmp(x));

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
    let training = Training::run(&options.mode, steps, || {
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
        Ok([total, parts[0], parts[1]])
    })?;

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
    let reconstruction_error = max_abs(&(&a.into_dyn() - &rebuilt));
    let eye = Array2::<f64>::eye(k).into_dyn();
    let u_error = max_abs(&(&einsum!("ik,il->kl", u, u) - &eye));
    let v_error = max_abs(&(&einsum!("jk,jl->kl", v, v) - &eye));
    Ok(Report {
        reference,
        s: s.iter().copied().collect(),
        learned,
        max_singular_value_error,
        reconstruction_error,
        u_error,
        v_error,
        training,
    })
}

impl Outcome for Report {
    fn figures(&self) -> Vec<(&'static str, String)> {
        let mut figures = vec![
            (
                "max_singular_value_error",
                format!("{:e}", self.max_singular_value_error),
            ),
            (
                "reconstruction_error",
                format!("{:e}", self.reconstruction_error),
            ),
        ];
        figures.extend(self.training.figures());
        figures
    }

    /// The claims, each to within 1e-4: the singular values are nalgebra's, `U diag(s) V^T`
    /// rebuilds `A`, and `U` and `V` are orthonormal.
    fn check(&self) -> Result<(), ClaimFailed> {
        let values = self.max_singular_value_error;
        let rebuilt = self.reconstruction_error;
        let orthonormal = self.u_error.max(self.v_error);
        claim(values < 1e-4, || {
            format!("the singular values must match nalgebra's to within 1e-4, not {values:e}")
        })?;
        claim(rebuilt < 1e-4, || {
            format!("U diag(s) V^T must rebuild A to within 1e-4, not {rebuilt:e}")
        })?;
        claim(orthonormal < 1e-4, || {
            format!("U and V must be orthonormal to within 1e-4, not {orthonormal:e}")
        })
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = options(Options::parse);
    let report = run(&options)?;
    let reference = &report.reference;
    let smallest_gap = reference
        .windows(2)
        .map(|w| w[0] - w[1])
        .fold(f64::INFINITY, f64::min);

    println!(
        "A: {} x {}, entries uniform in [-1, 1]",
        options.m, options.n
    );
    println!("nalgebra's singular values: {}", format_list(reference));
    println!("smallest gap between two of them: {smallest_gap:.3}");
    println!(
        "learned s (signs and order as trained): {}",
        format_list(&report.s)
    );
    println!(
        "learned |s|, sorted:                     {}",
        format_list(&report.learned)
    );
    let history = &report.training.history;
    println!("{}", report.training.timing());
    println!(
        "final loss: {:.3e}",
        history.last().map_or(f64::NAN, |h| h[0])
    );
    println!(
        "largest singular value error (against nalgebra): {:.3e}",
        report.max_singular_value_error
    );
    println!(
        "largest |A - U diag(s) V^T|: {:.3e}",
        report.reconstruction_error
    );
    println!(
        "largest |U^T U - I|: {:.3e}, largest |V^T V - I|: {:.3e}",
        report.u_error, report.v_error
    );
    let column = |at: usize| history.iter().map(|h| h[at]).collect::<Vec<f64>>();
    let curves = [
        ("total loss", column(0)),
        ("|A - U diag(s) V^T|^2", column(1)),
        ("|U^T U - I|^2 + |V^T V - I|^2", column(2)),
    ];
    let plot = plot_losses("svd_loss.svg", "loss (log scale)", &curves)?;
    println!("loss curves: {}", plot.display());

    Ok(conclude(&options.mode, &report)?)
}

/// `[3.0495, 2.5596, ...]`, four decimals.
fn format_list(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().map(|v| format!("{v:.4}")).collect();
    format!("[{}]", shown.join(", "))
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
