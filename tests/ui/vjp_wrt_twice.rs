use einsum::einsum_vjp;

fn main() {
    let a = [[1.0, 2.0], [3.0, 4.0]];
    let b = [1.0, 2.0];
    let (_, back) = einsum_vjp!("ij,j->i", a, b; wrt = (1, 1));
    let _ = back(&[1.0, 1.0]);
}
