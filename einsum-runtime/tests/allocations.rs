//! Warm calls of `contract_static_into` (what `einsum_into!` calls in a loop) allocate nothing
//! of the engine's own: a global allocator counts the allocations made on the thread that
//! asked for counting, over repeated calls with the same tables and shapes.
//!
//! That includes the GEMM steps: the engine's matrix product kernel packs into per-thread
//! buffers (`engine/packed.rs`).
//!
//! The same holds for `vjp_static_into` (what `einsum_vjp!` calls to write gradients into the
//! caller's buffers) on matrix products and on one or two operands without diagonals.

use einsum_runtime::engine::explain::{Kernel, Method};
use einsum_runtime::engine::{self, Write};
use einsum_runtime::spec::{Contraction, Spec};
use einsum_runtime::support::{contract_static_into, vjp_static_into};
use ndarray::{Array2, Array3, ArrayD, ArrayViewD, Dimension};

// The facade's tests count with the same allocator.
#[path = "../../tests/counting/mod.rs"]
mod counting;

use counting::{allocations, Counting, CALLS};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Slot tables as the macro emits them for a spec without `...`.
struct Tables {
    spec: &'static str,
    inputs: &'static [&'static [usize]],
    output: &'static [usize],
    labels: &'static [char],
}

impl Tables {
    /// The resolved contraction, for the allocating engine and `explain`.
    fn contraction(&self) -> Contraction {
        let ranks: Vec<usize> = self.inputs.iter().map(|t| t.len()).collect();
        Spec::parse(self.spec).unwrap().resolve(&ranks).unwrap()
    }

    /// `contract_static_into` with these tables.
    fn into(&self, operands: &[ArrayViewD<'_, f64>], out: &mut Array2<f64>, write: Write) {
        let out = out.view_mut().into_dyn();
        contract_static_into(
            self.spec,
            self.inputs,
            self.output,
            self.labels,
            operands,
            out,
            write,
        )
        .unwrap();
    }

    /// How many pairwise steps of this contraction's plan run GEMM on these operands.
    fn gemm_steps(&self, operands: &[ArrayViewD<'_, f64>]) -> usize {
        let shapes: Vec<&[usize]> = operands.iter().map(|a| a.shape()).collect();
        let explanation =
            engine::explain::explain_contraction(self.spec, &self.contraction(), &shapes).unwrap();
        match explanation.method() {
            Method::Pairwise { steps, .. } => steps
                .iter()
                .filter(|step| step.kernel == Kernel::Gemm)
                .count(),
            _ => 0,
        }
    }

    /// Checks that assigning and adding into `out` give the allocating engine's result, and
    /// that warm calls allocate nothing, for both.
    #[track_caller]
    fn check(&self, operands: &[ArrayViewD<'_, f64>], shape: (usize, usize)) {
        let want = engine::contract(&self.contraction(), operands).unwrap();
        let start = Array2::from_shape_fn(shape, |(i, j)| (i as f64) - 0.5 * (j as f64));
        for write in [Write::Assign, Write::Add] {
            let mut out = start.clone();
            self.into(operands, &mut out, write);
            let expected: ArrayD<f64> = match write {
                Write::Assign => want.clone(),
                Write::Add => &want + &start.clone().into_dyn(),
            };
            assert_close(&out.clone().into_dyn(), &expected, self.spec);
            let mut out = start.clone();
            let count = allocations(|| self.into(operands, &mut out, write));
            assert_eq!(
                count, 0,
                "{} ({write:?}): {count} allocations in {CALLS} warm calls",
                self.spec
            );
        }
    }
}

/// Whether `got` equals `want` up to rounding.
#[track_caller]
fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, spec: &str) {
    assert_eq!(got.shape(), want.shape(), "{spec}: shape");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{spec}: {g} but the engine says {w}"
        );
    }
}

/// Deterministic values that are not all alike.
fn matrix(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 31 + j * 17 + seed * 7) % 23) as f64 / 7.0 - 1.5
    })
}

// One test, the cases in sequence: the counts are per thread, but the warm state (the
// thread's pool and plans) is too, so every case runs on this thread.
#[test]
fn warm_calls_allocate_nothing_of_their_own() {
    // 1. A chain of three 32x32 matrices: two GEMM steps.
    let chain = Tables {
        spec: "ij,jk,kl->il",
        inputs: &[&[0, 1], &[1, 2], &[2, 3]],
        output: &[0, 3],
        labels: &['i', 'j', 'k', 'l'],
    };
    let (a, b, c) = (matrix(32, 32, 3), matrix(32, 32, 4), matrix(32, 32, 5));
    let operands = [
        a.view().into_dyn(),
        b.view().into_dyn(),
        c.view().into_dyn(),
    ];
    let steps = chain.gemm_steps(&operands);
    assert_eq!(
        steps, 2,
        "both steps of the chain are 32x32 matrix products"
    );
    chain.check(&operands, (32, 32));

    // 2. Cross products of 1,000 pairs of vectors with the Levi-Civita symbol.
    let cross = Tables {
        spec: "ijk,bj,bk->bi",
        inputs: &[&[0, 1, 2], &[3, 1], &[3, 2]],
        output: &[3, 0],
        labels: &['i', 'j', 'k', 'b'],
    };
    let eps = Array3::from_shape_fn((3, 3, 3), |(i, j, k)| match (i, j, k) {
        (0, 1, 2) | (1, 2, 0) | (2, 0, 1) => 1.0,
        (0, 2, 1) | (2, 1, 0) | (1, 0, 2) => -1.0,
        _ => 0.0,
    });
    let (x, y) = (matrix(1000, 3, 6), matrix(1000, 3, 7));
    let operands = [
        eps.view().into_dyn(),
        x.view().into_dyn(),
        y.view().into_dyn(),
    ];
    let steps = cross.gemm_steps(&operands);
    assert!(steps >= 1, "the cross products run through GEMM");
    cross.check(&operands, (1000, 3));

    // 3. One operand: summed in place, or transposed into the output.
    let big = matrix(1000, 1000, 8);
    let operands = [big.view().into_dyn()];
    let transpose = Tables {
        spec: "ij->ji",
        inputs: &[&[0, 1]],
        output: &[1, 0],
        labels: &['i', 'j'],
    };
    transpose.check(&operands, (1000, 1000));
    let column_sums = Tables {
        spec: "ij->j",
        inputs: &[&[0, 1]],
        output: &[1],
        labels: &['i', 'j'],
    };
    let want = engine::contract(&column_sums.contraction(), &operands).unwrap();
    let mut sums = ndarray::Array1::<f64>::zeros(1000);
    let mut sum_into = |write: Write| {
        contract_static_into(
            column_sums.spec,
            column_sums.inputs,
            column_sums.output,
            column_sums.labels,
            &operands,
            sums.view_mut().into_dyn(),
            write,
        )
        .unwrap();
    };
    sum_into(Write::Assign);
    assert_eq!(allocations(|| sum_into(Write::Add)), 0, "ij->j (add)");
    assert_eq!(allocations(|| sum_into(Write::Assign)), 0, "ij->j");
    assert_close(&sums.clone().into_dyn(), &want, column_sums.spec);

    // 4. A matrix product: GEMM with the output as its `c`.
    let product = Tables {
        spec: "ij,jk->ik",
        inputs: &[&[0, 1], &[1, 2]],
        output: &[0, 2],
        labels: &['i', 'j', 'k'],
    };
    for n in [8, 64] {
        let (a, b) = (matrix(n, n, 9), matrix(n, n, 10));
        let operands = [a.view().into_dyn(), b.view().into_dyn()];
        product.check(&operands, (n, n));
    }
}

/// Views of `buffers` paired with the operands `wanted` lists, as `vjp_static_into` takes them.
fn buffer_views<'b>(
    buffers: &'b mut [ArrayD<f64>],
    wanted: &[usize],
) -> Vec<(usize, ndarray::ArrayViewMutD<'b, f64>)> {
    wanted
        .iter()
        .copied()
        .zip(buffers.iter_mut().map(|b| b.view_mut()))
        .collect()
}

/// `vjp_static_into` with these tables: the gradients of the operands `grads` names, written
/// into the views beside them as `write` says.
fn vjp_into(
    tables: &Tables,
    operands: &[ArrayViewD<'_, f64>],
    g: &ArrayD<f64>,
    grads: &mut [(usize, ndarray::ArrayViewMutD<'_, f64>)],
    write: Write,
) {
    vjp_static_into(
        tables.spec,
        tables.inputs,
        tables.output,
        tables.labels,
        operands,
        g.view(),
        &engine::Saved::none(),
        grads,
        write,
    )
    .unwrap();
}

/// Checks that `vjp_static_into` writes (and adds) the gradients `wanted` lists as
/// `engine::vjp::vjp` computes them, and that its warm calls allocate nothing, for both ways
/// of writing. The list of buffer views is built outside the counted
/// calls, as generated code keeps it on the stack.
#[track_caller]
fn check_vjp(tables: &Tables, operands: &[ArrayViewD<'_, f64>], wanted: &[usize]) {
    let contraction = tables.contraction();
    let value = engine::contract(&contraction, operands).unwrap();
    let g = ArrayD::from_shape_fn(value.shape(), |i| {
        i.slice().iter().sum::<usize>() as f64 * 0.25 - 1.0
    });
    let all = engine::vjp::vjp(&contraction, operands, g.view()).unwrap();
    let start = |k: usize| ArrayD::from_shape_fn(operands[k].shape(), |i| i[0] as f64 - 0.5);
    for write in [Write::Assign, Write::Add] {
        let mut buffers: Vec<ArrayD<f64>> = wanted.iter().map(|&k| start(k)).collect();
        vjp_into(
            tables,
            operands,
            &g,
            &mut buffer_views(&mut buffers, wanted),
            write,
        );
        for (&k, got) in wanted.iter().zip(&buffers) {
            let want = match write {
                Write::Assign => all[k].clone(),
                Write::Add => &all[k] + &start(k),
            };
            assert_close(got, &want, tables.spec);
        }
        let mut grads = buffer_views(&mut buffers, wanted);
        let count = allocations(|| vjp_into(tables, operands, &g, &mut grads, write));
        assert_eq!(
            count, 0,
            "{} wanted {wanted:?} ({write:?}): {count} allocations in {CALLS} warm calls",
            tables.spec
        );
    }
}

// As above, one test on one thread: the gradients' plans and buffers are per thread.
#[test]
fn warm_gradient_calls_into_buffers_allocate_nothing_of_their_own() {
    // A 64x64 matrix product: one GEMM per wanted gradient, straight into its buffer.
    let product = Tables {
        spec: "ij,jk->ik",
        inputs: &[&[0, 1], &[1, 2]],
        output: &[0, 2],
        labels: &['i', 'j', 'k'],
    };
    let (a, b) = (matrix(64, 64, 11), matrix(64, 64, 12));
    let operands = [a.view().into_dyn(), b.view().into_dyn()];
    for wanted in [&[0, 1][..], &[0], &[1]] {
        check_vjp(&product, &operands, wanted);
    }

    // One operand summed: its gradient is `g` spread along the summed axis.
    let column_sums = Tables {
        spec: "ij->j",
        inputs: &[&[0, 1]],
        output: &[1],
        labels: &['i', 'j'],
    };
    let big = matrix(100, 80, 13);
    check_vjp(&column_sums, &[big.view().into_dyn()], &[0]);

    // A matrix times a vector: not a matrix product (the vector has no kept axis); each
    // gradient is one contraction of `g` with the other operand.
    let matrix_vector = Tables {
        spec: "ij,j->i",
        inputs: &[&[0, 1], &[1]],
        output: &[0],
        labels: &['i', 'j'],
    };
    let v = ndarray::Array1::from_shape_fn(80, |j| j as f64 / 10.0 - 2.0);
    let operands = [big.view().into_dyn(), v.view().into_dyn()];
    for wanted in [&[0, 1][..], &[0], &[1]] {
        check_vjp(&matrix_vector, &operands, wanted);
    }

    // A 3x3 parameter applied to 1,000 vectors, only the parameter's gradient wanted: one
    // GEMM of 3x1000 by 1000x3.
    let linear = Tables {
        spec: "ij,bj->bi",
        inputs: &[&[0, 1], &[2, 1]],
        output: &[2, 0],
        labels: &['i', 'j', 'b'],
    };
    let (w, x) = (matrix(3, 3, 14), matrix(1000, 3, 15));
    let operands = [w.view().into_dyn(), x.view().into_dyn()];
    check_vjp(&linear, &operands, &[0]);
}
