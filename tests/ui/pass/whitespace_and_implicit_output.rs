// Whitespace in a spec is ignored, and a spec without `->` has numpy's implicit output.
fn main() {
    let a = [[1, 2], [3, 4]];
    let b = [[5, 6], [7, 8]];
    let c: [[i32; 2]; 2] = einsum::einsum!(" ij , jk ", a, b);
    assert_eq!(c, [[19, 22], [43, 50]]);
}
