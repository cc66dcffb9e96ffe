//! The einsum spec language, shared by the `einsum!` macro (at compile time) and the
//! run-time einsum: one grammar, one set of rules, one set of error messages.
//!
//! This crate has no dependencies. It parses a spec ([`Spec::parse`]), checks everything that
//! the text alone decides, resolves `...` once operand ranks are known
//! ([`Spec::resolve`] gives a [`Contraction`]), and binds extents to labels with numpy's
//! broadcasting rules ([`Contraction::bind_extents`]).
//!
//! ```
//! use einsum_spec::Spec;
//!
//! let spec = Spec::parse("bi,bijk,bk->bj").unwrap();
//! let contraction = spec.resolve(&[2, 4, 2]).unwrap();
//! let extents = contraction.bind_extents(&[&[5, 3], &[5, 3, 4, 3], &[5, 3]]).unwrap();
//! assert_eq!(extents, vec![5, 3, 4, 3]); // b, i, j, k in order of first appearance
//! # assert_eq!(contraction.slots().len(), 4);
//! ```
#![forbid(unsafe_code)]

mod contraction;
mod error;
mod label;
pub mod path;
mod spec;
mod term;

pub use contraction::{Buffer, Contraction, ShapeError, Slot};
pub use error::{SpecError, SpecErrorKind};
pub use label::Label;
pub use spec::Spec;
pub use term::{Axis, Term, TermRef};
