// An output of another element type than the operands' is a compile error naming both.
use ndarray::Array2;

fn main() {
    let a = Array2::<f64>::zeros((2, 2));
    let mut c = Array2::<f32>::zeros((2, 2));
    einsum::einsum_into!(&mut c, "ij,jk->ik", &a, &a);
}
