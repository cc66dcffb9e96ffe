use einsum::ndarray::Array3;

fn main() {
    let a = Array3::<f64>::zeros((4, 2, 3));
    let b = Array3::<i32>::zeros((4, 3, 2));
    let _ = einsum::einsum!("...ij,...jk->...ik", &a, &b);
}
