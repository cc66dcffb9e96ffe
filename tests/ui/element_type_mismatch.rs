fn main() {
    let a: [[f64; 2]; 2] = [[1.0, 2.0], [3.0, 4.0]];
    let b: [[f32; 2]; 2] = [[1.0, 2.0], [3.0, 4.0]];
    let _ = einsum::einsum!("ij,jk->ik", a, b);
}
