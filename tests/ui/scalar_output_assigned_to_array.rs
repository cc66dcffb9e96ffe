fn main() {
    let a = [1.0_f64, 2.0];
    let b = [3.0_f64, 4.0];
    let _dot: [f64; 1] = einsum::einsum!("i,i->", a, b);
}
