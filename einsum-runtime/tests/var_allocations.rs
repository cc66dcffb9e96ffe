//! Heap allocations per warm call of the autograd: recording each kind of operation, and whole
//! training steps (record, backward, read a gradient) as the demos write them. A global
//! allocator counts the allocations made on the thread that asked for counting.
//!
//! Each bound is the count this code makes, so that a change that allocates more per step
//! fails here and says by how much. A recorded node needs its reference-counted node and its
//! value; most operations need nothing else.

use einsum_runtime::autograd::Var;
use ndarray::{Array1, Array2, ArrayD, IxDyn};

// The facade's tests count with the same allocator.
#[path = "../../tests/counting/mod.rs"]
mod counting;

use counting::{allocations, Counting, CALLS};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations per call of `f`, warm.
fn per_call(f: impl FnMut()) -> usize {
    let total = allocations(f);
    total.div_ceil(CALLS)
}

/// Checks that `f` allocates at most `allowed` per warm call, and prints the count.
#[track_caller]
fn check(name: &str, allowed: usize, f: impl FnMut()) {
    let count = per_call(f);
    println!("{name}: {count} allocations per call");
    assert!(
        count <= allowed,
        "{name}: {count} allocations per call, at most {allowed} expected"
    );
}

fn matrix(n: usize, seed: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        ((i * 7 + j * 3 + seed) % 11) as f64 / 11.0 - 0.5
    })
}

fn vector(n: usize, seed: usize) -> Array1<f64> {
    Array1::from_shape_fn(n, |i| ((i * 5 + seed) % 13) as f64 / 13.0 - 0.5)
}

/// One training step of a linear model `y = W x` with a squared-error loss: the parameter
/// made a leaf from its array, the loss recorded, the backward pass, the gradient read.
fn model_step(n: usize) -> impl FnMut() {
    let w = matrix(n, 1);
    let x = Var::constant(vector(n, 2));
    let target = Var::constant(vector(n, 3));
    move || {
        let w = Var::new(w.clone());
        let y = Var::einsum("ij,j->i", &[&w, &x]).unwrap();
        let error = &y - &target;
        let loss = (&error * &error).sum();
        let grads = loss.backward();
        let g = grads.grad(&w).unwrap();
        assert_eq!(g.shape(), &[n, n]);
    }
}

#[test]
fn model_steps() {
    check("model step 3x3", 23, model_step(3));
    check("model step 64x64", 23, model_step(64));
}

#[test]
fn elementwise_chain_with_backward() {
    let x = Var::new(matrix(8, 4));
    check("elementwise chain", 29, || {
        let y = (&(&x * 2.0 + 1.0).tanh() * &x).exp();
        let loss = y.sum();
        let grads = loss.backward();
        assert!(grads.grad(&x).is_some());
    });
}

#[test]
fn one_einsum_with_backward() {
    let a = Var::new(matrix(8, 5));
    let b = Var::new(matrix(8, 6));
    let seed = ArrayD::from_elem(IxDyn(&[8, 8]), 1.0);
    check("einsum ij,jk->ik with backward", 15, || {
        let c = Var::einsum("ij,jk->ik", &[&a, &b]).unwrap();
        let grads = c.backward_with(seed.clone(), false);
        assert!(grads.grad(&a).is_some() && grads.grad(&b).is_some());
    });
}

/// Recording one operation of each kind on inputs that require grad: what a forward pass
/// costs per node.
#[test]
fn recording_each_operation() {
    let a = Var::new(matrix(8, 7));
    let b = Var::new(matrix(8, 8));
    let v = Var::new(vector(8, 9));
    check("record add", 2, || drop(&a + &b));
    check("record sub", 2, || drop(&a - &b));
    check("record mul", 2, || drop(&a * &b));
    check("record mul broadcast", 2, || drop(&a * &v));
    check("record mul_scalar", 2, || drop(&a * 2.0));
    check("record tanh", 2, || drop(a.tanh()));
    check("record sum", 2, || drop(a.sum()));
    check("record einsum ij,j->i", 2, || {
        drop(Var::einsum("ij,j->i", &[&a, &v]).unwrap());
    });
    check("record einsum ij,jk->ik", 3, || {
        drop(Var::einsum("ij,jk->ik", &[&a, &b]).unwrap());
    });
}

/// Operators on an owned constant that nothing else holds write the result into its array: the
/// values and ids are what recording would give, and a handle held elsewhere is never changed.
#[test]
fn owned_constants_take_results_in_place_invisibly() {
    let c = Var::constant(vector(4, 1));
    let kept = c.clone();
    let between = Var::constant(vector(4, 2));
    let negated = -c; // `kept` still holds the node: a new one is made
    assert_eq!(kept.value(), &vector(4, 1).into_dyn());
    assert_eq!(negated.value(), &vector(4, 1).mapv(|x| -x).into_dyn());
    drop(kept);
    let id = negated.id();
    let next = (negated * 2.0 + 1.0) / &between; // in place: same values, a newer id
    let want = (vector(4, 1).mapv(|x| -x * 2.0 + 1.0) / vector(4, 2)).into_dyn();
    assert_eq!(next.value(), &want);
    assert!(next.id() > id && next.id() > between.id());
    assert!(!next.requires_grad());
    let leaf = Var::new(vector(4, 3));
    let recorded = Var::constant(vector(4, 3)) * &leaf; // `leaf` requires grad: recorded
    assert!(recorded.requires_grad());
}
