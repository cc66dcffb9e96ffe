//! `einsum_fn!`: named functions (and their gradients) defined from a spec, as ordinary items
//! that other crates call with no macro of ours in sight.
//!
//! Input:
//!
//! ```text
//! /// Docs.
//! #[vjp(matmul_vjp)]                       // optional: also define the gradient
//! pub fn matmul(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> = "ij,jk->ik";
//! ```
//!
//! Output: `pub fn matmul(a, b) -> Array2<f64> { einsum!("ij,jk->ik", a, b) }` with a doc
//! section that states the spec and each parameter's indices, and
//! `pub fn matmul_vjp(a, b, g: &Array2<f64>) -> (Array2<f64>, Array2<f64>)`.

use crate::input::{Input, Mode};
use crate::model;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Token, Type, Visibility};

/// All the functions of one `einsum_fn!` invocation.
pub(crate) struct Functions {
    krate: TokenStream,
    items: Vec<Function>,
}

/// `#[vjp(name)]` or `#[vjp(name, wrt = a)]` or `#[vjp(name, wrt = (a, b))]`.
struct VjpAttr {
    name: Ident,
    /// The parameters differentiated, in the order of the gradient's tuple; `None` for all.
    wrt: Option<Vec<Ident>>,
}

impl Parse for VjpAttr {
    fn parse(stream: ParseStream<'_>) -> syn::Result<VjpAttr> {
        let name: Ident = stream.parse()?;
        if stream.is_empty() {
            return Ok(VjpAttr { name, wrt: None });
        }
        stream.parse::<Token![,]>()?;
        let keyword: Ident = stream.parse()?;
        if keyword != "wrt" {
            return Err(syn::Error::new(keyword.span(), "expected `wrt`"));
        }
        stream.parse::<Token![=]>()?;
        let wrt = if stream.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in stream);
            Punctuated::<Ident, Token![,]>::parse_terminated(&content)?
                .into_iter()
                .collect()
        } else {
            vec![stream.parse()?]
        };
        if !stream.is_empty() {
            return Err(stream.error("expected `)` after `wrt`"));
        }
        Ok(VjpAttr {
            name,
            wrt: Some(wrt),
        })
    }
}

/// `#[attrs] vis fn name(params) -> ret = "spec";`
struct Function {
    attrs: Vec<Attribute>,
    vjp: Option<VjpAttr>,
    /// `#[vjp_into(name, …)]`: the gradient written into the caller's buffers.
    vjp_into: Option<VjpAttr>,
    vis: Visibility,
    name: Ident,
    params: Vec<(Ident, Type)>,
    ret: Type,
    spec: LitStr,
}

impl Parse for Functions {
    fn parse(stream: ParseStream<'_>) -> syn::Result<Functions> {
        let mut krate = TokenStream::new();
        while !stream.peek(Token![;]) {
            krate.extend([stream.parse::<TokenTree>()?]);
        }
        stream.parse::<Token![;]>()?;
        let mut items = Vec::new();
        while !stream.is_empty() {
            items.push(stream.parse()?);
        }
        Ok(Functions { krate, items })
    }
}

impl Parse for Function {
    fn parse(stream: ParseStream<'_>) -> syn::Result<Function> {
        let mut attrs = Attribute::parse_outer(stream)?;
        let (mut vjp, mut vjp_into) = (None, None);
        let mut kept = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            let target = if attr.path().is_ident("vjp") {
                &mut vjp
            } else if attr.path().is_ident("vjp_into") {
                &mut vjp_into
            } else {
                kept.push(attr);
                continue;
            };
            let which = attr
                .path()
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            *target = Some(attr.parse_args::<VjpAttr>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!(
                        "einsum_fn: write the gradient's name as `#[{which}(name)]`, and to \
                         differentiate some parameters only, `#[{which}(name, wrt = a)]` or \
                         `#[{which}(name, wrt = (a, b))]`"
                    ),
                )
            })?);
        }
        let vis: Visibility = stream.parse()?;
        stream.parse::<Token![fn]>()?;
        let name: Ident = stream.parse()?;
        let content;
        syn::parenthesized!(content in stream);
        let mut params = Vec::new();
        for param in
            Punctuated::<syn::PatType, Token![,]>::parse_terminated_with(&content, parse_param)?
        {
            match *param.pat {
                syn::Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    params.push((pat.ident, *param.ty));
                }
                other => return Err(syn::Error::new_spanned(
                    other,
                    "einsum_fn: each parameter is a plain name with a type, as in `a: &[f64; 3]`",
                )),
            }
        }
        if !stream.peek(Token![->]) {
            return Err(stream.error(format!(
                "einsum_fn: `{name}` needs its result type, as in `fn {name}(…) -> Array2<f64> = \"ij,jk->ik\";`"
            )));
        }
        stream.parse::<Token![->]>()?;
        let ret: Type = stream.parse()?;
        if !stream.peek(Token![=]) {
            return Err(stream.error(format!(
                "einsum_fn: `{name}` needs its spec after `=`, as in `fn {name}(…) -> … = \"ij,jk->ik\";`"
            )));
        }
        stream.parse::<Token![=]>()?;
        let spec: LitStr = stream.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "einsum_fn: the spec must be a string literal, such as `\"ij,jk->ik\"`",
            )
        })?;
        stream.parse::<Token![;]>()?;
        Ok(Function {
            attrs: kept,
            vjp,
            vjp_into,
            vis,
            name,
            params,
            ret,
            spec,
        })
    }
}

fn parse_param(stream: ParseStream<'_>) -> syn::Result<syn::PatType> {
    Ok(syn::PatType {
        attrs: Vec::new(),
        pat: Box::new(syn::Pat::parse_single(stream)?),
        colon_token: stream.parse()?,
        ty: stream.parse()?,
    })
}

/// Expands one `einsum_fn!` invocation; every failure is a `compile_error!`.
pub(crate) fn expand(tokens: TokenStream) -> TokenStream {
    let functions: Functions = match syn::parse2(tokens) {
        Ok(functions) => functions,
        Err(error) => return error.to_compile_error(),
    };
    let mut output = TokenStream::new();
    for function in &functions.items {
        match generate(&functions.krate, function) {
            Ok(tokens) => output.extend(tokens),
            Err(error) => output.extend(error.to_compile_error()),
        }
    }
    output
}

fn generate(krate: &TokenStream, f: &Function) -> syn::Result<TokenStream> {
    let names: Vec<&Ident> = f.params.iter().map(|(name, _)| name).collect();
    // Check the spec against the parameters now, so errors point at this definition.
    let check = Input {
        krate: krate.clone(),
        mode: Mode::Panic,
        target: None,
        spec: f.spec.clone(),
        operands: names.iter().map(|n| syn::parse_quote!(#n)).collect(),
        wrt: None,
    };
    let model = model::build(&check)?;

    let Function {
        attrs,
        vis,
        name,
        params,
        ret,
        spec,
        ..
    } = f;
    let param_tokens = params.iter().map(|(n, t)| quote!(#n: #t));
    let indices = describe_indices(&model, &names);
    let summary = format!(" Computes the einsum `{}`: {indices}.", model.text);
    let forward = quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = " # Einsum"]
        #[doc = ""]
        #[doc = #summary]
        #[doc = ""]
        #[doc = " # Panics"]
        #[doc = ""]
        #[doc = " When ndarray operands' extents do not fit the spec (fixed-size operands are checked at compile time)."]
        #[inline]
        #vis fn #name(#(#param_tokens),*) -> #ret {
            #krate::einsum!(#spec, #(#names),*)
        }
    };
    let mut items = forward;
    if let (Some(attr), true) = (&f.vjp, names.iter().any(|n| *n == "g")) {
        return Err(syn::Error::new_spanned(
            &attr.name,
            "einsum_fn: a function with `#[vjp]` cannot have a parameter named `g`: the gradient takes it",
        ));
    }
    if let (Some(attr), true) = (
        &f.vjp_into,
        names.iter().any(|n| *n == "g" || *n == "write"),
    ) {
        return Err(syn::Error::new_spanned(
            &attr.name,
            "einsum_fn: a function with `#[vjp_into]` cannot have a parameter named `g` or \
             `write`: the gradient takes them",
        ));
    }
    let forward_doc = format!(
        " The forward einsum is `{}`: {indices}; each gradient is itself a contraction of `g` \
         with the other operands.",
        model.text
    );
    if let Some(attr) = &f.vjp {
        let listed = listed(attr, &names, name)?;
        let grad_types = listed
            .iter()
            .map(|&k| gradient_type(krate, &params[k].1))
            .collect::<syn::Result<Vec<_>>>()?;
        let param_tokens = params.iter().map(|(n, t)| quote!(#n: #t));
        let grads_doc = listed
            .iter()
            .map(|&k| format!("`d{}`", names[k]))
            .collect::<Vec<_>>()
            .join(", ");
        let doc = format!(
            " The gradient of [`{name}`] (its vector-Jacobian product): for an upstream gradient \
             `g` shaped like its result, returns ({grads_doc}), each shaped like its operand."
        );
        let wrt = wrt_tokens(attr, &listed);
        let vjp_name = &attr.name;
        let docs = gradient_docs(
            &doc,
            &forward_doc,
            " When ndarray operands do not fit the spec, or `g` does not have the result's shape.",
        );
        items.extend(quote! {
            #docs
            #vis fn #vjp_name(#(#param_tokens,)* g: &#ret) -> (#(#grad_types,)*) {
                let (_, back) = #krate::einsum_vjp!(#spec, #(#names),* #wrt);
                back(g)
            }
        });
    }
    if let Some(attr) = &f.vjp_into {
        let listed = listed(attr, &names, name)?;
        let buffers: Vec<Ident> = listed
            .iter()
            .map(|&k| quote::format_ident!("d{}", names[k]))
            .collect();
        if let Some(clash) = buffers.iter().find(|b| names.contains(b)) {
            return Err(syn::Error::new_spanned(
                &attr.name,
                format!("einsum_fn: `#[vjp_into]` names its gradient buffers `d` and the parameter's name, and `{clash}` is already a parameter"),
            ));
        }
        let buffer_types = listed
            .iter()
            .map(|&k| buffer_type(krate, &params[k].1))
            .collect::<syn::Result<Vec<_>>>()?;
        let param_tokens = params.iter().map(|(n, t)| quote!(#n: #t));
        let grads_doc = buffers
            .iter()
            .map(|b| format!("`{b}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let doc = format!(
            " The gradient of [`{name}`] (its vector-Jacobian product) written into the caller's \
             buffers {grads_doc}: for an upstream gradient `g` shaped like its result, each \
             buffer, shaped like its operand, is overwritten (`write` is `Write::Assign`) or \
             added to (`Write::Add`). Nothing is allocated once warm."
        );
        let wrt = wrt_tokens(attr, &listed);
        let into_name = &attr.name;
        let docs = gradient_docs(
            &doc,
            &forward_doc,
            " When ndarray operands do not fit the spec, or `g` or a buffer does not have its \
             shape (then nothing is written).",
        );
        items.extend(quote! {
            #docs
            #[allow(clippy::too_many_arguments)]
            #vis fn #into_name(#(#param_tokens,)* g: &#ret, #(#buffers: #buffer_types,)* write: #krate::Write) {
                let back = #krate::einsum_vjp!(_, #spec, #(#names),* #wrt);
                back(g, (#(#buffers,)*), write)
            }
        });
    }
    Ok(items)
}

/// The doc attributes of a generated gradient function: what it returns or writes, the
/// forward einsum it differentiates, and when it panics.
fn gradient_docs(summary: &str, forward: &str, panics: &str) -> TokenStream {
    quote! {
        #[doc = #summary]
        #[doc = ""]
        #[doc = #forward]
        #[doc = ""]
        #[doc = " # Panics"]
        #[doc = ""]
        #[doc = #panics]
    }
}

/// The positions of the parameters `attr`'s `wrt` names, in its order (every parameter when
/// it names none).
fn listed(attr: &VjpAttr, names: &[&Ident], function: &Ident) -> syn::Result<Vec<usize>> {
    let Some(wrt) = &attr.wrt else {
        return Ok((0..names.len()).collect());
    };
    let mut listed = Vec::new();
    for ident in wrt {
        let Some(position) = names.iter().position(|n| *n == ident) else {
            return Err(syn::Error::new_spanned(
                ident,
                format!(
                    "einsum_fn: `wrt` names `{ident}`, which is not a parameter of `{function}`"
                ),
            ));
        };
        if listed.contains(&position) {
            return Err(syn::Error::new_spanned(
                ident,
                format!("einsum_fn: `wrt` names `{ident}` twice"),
            ));
        }
        listed.push(position);
    }
    Ok(listed)
}

/// `; wrt = (positions)` for `einsum_vjp!` when the attribute chose, else nothing.
fn wrt_tokens(attr: &VjpAttr, listed: &[usize]) -> Option<TokenStream> {
    attr.wrt.as_ref().map(|_| {
        let positions = listed
            .iter()
            .map(|&k| proc_macro2::Literal::usize_unsuffixed(k));
        quote!(; wrt = (#(#positions),*))
    })
}

/// "`a` is indexed `[i, j]`, `b` `[j, k]`, and the result `[i, k]`".
fn describe_indices(model: &model::Model, names: &[&Ident]) -> String {
    let bracket = |term: &einsum_spec::Term| {
        let axes: Vec<String> = term
            .axes()
            .iter()
            .map(|axis| match axis {
                einsum_spec::Axis::Label(label) => label.to_string(),
                einsum_spec::Axis::Ellipsis => "...".to_owned(),
            })
            .collect();
        format!("[{}]", axes.join(", "))
    };
    let operands: Vec<String> = names
        .iter()
        .zip(model.spec.inputs())
        .map(|(name, term)| format!("`{name}` is indexed `{}`", bracket(term)))
        .collect();
    format!(
        "{}, and the result `{}`",
        operands.join(", "),
        bracket(model.spec.output())
    )
}

/// The type of the gradient of a parameter of type `ty`: references are looked through,
/// fixed-size arrays and numbers keep their type, ndarray arrays and views become owned
/// arrays of the same dimensionality.
fn gradient_type(krate: &TokenStream, ty: &Type) -> syn::Result<TokenStream> {
    match ty {
        Type::Reference(reference) => gradient_type(krate, &reference.elem),
        Type::Array(_) | Type::Paren(_) => Ok(ty.to_token_stream()),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return Err(unknown_gradient(ty));
            };
            let ident = last.ident.to_string();
            let args: Vec<&syn::GenericArgument> = match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => args
                    .args
                    .iter()
                    .filter(|a| !matches!(a, syn::GenericArgument::Lifetime(_)))
                    .collect(),
                _ => Vec::new(),
            };
            let ndarray = quote!(#krate::ndarray);
            let owned = |name: &str| {
                let name = Ident::new(name, Span::call_site());
                quote!(#ndarray::#name<#(#args),*>)
            };
            match ident.as_str() {
                "f32" | "f64" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16"
                | "u32" | "u64" | "u128" | "usize" | "Complex" | "Complex32" | "Complex64" => {
                    Ok(ty.to_token_stream())
                }
                "Array" | "ArrayView" | "ArcArray" | "CowArray" => Ok(owned("Array")),
                _ => match ident
                    .strip_prefix("ArrayView")
                    .or_else(|| ident.strip_prefix("ArcArray"))
                    .or_else(|| ident.strip_prefix("Array"))
                {
                    Some(rank @ ("0" | "1" | "2" | "3" | "4" | "5" | "6" | "D")) => {
                        Ok(owned(&format!("Array{rank}")))
                    }
                    _ => Err(unknown_gradient(ty)),
                },
            }
        }
        _ => Err(unknown_gradient(ty)),
    }
}

/// The type of the caller's buffer for the gradient of a parameter of type `ty`: `&mut` the
/// gradient type for fixed-size arrays and numbers, an `ArrayViewMut` of the same
/// dimensionality for ndarray arrays and views.
fn buffer_type(krate: &TokenStream, ty: &Type) -> syn::Result<TokenStream> {
    let owned = gradient_type(krate, ty)?;
    let Ok(Type::Path(path)) = syn::parse2::<Type>(owned.clone()) else {
        return Ok(quote!(&mut #owned));
    };
    let Some(last) = path.path.segments.last() else {
        return Ok(quote!(&mut #owned));
    };
    let ident = last.ident.to_string();
    let Some(rank) = ident.strip_prefix("Array") else {
        return Ok(quote!(&mut #owned));
    };
    let args = &last.arguments;
    let view = Ident::new(&format!("ArrayViewMut{rank}"), Span::call_site());
    let args = match args {
        syn::PathArguments::AngleBracketed(args) => {
            let args = args.args.iter();
            quote!(<'_, #(#args),*>)
        }
        _ => quote!(<'_>),
    };
    Ok(quote!(#krate::ndarray::#view #args))
}

fn unknown_gradient(ty: &Type) -> syn::Error {
    syn::Error::new_spanned(
        ty,
        "einsum_fn: cannot name the gradient type of this parameter; with `#[vjp]`, parameters \
         are fixed-size arrays, numbers, or ndarray `ArrayN`/`ArrayViewN`/`ArrayD` types (or \
         references to them)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_text(tokens: TokenStream) -> String {
        expand(tokens).to_string()
    }

    #[test]
    fn defines_the_function_and_its_gradient() {
        let text = expand_text(quote! {
            ::einsum;
            /// Matrix product.
            #[vjp(matmul_vjp)]
            pub fn matmul(a: ArrayView2<'_, f64>, b: &Array2<f64>) -> Array2<f64> = "ij,jk->ik";
        });
        assert!(text.contains("pub fn matmul (a : ArrayView2 < '_ , f64 > , b : & Array2 < f64 >) -> Array2 < f64 >"), "{text}");
        assert!(text.contains("pub fn matmul_vjp"), "{text}");
        assert!(text.contains("(:: einsum :: ndarray :: Array2 < f64 > , :: einsum :: ndarray :: Array2 < f64 > ,)"), "{text}");
        assert!(text.contains("Computes the einsum `ij,jk->ik`: `a` is indexed `[i, j]`, `b` is indexed `[j, k]`, and the result `[i, k]`."), "{text}");
    }

    #[test]
    fn spec_errors_point_at_the_definition() {
        let text = expand_text(quote!(::einsum; fn f(a: [f64; 3]) -> f64 = "i,i->";));
        assert!(text.contains("compile_error"), "{text}");
        assert!(text.contains("1 operand was given"), "{text}");
    }

    #[test]
    fn unknown_gradient_types_are_an_error() {
        let text = expand_text(quote!(::einsum; #[vjp(g)] fn f(a: Vec<f64>) -> f64 = "i->";));
        assert!(text.contains("cannot name the gradient type"), "{text}");
    }
}
