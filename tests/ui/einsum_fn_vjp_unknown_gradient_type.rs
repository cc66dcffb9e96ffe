einsum::einsum_fn! {
    #[vjp(total_vjp)]
    pub fn total(v: Vec<f64>) -> f64 = "i->";
}

fn main() {}
