//! `einsum!` on ndarray operands of static rank, in every storage and layout: owned, views,
//! `ArcArray`, `CowArray`, transposed, sliced with steps, negative strides. Also: operands
//! are evaluated once, in order, and a run-time panic points at the `einsum!` call.

mod common;

use common::reference::reference_einsum;
use common::{assert_close, random};
use einsum::{einsum, try_einsum};
use ndarray::{s, ArcArray2, Array0, Array1, Array2, CowArray, Ix2};

fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    random(&[rows, cols], seed)
        .into_dimensionality::<Ix2>()
        .unwrap()
}

#[test]
fn result_has_the_output_rank() {
    let a = matrix(2, 3, 1);
    let b = matrix(3, 4, 2);
    let c: Array2<f64> = einsum!("ij,jk->ik", &a, &b);
    assert_close(
        &c.clone().into_dyn(),
        &a.dot(&b).into_dyn(),
        "matmul vs dot",
    );
    let v: Array1<f64> = einsum!("ij->j", &a);
    assert_eq!(v.len(), 3);
    let t: Array0<f64> = einsum!("ij->", &a);
    assert!((t.into_scalar() - a.sum()).abs() < 1e-12);
}

#[test]
fn every_storage_kind_is_accepted() {
    let a = matrix(3, 3, 3);
    let want = reference_einsum("ij,jk->ik", &[a.clone().into_dyn(), a.clone().into_dyn()]);
    let arc: ArcArray2<f64> = a.clone().into_shared();
    let cow = CowArray::from(a.view());
    let mut owned = a.clone();
    assert_close(
        &einsum!("ij,jk->ik", a.clone(), &a).into_dyn(),
        &want,
        "owned by value",
    );
    assert_close(
        &einsum!("ij,jk->ik", a.view(), &&a).into_dyn(),
        &want,
        "view and &&",
    );
    assert_close(
        &einsum!("ij,jk->ik", &arc, arc.view()).into_dyn(),
        &want,
        "ArcArray",
    );
    assert_close(
        &einsum!("ij,jk->ik", &cow, &a).into_dyn(),
        &want,
        "CowArray",
    );
    assert_close(
        &einsum!("ij,jk->ik", &mut owned, &a).into_dyn(),
        &want,
        "&mut",
    );
    let array_ref: &ndarray::ArrayRef2<f64> = &a;
    assert_close(
        &einsum!("ij,jk->ik", array_ref, &a).into_dyn(),
        &want,
        "ArrayRef",
    );
}

#[test]
fn every_layout_is_accepted() {
    let a = matrix(4, 6, 4);
    let b = matrix(6, 4, 5);
    for (name, x, y) in [
        ("transposed", b.t(), a.t()),
        ("stepped", a.slice(s![..;2, ..;2]), b.slice(s![..;2, ..;2])),
        ("reversed", a.slice(s![..;-1, ..3]), b.slice(s![..3, ..;-1])),
        (
            "reversed and stepped",
            a.slice(s![..;-2, ..;-2]),
            b.slice(s![1..;2, ..;-2]),
        ),
    ] {
        let got = einsum!("ij,jk->ik", &x, &y).into_dyn();
        let want = reference_einsum(
            "ij,jk->ik",
            &[x.to_owned().into_dyn(), y.to_owned().into_dyn()],
        );
        assert_close(&got, &want, name);
        let got = einsum!("ij->ji", &x).into_dyn();
        assert_close(&got, &x.t().to_owned().into_dyn(), name);
    }
    let v = Array1::from(vec![1.0, 2.0, 3.0]);
    let broadcast = v.broadcast((2, 3)).unwrap();
    let got = einsum!("ij->j", &broadcast);
    assert_eq!(got, Array1::from(vec![2.0, 4.0, 6.0]));
}

#[test]
fn the_same_array_may_be_passed_twice() {
    let a = matrix(3, 3, 6);
    let got = einsum!("ij,ij->", &a, &a).into_scalar();
    assert!((got - a.iter().map(|x| x * x).sum::<f64>()).abs() < 1e-12);
}

#[test]
fn each_operand_is_evaluated_once_in_order() {
    let a = matrix(2, 2, 7);
    let mut order = Vec::new();
    let got = einsum!(
        "ij,jk,kl->il",
        {
            order.push(0);
            &a
        },
        {
            order.push(1);
            &a
        },
        {
            order.push(2);
            a.view()
        }
    );
    assert_eq!(order, [0, 1, 2]);
    assert_close(&got.into_dyn(), &a.dot(&a).dot(&a).into_dyn(), "chain");

    let fixed = [[1.0, 2.0], [3.0, 4.0]];
    let mut calls = 0;
    let trace: f64 = einsum!("ii->", {
        calls += 1;
        fixed
    });
    assert_eq!((calls, trace), (1, 5.0));
}

#[test]
fn try_einsum_returns_ok_for_fitting_operands() {
    let a = matrix(2, 3, 8);
    let ok: Result<Array2<f64>, einsum::EinsumError> = try_einsum!("ij->ji", &a);
    assert_eq!(ok.unwrap(), a.t());
    let fixed: Result<f64, einsum::EinsumError> = try_einsum!("i->", [1.0, 2.0]);
    assert_eq!(fixed.unwrap(), 3.0);
}

#[test]
fn integer_float32_and_complex_elements() {
    let a = Array2::from_shape_vec((2, 2), vec![1i32, 2, 3, 4]).unwrap();
    assert_eq!(einsum!("ij,jk->ik", &a, &a), a.dot(&a));
    let f = Array2::from_shape_vec((2, 2), vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!(einsum!("ii->", &f).into_scalar(), 5.0);
    let z = Array1::from(vec![num_complex::Complex64::new(1.0, 1.0); 2]);
    assert_eq!(
        einsum!("i,i->", &z, &z).into_scalar(),
        num_complex::Complex64::new(0.0, 4.0)
    );
}

#[test]
fn a_run_time_panic_points_at_the_einsum_call() {
    use std::sync::{Arc, Mutex};
    let location = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&location);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        *seen.lock().unwrap() = info.location().map(|l| (l.file().to_owned(), l.line()));
    }));
    let a = matrix(2, 3, 9);
    let b = matrix(4, 2, 10);
    let expected_line = line!() + 1;
    let result = std::panic::catch_unwind(|| einsum!("ij,jk->ik", &a, &b));
    std::panic::set_hook(previous);
    assert!(result.is_err());
    let (file, line) = location
        .lock()
        .unwrap()
        .clone()
        .expect("the hook saw the panic");
    assert!(file.ends_with("einsum_static_ndarray.rs"), "{file}");
    assert_eq!(line, expected_line);
}

/// Small calls run the loop nest the macro generates (few index combinations), larger ones
/// the engine; both against the reference evaluator, for every spec form, with operands in a
/// transposed layout as well as standard, and with extents that broadcast (which the nest
/// leaves to the engine).
#[test]
fn small_and_large_calls_agree_with_the_reference_for_every_form() {
    use ndarray::{ArrayD, Ix1, Ix3};
    fn check<D: ndarray::Dimension>(spec: &str, got: ndarray::Array<f64, D>, ops: &[ArrayD<f64>]) {
        assert_close(&got.into_dyn(), &reference_einsum(spec, ops), spec);
    }
    for n in [3, 20] {
        let m = common::random(&[n, n], 1)
            .into_dimensionality::<Ix2>()
            .unwrap();
        let mt = m.t();
        let t = common::random(&[n, n, n], 2)
            .into_dimensionality::<Ix3>()
            .unwrap();
        let v = common::random(&[n], 3)
            .into_dimensionality::<Ix1>()
            .unwrap();
        let (md, mtd, td, vd) = (
            m.clone().into_dyn(),
            mt.to_owned().into_dyn(),
            t.clone().into_dyn(),
            v.clone().into_dyn(),
        );
        check(
            "ijk,j,k->i",
            einsum!("ijk,j,k->i", &t, &v, &v),
            &[td.clone(), vd.clone(), vd.clone()],
        );
        check("ii->i", einsum!("ii->i", &m), std::slice::from_ref(&md));
        check("ii->", einsum!("ii->", mt), std::slice::from_ref(&mtd));
        check(
            "ij,ij->",
            einsum!("ij,ij->", &m, mt),
            &[md.clone(), mtd.clone()],
        );
        check(
            "i,j->ij",
            einsum!("i,j->ij", &v, &v),
            &[vd.clone(), vd.clone()],
        );
        check(
            "ij,j->i",
            einsum!("ij,j->i", mt, &v),
            &[mtd.clone(), vd.clone()],
        );
        check("iij->j", einsum!("iij->j", &t), std::slice::from_ref(&td));
        check(
            "ijk->kji",
            einsum!("ijk->kji", &t),
            std::slice::from_ref(&td),
        );
        check(
            "i,i,i->i",
            einsum!("i,i,i->i", &v, &v, &v),
            &[vd.clone(), vd.clone(), vd.clone()],
        );
        let s = ndarray::arr0(2.5);
        check(
            ",i->i",
            einsum!(",i->i", &s, &v),
            &[s.clone().into_dyn(), vd.clone()],
        );
        // An extent-1 axis that broadcasts against `n`.
        let row = common::random(&[1, n], 4)
            .into_dimensionality::<Ix2>()
            .unwrap();
        check(
            "ij,ij->ij",
            einsum!("ij,ij->ij", &row, &m),
            &[row.clone().into_dyn(), md.clone()],
        );
        let mut out = ndarray::Array1::<f64>::zeros(n);
        einsum::einsum_into!(&mut out, "ijk,j,k->i", &t, &v, &v);
        check("ijk,j,k->i", out, &[td, vd.clone(), vd]);
    }
}
