//! NaN, infinities and integer overflow through every kernel path and the gradients: IEEE
//! arithmetic exactly, no product skipped because a factor is zero; integers overflow as the
//! element type's own operators do (documented on `Element`).

use einsum_runtime::autograd::Var;
use einsum_runtime::{einsum_dyn, einsum_vjp_dyn, explain};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

const INF: f64 = f64::INFINITY;

/// Ones of `shape`, with `value` at index `at`.
fn with(shape: &[usize], at: &[usize], value: f64) -> ArrayD<f64> {
    let mut a = ArrayD::from_elem(IxDyn(shape), 1.0);
    a[at] = value;
    a
}

/// Zeros of `shape`, with `value` at index `at`.
fn zeros_with(shape: &[usize], at: &[usize], value: f64) -> ArrayD<f64> {
    let mut a = ArrayD::zeros(IxDyn(shape));
    a[at] = value;
    a
}

/// The path `explain` reports, to check that every kernel is exercised.
fn method(spec: &str, arrays: &[&ArrayD<f64>]) -> String {
    let shapes: Vec<&[usize]> = arrays.iter().map(|a| a.shape()).collect();
    format!("{}", explain(spec, &shapes).unwrap())
}

#[track_caller]
fn run(spec: &str, arrays: &[&ArrayD<f64>]) -> ArrayD<f64> {
    let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
    einsum_dyn(spec, &views).unwrap()
}

/// (spec, left operand, right operand, output index, kernel name).
type Case = (
    &'static str,
    ArrayD<f64>,
    ArrayD<f64>,
    Vec<usize>,
    &'static str,
);

#[test]
fn zero_times_infinity_is_nan_on_every_kernel() {
    // (spec, left operand with a 0 at one index, right operand with inf at the matching index,
    // the output index that must be NaN, a kernel name `explain` shows)
    let cases: Vec<Case> = vec![
        // direct loop (tiny)
        (
            "ij,jk->i",
            zeros_with(&[3, 3], &[0, 1], 0.0),
            with(&[3, 3], &[1, 2], INF),
            vec![0],
            "direct loop",
        ),
        // a tiny product of two matrices: ndarray's `dot`
        (
            "ij,jk->ik",
            zeros_with(&[3, 3], &[0, 1], 0.0),
            with(&[3, 3], &[1, 2], INF),
            vec![0, 2],
            "ndarray's `dot`",
        ),
        // GEMM
        (
            "ij,jk->ik",
            zeros_with(&[64, 64], &[5, 7], 0.0),
            with(&[64, 64], &[7, 9], INF),
            vec![5, 9],
            "GEMM",
        ),
        // dot
        (
            "i,i->",
            zeros_with(&[5000], &[17], 0.0),
            with(&[5000], &[17], INF),
            vec![],
            "dot",
        ),
        // matrix x column
        (
            "ij,j->i",
            zeros_with(&[100, 100], &[3, 4], 0.0),
            with(&[100], &[4], INF),
            vec![3],
            "matrix x column",
        ),
        // row x matrix
        (
            "j,jk->k",
            zeros_with(&[100], &[4], 0.0),
            with(&[100, 100], &[4, 3], INF),
            vec![3],
            "row x matrix",
        ),
        // outer product
        (
            "i,j->ij",
            zeros_with(&[100], &[4], 0.0),
            with(&[100], &[6], INF),
            vec![4, 6],
            "outer product",
        ),
        // small batched loop
        (
            "bij,bjk->bik",
            zeros_with(&[500, 3, 3], &[7, 0, 1], 0.0),
            with(&[500, 3, 3], &[7, 1, 2], INF),
            vec![7, 0, 2],
            "loop",
        ),
    ];
    for (spec, a, b, at, kernel) in cases {
        assert!(
            method(spec, &[&a, &b]).contains(kernel),
            "{spec}: {}",
            method(spec, &[&a, &b])
        );
        let got = run(spec, &[&a, &b]);
        assert!(
            got[&at[..]].is_nan(),
            "{spec} ({kernel}): 0 * inf must be NaN, got {}",
            got[&at[..]]
        );
        // NaN anywhere in a factor reaches the sums it is part of.
        let nan = with(b.shape(), &vec![0; b.ndim()], f64::NAN);
        let got = run(spec, &[&a, &nan]);
        assert!(
            got.iter().any(|x| x.is_nan()),
            "{spec} ({kernel}): NaN lost"
        );
        // +inf and -inf in one sum give NaN; alone they stay infinite.
        let ones = ArrayD::from_elem(a.raw_dim(), 1.0);
        let got = run(spec, &[&ones, &b]);
        assert!(
            got.iter().any(|&x| x == INF),
            "{spec} ({kernel}): inf lost: {got}"
        );
    }
}

#[test]
fn single_operand_sums_and_diagonals_propagate_nan_and_infinity() {
    let a = with(&[50, 50], &[3, 3], INF);
    assert_eq!(run("ii->", &[&a])[[]], INF);
    assert_eq!(run("ii->i", &[&a])[[3]], INF);
    assert_eq!(run("ij->", &[&a])[[]], INF);
    assert_eq!(run("ij->j", &[&a])[[3]], INF);
    let mut b = a.clone();
    b[[4, 3]] = -INF;
    assert!(run("ij->j", &[&b])[[3]].is_nan()); // inf + -inf
    assert_eq!(run("ii->", &[&b])[[]], INF); // -inf is off the diagonal
    let n = with(&[50, 50], &[2, 2], f64::NAN);
    assert!(run("ii->", &[&n])[[]].is_nan());
    assert!(run("ij->ji", &[&n])[[2, 2]].is_nan());
    // A diagonal read in a pairwise plan (`ii,i->i` is large enough for it).
    let v = zeros_with(&[5000], &[2], 0.0);
    let d = with(&[5000, 5000], &[2, 2], INF);
    assert!(run("ii,i->i", &[&d, &v])[[2]].is_nan());
}

#[test]
fn gradients_propagate_nan_and_infinity() {
    // y = sum_i a_i b_i: dy/da = g b, dy/db = g a. With b containing inf and g = 0 the
    // gradient of a is 0 * inf = NaN, not 0.
    let a = ArrayD::from_elem(IxDyn(&[5000]), 1.0);
    let b = with(&[5000], &[9], INF);
    let g = ndarray::arr0(0.0).into_dyn();
    let grads = einsum_vjp_dyn("i,i->", &[a.view(), b.view()], g.view()).unwrap();
    assert!(grads[0][[9]].is_nan());
    assert_eq!(grads[1][[9]], 0.0);
    // A matrix product's gradient through GEMM.
    let a = with(&[64, 64], &[1, 2], f64::NAN);
    let b = ArrayD::from_elem(IxDyn(&[64, 64]), 1.0);
    let g = ArrayD::from_elem(IxDyn(&[64, 64]), 1.0);
    let grads = einsum_vjp_dyn("ij,jk->ik", &[a.view(), b.view()], g.view()).unwrap();
    assert!(grads[1]
        .index_axis(ndarray::Axis(0), 2)
        .iter()
        .all(|x| x.is_nan())); // dB = A^T g
    assert!(!grads[0].iter().any(|x| x.is_nan())); // dA = g B^T
                                                   // The autograd: d/da sum(a * b) with b = inf at 3 and the seed ... through `Var`.
    let av = Var::new(ArrayD::from_elem(IxDyn(&[4]), 0.0));
    let bv = Var::new(with(&[4], &[3], INF));
    let y = Var::einsum("i,i->", &[&av, &bv]).unwrap();
    assert!(y.value()[[]].is_nan()); // 0 * inf
    let back = y.backward();
    assert_eq!(back.grad(&av).unwrap()[[3]], INF);
    assert_eq!(back.grad(&bv).unwrap()[[3]], 0.0);
    let z = Var::einsum("i,i->", &[&bv, &bv]).unwrap(); // inf * inf
    assert_eq!(z.value()[[]], INF);
    assert_eq!(z.backward().grad(&bv).unwrap()[[3]], INF);
}

// ---- integers: the element type's own `+` and `*` ----

#[test]
fn integer_einsum_without_overflow_is_exact() {
    let a = ndarray::Array2::from_shape_fn((70, 70), |(i, j)| (i * 70 + j) as i64).into_dyn();
    let got = einsum_dyn("ij,jk->ik", &[a.view(), a.view()]).unwrap();
    let want = ndarray::Array2::from_shape_fn((70, 70), |(i, k)| {
        (0..70).map(|j| a[[i, j]] * a[[j, k]]).sum::<i64>()
    });
    assert_eq!(got, want.into_dyn());
}

/// With overflow checks (debug builds): an integer einsum that overflows panics, as the
/// element type's `+` does.
#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "overflow")]
fn integer_overflow_panics_with_overflow_checks() {
    let a = ndarray::array![100i8, 100].into_dyn();
    let _ = einsum_dyn("i,i->", &[a.view(), a.view()]);
}

/// Without overflow checks (release builds): it wraps, as the element type's `+` does.
#[cfg(not(debug_assertions))]
#[test]
fn integer_overflow_wraps_without_overflow_checks() {
    let a = ndarray::array![100i8, 100].into_dyn();
    let got = einsum_dyn("i,i->", &[a.view(), a.view()]).unwrap();
    assert_eq!(
        got[[]],
        100i8
            .wrapping_mul(100)
            .wrapping_add(100i8.wrapping_mul(100))
    );
}
