//! What `einsum_into!` adds to a kernel: an impl of `__EinsumInto<Out>` on the same operand
//! types, where `Out` is the normalised output (`IntoOutput`), that writes the result into it.
//!
//! Input: `"ij,jk->ik"` with fixed-size operands and a `&mut [[T; 2]; 3]` output. Output, in
//! essence:
//!
//! ```text
//! impl<'a, 'o, T0, T1, const E0_0, …, TO, const EO_0, const EO_1>
//!     Into<&'o mut [[TO; EO_1]; EO_0]> for (&'a [[T0; E0_1]; E0_0], &'a [[T1; E1_1]; E1_0])
//! where /* the kernel's bounds */, TO: OutElement<T0>, (): OutExtent0<E0_0, EO_0>, (): OutExtent1<E1_1, EO_1>
//! {
//!     fn run_into(self, out: &'o mut [[TO; EO_1]; EO_0], write: Write) -> Result<(), EinsumError> {
//!         let value = Kernel::run(self)?;
//!         for o0 in 0..EO_0 { for o1 in 0..EO_1 { write.apply(&mut out[o0][o1], value[o0][o1]); } }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Each output axis has its own const generic, tied to its label's extent by a diagnostic
//! trait, so a fixed-size output of the wrong shape does not compile and the message names
//! the label. A fixed-size result lives on the stack; writing it is a copy the optimiser
//! merges with the loop nest. ndarray outputs go to the engine with the output as a view
//! (`contract_static_into`); batches write each row in place (`gen_rows`).

use crate::diagnostics::{into_trait, out_element_trait, out_extent_trait};
use crate::gen_fixed::nested_array;
use crate::model::Tables;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// `__TO`: the output's element type parameter.
pub(crate) fn out_elem() -> Ident {
    format_ident!("__TO")
}

/// `__EO_N`: the extent parameter of output axis `axis`.
fn out_extent(axis: usize) -> Ident {
    format_ident!("__EO_{}", axis)
}

/// `__oN`: the loop index over output axis `axis` when writing a fixed-size result.
fn out_index(axis: usize) -> Ident {
    format_ident!("__o{}", axis)
}

/// A fixed-size output (or output row): its generic parameters, its type and its bounds.
pub(crate) struct FixedOutput {
    pub generics: Vec<TokenStream>,
    /// The nested array over output axes `skip..` (the element type alone when none).
    pub ty: TokenStream,
    pub bounds: Vec<TokenStream>,
    /// The output axes it spans.
    axes: std::ops::Range<usize>,
}

impl FixedOutput {
    /// The output axes from `skip` on (1 to leave out a batch axis), each with its own const
    /// extent tied to `extent(slot)`, the const that defines the slot's extent.
    pub(crate) fn new(
        tables: &Tables,
        skip: usize,
        extent: impl Fn(usize) -> TokenStream,
    ) -> FixedOutput {
        let elem = out_elem();
        let t0 = crate::gen_fixed::elem_param(0);
        let element = out_element_trait();
        let axes = skip..tables.output.len();
        let extents: Vec<Ident> = axes.clone().map(out_extent).collect();
        let mut generics = vec![quote!(#elem)];
        generics.extend(extents.iter().map(|e| quote!(const #e: usize)));
        let mut bounds = vec![quote!(#elem: #element<#t0>)];
        for (axis, this) in axes.clone().zip(&extents) {
            let check = out_extent_trait(axis);
            let first = extent(tables.output[axis]);
            bounds.push(quote!((): #check<#first, #this>));
        }
        FixedOutput {
            generics,
            ty: nested_array(&quote!(#elem), &extents),
            bounds,
            axes,
        }
    }

    /// Loops that write `value` (a fixed-size result over the same axes) into the place
    /// `target`, as `__write` says.
    pub(crate) fn write(&self, value: &TokenStream, target: &TokenStream) -> TokenStream {
        let elem = out_elem();
        let t0 = crate::gen_fixed::elem_param(0);
        let element = out_element_trait();
        let indices: Vec<Ident> = self.axes.clone().map(out_index).collect();
        let store = quote! {
            <#elem as #element<#t0>>::store(__write, &mut #target #([#indices])*, #value #([#indices])*);
        };
        self.axes
            .clone()
            .zip(&indices)
            .rev()
            .fold(store, |inner, (axis, index)| {
                let extent = out_extent(axis);
                quote!(for #index in 0..#extent { #inner })
            })
    }
}

/// `impl __EinsumInto<out_type> for (operand_types)` with `body` as `run_into`'s, which sees
/// `self`, `__out` and `__write`.
pub(crate) fn into_impl(
    generics: &[TokenStream],
    operand_types: &[TokenStream],
    bounds: &[TokenStream],
    out_type: &TokenStream,
    body: &TokenStream,
    private: &TokenStream,
) -> TokenStream {
    let into = into_trait();
    quote! {
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types, unused_parens, unused_braces)]
        impl<'__o, #(#generics),*> #into<#out_type> for (#(#operand_types,)*)
        where
            #(#bounds,)*
        {
            #[inline]
            fn run_into(self, __out: #out_type, __write: #private::Write) -> ::core::result::Result<(), #private::EinsumError> {
                #body
            }
        }
    }
}
