einsum::einsum_fn! {
    pub fn dot(a: &[f64; 3]) -> f64 = "i,i->";
}

fn main() {}
