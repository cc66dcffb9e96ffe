//! Run-time support for `einsum`: the code that `einsum!` expands to calls into this crate
//! through the `einsum` facade, and [`einsum_dyn`] evaluates specs known only at run time.
//!
//! Most users depend on the `einsum` crate, which re-exports everything here.
// `deny`, not `forbid`: ndarray's `s!` macro expands to `#[allow(unsafe_code)]`, which `forbid`
// rejects. The crate has one `unsafe` block: the call into the matrix product kernel built
// for AVX2/FMA, after the CPU was found to have them (`engine/packed.rs`).
#![deny(unsafe_code)]

pub mod autograd;
mod dynamic;
mod element;
pub mod engine;
mod error;
pub mod network;
pub mod operand;
pub mod optim;
pub mod support;

pub use dynamic::{einsum_dyn, einsum_vjp_dyn, explain};
pub use einsum_spec as spec;
pub use element::{Element, Float};
pub use error::{EinsumError, EinsumErrorKind};
pub use ndarray;
