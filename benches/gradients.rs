//! The cost of gradients: `einsum_vjp!`'s `back` against the forward `einsum!` of the same
//! spec and operands, in the same run. Results and the command are in `benches/README.md`.

mod common;

use common::levi_civita;
use criterion::{criterion_group, criterion_main, Criterion};
use einsum::{einsum, einsum_vjp};
use ndarray::{Array2, Array4};
use std::hint::black_box;

fn fixed_cross_product(c: &mut Criterion) {
    let eps = levi_civita();
    let (a, b) = ([1.0, 2.0, 3.0], [-2.0, 0.5, 4.0]);
    let g = [1.0, -1.0, 0.5];
    let mut group = c.benchmark_group("ijk,j,k->i 3x3x3");
    group.bench_function("forward", |bench| {
        bench.iter(|| -> [f64; 3] {
            einsum!("ijk,j,k->i", black_box(&eps), black_box(&a), black_box(&b))
        })
    });
    let (_, back) = einsum_vjp!("ijk,j,k->i", &eps, &a, &b);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();
}

fn ndarray_matmul(c: &mut Criterion) {
    let n = 256;
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64 * 0.1);
    let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 5 + j * 2) % 13) as f64 * 0.1);
    let g = Array2::from_shape_fn((n, n), |(i, j)| ((i + j) % 5) as f64 * 0.1);
    let mut group = c.benchmark_group("ij,jk->ik 256");
    group.bench_function("forward", |bench| {
        bench.iter(|| einsum!("ij,jk->ik", black_box(&a), black_box(&b)))
    });
    let (_, back) = einsum_vjp!("ij,jk->ik", &a, &b);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();
}

fn hessian_contraction(c: &mut Criterion) {
    let (batch, n) = (256, 16);
    let x = Array2::from_shape_fn((batch, n), |(b, i)| ((b + i) % 7) as f64 * 0.1);
    let h = Array4::from_shape_fn((batch, n, n, n), |(b, j, i, k)| {
        ((b + j + 2 * i + 3 * k) % 5) as f64 * 0.1
    });
    let g = Array2::from_shape_fn((batch, n), |(b, j)| ((b * j) % 3) as f64);
    let mut group = c.benchmark_group("bi,bjik,bk->bj 256,16");
    group.bench_function("forward", |bench| {
        bench.iter(|| {
            einsum!(
                "bi,bjik,bk->bj",
                black_box(&x),
                black_box(&h),
                black_box(&x)
            )
        })
    });
    let (_, back) = einsum_vjp!("bi,bjik,bk->bj", &x, &h, &x);
    group.bench_function("back", |bench| bench.iter(|| back(black_box(&g))));
    group.finish();
}

criterion_group!(
    benches,
    fixed_cross_product,
    ndarray_matmul,
    hessian_contraction
);
criterion_main!(benches);
