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

/// The array `einsum_into!` writes into.
pub(crate) struct Target {
    /// The expression, as written (`&mut c`).
    pub expr: Expr,
    /// Whether the result is added to it (`&mut c += "spec"`) rather than replacing it.
    pub add: bool,
}

impl Target {
    /// Whether the output is `_`: `einsum_vjp!(_, …)` computes no value, only `back`.
    pub fn is_placeholder(&self) -> bool {
        matches!(self.expr, Expr::Infer(_))
    }
}

/// `einsum_vjp!`'s `wrt = …`: the operands whose gradients `back` gives, as listed.
pub(crate) struct Wrt {
    /// Operand positions, in the order of `back`'s tuple.
    pub positions: Vec<usize>,
}

/// One parsed invocation.
pub(crate) struct Input {
    /// The path of the `einsum` facade (`$crate` from the trampoline).
    pub krate: TokenStream,
    pub mode: Mode,
    /// `einsum_into!`'s output; `None` for the macros that return their result.
    pub target: Option<Target>,
    /// The spec literal, kept for its span and its value.
    pub spec: LitStr,
    /// The operand expressions, in order.
    pub operands: Vec<Expr>,
    /// `einsum_vjp!`'s choice of operands to differentiate; `None` for all.
    pub wrt: Option<Wrt>,
}

impl Parse for Input {
    fn parse(stream: ParseStream<'_>) -> syn::Result<Input> {
        let mut krate = TokenStream::new();
        while !stream.peek(Token![,]) {
            krate.extend([stream.parse::<TokenTree>()?]);
        }
        stream.parse::<Token![,]>()?;
        let mode_ident: Ident = stream.parse()?;
        let (mode, into) = match mode_ident.to_string().as_str() {
            "panic" => (Mode::Panic, false),
            "result" => (Mode::Try, false),
            "vjp" => (Mode::Vjp, false),
            "into_panic" => (Mode::Panic, true),
            "into_result" => (Mode::Try, true),
            _ => {
                return Err(syn::Error::new(
                    mode_ident.span(),
                    "einsum: unknown mode, expected `panic`, `result`, `vjp`, `into_panic` or \
                     `into_result`",
                ))
            }
        };
        stream.parse::<Token![;]>()?;

        let vjp = mode == Mode::Vjp;
        let usage = if into {
            "einsum_into! needs the output, the spec and its operands, as in \
             `einsum_into!(&mut c, \"ij,jk->ik\", &a, &b)` or `einsum_into!(&mut c += \"ij,jk->ik\", &a, &b)`"
        } else {
            "einsum needs a spec and its operands, as in `einsum!(\"ij,jk->ik\", a, b)`"
        };
        if stream.is_empty() {
            return Err(syn::Error::new(Span::call_site(), usage));
        }
        let first: Expr = stream.parse()?;
        // `einsum_vjp!` takes an output to write into when the spec comes second (`&mut y,
        // "spec"`, `&mut y += "spec"`, `_, "spec"`); `einsum_into!` always does.
        let (target, first) = if into || (vjp && !is_spec(&first) && spec_follows(&first, stream)) {
            let (target, spec) = target_and_spec(first, stream, usage)?;
            if target.is_placeholder() && (into || target.add) {
                return Err(syn::Error::new_spanned(
                    &target.expr,
                    "`_` stands for no output only in `einsum_vjp!(_, \"spec\", …)`, which \
                     returns `back` without computing the value",
                ));
            }
            (Some(target), spec)
        } else {
            (None, first)
        };
        let spec = spec_literal(first)?;
        let mut operands = Vec::new();
        if !stream.is_empty() && !stream.peek(Token![;]) {
            if !stream.peek(Token![,]) {
                return Err(stream.error(
                    "einsum expects `,` after the spec, then the operands, as in \
                     `einsum!(\"ij,jk->ik\", a, b)`",
                ));
            }
            stream.parse::<Token![,]>()?;
            while !stream.is_empty() && !stream.peek(Token![;]) {
                operands.push(stream.parse()?);
                if stream.is_empty() || stream.peek(Token![;]) {
                    break;
                }
                stream.parse::<Token![,]>()?;
            }
        }
        let wrt = if stream.peek(Token![;]) {
            stream.parse::<Token![;]>()?;
            if !vjp {
                return Err(stream.error(
                    "`; wrt = …` chooses the operands einsum_vjp! differentiates; this macro \
                     computes no gradient",
                ));
            }
            Some(wrt(stream, operands.len())?)
        } else {
            None
        };
        Ok(Input {
            krate,
            mode,
            target,
            spec,
            operands,
            wrt,
        })
    }
}

/// Whether `expr` is the spec literal (possibly in an invisible group).
fn is_spec(expr: &Expr) -> bool {
    match expr {
        Expr::Group(group) => is_spec(&group.expr),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            ..
        }) => true,
        _ => false,
    }
}

/// Whether the spec follows `first`: `first` is `out += "spec"`, or a comma and the spec come
/// next. Otherwise `first` was meant as the spec, and is reported as not a literal.
fn spec_follows(first: &Expr, stream: ParseStream<'_>) -> bool {
    if let Expr::Binary(binary) = first {
        return matches!(binary.op, syn::BinOp::AddAssign(_)) && is_spec(&binary.right);
    }
    let ahead = stream.fork();
    ahead.parse::<Token![,]>().is_ok() && ahead.parse::<Expr>().is_ok_and(|next| is_spec(&next))
}

/// The output and the spec from `&mut c, "spec"` or `&mut c += "spec"`, where `first` is
/// what was parsed before the first comma.
fn target_and_spec(
    first: Expr,
    stream: ParseStream<'_>,
    usage: &str,
) -> syn::Result<(Target, Expr)> {
    match first {
        // `&mut c += "spec"`: the spec is the right-hand side.
        Expr::Binary(syn::ExprBinary {
            left,
            op: syn::BinOp::AddAssign(_),
            right,
            ..
        }) => Ok((
            Target {
                expr: *left,
                add: true,
            },
            *right,
        )),
        expr => {
            if !stream.peek(Token![,]) {
                return Err(stream.error(usage));
            }
            stream.parse::<Token![,]>()?;
            Ok((Target { expr, add: false }, stream.parse()?))
        }
    }
}

/// `wrt = k` or `wrt = (k, …)`: operand positions below `operands`, each once.
fn wrt(stream: ParseStream<'_>, operands: usize) -> syn::Result<Wrt> {
    let usage = "expected `wrt = k` or `wrt = (k, …)`: the positions (from 0) of the operands \
                 whose gradients `back` gives, as in `einsum_vjp!(\"ij,bj->bi\", &r, &rows; wrt = 0)`";
    let keyword: Ident = stream
        .parse()
        .map_err(|e| syn::Error::new(e.span(), usage))?;
    if keyword != "wrt" {
        return Err(syn::Error::new(keyword.span(), usage));
    }
    stream.parse::<Token![=]>()?;
    let literals: Vec<syn::LitInt> = if stream.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in stream);
        Punctuated::<syn::LitInt, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect()
    } else {
        vec![stream
            .parse()
            .map_err(|e| syn::Error::new(e.span(), usage))?]
    };
    if !stream.is_empty() {
        return Err(stream.error(usage));
    }
    if literals.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "`wrt = ()` asks for no gradient; use `einsum!` for the value alone",
        ));
    }
    let mut positions = Vec::new();
    for literal in &literals {
        let position: usize = literal.base10_parse()?;
        if position >= operands {
            return Err(syn::Error::new(
                literal.span(),
                format!(
                    "`wrt` names operand {position}, but there {} {operands} operand{} \
                     (positions count from 0)",
                    if operands == 1 { "is" } else { "are" },
                    if operands == 1 { "" } else { "s" },
                ),
            ));
        }
        if positions.contains(&position) {
            return Err(syn::Error::new(
                literal.span(),
                format!("`wrt` names operand {position} twice"),
            ));
        }
        positions.push(position);
    }
    Ok(Wrt { positions })
}

/// The spec literal, looking through the invisible groups a `macro_rules!` fragment
/// (`$spec:literal`, `$spec:expr`) wraps it in.
fn spec_literal(mut expr: Expr) -> syn::Result<LitStr> {
    while let Expr::Group(group) = expr {
        expr = *group.expr;
    }
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            "einsum needs its spec as a string literal, such as `\"ij,jk->ik\"`, so that it can \
             be checked at compile time; for a spec known only at run time use \
             `einsum::einsum_dyn`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{quote, ToTokens};

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
    fn parses_an_output_to_overwrite_or_add_to() {
        let input: Input =
            syn::parse2(quote!(::einsum, into_panic; &mut c, "ij,jk->ik", a, b)).unwrap();
        let target = input.target.unwrap();
        assert_eq!(target.expr.to_token_stream().to_string(), "& mut c");
        assert!(!target.add);
        assert_eq!(input.spec.value(), "ij,jk->ik");
        assert_eq!(input.operands.len(), 2);

        let input: Input =
            syn::parse2(quote!(::einsum, into_result; &mut c += "ij,jk->ik", a, b)).unwrap();
        assert_eq!(input.mode, Mode::Try);
        let target = input.target.unwrap();
        assert_eq!(target.expr.to_token_stream().to_string(), "& mut c");
        assert!(target.add);
        assert_eq!(input.spec.value(), "ij,jk->ik");
    }

    #[test]
    fn parses_wrt_and_an_output_for_einsum_vjp() {
        let input: Input =
            syn::parse2(quote!(::einsum, vjp; "ij,bj->bi", &r, &x; wrt = 0)).unwrap();
        assert!(input.target.is_none());
        assert_eq!(input.operands.len(), 2);
        assert_eq!(input.wrt.unwrap().positions, vec![0]);

        let input: Input =
            syn::parse2(quote!(::einsum, vjp; &mut y, "ij,jk,kl->il", a, b, c; wrt = (2, 0,)))
                .unwrap();
        assert_eq!(
            input.target.unwrap().expr.to_token_stream().to_string(),
            "& mut y"
        );
        assert_eq!(input.operands.len(), 3);
        assert_eq!(input.wrt.unwrap().positions, vec![2, 0]);

        let input: Input = syn::parse2(quote!(::einsum, vjp; &mut y += "ij->i", a)).unwrap();
        assert!(input.target.unwrap().add);
        assert!(input.wrt.is_none());

        let input: Input = syn::parse2(quote!(::einsum, vjp; _, "ij->i", a; wrt = 0)).unwrap();
        assert!(input.target.unwrap().is_placeholder());
        for misuse in [
            quote!(::einsum, into_panic; _, "ij->i", a),
            quote!(::einsum, vjp; _ += "ij->i", a),
        ] {
            let err = syn::parse2::<Input>(misuse).err().unwrap();
            assert!(
                err.to_string().contains("`_` stands for no output"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_vjp_spec_that_is_not_a_literal_is_reported_as_such() {
        let err = syn::parse2::<Input>(quote!(::einsum, vjp; SPEC, a, b))
            .err()
            .unwrap();
        assert!(err.to_string().contains("string literal"), "{err}");
    }

    #[test]
    fn wrt_errors_name_the_problem() {
        let message = |tokens| match syn::parse2::<Input>(tokens) {
            Ok(_) => String::from("parsed"),
            Err(err) => err.to_string(),
        };
        assert!(
            message(quote!(::einsum, vjp; "i,i->", a, b; wrt = 2)).contains("there are 2 operands")
        );
        assert!(message(quote!(::einsum, vjp; "i->", a; wrt = (0, 0))).contains("twice"));
        assert!(message(quote!(::einsum, vjp; "i->", a; wrt = ())).contains("no gradient"));
        assert!(message(quote!(::einsum, vjp; "i->", a; with = 0)).contains("expected `wrt = k`"));
        assert!(
            message(quote!(::einsum, panic; "i->", a; wrt = 0)).contains("computes no gradient")
        );
    }

    #[test]
    fn an_output_without_a_spec_is_an_error() {
        let err = syn::parse2::<Input>(quote!(::einsum, into_panic; &mut c))
            .err()
            .unwrap();
        assert!(err.to_string().contains("einsum_into! needs the output"));
    }

    #[test]
    fn empty_input_is_an_error() {
        let err = syn::parse2::<Input>(quote!(::einsum, panic;))
            .err()
            .unwrap();
        assert!(err.to_string().contains("needs a spec"));
    }
}
