fn main() {
    let m: [[f64; 2]; 2] = [[1.0, 2.0], [3.0, 4.0]];
    let _ = einsum::einsum!("ijk->i", m);
}
