//! The kernel for ndarray operands of a spec without `...`.
//!
//! Input: `"ij,jk->ik"` with two ndarray operands. Output, in essence:
//!
//! ```text
//! impl<'a, T0, D0, T1, D1> Kernel for (ArrayView<'a, T0, D0>, ArrayView<'a, T1, D1>)
//! where T0: Element0, D0: Rank0, T1: Element1 + SameElement1<T0>, D1: Rank1
//! {
//!     type Output = Array<T0, Ix2>;
//!     fn run(self) -> Result<Self::Output, EinsumError> {
//!         contract_static("ij,jk->ik", &[&[0, 1], &[1, 2]], &[0, 2], &['i', 'j', 'k'], &[views])
//!     }
//! }
//! ```
//!
//! The spec is parsed, checked and resolved to slot tables here, at compile time; the rank of
//! every static-rank operand is checked by its `RankK` bound. Extents are only known at run
//! time, so the contraction itself is planned and run by the runtime's engine (pairwise
//! steps, matrix products through a GEMM kernel). For `einsum_vjp!`, `run_saving` calls
//! `contract_static_saving`, which keeps the forward pass's intermediates, and `vjp` hands
//! them to `vjp_static`, whose gradients start from them.

use crate::diagnostics::{
    element_trait, kernel_trait, out_element_trait, out_rank_trait, rank_trait, same_element_trait,
    vjp_trait,
};
use crate::gen_into;
use crate::model::{Model, Tables};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Generates the ndarray kernel impl for a spec without `...`, with `vjp` its gradient (each
/// operand's gradient has the operand's own dimensionality), and with `into` its
/// `einsum_into!` impl (the output goes to the engine as a view).
pub(crate) fn generate(
    model: &Model,
    tables: &Tables,
    krate: &TokenStream,
    vjp: bool,
    into: bool,
) -> TokenStream {
    let private = quote!(#krate::__private);
    let kernel = kernel_trait();
    let spec = &model.text;
    let t0 = format_ident!("__T0");

    let mut generics = Vec::new();
    let mut operand_types = Vec::new();
    let mut bounds = Vec::new();
    let mut views = Vec::new();
    let vars: Vec<Ident> = (0..tables.inputs.len())
        .map(|k| format_ident!("__op{}", k))
        .collect();
    for (k, var) in vars.iter().enumerate() {
        let elem = format_ident!("__T{}", k);
        let dim = format_ident!("__D{}", k);
        generics.push(quote!(#elem, #dim));
        operand_types.push(quote!(#private::ndarray::ArrayView<'__a, #elem, #dim>));
        let element = element_trait(k);
        let rank = rank_trait(k);
        bounds.push(quote!(#elem: #element));
        bounds.push(quote!(#dim: #rank));
        if k == 0 {
            views.push(quote!(#var.into_dyn()));
        } else {
            let same = same_element_trait(k);
            bounds.push(quote!(#elem: #same<#t0>));
            views.push(quote!(<#elem as #same<#t0>>::same_view(#var).into_dyn()));
        }
    }

    let rank = tables.output.len();
    let out_dim = if rank <= 6 {
        quote!(#private::ndarray::Dim<[usize; #rank]>)
    } else {
        quote!(#private::ndarray::IxDyn)
    };
    let inputs = tables.inputs.iter().map(|axes| quote!(&[#(#axes),*]));
    let output = &tables.output;
    let labels = &tables.labels;
    // The spec, its slot tables and the operands' dynamic-rank views: what every runtime call
    // of the kernel takes first.
    let tables_and_views = quote! {
        #spec,
        &[#(#inputs),*],
        &[#(#output),*],
        &[#(#labels),*],
        &[#(#views),*],
    };

    let count = tables.inputs.len();
    let vjp_impl = vjp.then(|| {
        let vjp_trait = vjp_trait();
        let dims: Vec<Ident> = (0..tables.inputs.len()).map(|k| format_ident!("__D{}", k)).collect();
        let grads: Vec<Ident> = (0..tables.inputs.len()).map(|k| format_ident!("__g{}", k)).collect();
        quote! {
            #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types)]
            impl<'__a, #(#generics),*> #vjp_trait for (#(#operand_types,)*)
            where
                #(#bounds,)*
            {
                type Grads = (#(#private::ndarray::Array<#t0, #dims>,)*);
                type Saved = #private::Saved<#t0>;

                #[inline]
                fn run_saving(self) -> ::core::result::Result<(Self::Output, Self::Saved), #private::EinsumError> {
                    let (#(#vars,)*) = self;
                    #private::contract_static_saving::<#t0, #out_dim>(#tables_and_views)
                }

                #[inline]
                fn vjp(self, __saved: &Self::Saved, __grad: &Self::Output) -> ::core::result::Result<Self::Grads, #private::EinsumError> {
                    let (#(#vars,)*) = self;
                    let grads = #private::vjp_static::<#t0>(
                        #tables_and_views
                        __grad.view().into_dyn(),
                        __saved,
                    )?;
                    let [#(#grads),*]: [#private::ndarray::ArrayD<#t0>; #count] = match grads.try_into() {
                        ::core::result::Result::Ok(grads) => grads,
                        ::core::result::Result::Err(_) => ::core::unreachable!("one gradient per operand"),
                    };
                    ::core::result::Result::Ok((#(#private::into_dimension::<#t0, #dims>(#grads),)*))
                }
            }
        }
    });
    let into_impl = into.then(|| {
        let (elem, dim) = (gen_into::out_elem(), format_ident!("__DO"));
        let (element, rank) = (out_element_trait(), out_rank_trait());
        let body = quote! {
            let (#(#vars,)*) = self;
            let __out = <#elem as #element<#t0>>::same_view_mut(__out).into_dyn();
            #private::contract_static_into::<#t0>(#tables_and_views __out, __write)
        };
        gen_into::into_impl(
            &[quote!('__a), quote!(#elem), quote!(#dim)]
                .into_iter()
                .chain(generics.iter().cloned())
                .collect::<Vec<_>>(),
            &operand_types,
            &[quote!(#elem: #element<#t0>), quote!(#dim: #rank)]
                .into_iter()
                .chain(bounds.iter().cloned())
                .collect::<Vec<_>>(),
            &quote!(#private::ndarray::ArrayViewMut<'__o, #elem, #dim>),
            &body,
            &private,
        )
    });
    quote! {
        #into_impl
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types)]
        impl<'__a, #(#generics),*> #kernel for (#(#operand_types,)*)
        where
            #(#bounds,)*
        {
            type Output = #private::ndarray::Array<#t0, #out_dim>;

            #[inline]
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError> {
                let (#(#vars,)*) = self;
                #private::contract_static::<#t0, #out_dim>(#tables_and_views)
            }
        }
        #vjp_impl
    }
}
