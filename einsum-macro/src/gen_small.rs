//! The loop nest for small contractions of ndarray operands, generated at expansion: what
//! `einsum!` and `einsum_into!` run on ndarray operands before the engine when the spec is
//! known and the call is small.
//!
//! Input: `"ijk,j,k->i"`. Output, in essence (inside `run`, before the engine's call):
//!
//! ```text
//! '__small: {
//!     let __v0 = match op0.view().into_dimensionality::<Ix3>() { Ok(v) => v, Err(_) => break '__small };
//!     …
//!     let (__n0, __n1, __n2) = (__v0.shape()[0], __v0.shape()[1], __v0.shape()[2]);
//!     if __v1.shape()[0] != __n1 || __v2.shape()[0] != __n2 { break '__small; }
//!     if !small_enough(&[__n0, __n1, __n2]) { break '__small; }
//!     let mut __o = Array1::zeros((__n0,));
//!     for __s0 in 0..__n0 {
//!         let mut __acc = zero;
//!         for __s1 in 0..__n1 { for __s2 in 0..__n2 { __acc = __acc + __v0[[__s0, __s1, __s2]] * __v1[[__s1]] * __v2[[__s2]]; } }
//!         __o[[__s0]] = __acc;
//!     }
//!     return Ok(__o);
//! }
//! ```
//!
//! The nest is the one a user would write on the same arrays: static ranks, extents read at
//! run time, indexing with ndarray's checked `[[…]]`, no `IxDyn`, no tables, no plan. Anything
//! it does not take — extents that differ or broadcast (the engine reports the error or
//! broadcasts), more index combinations than `support::small_enough` allows, more than six
//! axes — breaks out of the block to the engine's path, which is unchanged.

use crate::gen_fixed::slot_index;
use crate::model::Tables;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Where the nest's result goes.
pub(crate) enum Target {
    /// A new array, returned as `Ok(array)` (`einsum!`).
    Value,
    /// The output view `__out` (operand 0's element type, any dimensionality), written as
    /// `__write` says, then `Ok(())` (`einsum_into!`).
    Into,
}

/// The most axes a term may have for the nest (ndarray's static dimensionalities).
const MAX_RANK: usize = 6;

/// `__nS`: the run-time extent of slot `s`.
fn extent(slot: usize) -> Ident {
    format_ident!("__n{}", slot)
}

/// `__vK`: operand `k` viewed at its term's static rank.
fn view_var(k: usize) -> Ident {
    format_ident!("__v{}", k)
}

/// The labelled block described in the module docs; empty when a term has more than
/// [`MAX_RANK`] axes. `views` are the operands' views with operand 0's element type (any
/// dimensionality), `t0` that element type.
pub(crate) fn small_nest(
    tables: &Tables,
    views: &[TokenStream],
    t0: &TokenStream,
    private: &TokenStream,
    target: &Target,
) -> TokenStream {
    let ranks = tables.inputs.iter().chain([&tables.output]);
    if ranks.into_iter().any(|axes| axes.len() > MAX_RANK) {
        return TokenStream::new();
    }
    let ndarray = quote!(#private::ndarray);
    let dim = |rank: usize| format_ident!("Ix{}", rank);
    let index = |axes: &[usize]| {
        if axes.is_empty() {
            quote!(())
        } else {
            let indices = axes.iter().map(|&s| slot_index(s));
            quote!([#(#indices),*])
        }
    };

    let mut setup = TokenStream::new();
    for (k, (axes, view)) in tables.inputs.iter().zip(views).enumerate() {
        let (var, ix) = (view_var(k), dim(axes.len()));
        setup.extend(quote! {
            let #var = match #view.into_dimensionality::<#ndarray::#ix>() {
                ::core::result::Result::Ok(view) => view,
                ::core::result::Result::Err(_) => break '__small,
            };
        });
    }
    // Each slot's extent from its first occurrence; every other occurrence must equal it.
    let slots = tables.labels.len();
    for slot in 0..slots {
        let occurrences = tables.occurrences(slot);
        let (k, axis) = occurrences[0];
        let (n, var) = (extent(slot), view_var(k));
        setup.extend(quote!(let #n = #var.shape()[#axis];));
        for &(k, axis) in &occurrences[1..] {
            let var = view_var(k);
            setup.extend(quote!(if #var.shape()[#axis] != #n { break '__small; }));
        }
    }
    let all: Vec<Ident> = (0..slots).map(extent).collect();
    setup.extend(quote! {
        if !#private::small_enough(&[#(#all),*]) {
            break '__small;
        }
    });

    let factors = tables.inputs.iter().enumerate().map(|(k, axes)| {
        let (var, at) = (view_var(k), index(axes));
        quote!(#var[#at])
    });
    let Some(product) = factors.reduce(|a, b| quote!(#a * #b)) else {
        return TokenStream::new();
    };
    let zero = quote!(<#t0 as #private::Zero>::zero());
    let summed = tables.summed();
    let sum = summed
        .iter()
        .rev()
        .fold(quote!(__acc = __acc + #product;), |inner, &s| {
            let (i, n) = (slot_index(s), extent(s));
            quote!(for #i in 0..#n { #inner })
        });
    let at = index(&tables.output);
    let store = match target {
        Target::Value => quote!(__o[#at] = __acc;),
        Target::Into => quote!(__write.apply(&mut __o[#at], __acc);),
    };
    let nest = tables.output.iter().rev().fold(
        quote! {
            let mut __acc = #zero;
            #sum
            #store
        },
        |inner, &s| {
            let (i, n) = (slot_index(s), extent(s));
            quote!(for #i in 0..#n { #inner })
        },
    );
    let out_extents = tables.output.iter().map(|&s| extent(s));
    let out_dim = dim(tables.output.len());
    let (make, finish) = match target {
        Target::Value => (
            quote! {
                let mut __o = #ndarray::Array::<#t0, #ndarray::#out_dim>::zeros((#(#out_extents,)*));
            },
            quote!(return ::core::result::Result::Ok(__o);),
        ),
        Target::Into => (
            quote! {
                let mut __o = match __out.view_mut().into_dimensionality::<#ndarray::#out_dim>() {
                    ::core::result::Result::Ok(view) => view,
                    ::core::result::Result::Err(_) => break '__small,
                };
                if __o.shape() != &[#(#out_extents),*][..] {
                    break '__small;
                }
            },
            quote!(return ::core::result::Result::Ok(());),
        ),
    };
    quote! {
        '__small: {
            #setup
            #make
            #nest
            #finish
        }
    }
}
