use std::collections::VecDeque;

fn main() {
    let v: VecDeque<f64> = VecDeque::from(vec![1.0, 2.0, 3.0]);
    let _ = einsum::einsum!("i,i->", v, v);
}
