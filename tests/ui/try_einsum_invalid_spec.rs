use einsum::ndarray::Array2;

fn main() {
    let a = Array2::<f64>::zeros((2, 3));
    let b = Array2::<f64>::zeros((3, 4));
    let _ = einsum::try_einsum!("ij,jk->iz", &a, &b);
}
