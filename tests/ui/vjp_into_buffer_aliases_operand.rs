use einsum::{einsum_vjp, Write};

fn main() {
    let mut r = [[1.0, 0.0], [0.0, 1.0]];
    let x = vec![[1.0, 2.0], [3.0, 4.0]];
    let mut y = vec![[0.0; 2]; 2];
    let back = einsum_vjp!(&mut y, "ij,bj->bi", &r, &x; wrt = 0);
    // `back` reads `r`: its gradient cannot be written over it while `back` lives.
    back(&y, (&mut r,), Write::Assign);
}
