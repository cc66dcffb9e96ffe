//! The pipeline: parse the invocation, check the spec, generate diagnostics and kernels, and
//! call the kernel that the operands' types select.

use crate::input::{Input, Mode};
use crate::{diagnostics, gen_dyn, gen_fixed, gen_nd, model};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// Expands one invocation; every failure becomes `compile_error!`, never a panic.
///
/// Output, in essence:
///
/// ```text
/// match (AsOperand::as_operand(&(a)), AsOperand::as_operand(&(b))) {
///     operands => {
///         /* diagnostic traits */
///         trait Kernel { type Output; fn run(self) -> Result<Self::Output, EinsumError>; }
///         impl Kernel for (&[[T; J]; I], &[[T; K]; J]) { /* loop nest */ }
///         impl Kernel for (ArrayView<T, D0>, ArrayView<T, D1>) { /* runtime engine */ }
///         Kernel::run(operands)
///     }
/// }
/// ```
///
/// The operands are evaluated once each, in order, in the `match` scrutinee, outside the
/// block that defines the generated items, so no generated name can capture a user's name.
/// The operand types then select the kernel by ordinary trait resolution.
pub(crate) fn einsum(tokens: TokenStream) -> TokenStream {
    let input: Input = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => return compile_errors(&error),
    };
    let model = match model::build(&input) {
        Ok(model) => model,
        Err(error) => return compile_errors(&error),
    };
    let krate = &input.krate;
    let private = quote!(#krate::__private);

    let diagnostics = diagnostics::generate(&model, krate);
    let kernels = match &model.tables {
        Some(tables) => {
            let fixed = gen_fixed::generate(tables, krate);
            let nd = gen_nd::generate(&model, tables, krate);
            quote!(#fixed #nd)
        }
        None => gen_dyn::generate(&model, krate),
    };
    let kernel = diagnostics::kernel_trait();
    let operands = input.operands.iter().map(|expr| {
        quote_spanned!(expr.span()=> #private::AsOperand::as_operand(&(#expr)))
    });
    let bound = Ident::new("__einsum_operands", Span::mixed_site());
    let call = quote! {
        match (#(#operands,)*) {
            #bound => {
                #diagnostics
                #kernels
                // Calling through a generic function gives one obligation, hence one error
                // message, when the operands fit no kernel.
                #[inline(always)]
                fn __einsum_run<K: #kernel>(
                    operands: K,
                ) -> ::core::result::Result<K::Output, #private::EinsumError> {
                    operands.run()
                }
                __einsum_run(#bound)
            }
        }
    };
    match input.mode {
        Mode::Panic => quote!(#private::unwrap_or_panic(#call)),
        Mode::Try => call,
    }
}

/// Every error as a `compile_error!`, in a block that diverges: the invocation still stands in
/// expression position and no type error follows from it.
fn compile_errors(error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote!({ #errors ::core::unreachable!() })
}
