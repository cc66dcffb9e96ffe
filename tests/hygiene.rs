//! Generated code must not depend on anything the caller's scope defines: it uses absolute
//! paths only, and its own names cannot capture or be captured by the caller's. This crate
//! shadows the prelude's names with unrelated types and names its locals like the generated
//! ones.
//!
//! (`#![no_implicit_prelude]` itself is not supported: rustc then cannot resolve the
//! `#[diagnostic::on_unimplemented]` attributes that make misuse read as einsum errors.)
#![allow(dead_code, non_camel_case_types, non_snake_case, clippy::all)]

struct Vec;
struct Option;
struct Some;
struct None;
struct Result;
struct Ok;
struct Err;
struct Box;
struct String;
struct Copy;
struct Sized;
struct Extent;
struct Element;
struct __EinsumKernel;
trait AsOperand {}
mod core {}
mod __private {}

#[test]
fn fixed_size_expansion_is_hygienic() {
    let __op0 = [[1.0, 2.0], [3.0, 4.0]];
    let __s0 = [[1.0, 0.0], [0.0, 1.0]];
    let __out = 7.0;
    let __acc = 1.0;
    let __einsum_operands = 2;
    let i = 0;
    let j = 1;
    let product: [[f64; 2]; 2] = einsum::einsum!("ij,jk->ik", __op0, __s0);
    std::assert_eq!(product, __op0);
    let trace: f64 = einsum::einsum!("ii->", __op0);
    std::assert_eq!(
        trace + __out + __acc + (__einsum_operands + i + j) as f64,
        16.0
    );
}

#[test]
fn ndarray_and_ellipsis_expansions_are_hygienic() {
    let __op1 = ndarray::Array2::<f64>::eye(2);
    let __T0 = ndarray::Array2::<f64>::ones((2, 2));
    let product = einsum::einsum!("ij,jk->ik", &__op1, &__T0);
    std::assert_eq!(product, __T0);
    let batched = einsum::einsum!("...ij,...jk->...ik", &__op1, &__T0);
    std::assert_eq!(batched, __T0.into_dyn());
    let checked = einsum::try_einsum!("ij->ji", &__op1);
    std::assert!(checked.is_ok());
}
