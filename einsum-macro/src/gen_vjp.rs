//! What `einsum_vjp!` adds to a kernel: the impl of the gradient trait on the same operand
//! types, for the operands its `wrt` asks for (every operand by default).
//!
//! Without an output, `vjp` returns the wanted gradients as new values, in the order `wrt`
//! lists them:
//!
//! ```text
//! impl<…> Vjp for (&'a [[T0; E0_1]; E0_0], &'a [[T1; E1_1]]) where … {
//!     type Grads = ([[T0; E0_1]; E0_0],);          // wrt = 0
//!     type Saved = ();
//!     fn run_saving(self) -> Result<(Self::Output, ()), EinsumError> { … }
//!     fn vjp(self, _: &(), __grad: &Self::Output) -> Result<Self::Grads, EinsumError> {
//!         /* defines __g0 only */
//!         Ok((__g0,))
//!     }
//! }
//! ```
//!
//! With an output (`einsum_vjp!(&mut y, …)`), `vjp_into` writes them into the caller's
//! buffers, `GradsMut<'g>` being the tuple of `&'g mut` buffers (`ArrayViewMut<'g, …>` for
//! ndarray operands), replacing or adding to their elements as `__write` says.
//!
//! Each generator supplies the bodies; this module states the shape of the impl once.

use crate::diagnostics::vjp_trait;
use crate::gen_fixed::grad_var;
use crate::model::Gradients;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// `__bK`: the caller's buffer for operand `k`'s gradient (`vjp_into`).
pub(crate) fn buffer_var(k: usize) -> Ident {
    format_ident!("__b{}", k)
}

/// The pieces of one kernel's gradient impl.
pub(crate) struct VjpImpl<'a> {
    /// The impl's generic parameters (lifetimes first), its operand types and bounds: the
    /// kernel's own.
    pub generics: &'a [TokenStream],
    pub operand_types: &'a [TokenStream],
    pub bounds: &'a [TokenStream],
    pub gradients: &'a Gradients,
    /// Every operand's gradient type (the value form's).
    pub grad_types: &'a [TokenStream],
    /// Every operand's buffer type for the into form, borrowed for `'__g`.
    pub buffer_types: &'a [TokenStream],
    /// `type Saved` and `run_saving` (the value form).
    pub saving: &'a TokenStream,
    /// The body of the form `gradients.into` chooses. Values: defines `__gK` for each wanted
    /// `k`, seeing `self`, `__saved` and `__grad`. Into: writes each wanted gradient into
    /// `__bK` as `__write` says, seeing `self`, `__grad` and `__write`, and returns the
    /// `Result`.
    pub body: &'a TokenStream,
    pub private: &'a TokenStream,
}

/// The impl of the gradient trait: `vjp` returning values, or `vjp_into` writing buffers.
pub(crate) fn vjp_impl(parts: &VjpImpl<'_>) -> TokenStream {
    let VjpImpl {
        generics,
        operand_types,
        bounds,
        gradients,
        private,
        ..
    } = parts;
    let vjp_trait = vjp_trait();
    let listed = &gradients.listed;
    let items = if gradients.into {
        let types = listed.iter().map(|&k| &parts.buffer_types[k]);
        let buffers = listed.iter().map(|&k| buffer_var(k));
        let body = parts.body;
        quote! {
            type GradsMut<'__g> = (#(#types,)*);

            #[inline]
            fn vjp_into(self, __grad: &Self::Output, __grads: Self::GradsMut<'_>, __write: #private::Write) -> ::core::result::Result<(), #private::EinsumError> {
                let (#(#buffers,)*) = __grads;
                #body
            }
        }
    } else {
        let types = listed.iter().map(|&k| &parts.grad_types[k]);
        let values = listed.iter().map(|&k| grad_var(k));
        let (saving, body) = (parts.saving, parts.body);
        quote! {
            type Grads = (#(#types,)*);
            #saving

            #[inline]
            fn vjp(self, __saved: &Self::Saved, __grad: &Self::Output) -> ::core::result::Result<Self::Grads, #private::EinsumError> {
                #body
                ::core::result::Result::Ok((#(#values,)*))
            }
        }
    };
    quote! {
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types, unused_parens, unused_braces, unused_variables)]
        impl<#(#generics),*> #vjp_trait for (#(#operand_types,)*)
        where
            #(#bounds,)*
        {
            #items
        }
    }
}

/// Writes the fixed-size gradient `__gK` (a nested array over `extents`, or a number when
/// there are none) into the buffer `__bK`, as `__write` says.
pub(crate) fn store_fixed(k: usize, extents: &[TokenStream]) -> TokenStream {
    let (value, buffer) = (grad_var(k), buffer_var(k));
    let indices: Vec<Ident> = (0..extents.len())
        .map(|a| format_ident!("__i{}", a))
        .collect();
    let store = quote!(__write.apply(&mut (*#buffer) #([#indices])*, #value #([#indices])*););
    indices.iter().zip(extents).rev().fold(
        store,
        |inner, (index, extent)| quote!(for #index in 0..#extent { #inner }),
    )
}
