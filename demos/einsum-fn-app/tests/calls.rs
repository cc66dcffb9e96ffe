//! The library's einsum functions, called from another crate, compute what their specs say.

use einsum_fn_lib::{batch_matvec, batch_matvec_vjp, cross, cross_vjp, hessian_form, outer};
use ndarray::{array, Array2, Array4};

fn levi_civita() -> [[[f64; 3]; 3]; 3] {
    let mut eps = [[[0.0; 3]; 3]; 3];
    for (i, j, k) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
        eps[i][j][k] = 1.0;
        eps[i][k][j] = -1.0;
    }
    eps
}

#[test]
fn cross_product_and_its_gradient() {
    let eps = levi_civita();
    let (a, b) = ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]);
    assert_eq!(cross(&eps, &a, &b), [-3.0, 6.0, -3.0]);
    // d (g . (a x b)) / da = b x g, / db = g x a.
    let g = [1.0, 0.0, 0.0];
    let (_, da, db) = cross_vjp(&eps, &a, &b, &g);
    assert_eq!(da, cross(&eps, &b, &g));
    assert_eq!(db, cross(&eps, &g, &a));
}

#[test]
fn hessian_form_of_the_article() {
    // f(x) = (x C)^2 row-wise: H_bjik = 2 C_ij C_kj, layout [b, j, i, k].
    let c = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    let x = array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
    let h = Array4::from_shape_fn((2, 3, 3, 3), |(_, j, i, k)| 2.0 * c[[i, j]] * c[[k, j]]);
    assert_eq!(
        hessian_form(x.view(), h.view(), x.view()),
        array![[288.0, 450.0, 648.0], [1152.0, 1800.0, 2592.0]]
    );
}

#[test]
fn batched_products_and_gradients() {
    let m = ndarray::Array3::from_shape_fn((2, 2, 3), |(b, i, j)| (b * 6 + i * 3 + j) as f64);
    let v = Array2::from_shape_fn((2, 3), |(b, j)| (b + j) as f64);
    let y = batch_matvec(m.view(), v.view());
    assert_eq!(y, array![[5.0, 14.0], [44.0, 62.0]]); // b = 1: [6,7,8].[1,2,3], [9,10,11].[1,2,3]
    let (dm, dv) = batch_matvec_vjp(m.view(), v.view(), &Array2::ones((2, 2)));
    assert_eq!(dm.shape(), &[2, 2, 3]);
    assert_eq!(dm.slice(ndarray::s![1, 0, ..]), v.row(1));
    assert_eq!(dv, array![[3.0, 5.0, 7.0], [15.0, 17.0, 19.0]]);
    assert_eq!(
        outer(array![1.0, 2.0].view(), array![3.0].view()),
        array![[3.0], [6.0]]
    );
}
