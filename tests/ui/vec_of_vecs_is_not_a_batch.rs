fn main() {
    // A batch is a slice or `Vec` of fixed-size rows; rows of run-time length are not.
    let rows: Vec<Vec<f64>> = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
    let _ = einsum::einsum!("bi,bi->b", rows, rows);
}
