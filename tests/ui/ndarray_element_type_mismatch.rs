use einsum::ndarray::{Array1, Array2};

fn main() {
    let a = Array2::<f64>::zeros((2, 3));
    let x = Array1::<f32>::zeros(3);
    let _ = einsum::einsum!("ij,j->i", &a, &x);
}
