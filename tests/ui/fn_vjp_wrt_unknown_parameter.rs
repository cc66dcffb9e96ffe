einsum::einsum_fn! {
    #[vjp(rotate_vjp, wrt = rotation)]
    fn rotate(r: &[[f64; 3]; 3], x: &[f64; 3]) -> [f64; 3] = "ij,j->i";
}

fn main() {}
