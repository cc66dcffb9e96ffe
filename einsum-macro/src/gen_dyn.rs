//! The kernel for specs with `...`, whose output rank depends on the operands' ranks.
//!
//! Input: `"...ij,...jk->...ik"` with any operands. Output, in essence:
//!
//! ```text
//! impl<O0: DynOperand, O1: DynOperand> Kernel for (O0, O1)
//! where O1::Elem: SameElement1<O0::Elem>
//! {
//!     type Output = ArrayD<O0::Elem>;
//!     fn run(self) -> Result<Self::Output, EinsumError> {
//!         einsum_dyn("...ij,...jk->...ik", &[op0.view_dyn(), same_view(op1.view_dyn())])
//!     }
//! }
//! ```
//!
//! The spec was checked at compile time; `...` can only be resolved once the ranks are known,
//! so the run-time einsum does that. Fixed-size and ndarray operands may be mixed here.

use crate::diagnostics::{kernel_trait, same_element_trait, vjp_trait};
use crate::model::Model;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Generates the single, generic kernel impl for a spec with `...`, and with `vjp` its
/// gradient (each operand's gradient has the operand's own type: fixed-size array, number or
/// ndarray array).
pub(crate) fn generate(model: &Model, krate: &TokenStream, vjp: bool) -> TokenStream {
    let private = quote!(#krate::__private);
    let nothing_saved = crate::diagnostics::nothing_saved(&private);
    let kernel = kernel_trait();
    let spec = &model.text;
    let count = model.spec.inputs().len();
    let params: Vec<Ident> = (0..count).map(|k| format_ident!("__O{}", k)).collect();
    let vars: Vec<Ident> = (0..count).map(|k| format_ident!("__op{}", k)).collect();
    let o0 = &params[0];
    let elem0 = quote!(<#o0 as #private::DynOperand>::Elem);

    let mut bounds = Vec::new();
    let mut views = Vec::new();
    for (k, (param, var)) in params.iter().zip(&vars).enumerate() {
        bounds.push(quote!(#param: #private::DynOperand));
        if k == 0 {
            views.push(quote!(#private::DynOperand::view_dyn(&#var)));
        } else {
            let same = same_element_trait(k);
            let elem = quote!(<#param as #private::DynOperand>::Elem);
            bounds.push(quote!(#elem: #same<#elem0>));
            views.push(
                quote!(<#elem as #same<#elem0>>::same_view(#private::DynOperand::view_dyn(&#var))),
            );
        }
    }

    let vjp_impl = vjp.then(|| {
        let vjp_trait = vjp_trait();
        let grads: Vec<Ident> = (0..count).map(|k| format_ident!("__g{}", k)).collect();
        let conversions = params.iter().zip(&grads).enumerate().map(|(k, (param, grad))| {
            if k == 0 {
                quote!(<#param as #private::DynOperand>::grad_from(#grad))
            } else {
                let same = same_element_trait(k);
                let elem = quote!(<#param as #private::DynOperand>::Elem);
                quote!(<#param as #private::DynOperand>::grad_from(<#elem as #same<#elem0>>::back_array(#grad)))
            }
        });
        quote! {
            #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types)]
            impl<#(#params),*> #vjp_trait for (#(#params,)*)
            where
                #(#bounds,)*
                #(#params: ::core::clone::Clone,)*
            {
                type Grads = (#(<#params as #private::DynOperand>::Grad,)*);
                #nothing_saved

                #[inline]
                fn vjp(self, _: &Self::Saved, __grad: &Self::Output) -> ::core::result::Result<Self::Grads, #private::EinsumError> {
                    let (#(#vars,)*) = self;
                    let grads = #private::einsum_vjp_dyn(#spec, &[#(#views),*], __grad.view())?;
                    let [#(#grads),*]: [#private::ndarray::ArrayD<#elem0>; #count] = match grads.try_into() {
                        ::core::result::Result::Ok(grads) => grads,
                        ::core::result::Result::Err(_) => ::core::unreachable!("one gradient per operand"),
                    };
                    ::core::result::Result::Ok((#(#conversions,)*))
                }
            }
        }
    });

    quote! {
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types)]
        impl<#(#params),*> #kernel for (#(#params,)*)
        where
            #(#bounds,)*
        {
            type Output = #private::ndarray::ArrayD<#elem0>;

            #[inline]
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError> {
                let (#(#vars,)*) = self;
                #private::einsum_dyn(#spec, &[#(#views),*])
            }
        }
        #vjp_impl
    }
}
