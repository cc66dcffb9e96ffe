//! `einsum!` on fixed-size arrays and plain numbers: results are fixed-size arrays (or a
//! number), checked against the naive reference evaluator.

mod common;

use common::reference::reference_einsum;
use common::{assert_close, fixed_to_dyn, values};
use einsum::einsum;

/// A `[[f64; N]; M]`-style array of the given nesting filled with deterministic values.
macro_rules! filled {
    ($seed:expr; $n0:literal) => {{
        let v = values($n0, $seed);
        core::array::from_fn::<f64, $n0, _>(|i| v[i])
    }};
    ($seed:expr; $n0:literal, $n1:literal) => {{
        let v = values($n0 * $n1, $seed);
        core::array::from_fn::<[f64; $n1], $n0, _>(|i| core::array::from_fn(|j| v[i * $n1 + j]))
    }};
    ($seed:expr; $n0:literal, $n1:literal, $n2:literal) => {{
        let v = values($n0 * $n1 * $n2, $seed);
        core::array::from_fn::<[[f64; $n2]; $n1], $n0, _>(|i| {
            core::array::from_fn(|j| core::array::from_fn(|k| v[(i * $n1 + j) * $n2 + k]))
        })
    }};
    ($seed:expr; $n0:literal, $n1:literal, $n2:literal, $n3:literal) => {{
        let v = values($n0 * $n1 * $n2 * $n3, $seed);
        core::array::from_fn::<[[[f64; $n3]; $n2]; $n1], $n0, _>(|i| {
            core::array::from_fn(|j| {
                core::array::from_fn(|k| {
                    core::array::from_fn(|l| v[((i * $n1 + j) * $n2 + k) * $n3 + l])
                })
            })
        })
    }};
}

#[test]
fn matrix_product_of_fixed_arrays() {
    let a = filled!(1; 2, 3);
    let b = filled!(2; 3, 4);
    let c: [[f64; 4]; 2] = einsum!("ij,jk->ik", a, b);
    let want = reference_einsum(
        "ij,jk->ik",
        &[
            fixed_to_dyn(&[2, 3], a.as_flattened()),
            fixed_to_dyn(&[3, 4], b.as_flattened()),
        ],
    );
    assert_close(&fixed_to_dyn(&[2, 4], c.as_flattened()), &want, "ij,jk->ik");
}

#[test]
fn cross_product_through_levi_civita() {
    let eps = common::levi_civita();
    let a = filled!(3; 3);
    let b = filled!(4; 3);
    let c: [f64; 3] = einsum!("ijk,j,k->i", &eps, &a, &b);
    let want = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    for (got, want) in c.iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{c:?}");
    }
}

#[test]
fn traces_diagonals_and_reductions() {
    let m = filled!(5; 3, 3);
    let md = fixed_to_dyn(&[3, 3], m.as_flattened());
    let trace: f64 = einsum!("ii->", m);
    assert_close(
        &fixed_to_dyn(&[], &[trace]),
        &reference_einsum("ii->", std::slice::from_ref(&md)),
        "ii->",
    );
    let diag: [f64; 3] = einsum!("ii->i", m);
    assert_close(
        &fixed_to_dyn(&[3], &diag),
        &reference_einsum("ii->i", std::slice::from_ref(&md)),
        "ii->i",
    );
    let total: f64 = einsum!("ij->", m);
    assert_close(
        &fixed_to_dyn(&[], &[total]),
        &reference_einsum("ij->", std::slice::from_ref(&md)),
        "ij->",
    );
    let columns: [f64; 3] = einsum!("ij->j", m);
    assert_close(
        &fixed_to_dyn(&[3], &columns),
        &reference_einsum("ij->j", std::slice::from_ref(&md)),
        "ij->j",
    );
    let transposed: [[f64; 3]; 3] = einsum!("ij->ji", m);
    assert_close(
        &fixed_to_dyn(&[3, 3], transposed.as_flattened()),
        &reference_einsum("ij->ji", std::slice::from_ref(&md)),
        "ij->ji",
    );
    let implicit: [[f64; 3]; 3] = einsum!("ji", m);
    assert_close(
        &fixed_to_dyn(&[3, 3], implicit.as_flattened()),
        &reference_einsum("ji", std::slice::from_ref(&md)),
        "ji",
    );
}

#[test]
fn repeated_label_in_a_deeper_array() {
    let t = filled!(6; 2, 2, 3);
    let got: [[f64; 2]; 3] = einsum!("iij->ji", t);
    let td = fixed_to_dyn(&[2, 2, 3], t.as_flattened().as_flattened());
    assert_close(
        &fixed_to_dyn(&[3, 2], got.as_flattened()),
        &reference_einsum("iij->ji", &[td]),
        "iij->ji",
    );
}

#[test]
fn scalars_and_outer_products() {
    let v = filled!(7; 4);
    let w = filled!(8; 3);
    let scaled: [f64; 4] = einsum!(",i->i", 2.0, v);
    for (s, x) in scaled.iter().zip(v) {
        assert_eq!(*s, 2.0 * x);
    }
    let only: f64 = einsum!("->", 3.5);
    assert_eq!(only, 3.5);
    let product: f64 = einsum!(",->", 3.0, 4.0);
    assert_eq!(product, 12.0);
    let outer: [[f64; 3]; 4] = einsum!("i,j->ij", v, w);
    let want = reference_einsum("i,j->ij", &[fixed_to_dyn(&[4], &v), fixed_to_dyn(&[3], &w)]);
    assert_close(
        &fixed_to_dyn(&[4, 3], outer.as_flattened()),
        &want,
        "i,j->ij",
    );
    let dot: f64 = einsum!("i,i->", v, v);
    assert_close(
        &fixed_to_dyn(&[], &[dot]),
        &reference_einsum("i,i->", &[fixed_to_dyn(&[4], &v), fixed_to_dyn(&[4], &v)]),
        "i,i->",
    );
}

#[test]
fn hessian_contraction_of_the_article() {
    // x rows [1,1,1] and [2,2,2]; H_bjik = 2 C_ij C_kj for f(x) = (x C)^2 row-wise.
    let c = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    let x = [[1.0; 3], [2.0; 3]];
    let mut h = [[[[0.0; 3]; 3]; 3]; 2];
    for (b, hb) in h.iter_mut().enumerate() {
        for (j, hbj) in hb.iter_mut().enumerate() {
            for (i, hbji) in hbj.iter_mut().enumerate() {
                for (k, value) in hbji.iter_mut().enumerate() {
                    let _ = b;
                    *value = 2.0 * c[i][j] * c[k][j];
                }
            }
        }
    }
    let r: [[f64; 3]; 2] = einsum!("bi,bjik,bk->bj", x, h, x);
    assert_eq!(r, [[288.0, 450.0, 648.0], [1152.0, 1800.0, 2592.0]]);
}

#[test]
fn four_dimensional_chain_rule_shapes() {
    let da_dv = filled!(9; 4, 3, 2, 6);
    let dv_db = filled!(10; 2, 6, 2, 3);
    let got: [[[[f64; 3]; 2]; 3]; 4] = einsum!("nmkd,kdef->nmef", da_dv, dv_db);
    let want = reference_einsum(
        "nmkd,kdef->nmef",
        &[
            fixed_to_dyn(
                &[4, 3, 2, 6],
                da_dv.as_flattened().as_flattened().as_flattened(),
            ),
            fixed_to_dyn(
                &[2, 6, 2, 3],
                dv_db.as_flattened().as_flattened().as_flattened(),
            ),
        ],
    );
    assert_close(
        &fixed_to_dyn(
            &[4, 3, 2, 3],
            got.as_flattened().as_flattened().as_flattened(),
        ),
        &want,
        "nmkd,kdef->nmef",
    );
}

#[test]
fn integer_and_complex_elements() {
    let a = [[1i64, 2], [3, 4]];
    let b = [[5i64, 6], [7, 8]];
    let c: [[i64; 2]; 2] = einsum!("ij,jk->ik", a, b);
    assert_eq!(c, [[19, 22], [43, 50]]);
    let u = [1u8, 2, 3];
    let dot: u8 = einsum!("i,i->", u, u);
    assert_eq!(dot, 14);
    use num_complex::Complex64;
    let z = [Complex64::new(0.0, 1.0), Complex64::new(1.0, 0.0)];
    let zz: Complex64 = einsum!("i,i->", z, z);
    assert_eq!(zz, Complex64::new(0.0, 0.0));
    let f = [1.5f32, 2.0];
    let s: f32 = einsum!("i->", f);
    assert_eq!(s, 3.5);
}

#[test]
fn specs_with_ellipsis_accept_fixed_arrays_and_return_dynamic_arrays() {
    let batch = filled!(11; 2, 3, 4);
    let m = filled!(12; 4, 2);
    let got: ndarray::ArrayD<f64> = einsum!("...ij,jk->...ik", batch, m);
    let want = reference_einsum(
        "...ij,jk->...ik",
        &[
            fixed_to_dyn(&[2, 3, 4], batch.as_flattened().as_flattened()),
            fixed_to_dyn(&[4, 2], m.as_flattened()),
        ],
    );
    assert_close(&got, &want, "...ij,jk->...ik");
}

#[test]
fn operands_by_reference_and_by_value_agree() {
    let a = filled!(13; 2, 2);
    let by_value: [[f64; 2]; 2] = einsum!("ij,jk->ik", a, a);
    let by_ref: [[f64; 2]; 2] = einsum!("ij,jk->ik", &a, &&a);
    assert_eq!(by_value, by_ref);
}

/// Generic over the element type and the extent: the checks are trait bounds, so they hold
/// for every `T: Element` and every `N`.
fn generic_trace<T: einsum::Element, const N: usize>(matrix: &[[T; N]; N]) -> T {
    einsum!("ii->", matrix)
}

/// Generic over ndarray storage and element type.
fn generic_gram<T: einsum::Element, S: ndarray::Data<Elem = T>>(
    a: &ndarray::ArrayBase<S, ndarray::Ix2>,
) -> ndarray::Array2<T> {
    einsum!("ij,kj->ik", a, a)
}

#[test]
fn einsum_works_inside_generic_functions() {
    assert_eq!(generic_trace(&[[1, 2], [3, 4]]), 5);
    assert_eq!(generic_trace(&[[1.5f32; 3]; 3]), 4.5);
    let a = ndarray::array![[1, 2], [3, 4]];
    assert_eq!(generic_gram(&a), a.dot(&a.t()));
    assert_eq!(generic_gram(&a.view()), a.dot(&a.t()));
}
