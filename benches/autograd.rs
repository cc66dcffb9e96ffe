//! The overhead of the autograd on tiny tensors: one training step of the cross-product demo
//! (learn a 3x3x3 tensor `eps` so that `einsum("ijk,bj,bk->bi", eps, a, b)` is the cross
//! product) through `Var`s, against the same step written with `einsum_vjp!` on fixed-size
//! arrays, in the same run. Results and the command are in `benches/README.md`.

use criterion::{criterion_group, criterion_main, Criterion};
use einsum::autograd::Var;
use einsum::{einsum, einsum_vjp};
use ndarray::{Array2, Array3};
use std::hint::black_box;

const PAIRS: usize = 8;
const RATE: f64 = 0.05;

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// A batch of vectors, one per row.
type Vectors = [[f64; 3]; PAIRS];

/// Eight fixed vector pairs and their cross products.
fn batch() -> (Vectors, Vectors, Vectors) {
    let a: [[f64; 3]; PAIRS] =
        core::array::from_fn(|n| core::array::from_fn(|i| ((n * 3 + i) % 5) as f64 - 2.0));
    let b: [[f64; 3]; PAIRS] =
        core::array::from_fn(|n| core::array::from_fn(|i| ((n * 7 + i * 2) % 5) as f64 - 2.0));
    let c = core::array::from_fn(|n| cross(a[n], b[n]));
    (a, b, c)
}

/// One step through the autograd: a `Var` graph, `backward`, and a gradient-descent update.
fn var_step(eps: &mut Array3<f64>, a: &Array2<f64>, b: &Array2<f64>, target: &Var<f64>) {
    let parameter = Var::new(eps.clone());
    let (a, b) = (Var::constant(a.clone()), Var::constant(b.clone()));
    let prediction = einsum!("ijk,bj,bk->bi", &parameter, &a, &b);
    let loss = prediction.sub(target).powi(2).mean();
    let gradient = loss
        .backward()
        .grad(&parameter)
        .expect("eps is a leaf of the loss");
    let gradient = gradient.into_dimensionality::<ndarray::Ix3>().expect("3-D");
    eps.scaled_add(-RATE, &gradient);
}

/// The same step by hand: `einsum_vjp!` on fixed-size arrays and the loss's derivative.
fn fixed_step(
    eps: &mut [[[f64; 3]; 3]; 3],
    a: &[[f64; 3]; PAIRS],
    b: &[[f64; 3]; PAIRS],
    c: &[[f64; 3]; PAIRS],
) {
    let current = *eps;
    let (prediction, back) = einsum_vjp!("ijk,bj,bk->bi", &current, a, b);
    let scale = 2.0 / (PAIRS * 3) as f64;
    let upstream: [[f64; 3]; PAIRS] =
        core::array::from_fn(|n| core::array::from_fn(|i| scale * (prediction[n][i] - c[n][i])));
    let (gradient, _, _) = back(&upstream);
    for (row, grow) in eps.iter_mut().zip(gradient) {
        for (line, gline) in row.iter_mut().zip(grow) {
            for (value, g) in line.iter_mut().zip(gline) {
                *value -= RATE * g;
            }
        }
    }
}

fn training_step(c: &mut Criterion) {
    let (a, b, target) = batch();
    let a_array = Array2::from_shape_fn((PAIRS, 3), |(n, i)| a[n][i]);
    let b_array = Array2::from_shape_fn((PAIRS, 3), |(n, i)| b[n][i]);
    let target_var = Var::constant(Array2::from_shape_fn((PAIRS, 3), |(n, i)| target[n][i]));
    let mut group = c.benchmark_group("training step, 3x3x3 eps, 8 pairs");
    let mut eps = Array3::<f64>::zeros((3, 3, 3));
    group.bench_function("Var autograd", |bench| {
        bench.iter(|| {
            var_step(
                black_box(&mut eps),
                black_box(&a_array),
                black_box(&b_array),
                &target_var,
            )
        })
    });
    let mut fixed = [[[0.0; 3]; 3]; 3];
    group.bench_function("einsum_vjp! fixed-size", |bench| {
        bench.iter(|| {
            fixed_step(
                black_box(&mut fixed),
                black_box(&a),
                black_box(&b),
                black_box(&target),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, training_step);
criterion_main!(benches);
