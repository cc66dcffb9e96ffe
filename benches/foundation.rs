//! Foundation benchmarks: `einsum!` against the code a user would otherwise write, measured in
//! the same run. Fixed-size cases compare with hand-written loops over the same arrays;
//! ndarray cases with `ndarray`'s own `dot`. Results and the command are in `benches/README.md`.

mod common;

use common::{hand_cross, hand_matmul8, levi_civita};
use criterion::{criterion_group, criterion_main, Criterion};
use einsum::einsum;
use ndarray::Array2;
use std::hint::black_box;

fn fixed_size(c: &mut Criterion) {
    let eps = levi_civita();
    let (a, b) = ([1.0, 2.0, 3.0], [-2.0, 0.5, 4.0]);
    let mut group = c.benchmark_group("ijk,j,k->i 3x3x3");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| -> [f64; 3] {
            einsum!("ijk,j,k->i", black_box(&eps), black_box(&a), black_box(&b))
        })
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_cross(black_box(&eps), black_box(&a), black_box(&b)))
    });
    group.finish();

    let m: [[f64; 8]; 8] =
        core::array::from_fn(|i| core::array::from_fn(|j| (i * 8 + j) as f64 * 0.01));
    let mut group = c.benchmark_group("ij,jk->ik 8x8 fixed");
    group.bench_function("einsum!", |bench| {
        bench.iter(|| -> [[f64; 8]; 8] { einsum!("ij,jk->ik", black_box(&m), black_box(&m)) })
    });
    group.bench_function("hand loop", |bench| {
        bench.iter(|| hand_matmul8(black_box(&m), black_box(&m)))
    });
    group.finish();
}

fn ndarray_matmul(c: &mut Criterion) {
    for n in [64, 256] {
        let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64 * 0.1);
        let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 5 + j * 2) % 13) as f64 * 0.1);
        let mut group = c.benchmark_group(format!("ij,jk->ik {n}"));
        group.bench_function("einsum!", |bench| {
            bench.iter(|| einsum!("ij,jk->ik", black_box(&a), black_box(&b)))
        });
        group.bench_function("ndarray dot", |bench| {
            bench.iter(|| black_box(&a).dot(black_box(&b)))
        });
        group.finish();
    }
}

criterion_group!(benches, fixed_size, ndarray_matmul);
criterion_main!(benches);
