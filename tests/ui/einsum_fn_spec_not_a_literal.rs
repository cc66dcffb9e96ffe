const SPEC: &str = "ii->";

einsum::einsum_fn! {
    pub fn trace(m: &[[f64; 3]; 3]) -> f64 = SPEC;
}

fn main() {}
