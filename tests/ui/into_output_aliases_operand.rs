// The output of `einsum_into!` cannot also be an operand: numpy's `out=` aliasing an input
// silently computes garbage; here the borrow checker refuses it.
use ndarray::Array2;

fn main() {
    let mut c = Array2::<f64>::eye(2);
    einsum::einsum_into!(&mut c, "ij,jk->ik", &c, &c);
}
