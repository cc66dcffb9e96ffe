// The output must be passed as `&mut`: an array by value is not an einsum output.
use ndarray::Array2;

fn main() {
    let a = Array2::<f64>::zeros((2, 2));
    let c = Array2::<f64>::zeros((2, 2));
    einsum::einsum_into!(c, "ij,jk->ik", &a, &a);
}
