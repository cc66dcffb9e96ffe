// Three problems in one invocation: an invalid character, an output label that no input has,
// and one operand too many. Each is reported; none hides another.
fn main() {
    let a = [1.0, 2.0];
    let b = [3.0, 4.0];
    let c = [5.0, 6.0];
    let _ = einsum::einsum!("i1,j->z", a, b, c);
}
