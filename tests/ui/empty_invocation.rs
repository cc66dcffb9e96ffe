fn main() {
    let _ = einsum::einsum!();
}
