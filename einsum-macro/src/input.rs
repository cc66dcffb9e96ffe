//! Parsing the invocation: the facade path and mode the trampoline passes, then the user's
//! spec literal and operand expressions.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

/// What `einsum!` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `einsum!`: the value; a run-time shape mismatch panics at the caller.
    Panic,
    /// `try_einsum!`: `Result<value, EinsumError>`.
    Try,
    /// `einsum_vjp!`: `(value, back)`, `back(&g)` giving one gradient per operand.
    Vjp,
}

/// One parsed invocation.
pub(crate) struct Input {
    /// The path of the `einsum` facade (`$crate` from the trampoline).
    pub krate: TokenStream,
    pub mode: Mode,
    /// The spec literal, kept for its span and its value.
    pub spec: LitStr,
    /// The operand expressions, in order.
    pub operands: Vec<Expr>,
}

impl Parse for Input {
    fn parse(stream: ParseStream<'_>) -> syn::Result<Input> {
        let mut krate = TokenStream::new();
        while !stream.peek(Token![,]) {
            krate.extend([stream.parse::<TokenTree>()?]);
        }
        stream.parse::<Token![,]>()?;
        let mode_ident: Ident = stream.parse()?;
        let mode = match mode_ident.to_string().as_str() {
            "panic" => Mode::Panic,
            "result" => Mode::Try,
            "vjp" => Mode::Vjp,
            _ => {
                return Err(syn::Error::new(
                    mode_ident.span(),
                    "einsum: unknown mode, expected `panic`, `result` or `vjp`",
                ))
            }
        };
        stream.parse::<Token![;]>()?;

        if stream.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "einsum needs a spec and its operands, as in `einsum!(\"ij,jk->ik\", a, b)`",
            ));
        }
        let mut first: Expr = stream.parse()?;
        // A literal passed through a `macro_rules!` fragment (`$spec:literal`, `$spec:expr`)
        // arrives wrapped in an invisible group.
        while let Expr::Group(group) = first {
            first = *group.expr;
        }
        let spec =
            match first {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                }) => lit,
                other => return Err(syn::Error::new_spanned(
                    other,
                    "einsum needs its spec as a string literal, such as `\"ij,jk->ik\"`, so that \
                     it can be checked at compile time; for a spec known only at run time use \
                     `einsum::einsum_dyn`",
                )),
            };
        let operands = if stream.is_empty() {
            Vec::new()
        } else {
            if !stream.peek(Token![,]) {
                return Err(stream.error(
                    "einsum expects `,` after the spec, then the operands, as in \
                     `einsum!(\"ij,jk->ik\", a, b)`",
                ));
            }
            stream.parse::<Token![,]>()?;
            Punctuated::<Expr, Token![,]>::parse_terminated(stream)?
                .into_iter()
                .collect()
        };
        Ok(Input {
            krate,
            mode,
            spec,
            operands,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn parses_path_mode_spec_and_operands() {
        let input: Input =
            syn::parse2(quote!(::einsum, result; "ij,jk->ik", a, b.view(),)).unwrap();
        assert_eq!(input.krate.to_string(), ":: einsum");
        assert_eq!(input.mode, Mode::Try);
        assert_eq!(input.spec.value(), "ij,jk->ik");
        assert_eq!(input.operands.len(), 2);
    }

    #[test]
    fn a_spec_that_is_not_a_literal_is_an_error() {
        let err = syn::parse2::<Input>(quote!(::einsum, panic; spec, a))
            .err()
            .unwrap();
        assert!(err.to_string().contains("string literal"));
    }

    #[test]
    fn a_literal_in_an_invisible_group_is_accepted() {
        let group = proc_macro2::Group::new(proc_macro2::Delimiter::None, quote!("ij->"));
        let input: Input = syn::parse2(quote!(::einsum, panic; #group, a)).unwrap();
        assert_eq!(input.spec.value(), "ij->");
    }

    #[test]
    fn empty_input_is_an_error() {
        let err = syn::parse2::<Input>(quote!(::einsum, panic;))
            .err()
            .unwrap();
        assert!(err.to_string().contains("needs a spec"));
    }
}
