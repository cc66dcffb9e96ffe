fn main() {
    // The rows' extents are checked at compile time, as for fixed-size arrays.
    let a: Vec<[f64; 3]> = vec![[1.0, 2.0, 3.0]];
    let b: Vec<[f64; 2]> = vec![[1.0, 2.0]];
    let _ = einsum::einsum!("bi,bi->b", a, b);
}
