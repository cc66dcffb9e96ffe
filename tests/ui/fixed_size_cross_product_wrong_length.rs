fn main() {
    let eps = [[[0.0_f64; 3]; 3]; 3];
    let x: [f64; 4] = [1.0, 0.0, 0.0, 0.0];
    let y: [f64; 3] = [0.0, 1.0, 0.0];
    let _ = einsum::einsum!("ijk,j,k->i", eps, x, y);
}
