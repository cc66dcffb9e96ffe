//! Warm calls of what a training or simulation loop runs — `einsum_into!` and `einsum_vjp!`
//! writing into the caller's buffers, and gradients of chosen operands only — allocate
//! nothing, counted by a global allocator on the calling thread.

mod common;
mod counting;

use counting::{allocations, Counting};
use einsum::{einsum_into, einsum_vjp, Write};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `n` rows of 3 with values from `seed`.
fn rows(n: usize, seed: u64) -> Vec<[f64; 3]> {
    common::values(3 * n, seed)
        .chunks(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

#[test]
fn a_procrustes_step_into_buffers_allocates_nothing() {
    let r = [[0.9, 0.1, 0.0], [-0.1, 0.9, 0.05], [0.0, -0.05, 1.0]];
    let (x, t) = (rows(1000, 1), rows(1000, 2));
    let (mut y, mut gr) = (vec![[0.0; 3]; 1000], [[0.0; 3]; 3]);
    let count = allocations(|| {
        let back = einsum_vjp!(&mut y, "ij,bj->bi", &r, &x; wrt = 0);
        for (yb, tb) in y.iter_mut().zip(&t) {
            for i in 0..3 {
                yb[i] = 2.0 * (yb[i] - tb[i]);
            }
        }
        back(&y, (&mut gr,), Write::Add);
    });
    assert_eq!(count, 0);
    assert!(gr.iter().flatten().all(|v| v.is_finite() && *v != 0.0));
}

/// The row kernel builds no gradient it was not asked for: the 3x3 parameter's gradient is
/// returned as a value, the 1,000-row gradient of the data is never made.
#[test]
fn a_gradient_of_the_parameter_alone_builds_no_row_gradient() {
    let r = [[0.9, 0.1, 0.0], [-0.1, 0.9, 0.05], [0.0, -0.05, 1.0]];
    let (x, g) = (rows(1000, 1), rows(1000, 2));
    let mut y = vec![[0.0; 3]; 1000];
    let back = einsum_vjp!(&mut y, "ij,bj->bi", &r, &x; wrt = 0);
    let mut gr = [[0.0; 3]; 3];
    assert_eq!(allocations(|| back(&g, (&mut gr,), Write::Assign)), 0);
    // `back` alone, no value computed.
    let count = allocations(|| {
        let back = einsum_vjp!(_, "ij,bj->bi", &r, &x; wrt = 0);
        back(&g, (&mut gr,), Write::Add);
    });
    assert_eq!(count, 0);

    // Every gradient, as values: the row gradient is one `Vec` per call.
    let (_, all) = einsum_vjp!("ij,bj->bi", &r, &x);
    assert_eq!(
        allocations(|| drop(std::hint::black_box(all(&g)))),
        counting::CALLS
    );
    // The parameter's alone, as a value: nothing.
    let (_, only_r) = einsum_vjp!("ij,bj->bi", &r, &x; wrt = 0);
    assert_eq!(
        allocations(|| {
            std::hint::black_box(only_r(&g));
        }),
        0
    );
}

#[test]
fn fixed_size_gradients_into_buffers_allocate_nothing() {
    let eps = common::levi_civita();
    let (a, b) = ([1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]);
    let (mut c, mut ga, mut gb) = ([0.0; 3], [0.0; 3], [0.0; 3]);
    let count = allocations(|| {
        let back = einsum_vjp!(&mut c, "ijk,j,k->i", &eps, &a, &b; wrt = (1, 2));
        back(&[1.0, 0.5, -1.0], (&mut ga, &mut gb), Write::Assign);
    });
    assert_eq!(count, 0);
    assert_ne!(ga, [0.0; 3]);
}

#[test]
fn batched_cross_products_into_a_buffer_allocate_nothing() {
    let eps = common::levi_civita();
    let (x, y) = (rows(1000, 1), rows(1000, 2));
    let mut out = vec![[0.0; 3]; 1000];
    let count = allocations(|| einsum_into!(&mut out, "ijk,bj,bk->bi", &eps, &x, &y));
    assert_eq!(count, 0);
}

#[test]
fn ndarray_gradients_into_buffers_allocate_nothing_of_their_own() {
    use ndarray::{Array1, Array2};
    let m = Array2::from_shape_fn((200, 100), |(i, j)| (i as f64 - j as f64) / 100.0);
    let v = Array1::from_shape_fn(100, |j| j as f64 / 50.0);
    let mut y = Array1::<f64>::zeros(200);
    let (mut gm, mut gv) = (Array2::zeros((200, 100)), Array1::zeros(100));
    let g = Array1::from_elem(200, 0.5);
    // A matrix-vector product, both gradients; then the column sums.
    let count = allocations(|| {
        let back = einsum_vjp!(&mut y, "ij,j->i", &m, &v);
        back(&g, (gm.view_mut(), gv.view_mut()), Write::Assign);
    });
    assert_eq!(count, 0);
    let mut sums = Array1::<f64>::zeros(100);
    let count = allocations(|| {
        let back = einsum_vjp!(&mut sums, "ij->j", &m);
        back(&v, (gm.view_mut(),), Write::Add);
    });
    assert_eq!(count, 0);
}

/// A chain of three matrix products into a buffer: its intermediate comes from the thread's
/// pool and the GEMM kernel packs into its per-thread buffers, so nothing is allocated.
#[test]
fn a_chain_into_a_buffer_allocates_nothing() {
    use ndarray::Array2;
    let a = Array2::from_shape_fn((32, 32), |(i, j)| (i + 2 * j) as f64 / 64.0);
    let mut out = Array2::<f64>::zeros((32, 32));
    let count = allocations(|| einsum_into!(&mut out, "ij,jk,kl->il", &a, &a, &a));
    assert_eq!(count, 0);
    assert_eq!(out, a.dot(&a).dot(&a));
}

/// Matrix products into buffers, value and gradients, at sizes from one tile to several
/// packed blocks: nothing is allocated once warm.
#[test]
fn matrix_products_and_their_gradients_into_buffers_allocate_nothing() {
    use ndarray::Array2;
    for (m, k, n) in [(8, 8, 8), (64, 64, 64), (10, 300, 1030)] {
        let a = Array2::from_shape_fn((m, k), |(i, j)| (i + 2 * j) as f64 / 64.0);
        let b = Array2::from_shape_fn((k, n), |(i, j)| (2 * i + j) as f64 / 64.0);
        let g = Array2::from_shape_fn((m, n), |(i, j)| (i as f64 - j as f64) / 64.0);
        let (mut c, mut ga, mut gb) = (Array2::<f64>::zeros((m, n)), a.clone(), b.clone());
        let count = allocations(|| {
            let back = einsum_vjp!(&mut c, "ik,kj->ij", &a, &b);
            back(&g, (ga.view_mut(), gb.view_mut()), Write::Assign);
        });
        assert_eq!(count, 0, "{m}x{k} times {k}x{n}");
        assert_eq!(ga, g.dot(&b.t()));
    }
}
