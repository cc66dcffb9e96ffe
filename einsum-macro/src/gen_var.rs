//! The kernel for autograd operands: `einsum!` on `Var`s records one contraction node.
//!
//! Input: `"ij,jk->ik"` with two `Var` operands. Output, in essence:
//!
//! ```text
//! impl<'a, T: Float> Kernel for (&'a Var<T>, &'a Var<T>) {
//!     type Output = Var<T>;
//!     fn run(self) -> Result<Var<T>, EinsumError> { Var::einsum("ij,jk->ik", &[op0, op1]) }
//! }
//! ```
//!
//! The node's backward is the contraction's gradient (`engine::vjp`), itself recorded as
//! contraction nodes, so gradients of gradients are exact.

use crate::diagnostics::kernel_trait;
use crate::model::Model;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Generates the `Var` kernel impl, or nothing when every term is a scalar: then the
/// fixed-size impl's `&T` operands would overlap with `&Var<T>`, and a scalar `Var` einsum is
/// better written as the `Var` operations it is.
pub(crate) fn generate(model: &Model, krate: &TokenStream) -> TokenStream {
    if model
        .spec
        .inputs()
        .iter()
        .all(|term| term.axes().is_empty())
    {
        return TokenStream::new();
    }
    let private = quote!(#krate::__private);
    let kernel = kernel_trait();
    let spec = &model.text;
    let vars: Vec<Ident> = (0..model.spec.inputs().len())
        .map(|k| format_ident!("__op{}", k))
        .collect();
    let types = vars.iter().map(|_| quote!(&'__a #private::Var<__T>));
    quote! {
        #[allow(clippy::all, clippy::pedantic, clippy::nursery)]
        impl<'__a, __T: #private::Float> #kernel for (#(#types,)*) {
            type Output = #private::Var<__T>;

            #[inline]
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError> {
                let (#(#vars,)*) = self;
                #private::Var::einsum(#spec, &[#(#vars),*])
            }
        }
    }
}
