//! The kernel for ndarray operands of a spec without `...`.
//!
//! Input: `"ij,jk->ik"` with two ndarray operands. Output, in essence:
//!
//! ```text
//! impl<'a, T0, D0, T1, D1> Kernel for (ArrayView<'a, T0, D0>, ArrayView<'a, T1, D1>)
//! where T0: Element0, D0: Rank0, T1: Element1 + SameElement1<T0>, D1: Rank1
//! {
//!     type Output = Array<T0, Ix2>;
//!     fn run(self) -> Result<Self::Output, EinsumError> {
//!         contract_static("ij,jk->ik", &[&[0, 1], &[1, 2]], &[0, 2], &['i', 'j', 'k'], &[views])
//!     }
//! }
//! ```
//!
//! The spec is parsed, checked and resolved to slot tables here, at compile time; the rank of
//! every static-rank operand is checked by its `RankK` bound. Extents are only known at run
//! time, so the contraction itself is planned and run by the runtime's engine (pairwise
//! steps, matrix products through a GEMM kernel). For `einsum_vjp!`, `run_saving` calls
//! `contract_static_saving`, which keeps the forward pass's intermediates, and `vjp` hands
//! them to `vjp_static`, whose gradients start from them.

use crate::diagnostics::{
    element_trait, kernel_trait, out_element_trait, out_rank_trait, rank_trait, same_element_trait,
};
use crate::gen_fixed::grad_var;
use crate::gen_into;
use crate::gen_small;
use crate::gen_vjp;
use crate::model::{Gradients, Model, Tables};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Generates the ndarray kernel impl for a spec without `...`, with `vjp` its gradient (each
/// operand's gradient has the operand's own dimensionality), and with `into` its
/// `einsum_into!` impl (the output goes to the engine as a view).
pub(crate) fn generate(
    model: &Model,
    tables: &Tables,
    krate: &TokenStream,
    gradients: Option<&Gradients>,
    into: bool,
) -> TokenStream {
    let private = quote!(#krate::__private);
    let kernel = kernel_trait();
    let spec = &model.text;
    let t0 = format_ident!("__T0");

    let mut generics = Vec::new();
    let mut operand_types = Vec::new();
    let mut bounds = Vec::new();
    let mut views = Vec::new();
    let vars: Vec<Ident> = (0..tables.inputs.len())
        .map(|k| format_ident!("__op{}", k))
        .collect();
    for (k, var) in vars.iter().enumerate() {
        let elem = format_ident!("__T{}", k);
        let dim = format_ident!("__D{}", k);
        generics.push(quote!(#elem, #dim));
        operand_types.push(quote!(#private::ndarray::ArrayView<'__a, #elem, #dim>));
        let element = element_trait(k);
        let rank = rank_trait(k);
        bounds.push(quote!(#elem: #element));
        bounds.push(quote!(#dim: #rank));
        if k == 0 {
            views.push(quote!(#var.into_dyn()));
        } else {
            let same = same_element_trait(k);
            bounds.push(quote!(#elem: #same<#t0>));
            views.push(quote!(<#elem as #same<#t0>>::same_view(#var).into_dyn()));
        }
    }

    let rank = tables.output.len();
    let out_dim = if rank <= 6 {
        quote!(#private::ndarray::Dim<[usize; #rank]>)
    } else {
        quote!(#private::ndarray::IxDyn)
    };
    let inputs = tables.inputs.iter().map(|axes| quote!(&[#(#axes),*]));
    let output = &tables.output;
    let labels = &tables.labels;
    // The spec, its slot tables and the operands' dynamic-rank views: what every runtime call
    // of the kernel takes first.
    let tables_and_views = quote! {
        #spec,
        &[#(#inputs),*],
        &[#(#output),*],
        &[#(#labels),*],
        &[#(#views),*],
    };

    // A product of two matrices, or a chain of them, skips the engine: no tables, no plan,
    // GEMM on the views.
    let matrix = |k: usize| {
        let var = &vars[k];
        if k == 0 {
            quote!(#var.view())
        } else {
            let same = same_element_trait(k);
            let elem = format_ident!("__T{}", k);
            quote!(<#elem as #same<#t0>>::same_view(#var.view()))
        }
    };
    let (product_value, product_into) = if let Some([ta, tb, tc]) = matrix_product(tables) {
        let (a, b) = (matrix(0), matrix(1));
        (
            quote! {
                if let ::core::option::Option::Some(__c) = #private::matrix_product::<#t0, _, _>(#a, #b, [#ta, #tb, #tc]) {
                    return ::core::result::Result::Ok(__c);
                }
            },
            quote! {
                if #private::matrix_product_into::<#t0, _, _, _>(#a, #b, &mut __out, [#ta, #tb, #tc], __write) {
                    return ::core::result::Result::Ok(());
                }
            },
        )
    } else if let Some((transposed, tc)) = matrix_chain(tables) {
        let mats = transposed.iter().enumerate().map(|(k, t)| {
            let view = matrix(k);
            quote!(#private::as_matrix(#view, #t))
        });
        let mats = quote!([#(#mats),*]);
        (
            quote! {
                if let ::core::option::Option::Some(__c) = #private::matrix_chain::<#t0>(&#mats, #tc) {
                    return ::core::result::Result::Ok(__c);
                }
            },
            quote! {
                if #private::matrix_chain_into::<#t0, _>(&#mats, &mut __out, #tc, __write) {
                    return ::core::result::Result::Ok(());
                }
            },
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    // Small calls run a loop nest generated here, before the engine.
    let operand_views: Vec<TokenStream> = (0..tables.inputs.len()).map(matrix).collect();
    let t0_tokens = quote!(#t0);
    let small_value = gen_small::small_nest(
        tables,
        &operand_views,
        &t0_tokens,
        &private,
        &gen_small::Target::Value,
    );
    let small_into = gen_small::small_nest(
        tables,
        &operand_views,
        &t0_tokens,
        &private,
        &gen_small::Target::Into,
    );
    let count = tables.inputs.len();
    let vjp_impl = gradients.map(|gradients| {
        let dims: Vec<Ident> = (0..count).map(|k| format_ident!("__D{}", k)).collect();
        let grad_types: Vec<TokenStream> = dims
            .iter()
            .map(|dim| quote!(#private::ndarray::Array<#t0, #dim>))
            .collect();
        let buffer_types: Vec<TokenStream> = dims
            .iter()
            .map(|dim| quote!(#private::ndarray::ArrayViewMut<'__g, #t0, #dim>))
            .collect();
        let ascending = gradients.ascending();
        let wanted = ascending.len();
        let values: Vec<Ident> = ascending.iter().map(|&k| grad_var(k)).collect();
        let value_dims = ascending.iter().map(|&k| &dims[k]);
        let buffers = ascending.iter().map(|&k| {
            let buffer = gen_vjp::buffer_var(k);
            quote!((#k, #buffer.into_dyn()))
        });
        let saving = quote! {
            type Saved = #private::Saved<#t0>;

            #[inline]
            fn run_saving(self) -> ::core::result::Result<(Self::Output, Self::Saved), #private::EinsumError> {
                let (#(#vars,)*) = self;
                #private::contract_static_saving::<#t0, #out_dim>(#tables_and_views)
            }
        };
        let generics: Vec<TokenStream> = std::iter::once(quote!('__a))
            .chain(generics.iter().cloned())
            .collect();
        gen_vjp::vjp_impl(&gen_vjp::VjpImpl {
            generics: &generics,
            operand_types: &operand_types,
            bounds: &bounds,
            gradients,
            grad_types: &grad_types,
            buffer_types: &buffer_types,
            saving: &saving,
            body: &if gradients.into {
                quote! {
                    let (#(#vars,)*) = self;
                    #private::vjp_static_into::<#t0>(
                        #tables_and_views
                        __grad.view().into_dyn(),
                        &#private::Saved::none(),
                        &mut [#(#buffers),*],
                        __write,
                    )
                }
            } else {
                quote! {
                    let (#(#vars,)*) = self;
                    let grads = #private::vjp_static::<#t0>(
                        #tables_and_views
                        __grad.view().into_dyn(),
                        __saved,
                        &[#(#ascending),*],
                    )?;
                    let [#(#values),*]: [#private::ndarray::ArrayD<#t0>; #wanted] = match grads.try_into() {
                        ::core::result::Result::Ok(grads) => grads,
                        ::core::result::Result::Err(_) => ::core::unreachable!("one gradient per wanted operand"),
                    };
                    #(let #values = #private::into_dimension::<#t0, #value_dims>(#values);)*
                }
            },
            private: &private,
        })
    });
    let into_impl = into.then(|| {
        let (elem, dim) = (gen_into::out_elem(), format_ident!("__DO"));
        let (element, rank) = (out_element_trait(), out_rank_trait());
        let body = quote! {
            let (#(#vars,)*) = self;
            let mut __out = <#elem as #element<#t0>>::same_view_mut(__out);
            #product_into
            #small_into
            #private::contract_static_into::<#t0>(#tables_and_views __out.into_dyn(), __write)
        };
        gen_into::into_impl(
            &[quote!('__a), quote!(#elem), quote!(#dim)]
                .into_iter()
                .chain(generics.iter().cloned())
                .collect::<Vec<_>>(),
            &operand_types,
            &[quote!(#elem: #element<#t0>), quote!(#dim: #rank)]
                .into_iter()
                .chain(bounds.iter().cloned())
                .collect::<Vec<_>>(),
            &quote!(#private::ndarray::ArrayViewMut<'__o, #elem, #dim>),
            &body,
            &private,
        )
    });
    quote! {
        #into_impl
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types)]
        impl<'__a, #(#generics),*> #kernel for (#(#operand_types,)*)
        where
            #(#bounds,)*
        {
            type Output = #private::ndarray::Array<#t0, #out_dim>;

            #[inline]
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError> {
                let (#(#vars,)*) = self;
                #product_value
                #small_value
                #private::contract_static::<#t0, #out_dim>(#tables_and_views)
            }
        }
        #vjp_impl
    }
}

/// When the spec is one product of two matrices, `c_ik = a_ij b_jk` up to transposes, which
/// of `a`, `b` and the output are transposed relative to it (see `support::Transposed`).
fn matrix_product(tables: &Tables) -> Option<[bool; 3]> {
    let [a, b] = tables.inputs.as_slice() else {
        return None;
    };
    let (&[a0, a1], &[b0, b1]) = (a.as_slice(), b.as_slice()) else {
        return None;
    };
    let shared: Vec<usize> = [a0, a1].into_iter().filter(|s| b.contains(s)).collect();
    let &[j] = shared.as_slice() else {
        return None;
    };
    let i = if a0 == j { a1 } else { a0 };
    let k = if b0 == j { b1 } else { b0 };
    if a0 == a1 || b0 == b1 || i == k {
        return None;
    }
    let transposed_output = match *tables.output.as_slice() {
        [x, y] if [x, y] == [i, k] => false,
        [x, y] if [x, y] == [k, i] => true,
        _ => return None,
    };
    Some([a0 == j, b1 == j, transposed_output])
}

/// When the spec is a chain of three to eight matrix products in the operands' order,
/// `a_ij b_jk c_kl … -> il` up to transposes: whether each operand is transposed (stored as
/// `ji` rather than `ij`), and whether the output is (`li`).
fn matrix_chain(tables: &Tables) -> Option<(Vec<bool>, bool)> {
    let inputs = &tables.inputs;
    if !(3..=8).contains(&inputs.len()) || tables.labels.len() != inputs.len() + 1 {
        return None;
    }
    // The label each operand shares with the next one, walking the chain.
    let shared = |a: &[usize], b: &[usize]| -> Option<usize> {
        let common: Vec<usize> = a.iter().copied().filter(|s| b.contains(s)).collect();
        (common.len() == 1).then(|| common[0])
    };
    let mut transposed = Vec::with_capacity(inputs.len());
    let first = shared(&inputs[0], &inputs[1])?;
    let start = *inputs[0].iter().find(|&&s| s != first)?;
    let mut current = start;
    for axes in inputs {
        let &[x, y] = axes.as_slice() else {
            return None;
        };
        if x == y || (x != current && y != current) {
            return None;
        }
        transposed.push(y == current);
        current = if x == current { y } else { x };
    }
    // Every label occurs in the chain's places only: n + 1 labels, each new one once.
    let transposed_output = match *tables.output.as_slice() {
        [a, b] if [a, b] == [start, current] => false,
        [a, b] if [a, b] == [current, start] => true,
        _ => return None,
    };
    Some((transposed, transposed_output))
}

#[cfg(test)]
mod tests {
    use super::{matrix_chain, matrix_product};
    use crate::model::Tables;

    fn tables(inputs: &[&[usize]], output: &[usize]) -> Tables {
        Tables {
            labels: vec!['i', 'j', 'k', 'l'],
            inputs: inputs.iter().map(|t| t.to_vec()).collect(),
            output: output.to_vec(),
        }
    }

    #[test]
    fn matrix_chains_and_their_transposes_are_recognised() {
        // ij,jk,kl->il, ji,jk,lk->li, and not: a label shared by three, a closed ring, a
        // summed free label.
        assert_eq!(
            matrix_chain(&tables(&[&[0, 1], &[1, 2], &[2, 3]], &[0, 3])),
            Some((vec![false, false, false], false))
        );
        assert_eq!(
            matrix_chain(&tables(&[&[1, 0], &[1, 2], &[3, 2]], &[3, 0])),
            Some((vec![true, false, true], true))
        );
        assert_eq!(
            matrix_chain(&tables(&[&[0, 1], &[1, 2], &[1, 3]], &[0, 3])),
            None
        );
        assert_eq!(
            matrix_chain(&tables(&[&[0, 1], &[1, 2], &[2, 0]], &[])),
            None
        );
        assert_eq!(
            matrix_chain(&tables(&[&[0, 1], &[1, 2], &[2, 3]], &[0])),
            None
        );
        assert_eq!(matrix_chain(&tables(&[&[0, 1], &[1, 2]], &[0, 2])), None);
    }

    #[test]
    fn matrix_products_and_their_transposes_are_recognised() {
        // ij,jk->ik and every transpose.
        assert_eq!(
            matrix_product(&tables(&[&[0, 1], &[1, 2]], &[0, 2])),
            Some([false, false, false])
        );
        assert_eq!(
            matrix_product(&tables(&[&[1, 0], &[1, 2]], &[0, 2])),
            Some([true, false, false])
        );
        assert_eq!(
            matrix_product(&tables(&[&[0, 1], &[2, 1]], &[0, 2])),
            Some([false, true, false])
        );
        assert_eq!(
            matrix_product(&tables(&[&[0, 1], &[1, 2]], &[2, 0])),
            Some([false, false, true])
        );
        // Not one matrix product: a kept shared label, an outer product, a diagonal, a sum.
        assert_eq!(
            matrix_product(&tables(&[&[0, 1], &[1, 2]], &[0, 1, 2])),
            None
        );
        assert_eq!(
            matrix_product(&tables(&[&[0, 1], &[2, 3]], &[0, 1, 2, 3])),
            None
        );
        assert_eq!(matrix_product(&tables(&[&[0, 0], &[0, 1]], &[1])), None);
        assert_eq!(matrix_product(&tables(&[&[0, 1], &[1, 2]], &[0])), None);
        assert_eq!(matrix_product(&tables(&[&[0, 1], &[0, 1]], &[])), None);
    }
}
