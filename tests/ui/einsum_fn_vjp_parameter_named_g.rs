einsum::einsum_fn! {
    #[vjp(dot_vjp)]
    pub fn dot(f: &[f64; 3], g: &[f64; 3]) -> f64 = "i,i->";
}

fn main() {}
