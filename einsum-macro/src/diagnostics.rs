//! Traits whose only job is their `#[diagnostic::on_unimplemented]` message.
//!
//! The kernels' `where` clauses are phrased with these traits, so when an operand does not
//! fit its term the compiler reports a sentence in the spec's own words, naming the spec, the
//! label and the operands, instead of a generic trait-bound failure. They are generated per
//! invocation because each message quotes that invocation's spec and operands.

use crate::model::{Model, Tables};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// The name of the trait every kernel implements (on the tuple of normalised operands).
pub(crate) fn kernel_trait() -> Ident {
    Ident::new("__EinsumKernel", Span::call_site())
}

/// The name of the trait gradient kernels implement (`einsum_vjp!` only).
pub(crate) fn vjp_trait() -> Ident {
    Ident::new("__EinsumVjp", Span::call_site())
}

/// The name of the trait `einsum_into!`'s kernels implement: `__EinsumInto<Out>` on the tuple
/// of normalised operands, for the normalised output type `Out`.
pub(crate) fn into_trait() -> Ident {
    Ident::new("__EinsumInto", Span::call_site())
}

/// `__EinsumOutElement<T>`: the output's element type is operand 0's `T`.
pub(crate) fn out_element_trait() -> Ident {
    Ident::new("__EinsumOutElement", Span::call_site())
}

/// `__EinsumOutRank`: an ndarray dimension type that fits the output term.
pub(crate) fn out_rank_trait() -> Ident {
    Ident::new("__EinsumOutRank", Span::call_site())
}

/// `__EinsumOutExtentN<FIRST, THIS>`, implemented for `()` when `FIRST == THIS`: output axis
/// `n` of a fixed-size output has its label's extent.
pub(crate) fn out_extent_trait(axis: usize) -> Ident {
    format_ident!("__EinsumOutExtent{}", axis)
}

/// `__EinsumElementK`: operand `k`'s elements are numbers (`Element`).
pub(crate) fn element_trait(k: usize) -> Ident {
    format_ident!("__EinsumElement{}", k)
}

/// `__EinsumSameElementK<T>`: operand `k` (k >= 1) has operand 0's element type `T`.
pub(crate) fn same_element_trait(k: usize) -> Ident {
    format_ident!("__EinsumSameElement{}", k)
}

/// `__EinsumRankK`: an ndarray dimension type that fits operand `k`'s term.
pub(crate) fn rank_trait(k: usize) -> Ident {
    format_ident!("__EinsumRank{}", k)
}

/// `__EinsumExtentS_N<FIRST, THIS>`, implemented for `()` when `FIRST == THIS`: occurrence
/// `n` (n >= 1) of slot `s` has the extent of its first occurrence.
pub(crate) fn extent_trait(slot: usize, occurrence: usize) -> Ident {
    format_ident!("__EinsumExtent{}_{}", slot, occurrence)
}

/// Escapes `{` and `}` so user text survives `on_unimplemented`'s formatting.
fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// All the diagnostic traits an invocation needs, with their blanket impls.
///
/// Input: the model. Output: item definitions, to be placed in the block that holds the
/// kernels.
pub(crate) fn generate(model: &Model, krate: &TokenStream) -> TokenStream {
    let spec = escape(&model.text);
    let names: Vec<String> = model.operand_names.iter().map(|n| escape(n)).collect();
    let terms: Vec<String> = model
        .spec
        .inputs()
        .iter()
        .map(ToString::to_string)
        .collect();
    let private = quote!(#krate::__private);
    let mut items = TokenStream::new();

    let kernel = kernel_trait();
    let signature: Vec<String> = names
        .iter()
        .zip(&terms)
        .map(|(name, term)| format!("{name} has term `{term}`"))
        .collect();
    let kernel_message = format!("einsum `{spec}`: these operands cannot be contracted");
    let kernel_note = format!(
        "operands must be all fixed-size arrays (and plain numbers), or slices or `Vec`s of \
         fixed-size rows for the terms that start with the batch label (with fixed-size arrays \
         for the others), or all ndarray arrays and views, of one element type, each with as \
         many axes as its term: {}",
        signature.join(", ")
    );
    items.extend(quote! {
        #[diagnostic::on_unimplemented(
            message = #kernel_message,
            label = "operand types `{Self}` do not fit the spec",
            note = #kernel_note
        )]
        trait #kernel {
            type Output;
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError>;
        }
    });
    if let Some(gradients) = &model.gradients {
        let vjp_trait = vjp_trait();
        let methods = if gradients.into {
            quote! {
                type GradsMut<'__g>;
                fn vjp_into(self, gradient: &Self::Output, grads: Self::GradsMut<'_>, write: #private::Write) -> ::core::result::Result<(), #private::EinsumError>;
            }
        } else {
            quote! {
                type Grads;
                type Saved;
                fn run_saving(self) -> ::core::result::Result<(Self::Output, Self::Saved), #private::EinsumError>;
                fn vjp(self, saved: &Self::Saved, gradient: &Self::Output) -> ::core::result::Result<Self::Grads, #private::EinsumError>;
            }
        };
        items.extend(quote! {
            #[diagnostic::on_unimplemented(
                message = #kernel_message,
                label = "operand types `{Self}` do not fit the spec",
                note = #kernel_note
            )]
            trait #vjp_trait: #kernel + ::core::clone::Clone {
                #methods
            }
        });
    }

    for (k, (name, term)) in names.iter().zip(&terms).enumerate() {
        let element = element_trait(k);
        let rank = model.spec.inputs()[k].named_rank();
        let message = format!(
            "einsum `{spec}`: {name} has elements of type `{{Self}}`, which is not a number type"
        );
        let note = format!(
            "the elements must implement `einsum::Element`; for a fixed-size array this also \
             happens when it has more axes than its term `{term}` (rank {rank})"
        );
        items.extend(quote! {
            #[diagnostic::on_unimplemented(message = #message, label = "not an einsum element type", note = #note)]
            #[allow(non_camel_case_types)]
            trait #element: #private::Element {}
            impl<__T: #private::Element> #element for __T {}
        });
        if k > 0 {
            let same = same_element_trait(k);
            let first = &names[0];
            let message = format!(
                "einsum `{spec}`: {name} has element type `{{Self}}` but {first} has `{{T}}`"
            );
            items.extend(quote! {
                #[diagnostic::on_unimplemented(
                    message = #message,
                    label = "element types differ",
                    note = "all operands of an einsum have one element type; convert one of them first"
                )]
                #[allow(non_camel_case_types, dead_code)]
                trait #same<T>: ::core::marker::Sized {
                    fn same(self) -> T;
                    fn same_view<'v, D>(view: #private::ndarray::ArrayView<'v, Self, D>) -> #private::ndarray::ArrayView<'v, T, D>;
                    fn back_array<D>(array: #private::ndarray::Array<T, D>) -> #private::ndarray::Array<Self, D>;
                }
                impl<T> #same<T> for T {
                    #[inline(always)]
                    fn same(self) -> T {
                        self
                    }
                    #[inline(always)]
                    fn same_view<'v, D>(view: #private::ndarray::ArrayView<'v, T, D>) -> #private::ndarray::ArrayView<'v, T, D> {
                        view
                    }
                    #[inline(always)]
                    fn back_array<D>(array: #private::ndarray::Array<T, D>) -> #private::ndarray::Array<T, D> {
                        array
                    }
                }
            });
        }
    }

    if let Some(tables) = &model.tables {
        items.extend(rank_traits(model, &spec, &names, &terms, &private));
        items.extend(extent_traits(tables, &spec, &names));
    }
    items
}

/// The diagnostic traits of `einsum_into!`'s output: the kernel trait `__EinsumInto<Out>`,
/// its element type, its rank (ndarray) and its extents (fixed-size arrays).
pub(crate) fn generate_into(model: &Model, tables: &Tables, krate: &TokenStream) -> TokenStream {
    let spec = escape(&model.text);
    let output = escape(model.output_name.as_deref().unwrap_or("the output"));
    let first = escape(&model.operand_names[0]);
    let private = quote!(#krate::__private);
    let into = into_trait();
    let message = format!(
        "einsum `{spec}`: these operands cannot be contracted into {output} of type `{{Out}}`"
    );
    let note = "the output is a mutable reference to an array of the operands' kind: an \
                ndarray array or view for ndarray operands, a fixed-size array (or a number, for \
                a scalar result) for fixed-size operands, a slice or `Vec` of rows when the \
                result is a batch of rows; of the operands' element type, with as many axes as \
                the output term";
    let element = out_element_trait();
    let element_message =
        format!("einsum `{spec}`: {output} has element type `{{Self}}` but {first} has `{{T}}`");
    let rank = out_rank_trait();
    let output_rank = tables.output.len();
    let term = model.spec.output().to_string();
    let rank_message = format!(
        "einsum `{spec}`: {output} must have {output_rank} {} for the output term `{term}`, but \
         its dimension type is `{{Self}}`",
        axes(output_rank)
    );
    let rank_item = rank_trait_item(
        &rank,
        output_rank,
        &rank_message,
        "an `IxDyn` array is accepted for any output term and checked when the einsum runs",
        &private,
    );
    let mut items = quote! {
        #[diagnostic::on_unimplemented(
            message = #message,
            label = "operand types `{Self}` do not fit the spec and output",
            note = #note
        )]
        trait #into<Out> {
            fn run_into(self, out: Out, write: #private::Write) -> ::core::result::Result<(), #private::EinsumError>;
        }
        #[diagnostic::on_unimplemented(
            message = #element_message,
            label = "element types differ",
            note = "the output has the operands' element type"
        )]
        #[allow(non_camel_case_types, dead_code)]
        trait #element<T>: ::core::marker::Sized {
            fn store(write: #private::Write, target: &mut Self, value: T);
            fn same_view_mut<'v, D>(view: #private::ndarray::ArrayViewMut<'v, Self, D>) -> #private::ndarray::ArrayViewMut<'v, T, D>;
        }
        impl<T: #private::Element> #element<T> for T {
            #[inline(always)]
            fn store(write: #private::Write, target: &mut T, value: T) {
                write.apply(target, value);
            }
            #[inline(always)]
            fn same_view_mut<'v, D>(view: #private::ndarray::ArrayViewMut<'v, T, D>) -> #private::ndarray::ArrayViewMut<'v, T, D> {
                view
            }
        }
        #rank_item
    };
    for (axis, &slot) in tables.output.iter().enumerate() {
        let extent = out_extent_trait(axis);
        let label = tables.labels[slot];
        let (operand, _) = tables.first_occurrence(slot);
        let message = format!(
            "einsum `{spec}`: label `{label}` is {{FIRST}} in {} but {{THIS}} in {output}",
            escape(&model.operand_names[operand])
        );
        items.extend(equal_extents_trait(&extent, &message, label));
    }
    items
}

/// One `__EinsumRankK` per operand, implemented for `Dim<[usize; rank]>` and `IxDyn`.
fn rank_traits(
    model: &Model,
    spec: &str,
    names: &[String],
    terms: &[String],
    private: &TokenStream,
) -> TokenStream {
    let mut items = TokenStream::new();
    for (k, (name, term)) in names.iter().zip(terms).enumerate() {
        let rank_trait = rank_trait(k);
        let rank = model.spec.inputs()[k].named_rank();
        let message = format!(
            "einsum `{spec}`: {name} must have {rank} {} for its term `{term}`, but its \
             dimension type is `{{Self}}`",
            axes(rank)
        );
        items.extend(rank_trait_item(
            &rank_trait,
            rank,
            &message,
            "an `IxDyn` array is accepted for any term and checked when the einsum runs",
            private,
        ));
    }
    items
}

/// One `__EinsumExtentS_N` per repeated occurrence of a label, for fixed-size operands.
fn extent_traits(tables: &Tables, spec: &str, names: &[String]) -> TokenStream {
    let mut items = TokenStream::new();
    for (slot, &label) in tables.labels.iter().enumerate() {
        let occurrences = tables.occurrences(slot);
        let (first_operand, first_axis) = occurrences[0];
        for (n, &(operand, axis)) in occurrences.iter().enumerate().skip(1) {
            let extent = extent_trait(slot, n);
            let message = if operand == first_operand {
                format!(
                    "einsum `{spec}`: label `{label}` is repeated in {} with extents {{FIRST}} \
                     (axis {first_axis}) and {{THIS}} (axis {axis}): a diagonal needs equal extents",
                    names[operand]
                )
            } else {
                format!(
                    "einsum `{spec}`: label `{label}` is {{FIRST}} in {} but {{THIS}} in {}",
                    names[first_operand], names[operand]
                )
            };
            items.extend(equal_extents_trait(&extent, &message, label));
        }
    }
    items
}

/// `axis` or `axes`, for a count of `rank`.
fn axes(rank: usize) -> &'static str {
    if rank == 1 {
        "axis"
    } else {
        "axes"
    }
}

/// A rank check: the trait `name`, implemented for the ndarray dimension type of `rank` axes
/// (when there is one) and for `IxDyn`, whose message is `message`.
fn rank_trait_item(
    name: &Ident,
    rank: usize,
    message: &str,
    note: &str,
    private: &TokenStream,
) -> TokenStream {
    let static_impl =
        (rank <= 6).then(|| quote!(impl #name for #private::ndarray::Dim<[usize; #rank]> {}));
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = "wrong number of axes", note = #note)]
        #[allow(non_camel_case_types)]
        trait #name: #private::ndarray::Dimension {}
        #static_impl
        impl #name for #private::ndarray::IxDyn {}
    }
}

/// An extent check: the trait `name<FIRST, THIS>`, implemented for `()` when the two are
/// equal, whose message is `message`, labelled with the label whose extents differ.
fn equal_extents_trait(name: &Ident, message: &str, label: char) -> TokenStream {
    let label_text = format!("extents of label `{label}` differ");
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = #label_text)]
        #[allow(non_camel_case_types)]
        trait #name<const FIRST: usize, const THIS: usize> {}
        impl<const N: usize> #name<N, N> for () {}
    }
}

/// The `einsum_vjp!` items of a kernel whose forward pass keeps nothing for the gradients
/// (fixed-size arrays, batches, `...` specs): `Saved` is `()`.
pub(crate) fn nothing_saved(private: &TokenStream) -> TokenStream {
    let kernel = kernel_trait();
    quote! {
        type Saved = ();

        #[inline]
        fn run_saving(self) -> ::core::result::Result<(Self::Output, ()), #private::EinsumError> {
            <Self as #kernel>::run(self).map(|output| (output, ()))
        }
    }
}
