//! A library whose public API is contractions defined with `einsum::einsum_fn!`: the
//! functions below are ordinary `pub fn`s, and the crate that calls them
//! (`einsum-fn-app`) never sees a macro.

use ndarray::{Array2, Array3, ArrayView1, ArrayView2, ArrayView3};

einsum::einsum_fn! {
    /// The product of two matrices, `c = a b`.
    ///
    /// ```
    /// let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    /// assert_eq!(einsum_fn_lib::matmul(a.view(), a.view()), a.dot(&a));
    /// ```
    #[vjp(matmul_vjp)]
    pub fn matmul(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> = "ij,jk->ik";

    /// The quadratic form `x^T h x` of every sample `b` and output `j`: the contraction of a
    /// per-sample Hessian laid out `[b, j, i, k]` with the inputs.
    ///
    /// ```
    /// let x = ndarray::Array2::<f64>::ones((2, 3));
    /// let h = ndarray::Array4::<f64>::ones((2, 4, 3, 3));
    /// assert_eq!(einsum_fn_lib::hessian_form(x.view(), h.view(), x.view()), ndarray::Array2::from_elem((2, 4), 9.0));
    /// ```
    pub fn hessian_form(
        x: ArrayView2<'_, f64>,
        h: ndarray::ArrayView4<'_, f64>,
        y: ArrayView2<'_, f64>,
    ) -> Array2<f64> = "bi,bjik,bk->bj";

    /// The cross product of two 3-vectors, `eps_ijk a_j b_k`, with `eps` any 3x3x3 tensor
    /// (the Levi-Civita tensor gives the usual cross product).
    ///
    /// ```
    /// let mut eps = [[[0.0; 3]; 3]; 3];
    /// for (i, j, k) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
    ///     eps[i][j][k] = 1.0;
    ///     eps[i][k][j] = -1.0;
    /// }
    /// assert_eq!(einsum_fn_lib::cross(&eps, &[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]);
    /// ```
    #[vjp(cross_vjp)]
    pub fn cross(eps: &[[[f64; 3]; 3]; 3], a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] = "ijk,j,k->i";

    /// A batch of matrix-vector products, `y_b = m_b v_b`.
    ///
    /// ```
    /// let m = ndarray::Array3::<f64>::ones((2, 3, 4));
    /// let v = ndarray::Array2::<f64>::ones((2, 4));
    /// assert_eq!(einsum_fn_lib::batch_matvec(m.view(), v.view()), ndarray::Array2::from_elem((2, 3), 4.0));
    /// ```
    #[vjp(batch_matvec_vjp)]
    pub fn batch_matvec(m: ArrayView3<'_, f64>, v: ArrayView2<'_, f64>) -> Array2<f64> = "bij,bj->bi";

    /// The outer product of two vectors, `u v^T`.
    ///
    /// ```
    /// let u = ndarray::array![1.0, 2.0];
    /// assert_eq!(einsum_fn_lib::outer(u.view(), u.view()), ndarray::array![[1.0, 2.0], [2.0, 4.0]]);
    /// ```
    pub fn outer(u: ArrayView1<'_, f64>, v: ArrayView1<'_, f64>) -> Array2<f64> = "i,j->ij";

    /// The batched matrix product `c_b = a_b b_b`.
    ///
    /// ```
    /// let a = ndarray::Array3::<f64>::ones((2, 3, 4));
    /// assert_eq!(einsum_fn_lib::batch_matmul(a.view(), a.view().permuted_axes([0, 2, 1])).shape(), &[2, 3, 3]);
    /// ```
    pub fn batch_matmul(a: ArrayView3<'_, f64>, b: ArrayView3<'_, f64>) -> Array3<f64> = "bij,bjk->bik";
}
