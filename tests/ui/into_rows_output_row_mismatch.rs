// Rows of the wrong extent in a batch's output are a compile error naming the label.
fn main() {
    let m: [[f64; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let points: Vec<[f64; 3]> = vec![[1.0, 2.0, 3.0]];
    let mut moved: Vec<[f64; 2]> = vec![[0.0; 2]];
    einsum::einsum_into!(&mut moved, "ij,bj->bi", m, &points);
}
