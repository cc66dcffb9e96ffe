einsum::einsum_fn! {
    pub fn product(a: &[[f64; 2]; 2], b: &[[f64; 2]; 2]) -> [[f64; 2]; 2] = "ij,jk->iz";
}

fn main() {}
