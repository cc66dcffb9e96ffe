//! The pipeline: parse the invocation, check the spec, generate diagnostics and kernels, and
//! call the kernel that the operands' types select.

use crate::input::{Input, Mode};
use crate::{diagnostics, gen_dyn, gen_fixed, gen_nd, gen_rows, gen_var, model};
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

    let gradients = model.gradients.as_ref();
    // `einsum_vjp!(_, …)` has no output: no `einsum_into!` impl, only `back`.
    let placeholder = input.target.as_ref().is_some_and(|t| t.is_placeholder());
    let into = input.target.is_some() && !placeholder;
    let mut diagnostics = diagnostics::generate(&model, krate);
    let kernels = match &model.tables {
        Some(tables) => {
            if into {
                diagnostics.extend(diagnostics::generate_into(&model, tables, krate));
            }
            let fixed = gen_fixed::generate(tables, krate, gradients, into);
            let rows = gen_rows::generate(tables, &model.text, krate, gradients, into);
            let nd = gen_nd::generate(&model, tables, krate, gradients, into);
            // `einsum_vjp!` and `einsum_into!` have no `Var` kernel: a `Var` records its own
            // gradient, and is a value, not an array to write into.
            let var = (gradients.is_none() && !into).then(|| gen_var::generate(&model, krate));
            quote!(#fixed #rows #nd #var)
        }
        None => gen_dyn::generate(&model, krate, gradients),
    };
    let operands = input
        .operands
        .iter()
        .map(|expr| quote_spanned!(expr.span()=> #private::AsOperand::as_operand(&(#expr))));
    let bound = Ident::new("__einsum_operands", Span::mixed_site());
    let operands: Vec<TokenStream> = operands.collect();
    let bare = quote!((#(#operands,)*));
    // What the `match` evaluates, how it binds it, the helper it defines and its call.
    let (scrutinee, pattern, run, call) = match &input.target {
        Some(_) if placeholder => (
            bare,
            quote!(#bound),
            back_into(&private),
            quote!(__einsum_back_into(#bound)),
        ),
        // The output is evaluated first, as written; borrowing it mutably there while an
        // operand borrows it is what the borrow checker refuses.
        Some(target) => {
            let expr = &target.expr;
            let output = quote_spanned!(expr.span()=> #private::IntoOutput::into_output(#expr));
            let out = Ident::new("__einsum_out", Span::mixed_site());
            let write = if target.add {
                quote!(#private::Write::Add)
            } else {
                quote!(#private::Write::Assign)
            };
            let (run, call) = if gradients.is_some() {
                (
                    run_into_with_gradient(&private),
                    quote!(__einsum_back_into(__einsum_run_vjp_into(#out, #bound, #write))),
                )
            } else {
                (
                    run_into(&private),
                    quote!(__einsum_run_into(#out, #bound, #write)),
                )
            };
            (quote!((#output, #bare)), quote!((#out, #bound)), run, call)
        }
        None => {
            let run = if gradients.is_some() {
                run_with_gradient(&private)
            } else {
                run_value(&private)
            };
            (bare, quote!(#bound), run, quote!(__einsum_run(#bound)))
        }
    };
    let call = quote! {
        match #scrutinee {
            #pattern => {
                #diagnostics
                #kernels
                #run
                #call
            }
        }
    };
    match input.mode {
        // A `match` rather than a function taking the `Result`, so that a type error about
        // the value names the value's type, not `Result<_, EinsumError>`.
        Mode::Panic => {
            let value = Ident::new("__einsum_value", Span::mixed_site());
            let error = Ident::new("__einsum_error", Span::mixed_site());
            quote! {
                match #call {
                    ::core::result::Result::Ok(#value) => #value,
                    ::core::result::Result::Err(#error) => #private::panic_with(#error),
                }
            }
        }
        Mode::Try | Mode::Vjp => call,
    }
}

/// `__einsum_run` for `einsum!` and `try_einsum!`: the kernel's `Result`. Calling through a
/// generic function gives one obligation, hence one error message, when the operands fit no
/// kernel.
fn run_value(private: &TokenStream) -> TokenStream {
    let kernel = diagnostics::kernel_trait();
    quote! {
        #[inline(always)]
        fn __einsum_run<K: #kernel>(
            operands: K,
        ) -> ::core::result::Result<K::Output, #private::EinsumError> {
            operands.run()
        }
    }
}

/// `__einsum_run_into` for `einsum_into!` and `try_einsum_into!`: writes into the output,
/// returning `Result<(), EinsumError>`. Called through a generic function for one message
/// when the operands and output fit no kernel. The output comes first: its type must be
/// known before the kernel's impl is selected, or inference would take the output's extents
/// from the operands' and report a type mismatch instead of the label whose extents differ.
fn run_into(private: &TokenStream) -> TokenStream {
    let into = diagnostics::into_trait();
    quote! {
        #[inline(always)]
        fn __einsum_run_into<O, K: #into<O>>(
            out: O,
            operands: K,
            write: #private::Write,
        ) -> ::core::result::Result<(), #private::EinsumError> {
            operands.run_into(out, write)
        }
    }
}

/// `__einsum_run` for `einsum_vjp!`: the value and a `back` closure that computes one
/// gradient per operand. Shape errors panic: in the forward pass at once, in `back` when the
/// gradient does not have the output's shape.
fn run_with_gradient(private: &TokenStream) -> TokenStream {
    let vjp_trait = diagnostics::vjp_trait();
    quote! {
        #[inline(always)]
        fn __einsum_run<K: #vjp_trait>(
            operands: K,
        ) -> (K::Output, impl ::core::ops::Fn(&K::Output) -> K::Grads + ::core::clone::Clone)
        where
            K::Saved: ::core::clone::Clone,
        {
            let (output, saved) = match operands.clone().run_saving() {
                ::core::result::Result::Ok(forward) => forward,
                ::core::result::Result::Err(error) => #private::panic_with(error),
            };
            let back = move |gradient: &K::Output| match operands.clone().vjp(&saved, gradient) {
                ::core::result::Result::Ok(grads) => grads,
                ::core::result::Result::Err(error) => #private::panic_with(error),
            };
            (output, back)
        }
    }
}

/// `__einsum_run_vjp_into` for `einsum_vjp!` with an output: writes the value into it (a shape
/// error panics) and gives the operands back, for [`back_into`].
fn run_into_with_gradient(private: &TokenStream) -> TokenStream {
    let (into, vjp_trait) = (diagnostics::into_trait(), diagnostics::vjp_trait());
    let back = back_into(private);
    quote! {
        #[inline(always)]
        fn __einsum_run_vjp_into<O, K: #into<O> + #vjp_trait>(
            out: O,
            operands: K,
            write: #private::Write,
        ) -> K {
            if let ::core::result::Result::Err(error) = operands.clone().run_into(out, write) {
                #private::panic_with(error)
            }
            operands
        }

        #back
    }
}

/// `__einsum_back_into` for `einsum_vjp!` with an output (or `_`): `back`, which writes the
/// wanted gradients into the caller's buffers, `back(&g, (&mut ga, …), write)`. It is made by
/// a function generic over the operands alone, so that it does not hold the output's borrow.
fn back_into(private: &TokenStream) -> TokenStream {
    let vjp_trait = diagnostics::vjp_trait();
    quote! {
        #[inline(always)]
        fn __einsum_back_into<K: #vjp_trait>(
            operands: K,
        ) -> impl for<'__g> ::core::ops::Fn(&K::Output, K::GradsMut<'__g>, #private::Write) + ::core::clone::Clone {
            move |gradient: &K::Output, grads: K::GradsMut<'_>, write: #private::Write| {
                if let ::core::result::Result::Err(error) = operands.clone().vjp_into(gradient, grads, write) {
                    #private::panic_with(error)
                }
            }
        }
    }
}

/// Every error as a `compile_error!`, in a block that diverges: the invocation still stands in
/// expression position and no type error follows from it.
fn compile_errors(error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote!({ #errors ::core::unreachable!() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Literal;

    fn expand(spec: &str, operands: usize) -> String {
        let literal = Literal::string(spec);
        let names = (0..operands).map(|k| quote::format_ident!("x{}", k));
        einsum(quote!(::einsum, panic; #literal #(, #names)*)).to_string()
    }

    #[test]
    fn invalid_specs_expand_to_compile_errors() {
        for (spec, operands) in [
            ("ij,j1->i", 2),
            ("i->j", 1),
            ("ij,jk->ik", 3),
            ("...i...", 1),
            ("", 0),
        ] {
            let expansion = expand(spec, operands);
            assert!(expansion.contains("compile_error"), "{spec}: {expansion}");
            assert!(!expansion.contains("__EinsumKernel"), "{spec}");
        }
    }

    #[test]
    fn valid_specs_expand_to_kernels_without_errors() {
        for (spec, operands) in [
            ("ij,jk->ik", 2),
            ("ii", 1),
            ("->", 1),
            ("...ij->...ji", 1),
            (",i", 2),
        ] {
            let expansion = expand(spec, operands);
            assert!(!expansion.contains("compile_error"), "{spec}: {expansion}");
            assert!(expansion.contains("__EinsumKernel"), "{spec}");
        }
    }

    /// Every identifier that could be shadowed by a user's item is the last segment of a
    /// path (`::core::result::Result`, `::einsum::__private::ndarray`), never bare.
    #[test]
    fn generated_code_names_only_absolute_paths() {
        fn check(stream: TokenStream, previous: &mut Option<proc_macro2::TokenTree>) {
            for tree in stream {
                if let proc_macro2::TokenTree::Ident(ident) = &tree {
                    let shadowable = [
                        "Vec", "Option", "Some", "None", "Result", "Ok", "Err", "Box", "String",
                        "ndarray", "core",
                    ];
                    if shadowable.contains(&ident.to_string().as_str()) {
                        let after_colons = matches!(previous, Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ':');
                        assert!(after_colons, "`{ident}` is named without a path");
                    }
                }
                if let proc_macro2::TokenTree::Group(group) = &tree {
                    check(group.stream(), &mut None);
                }
                *previous = Some(tree);
            }
        }
        for (spec, operands) in [("ij,jk->ik", 2_usize), ("...i->i", 1), ("i,->", 2)] {
            let literal = Literal::string(spec);
            let names = (0..operands).map(|k| quote::format_ident!("x{}", k));
            check(
                einsum(quote!(::einsum, panic; #literal #(, #names)*)),
                &mut None,
            );
        }
    }

    /// The macro must never panic, whatever the spec: every string of up to four characters
    /// over an alphabet of labels, punctuation and invalid characters, with 0 to 3 operands.
    #[test]
    fn expansion_never_panics_on_any_short_spec() {
        let alphabet: Vec<char> = "iJ.,->_1 é".chars().collect();
        let mut specs = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            frontier = frontier
                .iter()
                .flat_map(|prefix| alphabet.iter().map(move |&c| format!("{prefix}{c}")))
                .collect();
            specs.extend(frontier.iter().cloned());
        }
        assert_eq!(specs.len(), 11_111);
        for spec in &specs {
            for operands in 0..4 {
                let _ = expand(spec, operands);
            }
        }
    }
}
