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

use crate::diagnostics::{kernel_trait, same_element_trait};
use crate::gen_fixed::{grad_var, operand_var};
use crate::gen_vjp;
use crate::model::{Gradients, Model};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Generates the single, generic kernel impl for a spec with `...`, and with `vjp` its
/// gradient (each operand's gradient has the operand's own type: fixed-size array, number or
/// ndarray array).
pub(crate) fn generate(
    model: &Model,
    krate: &TokenStream,
    gradients: Option<&Gradients>,
) -> TokenStream {
    let private = quote!(#krate::__private);
    let nothing_saved = crate::diagnostics::nothing_saved(&private);
    let kernel = kernel_trait();
    let spec = &model.text;
    let count = model.spec.inputs().len();
    let params: Vec<Ident> = (0..count).map(|k| format_ident!("__O{}", k)).collect();
    let vars: Vec<Ident> = (0..count).map(operand_var).collect();
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

    // `einsum_vjp!` with an output refuses `...` specs (model.rs), so only the value form.
    let vjp_impl = gradients.map(|gradients| {
        let grad_types: Vec<TokenStream> = params
            .iter()
            .map(|param| quote!(<#param as #private::DynOperand>::Grad))
            .collect();
        let ascending = gradients.ascending();
        let wanted = ascending.len();
        let values: Vec<Ident> = ascending.iter().map(|&k| grad_var(k)).collect();
        let conversions = ascending.iter().map(|&k| {
            let (param, grad) = (&params[k], grad_var(k));
            if k == 0 {
                quote!(<#param as #private::DynOperand>::grad_from(#grad))
            } else {
                let same = same_element_trait(k);
                let elem = quote!(<#param as #private::DynOperand>::Elem);
                quote!(<#param as #private::DynOperand>::grad_from(<#elem as #same<#elem0>>::back_array(#grad)))
            }
        });
        let mut bounds = bounds.clone();
        bounds.extend(params.iter().map(|param| quote!(#param: ::core::clone::Clone)));
        gen_vjp::vjp_impl(&gen_vjp::VjpImpl {
            generics: &params.iter().map(|p| quote!(#p)).collect::<Vec<_>>(),
            operand_types: &params.iter().map(|p| quote!(#p)).collect::<Vec<_>>(),
            bounds: &bounds,
            gradients,
            grad_types: &grad_types,
            buffer_types: &[],
            saving: &nothing_saved,
            body: &quote! {
                let (#(#vars,)*) = self;
                let grads = #private::vjp_dyn(#spec, &[#(#views),*], __grad.view(), &[#(#ascending),*])?;
                let [#(#values),*]: [#private::ndarray::ArrayD<#elem0>; #wanted] = match grads.try_into() {
                    ::core::result::Result::Ok(grads) => grads,
                    ::core::result::Result::Err(_) => ::core::unreachable!("one gradient per wanted operand"),
                };
                #(let #values = #conversions;)*
            },
            private: &private,
        })
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
