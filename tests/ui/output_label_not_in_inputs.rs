fn main() {
    let a = [[1.0, 2.0], [3.0, 4.0]];
    let b = [[5.0, 6.0], [7.0, 8.0]];
    let _ = einsum::einsum!("ij,jk->iz", a, b);
}
