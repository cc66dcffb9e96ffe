einsum::einsum_fn! {
    pub fn trace(m: &[[f64; 3]; 3]) -> f64;
}

fn main() {}
