// A fixed-size output for ndarray operands fits no kernel: the message names the output.
use ndarray::Array2;

fn main() {
    let a = Array2::<f64>::zeros((2, 2));
    let mut c = [[0.0; 2]; 2];
    einsum::einsum_into!(&mut c, "ij,jk->ik", &a, &a);
}
