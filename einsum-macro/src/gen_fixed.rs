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

use crate::diagnostics::{
    element_trait, extent_trait, kernel_trait, same_element_trait, vjp_trait,
};
use crate::model::Tables;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

fn elem_param(k: usize) -> Ident {
    format_ident!("__T{}", k)
}

fn extent_param(k: usize, axis: usize) -> Ident {
    format_ident!("__E{}_{}", k, axis)
}

fn slot_index(slot: usize) -> Ident {
    format_ident!("__s{}", slot)
}

fn operand_var(k: usize) -> Ident {
    format_ident!("__op{}", k)
}

/// `[[elem; E_last]; E_first]` for the given extents, outermost first.
fn nested_array(elem: &TokenStream, extents: &[Ident]) -> TokenStream {
    extents
        .iter()
        .rev()
        .fold(elem.clone(), |inner, n| quote!([#inner; #n]))
}

/// The extent parameter that defines `slot`: the one of its first occurrence.
fn slot_extent(tables: &Tables, slot: usize) -> Ident {
    let (k, axis) = tables.first_occurrence(slot);
    extent_param(k, axis)
}

/// Generates the fixed-size kernel impl for a spec without `...`, and with `vjp` its gradient.
pub(crate) fn generate(tables: &Tables, krate: &TokenStream, vjp: bool) -> TokenStream {
    let private = quote!(#krate::__private);
    let kernel = kernel_trait();
    let operands = tables.inputs.len();

    let mut generics = vec![quote!('__a)];
    let mut operand_types = Vec::new();
    let mut bounds = Vec::new();
    for (k, axes) in tables.inputs.iter().enumerate() {
        let elem = elem_param(k);
        let extents: Vec<Ident> = (0..axes.len()).map(|a| extent_param(k, a)).collect();
        generics.push(quote!(#elem));
        generics.extend(extents.iter().map(|e| quote!(const #e: usize)));
        operand_types.push(if extents.is_empty() {
            quote!(&'__a #elem)
        } else {
            let array = nested_array(&quote!(#elem), &extents);
            quote!(&'__a #array)
        });
        let element = element_trait(k);
        bounds.push(quote!(#elem: #element));
        if k > 0 {
            let same = same_element_trait(k);
            let first = elem_param(0);
            bounds.push(quote!(#elem: #same<#first>));
        }
    }
    for slot in 0..tables.labels.len() {
        let occurrences = tables.occurrences(slot);
        let first = slot_extent(tables, slot);
        for (n, &(k, axis)) in occurrences.iter().enumerate().skip(1) {
            let extent = extent_trait(slot, n);
            let this = extent_param(k, axis);
            bounds.push(quote!((): #extent<#first, #this>));
        }
    }

    let t0 = elem_param(0);
    let zero = quote!(<#t0 as #private::Zero>::zero());
    let output_extents: Vec<Ident> = tables
        .output
        .iter()
        .map(|&s| slot_extent(tables, s))
        .collect();
    let output_type = nested_array(&quote!(#t0), &output_extents);
    let vars: Vec<Ident> = (0..operands).map(operand_var).collect();
    let body = loop_nest(tables, &zero, &product(tables, None));
    let vjp_impl = vjp.then(|| {
        let vjp_trait = vjp_trait();
        let grad_types: Vec<TokenStream> = tables
            .inputs
            .iter()
            .enumerate()
            .map(|(k, axes)| {
                let extents: Vec<Ident> = (0..axes.len()).map(|a| extent_param(k, a)).collect();
                nested_array(&quote!(#t0), &extents)
            })
            .collect();
        let gradient_body = gradient_nest(tables, &zero, &grad_types);
        let grad_vars: Vec<Ident> = (0..operands).map(grad_var).collect();
        quote! {
            #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types, unused_parens, unused_variables)]
            impl<#(#generics),*> #vjp_trait for (#(#operand_types,)*)
            where
                #(#bounds,)*
            {
                type Grads = (#(#grad_types,)*);

                #[inline]
                fn vjp(self, __grad: &Self::Output) -> ::core::result::Result<Self::Grads, #private::EinsumError> {
                    let (#(#vars,)*) = self;
                    #gradient_body
                    ::core::result::Result::Ok((#(#grad_vars,)*))
                }
            }
        }
    });

    quote! {
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types, unused_parens)]
        impl<#(#generics),*> #kernel for (#(#operand_types,)*)
        where
            #(#bounds,)*
        {
            type Output = #output_type;

            #[inline]
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError> {
                let (#(#vars,)*) = self;
                #body
                ::core::result::Result::Ok(__out)
            }
        }
        #vjp_impl
    }
}

fn grad_var(k: usize) -> Ident {
    format_ident!("__g{}", k)
}

/// One element of operand `k` (or of the output gradient, `k = None`) at the current indices.
fn element(tables: &Tables, k: Option<usize>) -> TokenStream {
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

/// The gradient of every operand in one nest over all slots: operand `k`'s gradient at its
/// indices gains the output gradient times every other operand. Labels summed in the forward
/// pass thus spread the gradient along them, and a repeated label only ever visits the
/// diagonal, which is exactly the derivative of the forward loop nest. Defines `__gK`.
fn gradient_nest(tables: &Tables, zero: &TokenStream, grad_types: &[TokenStream]) -> TokenStream {
    let mut declarations = TokenStream::new();
    let mut updates = TokenStream::new();
    for (k, (axes, grad_type)) in tables.inputs.iter().zip(grad_types).enumerate() {
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
        let upstream = element(tables, None);
        let rest = product(tables, Some(k));
        let contribution = if rest.is_empty() {
            upstream
        } else {
            quote!(#upstream * #rest)
        };
        updates.extend(quote!(#target = #target + #contribution;));
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
fn product(tables: &Tables, skip: Option<usize>) -> TokenStream {
    let factors = (0..tables.inputs.len())
        .filter(|&k| Some(k) != skip)
        .map(|k| {
            let element = element(tables, Some(k));
            if k == 0 {
                element
            } else {
                let same = same_element_trait(k);
                let elem = elem_param(k);
                let t0 = elem_param(0);
                quote!(<#elem as #same<#t0>>::same(#element))
            }
        });
    factors.reduce(|a, b| quote!(#a * #b)).unwrap_or_default()
}

/// The loops: output slots outermost (in output order), summed slots inside them, the sum
/// kept in a local accumulator and stored once per output element. Defines `__out`.
fn loop_nest(tables: &Tables, zero: &TokenStream, product: &TokenStream) -> TokenStream {
    let summed = tables.summed();
    let loops = |slots: &[usize], inner: TokenStream| for_each_index(tables, slots, inner);
    let sum_into = |acc: TokenStream| loops(&summed, quote!(#acc = #acc + #product;));
    if tables.output.is_empty() {
        if summed.is_empty() {
            quote!(let __out = #product;)
        } else {
            let sum = sum_into(quote!(__out));
            quote!(let mut __out = #zero; #sum)
        }
    } else {
        let indices = tables.output.iter().map(|&s| slot_index(s));
        let target = quote!(__out #([#indices])*);
        let element = if summed.is_empty() {
            quote!(#target = #product;)
        } else {
            let sum = sum_into(quote!(__acc));
            quote!(let mut __acc = #zero; #sum #target = __acc;)
        };
        let output_extents: Vec<Ident> = tables
            .output
            .iter()
            .map(|&s| slot_extent(tables, s))
            .collect();
        let zeros = nested_array(zero, &output_extents);
        let nest = loops(&tables.output, element);
        quote!(let mut __out: Self::Output = #zeros; #nest)
    }
}
