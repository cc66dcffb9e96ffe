// An ndarray output with the wrong static rank is a compile error naming the output term.
use ndarray::{Array2, Array3};

fn main() {
    let a = Array2::<f64>::zeros((2, 3));
    let mut c = Array3::<f64>::zeros((2, 3, 1));
    einsum::einsum_into!(&mut c, "ij,jk->ik", &a, &a.t());
}
