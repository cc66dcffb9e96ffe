fn main() {
    let a = [1.0, 2.0];
    let _ = einsum::einsum!("....i->i", a);
}
