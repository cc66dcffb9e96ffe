// With `...` in the spec, fixed-size and ndarray operands may be mixed; the result is an
// `ArrayD`.
use einsum::ndarray::{array, ArrayD};

fn main() {
    let m = array![[1.0, 2.0], [3.0, 4.0]];
    let v = [1.0, 1.0];
    let out: ArrayD<f64> = einsum::einsum!("...j,j->...", &m, v);
    assert_eq!(out.into_raw_vec_and_offset().0, vec![3.0, 7.0]);
}
