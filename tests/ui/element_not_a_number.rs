fn main() {
    let m = [[true, false], [false, true]];
    let _ = einsum::einsum!("ij->ji", m);
}
