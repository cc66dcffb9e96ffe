//! The kernel for fixed-size operands: a loop nest with constant bounds.
//!
//! Input: `"ij,jk->ik"` with operands `[[T; J]; I]` and `[[T; K]; J]`. Output, in essence:
//!
//! ```text
//! impl<'a, T0, T1, const E0_0, const E0_1, const E1_0, const E1_1> Kernel
//!     for (&'a [[T0; E0_1]; E0_0], &'a [[T1; E1_1]; E1_0])
//! where T0: Element0, T1: Element1 + SameElement1<T0>, (): Extent1_1<E0_1, E1_0>
//! {
//!     type Output = [[T0; E1_1]; E0_0];
//!     fn run(self) -> Result<Self::Output, EinsumError> {
//!         let mut out = [[zero; E1_1]; E0_0];
//!         for s0 in 0..E0_0 { for s2 in 0..E1_1 {
//!             let mut acc = zero;
//!             for s1 in 0..E0_1 { acc = acc + op0[s0][s1] * same(op1[s1][s2]); }
//!             out[s0][s2] = acc;
//!         } }
//!         Ok(out)
//!     }
//! }
//! ```
//!
//! Every extent is a const generic, so after monomorphisation the bounds are constants: the
//! compiler unrolls small nests and removes the bounds checks. Each label occurrence has its
//! own const generic, tied to the first by a diagnostic trait, so a mismatch is reported as
//! an einsum error naming the label.

use crate::diagnostics::{element_trait, extent_trait, kernel_trait, same_element_trait};
use crate::gen_into::{self, FixedOutput};
use crate::gen_vjp;
use crate::model::{Gradients, Tables};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

mod plan;

/// `__TK`: operand `k`'s element type parameter.
pub(crate) fn elem_param(k: usize) -> Ident {
    format_ident!("__T{}", k)
}

/// `__EK_A`: the extent parameter of axis `axis` of operand `k`.
pub(crate) fn extent_param(k: usize, axis: usize) -> Ident {
    format_ident!("__E{}_{}", k, axis)
}

/// `__sS`: the loop index of slot `s`.
pub(crate) fn slot_index(slot: usize) -> Ident {
    format_ident!("__s{}", slot)
}

/// `__opK`: operand `k` in the kernel's body.
pub(crate) fn operand_var(k: usize) -> Ident {
    format_ident!("__op{}", k)
}

/// `[[elem; E_last]; E_first]` for the given extents, outermost first.
pub(crate) fn nested_array<E: quote::ToTokens>(elem: &TokenStream, extents: &[E]) -> TokenStream {
    extents
        .iter()
        .rev()
        .fold(elem.clone(), |inner, n| quote!([#inner; #n]))
}

/// Operand `k`'s element bounds: its element type is a number (`__EinsumElementK`) and, for
/// `k >= 1`, operand 0's (`__EinsumSameElementK`).
pub(crate) fn element_bounds(k: usize) -> Vec<TokenStream> {
    let elem = elem_param(k);
    let element = element_trait(k);
    let mut bounds = vec![quote!(#elem: #element)];
    if k > 0 {
        let same = same_element_trait(k);
        let first = elem_param(0);
        bounds.push(quote!(#elem: #same<#first>));
    }
    bounds
}

/// One `(): __EinsumExtentS_N<FIRST, THIS>` bound per repeated occurrence of a slot, tying
/// its extent to its first occurrence's; none for `skip` (a batch slot, checked at run time).
pub(crate) fn extent_bounds(tables: &Tables, skip: Option<usize>) -> Vec<TokenStream> {
    let mut bounds = Vec::new();
    for slot in (0..tables.labels.len()).filter(|&s| Some(s) != skip) {
        let first = slot_extent(tables, slot);
        for (n, &(k, axis)) in tables.occurrences(slot).iter().enumerate().skip(1) {
            let extent = extent_trait(slot, n);
            let this = extent_param(k, axis);
            bounds.push(quote!((): #extent<#first, #this>));
        }
    }
    bounds
}

/// The extent parameter that defines `slot`: the one of its first occurrence.
fn slot_extent(tables: &Tables, slot: usize) -> Ident {
    let (k, axis) = tables.first_occurrence(slot);
    extent_param(k, axis)
}

/// Generates the fixed-size kernel impl for a spec without `...`, with `vjp` its gradient, and
/// with `into` its `einsum_into!` impl.
pub(crate) fn generate(
    tables: &Tables,
    krate: &TokenStream,
    gradients: Option<&Gradients>,
    into: bool,
) -> TokenStream {
    let private = quote!(#krate::__private);
    let nothing_saved = crate::diagnostics::nothing_saved(&private);
    let kernel = kernel_trait();
    let operands = tables.inputs.len();

    let mut generics = vec![quote!('__a)];
    let mut arguments = vec![quote!('__a)];
    let mut operand_types = Vec::new();
    let mut bounds = Vec::new();
    for (k, axes) in tables.inputs.iter().enumerate() {
        let elem = elem_param(k);
        let extents: Vec<Ident> = (0..axes.len()).map(|a| extent_param(k, a)).collect();
        generics.push(quote!(#elem));
        generics.extend(extents.iter().map(|e| quote!(const #e: usize)));
        arguments.push(quote!(#elem));
        arguments.extend(extents.iter().map(|e| quote!(#e)));
        operand_types.push(if extents.is_empty() {
            quote!(&'__a #elem)
        } else {
            let array = nested_array(&quote!(#elem), &extents);
            quote!(&'__a #array)
        });
        bounds.extend(element_bounds(k));
    }
    bounds.extend(extent_bounds(tables, None));

    let t0 = elem_param(0);
    let zero = quote!(<#t0 as #private::Zero>::zero());
    let output_extents: Vec<Ident> = tables
        .output
        .iter()
        .map(|&s| slot_extent(tables, s))
        .collect();
    let output_type = nested_array(&quote!(#t0), &output_extents);
    let context = plan::Context {
        extents: (0..tables.labels.len())
            .map(|s| slot_extent(tables, s))
            .collect(),
        zero: zero.clone(),
        operands,
        output_type: output_type.clone(),
        private: private.clone(),
    };
    let vars: Vec<Ident> = (0..operands).map(operand_var).collect();
    // Every plan's choice constant (name, length, value) and methods.
    let mut choices: Vec<(Ident, usize, TokenStream)> = Vec::new();
    let mut methods = TokenStream::new();
    let mut planned = |problem: &plan::Problem, name: Ident| {
        let planned = plan::contract(problem, &context, &name);
        if let Some((length, value)) = planned.choices {
            choices.push((name, length, value));
        }
        methods.extend(planned.methods);
        planned.value
    };
    let forward = plan::Problem {
        leaves: tables
            .inputs
            .iter()
            .enumerate()
            .map(|(k, axes)| plan::Leaf {
                source: plan::Source::Operand(k),
                axes: axes.clone(),
            })
            .collect(),
        target: tables.output.clone(),
        result_extents: output_extents.clone(),
        gradient: false,
    };
    let body = planned(&forward, format_ident!("FORWARD"));
    let vjp_impl = gradients.map(|gradients| {
        let grad_types: Vec<TokenStream> = tables
            .inputs
            .iter()
            .enumerate()
            .map(|(k, axes)| {
                let extents: Vec<Ident> = (0..axes.len()).map(|a| extent_param(k, a)).collect();
                nested_array(&quote!(#t0), &extents)
            })
            .collect();
        let body = gradients_of(tables, &zero, &grad_types, &mut planned, gradients);
        let buffer_types: Vec<TokenStream> =
            grad_types.iter().map(|ty| quote!(&'__g mut #ty)).collect();
        // A fixed-size gradient lives on the stack; storing it into a buffer is a copy.
        let stores = gradients.into.then(|| {
            let stores = gradients.listed.iter().map(|&k| {
                let extents: Vec<TokenStream> = (0..tables.inputs[k].len())
                    .map(|a| {
                        let extent = extent_param(k, a);
                        quote!(#extent)
                    })
                    .collect();
                gen_vjp::store_fixed(k, &extents)
            });
            quote!(#(#stores)* ::core::result::Result::Ok(()))
        });
        gen_vjp::vjp_impl(&gen_vjp::VjpImpl {
            generics: &generics,
            operand_types: &operand_types,
            bounds: &bounds,
            gradients,
            grad_types: &grad_types,
            buffer_types: &buffer_types,
            saving: &nothing_saved,
            body: &quote! {
                let (#(#vars,)*) = self;
                #body
                #stores
            },
            private: &private,
        })
    });
    let plan_items = (!choices.is_empty()).then(|| {
        let operands = Ident::new(plan::OPERANDS, proc_macro2::Span::call_site());
        let names = choices.iter().map(|(name, _, _)| name);
        let lengths = choices.iter().map(|(_, length, _)| length);
        let values = choices.iter().map(|(_, _, value)| value);
        quote! {
            #[allow(non_camel_case_types, dead_code)]
            struct #operands<#(#generics),*>(#(#operand_types,)*);
            #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_snake_case, unused_assignments, unused_mut, unused_variables, unused_parens, unused_braces)]
            impl<#(#generics),*> #operands<#(#arguments),*>
            where
                #(#bounds,)*
            {
                #(const #names: [::core::primitive::usize; #lengths] = #values;)*
                #methods
            }
        }
    });

    let into_impl = into.then(|| {
        let out = FixedOutput::new(tables, 0, |slot| {
            let extent = slot_extent(tables, slot);
            quote!(#extent)
        });
        let out_type = &out.ty;
        let write = out.write(&quote!(__value), &quote!((*__out)));
        let body = quote! {
            let __value: #output_type = <Self as #kernel>::run(self)?;
            #write
            ::core::result::Result::Ok(())
        };
        gen_into::into_impl(
            &[generics.clone(), out.generics].concat(),
            &operand_types,
            &[bounds.clone(), out.bounds].concat(),
            &quote!(&'__o mut #out_type),
            &body,
            &private,
        )
    });
    quote! {
        #plan_items
        #into_impl
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types, unused_parens, unused_braces)]
        impl<#(#generics),*> #kernel for (#(#operand_types,)*)
        where
            #(#bounds,)*
        {
            type Output = #output_type;

            #[inline]
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError> {
                let (#(#vars,)*) = self;
                let __out: Self::Output = #body;
                ::core::result::Result::Ok(__out)
            }
        }
        #vjp_impl
    }
}

/// `__gK`: the gradient of operand `k`.
pub(crate) fn grad_var(k: usize) -> Ident {
    format_ident!("__g{}", k)
}

/// The gradients of the operands `wanted` lists, defining `__gK` for each.
///
/// The gradient of operand `k` is the contraction of the output gradient with the other
/// operands onto `k`'s labels, so it is planned like the forward contraction (`planned`
/// generates it and records its choice constant): the leaves are the other operands, with the
/// output gradient in `k`'s place (which keeps chains such as `ij,jk,kl` chains), and the
/// target is `k`'s labels that occur elsewhere. Labels only `k` has were summed in the
/// forward pass, so the gradient is constant along them: the reduced result is spread along
/// them by one copying nest. An operand with a repeated label (a diagonal) keeps the
/// derivative of the forward loop nest, in [`gradient_nest`].
fn gradients_of(
    tables: &Tables,
    zero: &TokenStream,
    grad_types: &[TokenStream],
    planned: &mut impl FnMut(&plan::Problem, Ident) -> TokenStream,
    wanted: &Gradients,
) -> TokenStream {
    let mut code = TokenStream::new();
    let mut diagonal = Vec::new();
    for (k, axes) in tables.inputs.iter().enumerate() {
        if !wanted.wants(k) {
            continue;
        }
        let has_diagonal = axes.iter().enumerate().any(|(a, s)| axes[..a].contains(s));
        if has_diagonal {
            diagonal.push(k);
            continue;
        }
        let elsewhere = |s: &usize| {
            tables.output.contains(s)
                || tables
                    .inputs
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != k && other.contains(s))
        };
        let target: Vec<usize> = axes.iter().copied().filter(elsewhere).collect();
        let leaves = tables
            .inputs
            .iter()
            .enumerate()
            .map(|(j, other)| {
                if j == k {
                    plan::Leaf {
                        source: plan::Source::Gradient,
                        axes: tables.output.clone(),
                    }
                } else {
                    plan::Leaf {
                        source: plan::Source::Operand(j),
                        axes: other.clone(),
                    }
                }
            })
            .collect();
        // The result has operand k's own extent parameters when it is the gradient itself.
        let result_extents = axes
            .iter()
            .enumerate()
            .filter(|&(_, s)| target.contains(s))
            .map(|(a, _)| extent_param(k, a))
            .collect();
        let problem = plan::Problem {
            leaves,
            target: target.clone(),
            result_extents,
            gradient: true,
        };
        let value = planned(&problem, format_ident!("GRAD_{}", k));
        let var = grad_var(k);
        let grad_type = &grad_types[k];
        if target.len() == axes.len() {
            code.extend(quote!(let #var: #grad_type = #value;));
        } else {
            let reduced = format_ident!("__reduced{}", k);
            let source = if target.is_empty() {
                quote!(#reduced)
            } else {
                let indices = target.iter().map(|&s| slot_index(s));
                quote!(#reduced #([#indices])*)
            };
            let indices = axes.iter().map(|&s| slot_index(s));
            let spread = for_each_index(tables, axes, quote!(#var #([#indices])* = #source;));
            let extents: Vec<Ident> = (0..axes.len()).map(|a| extent_param(k, a)).collect();
            let zeros = nested_array(zero, &extents);
            code.extend(quote! {
                let #reduced = #value;
                let mut #var: #grad_type = #zeros;
                #spread
            });
        }
    }
    if !diagonal.is_empty() {
        code.extend(gradient_nest(tables, zero, grad_types, &diagonal));
    }
    code
}

/// One element of operand `k` (or of the output gradient, `k = None`) at the current indices.
pub(crate) fn element(tables: &Tables, k: Option<usize>) -> TokenStream {
    let (var, axes) = match k {
        Some(k) => (operand_var(k), &tables.inputs[k]),
        None => (format_ident!("__grad"), &tables.output),
    };
    if axes.is_empty() {
        quote!((*#var))
    } else {
        let indices = axes.iter().map(|&s| slot_index(s));
        quote!(#var #([#indices])*)
    }
}

/// The gradients of the operands `which` in one nest over all slots: operand `k`'s gradient
/// at its indices gains the output gradient times every other operand. Labels summed in the
/// forward pass thus spread the gradient along them, and a repeated label only ever visits
/// the diagonal, which is exactly the derivative of the forward loop nest. Defines `__gK` for
/// each `k` in `which`.
fn gradient_nest(
    tables: &Tables,
    zero: &TokenStream,
    grad_types: &[TokenStream],
    which: &[usize],
) -> TokenStream {
    let mut declarations = TokenStream::new();
    let mut updates = TokenStream::new();
    for &k in which {
        let (axes, grad_type) = (&tables.inputs[k], &grad_types[k]);
        let var = grad_var(k);
        let extents: Vec<Ident> = (0..axes.len()).map(|a| extent_param(k, a)).collect();
        let zeros = nested_array(zero, &extents);
        declarations.extend(quote!(let mut #var: #grad_type = #zeros;));
        let target = if axes.is_empty() {
            quote!(#var)
        } else {
            let indices = axes.iter().map(|&s| slot_index(s));
            quote!(#var #([#indices])*)
        };
        updates.extend(gradient_update(tables, k, &target));
    }
    let all_slots: Vec<usize> = tables
        .output
        .iter()
        .copied()
        .chain(tables.summed())
        .collect();
    let nest = for_each_index(tables, &all_slots, updates);
    quote!(#declarations #nest)
}

/// `target = target + g * (every operand but k)` at the current indices: one step of operand
/// `k`'s gradient in a nest over all slots, the derivative of the forward nest's product.
pub(crate) fn gradient_update(tables: &Tables, k: usize, target: &TokenStream) -> TokenStream {
    let contribution = gradient_term(tables, k);
    quote!(#target = #target + #contribution;)
}

/// `g * (every operand but k)` at the current indices: what one step of a nest over all
/// slots adds to operand `k`'s gradient.
pub(crate) fn gradient_term(tables: &Tables, k: usize) -> TokenStream {
    let upstream = element(tables, None);
    let rest = product(tables, Some(k));
    if rest.is_empty() {
        upstream
    } else {
        quote!(#upstream * #rest)
    }
}

/// `for` loops over `slots` (outermost first) around `inner`, each bounded by its extent.
fn for_each_index(tables: &Tables, slots: &[usize], inner: TokenStream) -> TokenStream {
    slots.iter().rev().fold(inner, |inner, &s| {
        let index = slot_index(s);
        let bound = slot_extent(tables, s);
        quote!(for #index in 0..#bound { #inner })
    })
}

/// The product of one element of every operand (but `skip`) at the current indices, each
/// converted to operand 0's element type (an identity the diagnostic trait provides). Empty
/// when nothing is left.
pub(crate) fn product(tables: &Tables, skip: Option<usize>) -> TokenStream {
    let factors = (0..tables.inputs.len())
        .filter(|&k| Some(k) != skip)
        .map(|k| factor(tables, k));
    factors.reduce(|a, b| quote!(#a * #b)).unwrap_or_default()
}

/// One element of operand `k` at the current indices, converted to operand 0's element type.
pub(crate) fn factor(tables: &Tables, k: usize) -> TokenStream {
    let element = element(tables, Some(k));
    if k == 0 {
        element
    } else {
        let same = same_element_trait(k);
        let elem = elem_param(k);
        let t0 = elem_param(0);
        quote!(<#elem as #same<#t0>>::same(#element))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use proc_macro2::Literal;

    /// The tokens of the fixed-size kernel (and with `vjp` its gradient) for `spec`.
    fn tokens(spec: &str, vjp: bool) -> usize {
        fn count(stream: TokenStream) -> usize {
            stream
                .into_iter()
                .map(|tree| match tree {
                    proc_macro2::TokenTree::Group(group) => 2 + count(group.stream()),
                    _ => 1,
                })
                .sum()
        }
        let operands = spec.split("->").next().unwrap().split(',').count();
        let literal = Literal::string(spec);
        let names = (0..operands).map(|k| format_ident!("x{}", k));
        let input = syn::parse2(quote!(::e, panic; #literal #(, #names)*)).unwrap();
        let model = model::build(&input).unwrap();
        let every = model::Gradients {
            listed: (0..operands).collect(),
            into: false,
        };
        count(generate(
            model.tables.as_ref().unwrap(),
            &quote!(::e),
            vjp.then_some(&every),
            false,
        ))
    }

    /// The expansion stays bounded as operands are added: measured (forward / with `vjp`)
    /// 335 / 841 tokens for 2 operands, 2,549 / 9,127 for 3, 7,508 / 20,977 for 4,
    /// 6,268 / 36,690 for 5 and 9,950 / 70,617 for 6 (before planning: 316 / 717 up to
    /// 628 / 2,101). Seven operands and more go left to right only.
    #[test]
    fn expansion_size_is_bounded() {
        for (spec, forward, with_vjp) in [
            ("ij,jk->ik", 400, 1_000),
            ("ij,jk,kl->il", 3_000, 10_000),
            ("ij,jk,kl,lm->im", 8_000, 22_000),
            ("ij,jk,kl,lm,mn->in", 7_000, 40_000),
            ("ij,jk,kl,lm,mn,no->io", 11_000, 75_000),
            ("ab,bc,cd,de,ef,fg,gh->ah", 8_000, 75_000),
        ] {
            let (f, v) = (tokens(spec, false), tokens(spec, true));
            eprintln!("{spec}: {f} tokens, with vjp {v}");
            assert!(f <= forward && v <= with_vjp, "{spec}: {f} / {v} tokens");
        }
    }
}
