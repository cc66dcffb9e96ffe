fn main() {
    let a = [[1.0, 2.0], [3.0, 4.0]];
    let b = [[5.0, 6.0], [7.0, 8.0]];
    let c = einsum::einsum!("ij,jk->ik", a, &b);
    println!("{c:?}");
    let t: f64 = einsum::einsum!("ii->", a);
    println!("{t}");
    let x = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    let y = einsum::einsum!("ij,jk->ik", &x, x.t());
    println!("{y}");
    let z = einsum::einsum!("...ij->...ji", &x);
    println!("{z}");
}
