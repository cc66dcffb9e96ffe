einsum::einsum_fn! {
    /// The diagonal is a vector, not a number.
    pub fn diagonal(m: &[[f64; 3]; 3]) -> f64 = "ii->i";
}

fn main() {}
