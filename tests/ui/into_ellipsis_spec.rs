// `einsum_into!` does not take specs with `...`: one error on the spec.
use ndarray::Array2;

fn main() {
    let a = Array2::<f64>::zeros((2, 2));
    let mut c = Array2::<f64>::zeros((2, 2));
    einsum::einsum_into!(&mut c, "...ij->...ji", &a);
}
