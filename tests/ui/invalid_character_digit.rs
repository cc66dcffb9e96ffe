fn main() {
    let a = [[1.0, 2.0], [3.0, 4.0]];
    let b = [5.0, 6.0];
    let _ = einsum::einsum!("ij,j1->i", a, b);
}
