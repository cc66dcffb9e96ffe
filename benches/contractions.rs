//! Contractions against baselines: `einsum!` (forward) and `einsum_vjp!`'s `back(&g)` (every
//! operand's gradient) on the cases of the performance issue, against the code a user would
//! otherwise write, all measured in the same run:
//!
//! - hand-written loops (on the same fixed-size arrays for the tiny cases, on contiguous
//!   slices or rows of `[f64; 3]` for the large ones);
//! - `ndarray`'s own operations where the case has one: `dot` / `general_mat_mul` for
//!   GEMM-shaped cases, `diag`, `sum_axis`, broadcasting;
//! - `ndarray_einsum::einsum`, the peer runtime einsum for ndarray;
//! - for `back`, where the gradient is a few lines by hand ("hand back": the cross products,
//!   `ii->`, `i,i->`), those lines, checked against `back`'s gradients.
//!
//! Every baseline is checked once against `einsum!`'s result before anything is timed, so no
//! baseline is silently computing something else. `back` is built once, outside the timing
//! loop, as in `benches/gradients.rs`. All elements are `f64`. Results and the command are in
//! `benches/README.md`, section "Contractions against baselines".

mod common;

use common::{hand_cross, hand_matmul8};
use criterion::{criterion_group, criterion_main, Criterion};
use einsum::{einsum, einsum_vjp};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array, Array1, Array2, Array3, Axis, Dimension, IntoDimension};
use std::hint::black_box;

// ---------------------------------------------------------------------------------------------
// Inputs and checks

/// `len` deterministic values in [-1, 1), different for each `seed`.
fn values(len: usize, seed: u64) -> Vec<f64> {
    (0..len as u64)
        .map(|i| {
            let h = (i ^ (seed << 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            (h % 2001) as f64 / 1000.0 - 1.0
        })
        .collect()
}

/// An ndarray array of the given shape filled with [`values`].
fn filled<D: Dimension>(shape: impl IntoDimension<Dim = D>, seed: u64) -> Array<f64, D> {
    let dim = shape.into_dimension();
    let len = dim.size();
    Array::from_shape_vec(dim, values(len, seed)).expect("the shape fits its values")
}

/// A fixed-size array filled with [`values`].
fn fixed<const N: usize>(seed: u64) -> [f64; N] {
    let v = values(N, seed);
    core::array::from_fn(|i| v[i])
}

/// Panics unless `got` and `want` have the same length and agree to 1e-9 relative to the
/// largest element of `want`: a baseline must compute what `einsum!` computes.
fn assert_close<'a>(
    what: &str,
    got: impl IntoIterator<Item = &'a f64>,
    want: impl IntoIterator<Item = &'a f64>,
) {
    let got: Vec<f64> = got.into_iter().copied().collect();
    let want: Vec<f64> = want.into_iter().copied().collect();
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want.iter().fold(1.0_f64, |m, w| m.max(w.abs()));
    for (n, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-9 * scale,
            "{what}: element {n} is {g}, einsum! gives {w}"
        );
    }
}

/// `ndarray_einsum::einsum` on `operands`, unwrapped.
fn peer(spec: &str, operands: &[&dyn ndarray_einsum::ArrayLike<f64>]) -> ndarray::ArrayD<f64> {
    ndarray_einsum::einsum(spec, operands).expect("ndarray-einsum accepts the spec")
}

// ---------------------------------------------------------------------------------------------
// Hand-written loops

/// `ijk,bj,bk->bi` over rows of `[f64; 3]`.
fn hand_cross_rows(eps: &[[[f64; 3]; 3]; 3], a: &[[f64; 3]], b: &[[f64; 3]]) -> Vec<[f64; 3]> {
    a.iter()
        .zip(b)
        .map(|(x, y)| hand_cross(eps, x, y))
        .collect()
}

/// The gradients of `ijk,j,k->i` (fixed 3x3x3) for the upstream gradient `g`: one loop nest,
/// as one would write them by hand.
#[allow(clippy::type_complexity)]
fn hand_cross_back(
    eps: &[[[f64; 3]; 3]; 3],
    a: &[f64; 3],
    b: &[f64; 3],
    g: &[f64; 3],
) -> ([[[f64; 3]; 3]; 3], [f64; 3], [f64; 3]) {
    let (mut g_eps, mut g_a, mut g_b) = ([[[0.0; 3]; 3]; 3], [0.0; 3], [0.0; 3]);
    for i in 0..3 {
        for j in 0..3 {
            for k in 0..3 {
                g_eps[i][j][k] = g[i] * a[j] * b[k];
                g_a[j] += g[i] * eps[i][j][k] * b[k];
                g_b[k] += g[i] * eps[i][j][k] * a[j];
            }
        }
    }
    (g_eps, g_a, g_b)
}

/// The gradients of `ijk,bj,bk->bi` over rows for the upstream rows `g`: the hand-written
/// nest of [`hand_cross_back`], row by row, with the `eps` gradient summed over the rows.
#[allow(clippy::type_complexity)]
fn hand_cross_rows_back(
    eps: &[[[f64; 3]; 3]; 3],
    a: &[[f64; 3]],
    b: &[[f64; 3]],
    g: &[[f64; 3]],
) -> ([[[f64; 3]; 3]; 3], Vec<[f64; 3]>, Vec<[f64; 3]>) {
    let mut g_eps = [[[0.0; 3]; 3]; 3];
    let (mut g_a, mut g_b) = (vec![[0.0; 3]; a.len()], vec![[0.0; 3]; b.len()]);
    for (((x, y), gr), (ga, gb)) in a.iter().zip(b).zip(g).zip(g_a.iter_mut().zip(&mut g_b)) {
        for i in 0..3 {
            for j in 0..3 {
                for k in 0..3 {
                    g_eps[i][j][k] += gr[i] * x[j] * y[k];
                    ga[j] += gr[i] * eps[i][j][k] * y[k];
                    gb[k] += gr[i] * eps[i][j][k] * x[j];
                }
            }
        }
    }
    (g_eps, g_a, g_b)
}

/// `bi,bijk,bk->bj` on fixed-size arrays, b = 2, n = 3.
fn hand_hessian_fixed(x: &[[f64; 3]; 2], h: &[[[[f64; 3]; 3]; 3]; 2]) -> [[f64; 3]; 2] {
    let mut out = [[0.0; 3]; 2];
    for b in 0..2 {
        for i in 0..3 {
            for j in 0..3 {
                for k in 0..3 {
                    out[b][j] += x[b][i] * h[b][i][j][k] * x[b][k];
                }
            }
        }
    }
    out
}

/// `bi,bijk,bk->bj` over rows of `[f64; 3]` and `[[[f64; 3]; 3]; 3]`.
fn hand_hessian_rows(x: &[[f64; 3]], h: &[[[[f64; 3]; 3]; 3]]) -> Vec<[f64; 3]> {
    x.iter()
        .zip(h)
        .map(|(x, h)| {
            let mut out = [0.0; 3];
            for i in 0..3 {
                for j in 0..3 {
                    for k in 0..3 {
                        out[j] += x[i] * h[i][j][k] * x[k];
                    }
                }
            }
            out
        })
        .collect()
}

/// `bi,bijk,bk->bj` on contiguous row-major slices: `x` is (batch, n), `h` is (batch, n, n, n).
fn hand_hessian(x: &[f64], h: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    let batches = x.chunks_exact(n).zip(h.chunks_exact(n * n * n));
    for ((xs, hs), os) in batches.zip(out.chunks_exact_mut(n)) {
        for (xi, hi) in xs.iter().zip(hs.chunks_exact(n * n)) {
            for (o, row) in os.iter_mut().zip(hi.chunks_exact(n)) {
                let inner: f64 = row.iter().zip(xs).map(|(h, x)| h * x).sum();
                *o += xi * inner;
            }
        }
    }
    out
}

/// The contiguous data of a standard-layout array.
fn data<D: Dimension>(a: &Array<f64, D>) -> &[f64] {
    a.as_slice().expect("inputs are in standard layout")
}

// ---------------------------------------------------------------------------------------------
// Cases

/// `ijk,j,k->i` on fixed 3x3x3 arrays, and `ijk,bj,bk->bi` for 100,000 rows.
fn cross_products(c: &mut Criterion) {
    let eps: [[[f64; 3]; 3]; 3] = [fixed::<9>(1), fixed::<9>(2), fixed::<9>(3)]
        .map(|m| core::array::from_fn(|j| core::array::from_fn(|k| m[3 * j + k])));
    let (a, b) = (fixed::<3>(4), fixed::<3>(5));
    let g = fixed::<3>(6);
    let y: [f64; 3] = einsum!("ijk,j,k->i", &eps, &a, &b);
    assert_close("ijk,j,k->i hand loop", &hand_cross(&eps, &a, &b), &y);

    let mut group = c.benchmark_group("ijk,j,k->i fixed 3x3x3");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| -> [f64; 3] {
            einsum!("ijk,j,k->i", black_box(&eps), black_box(&a), black_box(&b))
        })
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_cross(black_box(&eps), black_box(&a), black_box(&b)))
    });
    let (_, back) = einsum_vjp!("ijk,j,k->i", &eps, &a, &b);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    let (hand_eps, hand_a, hand_b) = hand_cross_back(&eps, &a, &b, &g);
    let (g_eps, g_a, g_b) = back(&g);
    assert_close(
        "ijk,j,k->i hand back: eps",
        hand_eps.as_flattened().as_flattened(),
        g_eps.as_flattened().as_flattened(),
    );
    assert_close("ijk,j,k->i hand back: a", &hand_a, &g_a);
    assert_close("ijk,j,k->i hand back: b", &hand_b, &g_b);
    group.bench_function("hand back", |bench| {
        bench.iter(|| hand_cross_back(black_box(&eps), black_box(&a), black_box(&b), black_box(&g)))
    });
    group.finish();

    let rows = 100_000;
    let eps_nd = Array3::from_shape_fn((3, 3, 3), |(i, j, k)| eps[i][j][k]);
    let (a_nd, b_nd): (Array2<f64>, Array2<f64>) = (filled((rows, 3), 7), filled((rows, 3), 8));
    let to_rows =
        |m: &Array2<f64>| -> Vec<[f64; 3]> { m.outer_iter().map(|r| [r[0], r[1], r[2]]).collect() };
    let (a_rows, b_rows) = (to_rows(&a_nd), to_rows(&b_nd));
    let g_nd: Array2<f64> = filled((rows, 3), 9);
    let y = einsum!("ijk,bj,bk->bi", &eps_nd, &a_nd, &b_nd);
    let hand = hand_cross_rows(&eps, &a_rows, &b_rows);
    assert_close("ijk,bj,bk->bi hand loop", hand.as_flattened(), &y);
    let spec = "ijk,bj,bk->bi";
    assert_close(spec, &peer(spec, &[&eps_nd, &a_nd, &b_nd]), &y);

    let mut group = c.benchmark_group("ijk,bj,bk->bi b=100000");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| {
            einsum!(
                "ijk,bj,bk->bi",
                black_box(&eps_nd),
                black_box(&a_nd),
                black_box(&b_nd)
            )
        })
    });
    group.bench_function("hand loop over [f64; 3] rows", |bench| {
        bench.iter(|| hand_cross_rows(black_box(&eps), black_box(&a_rows), black_box(&b_rows)))
    });
    let y_rows: Vec<[f64; 3]> = einsum!("ijk,bj,bk->bi", &eps, &a_rows, &b_rows);
    assert_close("ijk,bj,bk->bi on rows", y_rows.as_flattened(), &y);
    group.bench_function("einsum! on [f64; 3] rows", |bench| {
        bench.iter(|| -> Vec<[f64; 3]> {
            einsum!(
                "ijk,bj,bk->bi",
                black_box(&eps),
                black_box(&a_rows),
                black_box(&b_rows)
            )
        })
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| {
            peer(
                spec,
                &[black_box(&eps_nd), black_box(&a_nd), black_box(&b_nd)],
            )
        })
    });
    let (_, back) = einsum_vjp!("ijk,bj,bk->bi", &eps_nd, &a_nd, &b_nd);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g_nd))));
    let g_rows = to_rows(&g_nd);
    let (_, back) = einsum_vjp!("ijk,bj,bk->bi", &eps, &a_rows, &b_rows);
    group.bench_function("back on [f64; 3] rows", |bench| {
        bench.iter(|| back(black_box(&g_rows)))
    });
    let (hand_eps, hand_a, hand_b) = hand_cross_rows_back(&eps, &a_rows, &b_rows, &g_rows);
    let (g_eps, g_a, g_b) = back(&g_rows);
    let flat = |m: &[[[f64; 3]; 3]; 3]| -> Vec<f64> { m.as_flattened().as_flattened().to_vec() };
    assert_close(
        "ijk,bj,bk->bi hand back: eps",
        &flat(&hand_eps),
        &flat(&g_eps),
    );
    assert_close(
        "ijk,bj,bk->bi hand back: a",
        hand_a.as_flattened(),
        g_a.as_flattened(),
    );
    assert_close(
        "ijk,bj,bk->bi hand back: b",
        hand_b.as_flattened(),
        g_b.as_flattened(),
    );
    group.bench_function("hand back over [f64; 3] rows", |bench| {
        bench.iter(|| {
            hand_cross_rows_back(
                black_box(&eps),
                black_box(&a_rows),
                black_box(&b_rows),
                black_box(&g_rows),
            )
        })
    });
    group.finish();
}

/// `bi,bijk,bk->bj` at (b, n) = (2, 3) on fixed-size arrays, (1024, 3) and (256, 16) on
/// ndarray arrays.
fn hessian_contractions(c: &mut Criterion) {
    let x: [[f64; 3]; 2] = [fixed(11), fixed(12)];
    let hv = values(54, 13);
    let h: [[[[f64; 3]; 3]; 3]; 2] = core::array::from_fn(|b| {
        core::array::from_fn(|i| {
            core::array::from_fn(|j| core::array::from_fn(|k| hv[((b * 3 + i) * 3 + j) * 3 + k]))
        })
    });
    let g: [[f64; 3]; 2] = [fixed(14), fixed(15)];
    let y: [[f64; 3]; 2] = einsum!("bi,bijk,bk->bj", &x, &h, &x);
    let hand = hand_hessian_fixed(&x, &h);
    assert_close(
        "bi,bijk,bk->bj fixed hand loop",
        hand.as_flattened(),
        y.as_flattened(),
    );

    let mut group = c.benchmark_group("bi,bijk,bk->bj fixed 2,3");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| -> [[f64; 3]; 2] {
            einsum!(
                "bi,bijk,bk->bj",
                black_box(&x),
                black_box(&h),
                black_box(&x)
            )
        })
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_hessian_fixed(black_box(&x), black_box(&h)))
    });
    let (_, back) = einsum_vjp!("bi,bijk,bk->bj", &x, &h, &x);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();

    hessian_rows(c);

    let spec = "bi,bijk,bk->bj";
    for (batch, n) in [(1024, 3), (256, 16)] {
        let x: Array2<f64> = filled((batch, n), 16);
        let h: ndarray::Array4<f64> = filled((batch, n, n, n), 17);
        let g: Array2<f64> = filled((batch, n), 18);
        let y = einsum!("bi,bijk,bk->bj", &x, &h, &x);
        assert_close(
            "bi,bijk,bk->bj hand loop",
            &hand_hessian(data(&x), data(&h), n),
            &y,
        );
        assert_close(spec, &peer(spec, &[&x, &h, &x]), &y);

        let mut group = c.benchmark_group(format!("bi,bijk,bk->bj {batch},{n}"));
        group.bench_function("einsum!", |bench| {
            bench.iter(|| {
                einsum!(
                    "bi,bijk,bk->bj",
                    black_box(&x),
                    black_box(&h),
                    black_box(&x)
                )
            })
        });
        group.bench_function("hand loop over slices", |bench| {
            bench.iter(|| hand_hessian(black_box(data(&x)), black_box(data(&h)), n))
        });
        group.bench_function("ndarray-einsum", |bench| {
            bench.iter(|| peer(spec, &[black_box(&x), black_box(&h), black_box(&x)]))
        });
        let (_, back) = einsum_vjp!("bi,bijk,bk->bj", &x, &h, &x);
        group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
        group.finish();
    }
}

/// `bi,bijk,bk->bj` at (b, n) = (1024, 3) on `Vec`s of fixed-size rows.
fn hessian_rows(c: &mut Criterion) {
    let batch = 1024;
    let x: Vec<[f64; 3]> = (0..batch).map(|b| fixed(100 + b)).collect();
    let hv = values(batch as usize * 27, 19);
    let h: Vec<[[[f64; 3]; 3]; 3]> = hv
        .chunks_exact(27)
        .map(|c| {
            core::array::from_fn(|i| {
                core::array::from_fn(|j| core::array::from_fn(|k| c[(i * 3 + j) * 3 + k]))
            })
        })
        .collect();
    let g: Vec<[f64; 3]> = (0..batch).map(|b| fixed(5000 + b)).collect();
    let y: Vec<[f64; 3]> = einsum!("bi,bijk,bk->bj", &x, &h, &x);
    let hand = hand_hessian_rows(&x, &h);
    assert_close("bi,bijk,bk->bj rows", hand.as_flattened(), y.as_flattened());

    let mut group = c.benchmark_group("bi,bijk,bk->bj rows 1024,3");
    group.bench_function("einsum! on rows", |bench| {
        bench.iter(|| -> Vec<[f64; 3]> {
            einsum!(
                "bi,bijk,bk->bj",
                black_box(&x),
                black_box(&h),
                black_box(&x)
            )
        })
    });
    group.bench_function("hand loop over rows", |bench| {
        bench.iter(|| hand_hessian_rows(black_box(&x), black_box(&h)))
    });
    let (_, back) = einsum_vjp!("bi,bijk,bk->bj", &x, &h, &x);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();
}

/// `ij,jk->ik`: 8x8 fixed-size, and 64, 256, 1024 on ndarray arrays.
fn matrix_products(c: &mut Criterion) {
    let a: [[f64; 8]; 8] = core::array::from_fn(|i| fixed(20 + i as u64));
    let b: [[f64; 8]; 8] = core::array::from_fn(|i| fixed(30 + i as u64));
    let g: [[f64; 8]; 8] = core::array::from_fn(|i| fixed(40 + i as u64));
    let y: [[f64; 8]; 8] = einsum!("ij,jk->ik", &a, &b);
    let hand = hand_matmul8(&a, &b);
    assert_close(
        "ij,jk->ik 8 hand loop",
        hand.as_flattened(),
        y.as_flattened(),
    );

    let mut group = c.benchmark_group("ij,jk->ik fixed 8");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| -> [[f64; 8]; 8] { einsum!("ij,jk->ik", black_box(&a), black_box(&b)) })
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_matmul8(black_box(&a), black_box(&b)))
    });
    let (_, back) = einsum_vjp!("ij,jk->ik", &a, &b);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();

    let spec = "ij,jk->ik";
    for n in [64, 256, 1024] {
        let a: Array2<f64> = filled((n, n), 50);
        let b: Array2<f64> = filled((n, n), 51);
        let g: Array2<f64> = filled((n, n), 52);
        let y = einsum!("ij,jk->ik", &a, &b);
        assert_close("ij,jk->ik dot", &a.dot(&b), &y);
        assert_close(spec, &peer(spec, &[&a, &b]), &y);

        let mut group = c.benchmark_group(format!("ij,jk->ik {n}"));
        if n >= 1024 {
            group.sample_size(10);
        }
        group.bench_function("einsum!", |bench| {
            bench.iter(|| einsum!("ij,jk->ik", black_box(&a), black_box(&b)))
        });
        group.bench_function("ndarray dot", |bench| {
            bench.iter(|| black_box(&a).dot(black_box(&b)))
        });
        group.bench_function("ndarray-einsum", |bench| {
            bench.iter(|| peer(spec, &[black_box(&a), black_box(&b)]))
        });
        let (_, back) = einsum_vjp!("ij,jk->ik", &a, &b);
        group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
        group.finish();
    }
}

/// `bij,bjk->bik` at 64^3 with b = 64, and the chain `ij,jk,kl->il` at 128.
fn batched_and_chained(c: &mut Criterion) {
    let n = 64;
    let a: Array3<f64> = filled((n, n, n), 60);
    let b: Array3<f64> = filled((n, n, n), 61);
    let g: Array3<f64> = filled((n, n, n), 62);
    let batched_dot = |a: &Array3<f64>, b: &Array3<f64>| {
        let mut out = Array3::zeros((n, n, n));
        for ((mut o, x), y) in out.outer_iter_mut().zip(a.outer_iter()).zip(b.outer_iter()) {
            general_mat_mul(1.0, &x, &y, 0.0, &mut o);
        }
        out
    };
    let y = einsum!("bij,bjk->bik", &a, &b);
    assert_close("bij,bjk->bik loop of dot", &batched_dot(&a, &b), &y);
    let spec = "bij,bjk->bik";
    assert_close(spec, &peer(spec, &[&a, &b]), &y);

    let mut group = c.benchmark_group("bij,bjk->bik 64^3");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("bij,bjk->bik", black_box(&a), black_box(&b)))
    });
    group.bench_function("loop of 64 general_mat_mul", |bench| {
        bench.iter(|| batched_dot(black_box(&a), black_box(&b)))
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| peer(spec, &[black_box(&a), black_box(&b)]))
    });
    let (_, back) = einsum_vjp!("bij,bjk->bik", &a, &b);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();

    let n = 128;
    let a: Array2<f64> = filled((n, n), 63);
    let b: Array2<f64> = filled((n, n), 64);
    let m: Array2<f64> = filled((n, n), 65);
    let g: Array2<f64> = filled((n, n), 66);
    let y = einsum!("ij,jk,kl->il", &a, &b, &m);
    assert_close("ij,jk,kl->il two dots", &a.dot(&b).dot(&m), &y);
    let spec = "ij,jk,kl->il";
    assert_close(spec, &peer(spec, &[&a, &b, &m]), &y);

    let mut group = c.benchmark_group("ij,jk,kl->il 128");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("ij,jk,kl->il", black_box(&a), black_box(&b), black_box(&m)))
    });
    group.bench_function("(a dot b) dot c", |bench| {
        bench.iter(|| black_box(&a).dot(black_box(&b)).dot(black_box(&m)))
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| peer(spec, &[black_box(&a), black_box(&b), black_box(&m)]))
    });
    let (_, back) = einsum_vjp!("ij,jk,kl->il", &a, &b, &m);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();
}

/// `nmkd,kdef->nmef` (the tensor chain rule) at (n, m, k, d) = (4, 3, 2, 6) and
/// (32, 32, 16, 16), with (e, f) = (k, d).
fn tensor_chain_rule(c: &mut Criterion) {
    let spec = "nmkd,kdef->nmef";
    for (n, m, k, d) in [(4, 3, 2, 6), (32, 32, 16, 16)] {
        let a: ndarray::Array4<f64> = filled((n, m, k, d), 70);
        let b: ndarray::Array4<f64> = filled((k, d, k, d), 71);
        let g: ndarray::Array4<f64> = filled((n, m, k, d), 72);
        // The same contraction as one matrix product: (n m, k d) times (k d, e f).
        let reshaped_dot = |a: &ndarray::Array4<f64>, b: &ndarray::Array4<f64>| {
            let am = a.view().into_shape_with_order((n * m, k * d)).unwrap();
            let bm = b.view().into_shape_with_order((k * d, k * d)).unwrap();
            am.dot(&bm).into_shape_with_order((n, m, k, d)).unwrap()
        };
        let y = einsum!("nmkd,kdef->nmef", &a, &b);
        assert_close("nmkd,kdef->nmef reshape + dot", &reshaped_dot(&a, &b), &y);
        assert_close(spec, &peer(spec, &[&a, &b]), &y);

        let mut group = c.benchmark_group(format!("nmkd,kdef->nmef {n},{m},{k},{d}"));
        group.bench_function("einsum!", |bench| {
            bench.iter(|| einsum!("nmkd,kdef->nmef", black_box(&a), black_box(&b)))
        });
        group.bench_function("reshape + dot", |bench| {
            bench.iter(|| reshaped_dot(black_box(&a), black_box(&b)))
        });
        group.bench_function("ndarray-einsum", |bench| {
            bench.iter(|| peer(spec, &[black_box(&a), black_box(&b)]))
        });
        let (_, back) = einsum_vjp!("nmkd,kdef->nmef", &a, &b);
        group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
        group.finish();
    }
}

/// One-operand reductions on a 1000x1000 matrix (`ii->`, `ii->i`, `ij->j`), the outer product
/// `i,j->ij` of two 1000-vectors and the dot product `i,i->` of two 10^6-vectors.
fn reductions_and_products(c: &mut Criterion) {
    let n = 1000;
    let a: Array2<f64> = filled((n, n), 80);

    // ii->: the trace.
    let hand_trace = |a: &Array2<f64>| -> f64 { (0..n).map(|i| data(a)[i * (n + 1)]).sum() };
    let y = einsum!("ii->", &a);
    assert_close("ii-> hand loop", &[hand_trace(&a)], &y);
    assert_close("ii-> diag().sum()", &[a.diag().sum()], &y);
    assert_close("ii->", &peer("ii->", &[&a]), &y);
    let mut group = c.benchmark_group("ii-> 1000");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("ii->", black_box(&a)))
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_trace(black_box(&a)))
    });
    group.bench_function("diag().sum()", |bench| {
        bench.iter(|| black_box(&a).diag().sum())
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| peer("ii->", &[black_box(&a)]))
    });
    let (_, back) = einsum_vjp!("ii->", &a);
    let g = ndarray::arr0(0.5);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    // The gradient by hand: the identity times the upstream gradient.
    let hand_back = |g: f64| {
        let mut grad = Array2::<f64>::zeros((n, n));
        grad.diag_mut().fill(g);
        grad
    };
    assert_close("ii-> hand back", &hand_back(g[()]), &back(&g).0);
    group.bench_function("hand back", |bench| {
        bench.iter(|| hand_back(black_box(g[()])))
    });
    group.finish();

    // ii->i: the diagonal.
    let hand_diag = |a: &Array2<f64>| -> Array1<f64> {
        Array1::from_iter((0..n).map(|i| data(a)[i * (n + 1)]))
    };
    let y = einsum!("ii->i", &a);
    assert_close("ii->i hand loop", &hand_diag(&a), &y);
    assert_close("ii->i diag().to_owned()", &a.diag().to_owned(), &y);
    assert_close("ii->i", &peer("ii->i", &[&a]), &y);
    let mut group = c.benchmark_group("ii->i 1000");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("ii->i", black_box(&a)))
    });
    group.bench_function("hand loop", |bench| bench.iter(|| hand_diag(black_box(&a))));
    group.bench_function("diag().to_owned()", |bench| {
        bench.iter(|| black_box(&a).diag().to_owned())
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| peer("ii->i", &[black_box(&a)]))
    });
    let (_, back) = einsum_vjp!("ii->i", &a);
    let g: Array1<f64> = filled(n, 81);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();

    // ij->j: column sums.
    let hand_colsum = |a: &Array2<f64>| -> Array1<f64> {
        let mut out = vec![0.0; n];
        for row in data(a).chunks_exact(n) {
            for (o, x) in out.iter_mut().zip(row) {
                *o += x;
            }
        }
        Array1::from_vec(out)
    };
    let y = einsum!("ij->j", &a);
    assert_close("ij->j hand loop", &hand_colsum(&a), &y);
    assert_close("ij->j sum_axis", &a.sum_axis(Axis(0)), &y);
    assert_close("ij->j", &peer("ij->j", &[&a]), &y);
    let mut group = c.benchmark_group("ij->j 1000");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("ij->j", black_box(&a)))
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_colsum(black_box(&a)))
    });
    group.bench_function("sum_axis(Axis(0))", |bench| {
        bench.iter(|| black_box(&a).sum_axis(Axis(0)))
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| peer("ij->j", &[black_box(&a)]))
    });
    let (_, back) = einsum_vjp!("ij->j", &a);
    let g: Array1<f64> = filled(n, 82);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();

    // i,j->ij: the outer product.
    let u: Array1<f64> = filled(n, 83);
    let v: Array1<f64> = filled(n, 84);
    let hand_outer = |u: &Array1<f64>, v: &Array1<f64>| -> Array2<f64> {
        let mut out = Vec::with_capacity(n * n);
        for x in data(u) {
            out.extend(data(v).iter().map(|y| x * y));
        }
        Array2::from_shape_vec((n, n), out).unwrap()
    };
    let broadcast = |u: &Array1<f64>, v: &Array1<f64>| -> Array2<f64> {
        &u.view().insert_axis(Axis(1)) * &v.view().insert_axis(Axis(0))
    };
    let y = einsum!("i,j->ij", &u, &v);
    assert_close("i,j->ij hand loop", &hand_outer(&u, &v), &y);
    assert_close("i,j->ij broadcast", &broadcast(&u, &v), &y);
    assert_close("i,j->ij", &peer("i,j->ij", &[&u, &v]), &y);
    let mut group = c.benchmark_group("i,j->ij 1000");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("i,j->ij", black_box(&u), black_box(&v)))
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_outer(black_box(&u), black_box(&v)))
    });
    group.bench_function("broadcast u[:, None] * v", |bench| {
        bench.iter(|| broadcast(black_box(&u), black_box(&v)))
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| peer("i,j->ij", &[black_box(&u), black_box(&v)]))
    });
    let (_, back) = einsum_vjp!("i,j->ij", &u, &v);
    let g: Array2<f64> = filled((n, n), 85);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();

    // i,i->: the dot product of two vectors of 10^6.
    let len = 1_000_000;
    let u: Array1<f64> = filled(len, 86);
    let v: Array1<f64> = filled(len, 87);
    let hand_dot = |u: &Array1<f64>, v: &Array1<f64>| -> f64 {
        data(u).iter().zip(data(v)).map(|(x, y)| x * y).sum()
    };
    let y = einsum!("i,i->", &u, &v);
    assert_close("i,i-> hand loop", &[hand_dot(&u, &v)], &y);
    assert_close("i,i-> dot", &[u.dot(&v)], &y);
    assert_close("i,i->", &peer("i,i->", &[&u, &v]), &y);
    let mut group = c.benchmark_group("i,i-> 1e6");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| einsum!("i,i->", black_box(&u), black_box(&v)))
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_dot(black_box(&u), black_box(&v)))
    });
    group.bench_function("ndarray dot", |bench| {
        bench.iter(|| black_box(&u).dot(black_box(&v)))
    });
    group.bench_function("ndarray-einsum", |bench| {
        bench.iter(|| peer("i,i->", &[black_box(&u), black_box(&v)]))
    });
    let (_, back) = einsum_vjp!("i,i->", &u, &v);
    let g = ndarray::arr0(0.5);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    // The gradients by hand: each vector scaled by the upstream gradient.
    let hand_back = |u: &Array1<f64>, v: &Array1<f64>, g: f64| (v * g, u * g);
    let (hand_u, hand_v) = hand_back(&u, &v, g[()]);
    let (g_u, g_v) = back(&g);
    assert_close("i,i-> hand back: u", &hand_u, &g_u);
    assert_close("i,i-> hand back: v", &hand_v, &g_v);
    group.bench_function("hand back", |bench| {
        bench.iter(|| hand_back(black_box(&u), black_box(&v), black_box(g[()])))
    });
    group.finish();
}

criterion_group!(
    benches,
    cross_products,
    hessian_contractions,
    matrix_products,
    batched_and_chained,
    tensor_chain_rule,
    reductions_and_products
);
criterion_main!(benches);
