// A spec forwarded through `macro_rules!` fragments arrives in an invisible group; it must
// still be recognised as a string literal.
macro_rules! via_literal {
    ($spec:literal, $($operand:expr),+) => {
        einsum::einsum!($spec, $($operand),+)
    };
}

macro_rules! via_expr {
    ($spec:expr, $($operand:expr),+) => {
        einsum::try_einsum!($spec, $($operand),+)
    };
}

fn main() {
    let a = [[1, 2], [3, 4]];
    let b = [[5, 6], [7, 8]];
    let c: [[i32; 2]; 2] = via_literal!("ij,jk->ik", a, b);
    assert_eq!(c, [[19, 22], [43, 50]]);
    let trace: i32 = via_expr!("ii->", a).unwrap();
    assert_eq!(trace, 5);
}
