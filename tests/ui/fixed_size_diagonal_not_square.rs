fn main() {
    let m: [[f64; 2]; 3] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let _ = einsum::einsum!("ii->", m);
}
