fn main() {
    let t: [[[f64; 2]; 2]; 2] = [[[1.0; 2]; 2]; 2];
    let _ = einsum::einsum!("ij->i", t);
}
