use einsum::ndarray::Array3;

fn main() {
    let t = Array3::<f64>::zeros((2, 3, 4));
    let _ = einsum::einsum!("ij->ji", &t);
}
