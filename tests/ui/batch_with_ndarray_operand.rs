fn main() {
    // Batches combine with fixed-size arrays, not with ndarray operands.
    let rows: Vec<[f64; 2]> = vec![[1.0, 2.0], [3.0, 4.0]];
    let w = ndarray::Array2::<f64>::zeros((2, 3));
    let _ = einsum::einsum!("bi,ij->bj", rows, w);
}
