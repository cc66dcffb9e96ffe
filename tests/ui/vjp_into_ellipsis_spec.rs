use einsum::einsum_vjp;

fn main() {
    let a = ndarray::Array2::<f64>::ones((2, 3));
    let mut y = ndarray::Array1::<f64>::zeros(2);
    let _back = einsum_vjp!(&mut y, "...j->...", &a);
}
