//! The chain rule for matrices of matrices: derivatives as 4-index tensors, composed by einsum.
//!
//! The derivative of an `n x m` matrix `A` with respect to a `k x d` matrix `V` has one entry
//! per pair (entry of `A`, entry of `V`): a tensor `dA/dV[n, m, k, d] = dA_nm / dV_kd` with
//! four indices. When `V` itself depends on a matrix `B` (`e x f`), the chain rule sums over
//! every entry of the matrix in the middle:
//!
//! ```text
//! dA/dB[n, m, e, f] = sum_{k,d} dA/dV[n, m, k, d] * dV/dB[k, d, e, f]
//! ```
//!
//! which is exactly `einsum!("nmkd,kdef->nmef", dA_dV, dV_dB)`: no reshaping, transposing or
//! guessing which axes of which `matmul` line up. This demo, with `n, m, k, d = 4, 3, 2, 6`
//! and `e, f = 5, 7` (every extent different, so that a mixed-up axis cannot go unnoticed),
//!
//! 1. defines `V(B) = tanh(P B Q)` (2x6 from 5x7) and
//!    `A(V) = sin(X V Y) + X V V^T Z` (4x3 from 2x6), smooth and genuinely nonlinear,
//! 2. computes `dA/dV` (4x3x2x6) at `V(B0)` and `dV/dB` (2x6x5x7) at `B0` with the autograd's
//!    `jacobian`,
//! 3. chains them with one einsum,
//! 4. checks the result against `dA/dB` of the composition `A(V(B))` computed directly by the
//!    autograd (the largest difference must be below 1e-10), against the same chain rule as
//!    an ordinary matrix product of flattened Jacobians, and against central finite
//!    differences.
//!
//! `run` does the four steps, `Report::check` states the claims (the shapes and the three
//! agreements), and `main` prints and checks; the test at the bottom checks the same claims.
//!
//! Run: `cargo run --release --example tensor_chain_rule` (`--json` for a machine-readable
//! last line with `max_abs_error`; `--quick` is accepted and changes nothing: the demo takes
//! milliseconds).

mod common;

use common::{claim, conclude, Args, ClaimFailed, Outcome};
use einsum::autograd::{jacobian, Var};
use einsum::einsum;
use ndarray::{Array2, Array4, ArrayD, Ix4};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The extents: `A` is `N x M`, `V` is `K x D`, `B` is `E x F`.
const N: usize = 4;
const M: usize = 3;
const K: usize = 2;
const D: usize = 6;
const E: usize = 5;
const F: usize = 7;

/// The step of the central differences.
const H: f64 = 1e-5;

/// The fixed matrices of the two maps, drawn once.
struct Model {
    /// `K x E`, left factor of `V(B)`.
    p: Var<f64>,
    /// `F x D`, right factor of `V(B)`.
    q: Var<f64>,
    /// `N x K`, left factor of `A(V)`.
    x: Var<f64>,
    /// `D x M`, right factor of the first term of `A(V)`.
    y: Var<f64>,
    /// `K x M`, right factor of the second term of `A(V)`.
    z: Var<f64>,
}

impl Model {
    fn new(rng: &mut StdRng) -> Model {
        let mut matrix = |rows: usize, cols: usize| {
            Var::constant(Array2::from_shape_fn((rows, cols), |_| {
                rng.random_range(-1.0..1.0)
            }))
        };
        Model {
            p: matrix(K, E),
            q: matrix(F, D),
            x: matrix(N, K),
            y: matrix(D, M),
            z: matrix(K, M),
        }
    }

    /// `V(B) = tanh(P B Q)`: `V_kd = tanh(sum_ef P_ke B_ef Q_fd)`, 2x6 from 5x7.
    fn v(&self, b: &Var<f64>) -> Var<f64> {
        einsum!("ke,ef,fd->kd", &self.p, b, &self.q).tanh()
    }

    /// `A(V) = sin(X V Y) + X V V^T Z`, 4x3 from 2x6. The second term uses `V` twice, so its
    /// derivative has two parts; the autograd adds them up.
    fn a(&self, v: &Var<f64>) -> Var<f64> {
        let first = einsum!("nk,kd,dm->nm", &self.x, v, &self.y).sin();
        let second = einsum!("nk,kd,ld,lm->nm", &self.x, v, v, &self.z);
        &first + &second
    }
}

/// What the run found.
struct Report {
    /// The shapes of `V(B0)`, `A(V(B0))`, `dA/dV`, `dV/dB` and the direct `dA/dB`.
    shapes: [Vec<usize>; 5],
    /// `dA/dB` by the chain rule, as one einsum.
    da_db: ArrayD<f64>,
    // The largest differences between `da_db` and: the direct Jacobian of `A(V(B))`, the
    // product of the flattened Jacobians, the central differences.
    max_abs_error: f64,
    matmul_error: f64,
    fd_error: f64,
}

/// The largest absolute difference between two arrays of the same shape.
fn max_abs_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape(), "comparing arrays of different shapes");
    a.iter()
        .zip(b)
        .fold(0.0_f64, |m, (p, q)| m.max((p - q).abs()))
}

/// The four steps.
fn run() -> Report {
    let mut rng = StdRng::seed_from_u64(7);

    // ---------------------------------------------------------------------------------------
    // 1. The two maps and the point B0 at which everything is differentiated.
    // ---------------------------------------------------------------------------------------
    let model = Model::new(&mut rng);
    let b0 = Array2::from_shape_fn((E, F), |_| rng.random_range(-1.0..1.0));
    let v0 = model.v(&Var::constant(b0.clone())).value().clone();
    let a0 = model.a(&Var::constant(v0.clone())).value().clone();

    // ---------------------------------------------------------------------------------------
    // 2. The two Jacobians. `jacobian(f, x0)` has the shape of f's output followed by the
    //    shape of its input: entry [out.., in..] = d f(x0)[out..] / d x0[in..].
    //    So dA/dV is [n, m, k, d] and dV/dB is [k, d, e, f]: the 4-index tensors above.
    // ---------------------------------------------------------------------------------------
    let da_dv = jacobian(|v| model.a(v), &v0);
    let dv_db = jacobian(|b| model.v(b), &b0);

    // ---------------------------------------------------------------------------------------
    // 3. The chain rule, as one contraction. Each label names one index of the formula in the
    //    header: n, m (an entry of A) and e, f (an entry of B) are kept; k, d (an entry of V,
    //    the matrix in the middle) appear in both operands and not in the output, so they are
    //    summed.
    // ---------------------------------------------------------------------------------------
    let da_db: Array4<f64> = einsum!("nmkd,kdef->nmef", &da_dv, &dv_db);
    let da_db = da_db.into_dyn();

    // ---------------------------------------------------------------------------------------
    // 4a. The check: the Jacobian of the composition B -> A(V(B)), by the autograd in one go
    //     (it applies the chain rule node by node inside the recorded computation).
    // ---------------------------------------------------------------------------------------
    let direct = jacobian(|b| model.a(&model.v(b)), &b0);
    let max_abs_error = max_abs_diff(&da_db, &direct);

    // 4b. The same chain rule seen as ordinary calculus: flatten A, V and B into vectors
    //     (row-major) and the tensors become the Jacobian matrices (n*m) x (k*d) and
    //     (k*d) x (e*f), chained by a plain matrix product. The einsum does this without the
    //     reshapes, and without having to remember which axes go where.
    let flat_a_v = da_dv
        .to_shape((N * M, K * D))
        .expect("a fresh array is contiguous")
        .into_owned();
    let flat_v_b = dv_db
        .to_shape((K * D, E * F))
        .expect("a fresh array is contiguous")
        .into_owned();
    let by_matmul = flat_a_v
        .dot(&flat_v_b)
        .into_shape_with_order((N, M, E, F))
        .expect("(n*m) x (e*f) is n x m x e x f")
        .into_dyn();
    let matmul_error = max_abs_diff(&da_db, &by_matmul);

    // 4c. An independent check that does not trust the autograd: central differences,
    //     dA/dB_ef ~ (A(V(B0 + h E_ef)) - A(V(B0 - h E_ef))) / 2h, with error O(h^2).
    let value_at = |b: &Array2<f64>| {
        let v = model.v(&Var::constant(b.clone()));
        model.a(&v).value().clone()
    };
    let mut numeric = Array4::<f64>::zeros((N, M, E, F));
    for e in 0..E {
        for f in 0..F {
            let (mut plus, mut minus) = (b0.clone(), b0.clone());
            plus[[e, f]] += H;
            minus[[e, f]] -= H;
            let slope = (value_at(&plus) - value_at(&minus)) / (2.0 * H);
            let slope = slope
                .into_dimensionality::<ndarray::Ix2>()
                .expect("A is a matrix");
            numeric.slice_mut(ndarray::s![.., .., e, f]).assign(&slope);
        }
    }
    let fd_error = max_abs_diff(&da_db, &numeric.into_dyn());

    Report {
        shapes: [&v0, &a0, &da_dv, &dv_db, &direct].map(|array| array.shape().to_vec()),
        da_db,
        max_abs_error,
        matmul_error,
        fd_error,
    }
}

impl Outcome for Report {
    fn figures(&self) -> Vec<(&'static str, String)> {
        vec![("max_abs_error", format!("{:e}", self.max_abs_error))]
    }

    /// The claims: every tensor has the shape the formula says, and the chained derivative
    /// agrees with the direct one (to 1e-10), with the flattened matrix product (to 1e-12)
    /// and with the central differences (to 1e-8).
    fn check(&self) -> Result<(), ClaimFailed> {
        let expected_shapes = [
            vec![K, D],
            vec![N, M],
            vec![N, M, K, D],
            vec![K, D, E, F],
            vec![N, M, E, F],
        ];
        let names = ["V(B0)", "A(V(B0))", "dA/dV", "dV/dB", "dA/dB (direct)"];
        for ((name, shape), expected) in names.iter().zip(&self.shapes).zip(&expected_shapes) {
            claim(shape == expected, || {
                format!("{name} must have shape {expected:?}, not {shape:?}")
            })?;
        }
        // The result really is a 4-index tensor.
        claim(
            self.da_db.clone().into_dimensionality::<Ix4>().is_ok(),
            || format!("dA/dB must have 4 indices, not {}", self.da_db.ndim()),
        )?;
        let (direct, matmul, fd) = (self.max_abs_error, self.matmul_error, self.fd_error);
        claim(direct < 1e-10, || {
            format!("the chained derivative must match the direct one to 1e-10, not {direct:e}")
        })?;
        claim(matmul < 1e-12, || {
            format!("the einsum is the flattened matrix product, but differs by {matmul:e}")
        })?;
        claim(fd < 1e-8, || {
            format!("the chained derivative must agree with finite differences, not {fd:e}")
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = Args::from_env().mode();
    let report = run();
    let [v0, a0, da_dv, dv_db, _] = &report.shapes;

    println!("1. V(B) = tanh(P B Q), A(V) = sin(X V Y) + X V V^T Z");
    println!("   B0 is {E}x{F}, V(B0) is {v0:?}, A(V(B0)) is {a0:?}");
    println!();
    println!("2. dA/dV has shape {da_dv:?}, dV/dB has shape {dv_db:?}");
    println!();
    println!(
        "3. dA/dB = einsum!(\"nmkd,kdef->nmef\", dA/dV, dV/dB) has shape {:?}",
        report.da_db.shape()
    );
    println!("   for example dA_00/dB (one {E}x{F} slice), to 5 decimals:");
    let slice = format!("{:9.5}", report.da_db.slice(ndarray::s![0, 0, .., ..]));
    for line in slice.lines() {
        println!("   {line}");
    }
    println!();
    println!("4. checks");
    println!(
        "   a. largest |einsum chain rule - Jacobian of A(V(B))|: {:.3e}",
        report.max_abs_error
    );
    println!(
        "   b. largest |einsum - flattened Jacobians multiplied|: {:.3e}",
        report.matmul_error
    );
    println!(
        "   c. largest |einsum - central differences (h = {H:e})|: {:.3e}",
        report.fd_error
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
