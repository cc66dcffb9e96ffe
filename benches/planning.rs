//! Contraction order for fixed-size operands, planned at compile time: `einsum!` on chains of
//! 16x16 fixed-size matrices against the pairwise loops a user would write, and against the
//! single loop nest over every label that `einsum!` generated before planning (written here
//! by hand, as it was generated). The gradient of the three-matrix chain is measured the same
//! way.
//!
//! `cargo bench --bench planning -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion};
use einsum::{einsum, einsum_vjp};
use std::hint::black_box;

/// The side of every matrix.
const N: usize = 16;
/// A 16x16 fixed-size matrix.
type M = [[f64; N]; N];

/// A matrix with deterministic entries in `[-0.5, 0.5)`.
fn matrix(seed: usize) -> M {
    core::array::from_fn(|i| {
        core::array::from_fn(|j| ((i * 7 + j * 3 + seed * 5) % 11) as f64 / 11.0 - 0.5)
    })
}

/// `ij,jk->ik` as a user writes it: the sum in a local, stored once.
fn matmul(a: &M, b: &M) -> M {
    let mut out = [[0.0; N]; N];
    for i in 0..N {
        for k in 0..N {
            let mut acc = 0.0;
            for j in 0..N {
                acc += a[i][j] * b[j][k];
            }
            out[i][k] = acc;
        }
    }
    out
}

/// `ij,jk,kl->il` as the former expansion did it: one nest over every label.
fn direct3(a: &M, b: &M, c: &M) -> M {
    let mut out = [[0.0; N]; N];
    for i in 0..N {
        for l in 0..N {
            let mut acc = 0.0;
            for j in 0..N {
                for k in 0..N {
                    acc += a[i][j] * b[j][k] * c[k][l];
                }
            }
            out[i][l] = acc;
        }
    }
    out
}

/// `ij,jk,kl,lm->im` as the former expansion did it: one nest over every label.
fn direct4(a: &M, b: &M, c: &M, d: &M) -> M {
    let mut out = [[0.0; N]; N];
    for i in 0..N {
        for m in 0..N {
            let mut acc = 0.0;
            for j in 0..N {
                for k in 0..N {
                    for l in 0..N {
                        acc += a[i][j] * b[j][k] * c[k][l] * d[l][m];
                    }
                }
            }
            out[i][m] = acc;
        }
    }
    out
}

/// The gradients of `ij,jk,kl->il` as the former expansion computed them: one nest over
/// every label, each operand's gradient gaining the upstream gradient times the others.
fn direct3_gradients(a: &M, b: &M, c: &M, g: &M) -> (M, M, M) {
    let (mut ga, mut gb, mut gc) = ([[0.0; N]; N], [[0.0; N]; N], [[0.0; N]; N]);
    for i in 0..N {
        for l in 0..N {
            for j in 0..N {
                for k in 0..N {
                    ga[i][j] += g[i][l] * b[j][k] * c[k][l];
                    gb[j][k] += g[i][l] * a[i][j] * c[k][l];
                    gc[k][l] += g[i][l] * a[i][j] * b[j][k];
                }
            }
        }
    }
    (ga, gb, gc)
}

/// The transpose of a matrix.
fn transpose(a: &M) -> M {
    core::array::from_fn(|i| core::array::from_fn(|j| a[j][i]))
}

fn chains(c: &mut Criterion) {
    let (a, b, cc, d) = (matrix(1), matrix(2), matrix(3), matrix(4));

    let mut group = c.benchmark_group("ij,jk,kl->il 16x16 fixed");
    group.bench_function("einsum!", |bench| {
        bench
            .iter(|| -> M { einsum!("ij,jk,kl->il", black_box(&a), black_box(&b), black_box(&cc)) })
    });
    group.bench_function("hand pairwise", |bench| {
        bench.iter(|| matmul(&matmul(black_box(&a), black_box(&b)), black_box(&cc)))
    });
    group.bench_function("hand direct nest", |bench| {
        bench.iter(|| direct3(black_box(&a), black_box(&b), black_box(&cc)))
    });
    group.finish();

    let mut group = c.benchmark_group("ij,jk,kl,lm->im 16x16 fixed");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| -> M {
            einsum!(
                "ij,jk,kl,lm->im",
                black_box(&a),
                black_box(&b),
                black_box(&cc),
                black_box(&d)
            )
        })
    });
    group.bench_function("hand pairwise", |bench| {
        bench.iter(|| {
            matmul(
                &matmul(&matmul(black_box(&a), black_box(&b)), black_box(&cc)),
                black_box(&d),
            )
        })
    });
    group.bench_function("hand direct nest", |bench| {
        bench.iter(|| direct4(black_box(&a), black_box(&b), black_box(&cc), black_box(&d)))
    });
    group.finish();

    let g = matrix(5);
    let (_, back) = einsum_vjp!("ij,jk,kl->il", a, b, cc);
    let mut group = c.benchmark_group("ij,jk,kl->il 16x16 fixed, gradients");
    group.bench_function("einsum_vjp! back", |bench| {
        bench.iter(|| back(black_box(&g)))
    });
    group.bench_function("hand pairwise", |bench| {
        bench.iter(|| {
            let (a, b, cc, g) = (black_box(&a), black_box(&b), black_box(&cc), black_box(&g));
            // ga = g c^T b^T, gb = a^T g c^T, gc = (ab)^T g.
            let gct = matmul(g, &transpose(cc));
            (
                matmul(&gct, &transpose(b)),
                matmul(&transpose(a), &gct),
                matmul(&transpose(&matmul(a, b)), g),
            )
        })
    });
    group.bench_function("hand direct nest", |bench| {
        bench
            .iter(|| direct3_gradients(black_box(&a), black_box(&b), black_box(&cc), black_box(&g)))
    });
    group.finish();
}

criterion_group!(benches, chains);
criterion_main!(benches);
