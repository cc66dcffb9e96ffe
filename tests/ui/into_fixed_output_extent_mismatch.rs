// A fixed-size output whose extent differs from its label's is a compile error naming the
// label, the operand and the output.
fn main() {
    let a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let b = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let mut c = [[0.0; 2]; 3];
    einsum::einsum_into!(&mut c, "ij,jk->ik", a, b);
}
