//! The procedural macro behind `einsum!` and `try_einsum!`.
//!
//! Do not depend on this crate directly: use the `einsum` crate, whose `einsum!` and
//! `try_einsum!` pass their own path to `einsum_impl!` so that generated code reaches the
//! runtime however the facade is named in your `Cargo.toml`.
//!
//! The expansion is a pipeline, one module per stage: `input` parses the invocation,
//! `model` parses and checks the spec (with `einsum-spec`) and maps labels to slots,
//! `diagnostics` emits the traits whose messages explain misuse in the spec's own words, and
//! `gen_fixed`, `gen_rows`, `gen_nd`, `gen_dyn` generate one kernel each for fixed-size
//! operands, batches (slices of fixed-size rows), ndarray operands, and specs with `...`. `expand` ties them together.
#![forbid(unsafe_code)]

mod diagnostics;
mod einsum_fn;
mod expand;
mod gen_dyn;
mod gen_fixed;
mod gen_into;
mod gen_nd;
mod gen_rows;
mod gen_small;
mod gen_var;
mod gen_vjp;
mod input;
mod model;
#[cfg(test)]
mod robustness;

/// Expands one `einsum!` or `try_einsum!` invocation.
///
/// Input: `FACADE_PATH, MODE; "SPEC", operand, operand, …` where `MODE` is `panic`
/// (`einsum!`: the value, panicking on a run-time shape mismatch) or `result` (`try_einsum!`:
/// a `Result`). Use it through the `einsum` facade:
///
/// ```text
/// let c = einsum::einsum!("ij,jk->ik", a, b);
/// ```
#[proc_macro]
pub fn einsum_impl(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::einsum(input.into()).into()
}

/// Expands one `einsum_fn!` invocation: `FACADE_PATH; fn definitions…`. Use it through the
/// `einsum` facade's `einsum_fn!`.
#[proc_macro]
pub fn einsum_fn_impl(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    einsum_fn::expand(input.into()).into()
}
