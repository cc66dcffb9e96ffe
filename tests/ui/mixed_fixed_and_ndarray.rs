use einsum::ndarray::Array2;

fn main() {
    let a: [[f64; 2]; 2] = [[1.0, 2.0], [3.0, 4.0]];
    let b = Array2::<f64>::eye(2);
    let _ = einsum::einsum!("ij,jk->ik", a, &b);
}
