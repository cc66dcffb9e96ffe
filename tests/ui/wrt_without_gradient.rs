use einsum::einsum;

fn main() {
    let a = [[1.0, 2.0], [3.0, 4.0]];
    let b = [1.0, 2.0];
    // `wrt` belongs to einsum_vjp!.
    let _ = einsum!("ij,j->i", a, b; wrt = 0);
}
