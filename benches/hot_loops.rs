//! Hot loops: `einsum_into!` writing into a preallocated output, against the code a user
//! would otherwise write into the same output, all measured in the same run:
//!
//! - `ij,jk->ik` on 8x8 and 64x64 `Array2`s against `general_mat_mul` into the output;
//! - 1,000 cross products `ijk,bj,bk->bi` on `Array3`/`Array2` operands against a hand loop
//!   over the rows;
//! - `ij,jk,kl->il` at 32 against two `general_mat_mul` calls with a kept temporary;
//! - `ij->j` at 1000x1000 against a hand loop adding each row into the output;
//! - `einsum!` (allocating its result) on 8x8 `ij,jk->ik` against `dot`;
//! - a Procrustes step on 100,000 rows of 3 (`ij,bj->bi`, the squared distance to targets,
//!   the 3x3 parameter's gradient only, written into a buffer, then an Adam update) against
//!   the same step fused by hand into one pass over the rows; and the same step through
//!   `einsum_vjp!` returning every gradient, as it was written before `wrt` existed.
//!
//! Each baseline is checked once against `einsum_into!`'s result before anything is timed.
//! All elements are `f64`. Run with `RAYON_NUM_THREADS=1 cargo bench --bench hot_loops`;
//! results are in `benches/README.md`, section "Hot loops".

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use einsum::{einsum, einsum_into, einsum_vjp, Write};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array, Array1, Array2, Array3, Dimension, IntoDimension, ShapeBuilder, Zip};
use std::hint::black_box;

/// An ndarray array of the given shape filled with deterministic values in [-1, 1).
fn filled<D: Dimension>(shape: impl IntoDimension<Dim = D>, seed: u64) -> Array<f64, D> {
    let dim = shape.into_dimension();
    let values = (0..dim.size() as u64)
        .map(|i| {
            let h = (i ^ (seed << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            (h % 2001) as f64 / 1000.0 - 1.0
        })
        .collect();
    Array::from_shape_vec(dim, values).expect("the shape fits its values")
}

/// Panics unless the two arrays agree to 1e-9 relative to the largest element of `want`.
fn assert_close<D: Dimension>(what: &str, got: &Array<f64, D>, want: &Array<f64, D>) {
    let scale = want.iter().fold(1.0_f64, |m, x| m.max(x.abs()));
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-9 * scale, "{what}: {g} against {w}");
    }
}

/// `einsum_into!("ij,jk->ik")` on an `m x k` and a `k x n` matrix against `general_mat_mul`
/// (matrixmultiply) into a preallocated result, the two results checked alike.
fn matrix_product(c: &mut Criterion, name: &str, (m, k, n): (usize, usize, usize)) {
    let a: Array2<f64> = filled((m, k), 1);
    let b: Array2<f64> = filled((k, n), 2);
    let mut out = Array2::<f64>::zeros((m, n));
    let mut want = Array2::<f64>::zeros((m, n));
    einsum_into!(&mut out, "ij,jk->ik", &a, &b);
    general_mat_mul(1.0, &a, &b, 0.0, &mut want);
    assert_close("ij,jk->ik", &out, &want);

    let mut group = c.benchmark_group(name);
    group.bench_function("einsum_into!", |bench| {
        bench.iter(|| einsum_into!(&mut out, "ij,jk->ik", black_box(&a), black_box(&b)))
    });
    group.bench_function("general_mat_mul", |bench| {
        bench.iter(|| general_mat_mul(1.0, black_box(&a), black_box(&b), 0.0, &mut want))
    });
    group.finish();
}

fn matrix_products(c: &mut Criterion) {
    for n in [8, 16, 32, 64, 256] {
        matrix_product(c, &format!("into ij,jk->ik {n}x{n}"), (n, n, n));
    }
    // Shapes other than square: narrow, shallow, deep.
    for (m, k, n) in [
        (1000, 9, 3),
        (3, 1000, 3),
        (100, 3, 1000),
        (500, 20, 500),
        (7, 300, 7),
    ] {
        let name = format!("into ij,jk->ik {m}x{k} by {k}x{n}");
        matrix_product(c, &name, (m, k, n));
    }

    // The first operand read transposed, the product written into a column-major buffer.
    let a: Array2<f64> = filled((64, 64), 1);
    let b: Array2<f64> = filled((64, 64), 2);
    let mut out = Array2::<f64>::zeros((64, 64).f());
    let mut want = Array2::<f64>::zeros((64, 64).f());
    let mut group = c.benchmark_group("into ji,jk->ik 64x64, column-major result");
    group.bench_function("einsum_into!", |bench| {
        bench.iter(|| einsum_into!(&mut out, "ji,jk->ik", black_box(&a), black_box(&b)))
    });
    group.bench_function("general_mat_mul", |bench| {
        bench.iter(|| general_mat_mul(1.0, &black_box(&a).t(), black_box(&b), 0.0, &mut want))
    });
    group.finish();
    assert_close("ji,jk->ik", &out, &want);

    let a: Array2<f64> = filled((8, 8), 1);
    let b: Array2<f64> = filled((8, 8), 2);
    let mut group = c.benchmark_group("allocating ij,jk->ik 8x8");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| -> Array2<f64> { einsum!("ij,jk->ik", black_box(&a), black_box(&b)) })
    });
    group.bench_function("dot", |bench| {
        bench.iter(|| black_box(&a).dot(black_box(&b)))
    });
    group.finish();
}

/// `out[b] = eps_ijk x_bj y_bk` row by row, the sums in locals: the loop a user would write
/// on ndarray operands.
fn hand_cross_rows(eps: &Array3<f64>, x: &Array2<f64>, y: &Array2<f64>, out: &mut Array2<f64>) {
    Zip::from(out.rows_mut())
        .and(x.rows())
        .and(y.rows())
        .for_each(|mut o, x, y| {
            for i in 0..3 {
                let mut acc = 0.0;
                for j in 0..3 {
                    for k in 0..3 {
                        acc += eps[[i, j, k]] * x[j] * y[k];
                    }
                }
                o[i] = acc;
            }
        });
}

/// `ijk,j,k->i` on ndarray operands, the sums in a local: the loop a user would write.
fn hand_contract3(t: &Array3<f64>, a: &Array1<f64>, b: &Array1<f64>) -> Array1<f64> {
    Array1::from_shape_fn(t.shape()[0], |i| {
        let mut acc = 0.0;
        for j in 0..t.shape()[1] {
            for k in 0..t.shape()[2] {
                acc += t[[i, j, k]] * a[j] * b[k];
            }
        }
        acc
    })
}

fn small_ndarray_calls(c: &mut Criterion) {
    let t: Array3<f64> = filled((3, 3, 3), 1);
    let (a, b): (Array1<f64>, Array1<f64>) = (filled(3, 2), filled(3, 3));
    let want = hand_contract3(&t, &a, &b);
    assert_close("ijk,j,k->i", &einsum!("ijk,j,k->i", &t, &a, &b), &want);
    let mut out = Array1::<f64>::zeros(3);

    let mut group = c.benchmark_group("ijk,j,k->i 3x3x3 ndarray");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("ijk,j,k->i", black_box(&t), black_box(&a), black_box(&b)))
    });
    group.bench_function("einsum_into!", |bench| {
        bench.iter(|| {
            einsum_into!(
                &mut out,
                "ijk,j,k->i",
                black_box(&t),
                black_box(&a),
                black_box(&b)
            )
        })
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_contract3(black_box(&t), black_box(&a), black_box(&b)))
    });
    group.finish();
}

fn cross_products(c: &mut Criterion) {
    let eps = {
        let fixed = common::levi_civita();
        Array3::from_shape_fn((3, 3, 3), |(i, j, k)| fixed[i][j][k])
    };
    let x: Array2<f64> = filled((1000, 3), 1);
    let y: Array2<f64> = filled((1000, 3), 2);
    let mut out = Array2::<f64>::zeros((1000, 3));
    let mut want = Array2::<f64>::zeros((1000, 3));
    einsum_into!(&mut out, "ijk,bj,bk->bi", &eps, &x, &y);
    hand_cross_rows(&eps, &x, &y, &mut want);
    assert_close("ijk,bj,bk->bi", &out, &want);

    let mut group = c.benchmark_group("into ijk,bj,bk->bi 1000 rows");
    group.bench_function("einsum_into!", |bench| {
        bench.iter(|| {
            einsum_into!(
                &mut out,
                "ijk,bj,bk->bi",
                black_box(&eps),
                black_box(&x),
                black_box(&y)
            )
        })
    });
    group.bench_function("hand loop over rows", |bench| {
        bench.iter(|| hand_cross_rows(black_box(&eps), black_box(&x), black_box(&y), &mut want))
    });
    group.finish();
}

fn chain(c: &mut Criterion) {
    let [a, b, d]: [Array2<f64>; 3] = [1, 2, 3].map(|seed| filled((32, 32), seed));
    let mut out = Array2::<f64>::zeros((32, 32));
    let mut want = Array2::<f64>::zeros((32, 32));
    let mut temporary = Array2::<f64>::zeros((32, 32));
    let two_products = |want: &mut Array2<f64>, temporary: &mut Array2<f64>| {
        general_mat_mul(1.0, &a, &b, 0.0, temporary);
        general_mat_mul(1.0, temporary, &d, 0.0, want);
    };
    einsum_into!(&mut out, "ij,jk,kl->il", &a, &b, &d);
    two_products(&mut want, &mut temporary);
    assert_close("ij,jk,kl->il", &out, &want);

    let mut group = c.benchmark_group("into ij,jk,kl->il 32");
    group.bench_function("einsum_into!", |bench| {
        bench.iter(|| {
            einsum_into!(
                &mut out,
                "ij,jk,kl->il",
                black_box(&a),
                black_box(&b),
                black_box(&d)
            )
        })
    });
    group.bench_function("two general_mat_mul", |bench| {
        bench.iter(|| two_products(&mut want, &mut temporary))
    });
    group.finish();
}

fn column_sums(c: &mut Criterion) {
    let a: Array2<f64> = filled((1000, 1000), 1);
    let mut out = Array1::<f64>::zeros(1000);
    let mut want = Array1::<f64>::zeros(1000);
    let hand = |a: &Array2<f64>, want: &mut Array1<f64>| {
        want.fill(0.0);
        for row in a.rows() {
            Zip::from(&mut *want).and(row).for_each(|w, &x| *w += x);
        }
    };
    einsum_into!(&mut out, "ij->j", &a);
    hand(&a, &mut want);
    assert_close("ij->j", &out, &want);

    let mut group = c.benchmark_group("into ij->j 1000x1000");
    group.bench_function("einsum_into!", |bench| {
        bench.iter(|| einsum_into!(&mut out, "ij->j", black_box(&a)))
    });
    group.bench_function("hand row loop", |bench| {
        bench.iter(|| hand(black_box(&a), &mut want))
    });
    group.finish();
}

/// Adam's update of a 3x3 parameter from its gradient (PyTorch's rule and defaults, learning
/// rate 1e-2): the same few dozen flops after either way of computing the gradient.
struct Adam3 {
    m: [[f64; 3]; 3],
    v: [[f64; 3]; 3],
    t: i32,
}

impl Adam3 {
    fn new() -> Self {
        Adam3 {
            m: [[0.0; 3]; 3],
            v: [[0.0; 3]; 3],
            t: 0,
        }
    }

    fn step(&mut self, r: &mut [[f64; 3]; 3], g: &[[f64; 3]; 3]) {
        let (lr, b1, b2, eps): (f64, f64, f64, f64) = (1e-2, 0.9, 0.999, 1e-8);
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for i in 0..3 {
            for j in 0..3 {
                self.m[i][j] = b1 * self.m[i][j] + (1.0 - b1) * g[i][j];
                self.v[i][j] = b2 * self.v[i][j] + (1.0 - b2) * g[i][j] * g[i][j];
                r[i][j] -= lr * (self.m[i][j] / c1) / ((self.v[i][j] / c2).sqrt() + eps);
            }
        }
    }
}

/// The loss `sum_b |R x_b - t_b|^2` and its gradient in R, `sum_b 2 (R x_b - t_b) x_b^T`, in
/// one pass over the rows: the loop a user would fuse by hand.
fn fused_procrustes(
    r: &[[f64; 3]; 3],
    x: &[[f64; 3]],
    t: &[[f64; 3]],
    gr: &mut [[f64; 3]; 3],
) -> f64 {
    let mut loss = 0.0;
    *gr = [[0.0; 3]; 3];
    for (xb, tb) in x.iter().zip(t) {
        for i in 0..3 {
            let y = r[i][0] * xb[0] + r[i][1] * xb[1] + r[i][2] * xb[2];
            let d = y - tb[i];
            loss += d * d;
            for j in 0..3 {
                gr[i][j] += 2.0 * d * xb[j];
            }
        }
    }
    loss
}

/// The same step through `einsum_vjp!` into buffers: the forward pass into `y`, the upstream
/// gradient `2 (y - t)` made in place in `y`, the 3x3 parameter's gradient into `gr`.
fn einsum_procrustes(
    r: &[[f64; 3]; 3],
    x: &[[f64; 3]],
    t: &[[f64; 3]],
    y: &mut Vec<[f64; 3]>,
    gr: &mut [[f64; 3]; 3],
) -> f64 {
    let back = einsum_vjp!(&mut *y, "ij,bj->bi", r, x; wrt = 0);
    let mut loss = 0.0;
    for (yb, tb) in y.iter_mut().zip(t) {
        for i in 0..3 {
            let d = yb[i] - tb[i];
            loss += d * d;
            yb[i] = 2.0 * d;
        }
    }
    back(y, (gr,), Write::Assign);
    loss
}

fn procrustes(c: &mut Criterion) {
    let n = 100_000;
    let rows = |seed: u64| -> Vec<[f64; 3]> {
        let flat: Array2<f64> = filled((n, 3), seed);
        flat.rows()
            .into_iter()
            .map(|r| [r[0], r[1], r[2]])
            .collect()
    };
    let (x, t) = (rows(1), rows(2));
    let start = [[0.9, 0.1, 0.0], [-0.1, 0.9, 0.05], [0.0, -0.05, 1.0]];
    let (mut y, mut g_einsum, mut g_hand) = (vec![[0.0; 3]; n], [[0.0; 3]; 3], [[0.0; 3]; 3]);
    let loss_einsum = einsum_procrustes(&start, &x, &t, &mut y, &mut g_einsum);
    let loss_hand = fused_procrustes(&start, &x, &t, &mut g_hand);
    assert!(
        (loss_einsum - loss_hand).abs() <= 1e-9 * loss_hand,
        "{loss_einsum} against {loss_hand}"
    );
    for i in 0..3 {
        for j in 0..3 {
            let scale = g_hand[i][j].abs().max(1.0);
            assert!(
                (g_einsum[i][j] - g_hand[i][j]).abs() <= 1e-9 * scale,
                "dR[{i}][{j}]"
            );
        }
    }

    let mut group = c.benchmark_group("procrustes step 100000 rows");
    group.sample_size(30);
    let (mut r, mut adam) = (start, Adam3::new());
    group.bench_function("einsum_vjp! into, wrt = 0", |bench| {
        bench.iter(|| {
            let loss = einsum_procrustes(&r, black_box(&x), black_box(&t), &mut y, &mut g_einsum);
            adam.step(&mut r, &g_einsum);
            loss
        })
    });
    let (mut r, mut adam) = (start, Adam3::new());
    group.bench_function("fused hand loop", |bench| {
        bench.iter(|| {
            let loss = fused_procrustes(&r, black_box(&x), black_box(&t), &mut g_hand);
            adam.step(&mut r, &g_hand);
            loss
        })
    });
    let (mut r, mut adam) = (start, Adam3::new());
    group.bench_function("einsum_vjp! every gradient, allocating", |bench| {
        bench.iter(|| {
            let gr = {
                let (y, back) = einsum_vjp!("ij,bj->bi", &r, black_box(&x));
                let g: Vec<[f64; 3]> = y
                    .iter()
                    .zip(black_box(&t))
                    .map(|(yb, tb)| [0, 1, 2].map(|i| 2.0 * (yb[i] - tb[i])))
                    .collect();
                back(&g).0
            };
            adam.step(&mut r, &gr);
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    matrix_products,
    small_ndarray_calls,
    cross_products,
    chain,
    column_sums,
    procrustes
);
criterion_main!(benches);
