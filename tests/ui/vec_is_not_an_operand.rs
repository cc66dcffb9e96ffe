fn main() {
    let v: Vec<f64> = vec![1.0, 2.0, 3.0];
    let _ = einsum::einsum!("i,i->", v, v);
}
