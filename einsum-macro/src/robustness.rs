//! The macros never panic, whatever tokens they are given: every failure is a spanned
//! `compile_error!`, and every expansion is syntactically valid Rust (an expression for
//! `einsum!`, items for `einsum_fn!`). Generated inputs: arbitrary spec strings with
//! arbitrary operand lists, and arbitrary token soup.

use crate::{einsum_fn, expand};
use proc_macro2::{Literal, TokenStream};
use proptest::prelude::*;
use quote::quote;
use std::str::FromStr;

/// Spec-like strings, and any string at all.
fn spec_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ijkIJ]{0,3}(,[ijk.]{0,4}){0,3}(->[ijk.]{0,4})?",
        "[a-cA. ,>1é_{}\"\\\\-]{0,14}",
        any::<String>(),
    ]
}

/// Token-like fragments joined into source text that may or may not lex.
fn token_soup() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("\"ij,jk->ik\"".to_owned()),
        Just("\"\"".to_owned()),
        Just(",".to_owned()),
        Just(";".to_owned()),
        Just("a".to_owned()),
        Just("&b".to_owned()),
        Just("1.0".to_owned()),
        Just("fn".to_owned()),
        Just("pub".to_owned()),
        Just("->".to_owned()),
        Just("=".to_owned()),
        Just("#[vjp(g)]".to_owned()),
        Just("(x: &[f64; 3])".to_owned()),
        Just("[[f64; 2]; 2]".to_owned()),
        Just("{ }".to_owned()),
        Just("( )".to_owned()),
        Just("'a".to_owned()),
        "[a-z]{1,3}",
    ];
    proptest::collection::vec(fragment, 0..12).prop_map(|parts| parts.join(" "))
}

fn tokens(text: &str) -> Option<TokenStream> {
    TokenStream::from_str(text).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn einsum_expands_any_spec_to_a_valid_expression(spec in spec_text(), operands in 0usize..4) {
        let literal = Literal::string(&spec);
        let names: Vec<_> = (0..operands).map(|k| quote::format_ident!("x{}", k)).collect();
        for mode in [quote!(panic), quote!(result), quote!(vjp)] {
            let expansion = expand::einsum(quote!(::einsum, #mode; #literal #(, #names)*));
            prop_assert!(syn::parse2::<syn::Expr>(expansion).is_ok(), "{spec:?}");
        }
    }

    #[test]
    fn einsum_expands_any_tokens_to_a_valid_expression(text in token_soup()) {
        if let Some(input) = tokens(&text) {
            let expansion = expand::einsum(quote!(::einsum, panic; #input));
            prop_assert!(syn::parse2::<syn::Expr>(expansion).is_ok(), "{text}");
        }
    }

    #[test]
    fn einsum_fn_expands_any_tokens_to_valid_items(text in token_soup(), spec in spec_text()) {
        let literal = Literal::string(&spec);
        let candidates = [
            text.clone(),
            format!("pub fn f(a: &[[f64; 2]; 2]) -> [[f64; 2]; 2] = {literal};"),
            format!("#[vjp(f_vjp)] pub fn f(a: &[f64; 2], b: &[f64; 2]) -> f64 = {literal};"),
        ];
        for text in &candidates {
            if let Some(input) = tokens(text) {
                let expansion = einsum_fn::expand(quote!(::einsum; #input));
                prop_assert!(syn::parse2::<syn::File>(expansion).is_ok(), "{text}");
            }
        }
    }
}
