//! The kernel for batches: slices (or `Vec`s) of fixed-size rows, with a run-time batch
//! extent and constant row extents.
//!
//! Input: `"ijk,bj,bk->bi"` with operands `[[[T; K]; J]; I]`, `&[[T; J]]` and `&[[T; K]]`.
//! Output, in essence:
//!
//! ```text
//! impl<'a, T0, T1, T2, const E0_0, …> Kernel for (&'a [[[T0; E0_2]; E0_1]; E0_0], &'a [[T1; E1_1]], &'a [[T2; E2_1]])
//! where /* element and extent bounds as for fixed-size arrays, but none on `b` */
//! {
//!     type Output = Vec<[T0; E0_0]>;
//!     fn run(self) -> Result<Self::Output, EinsumError> {
//!         let n = batch_extent("ijk,bj,bk->bi", 'b', &[(1, op1.len()), (2, op2.len())])?;
//!         let (op1, op2) = (&op1[..n], &op2[..n]);
//!         let out = (0..n)
//!             .map(|b| {
//!                 let mut row = [zero; E0_0];
//!                 for i in 0..E0_0 { /* sum over j, k of op0[i][j][k] * op1[b][j] * op2[b][k] */ }
//!                 row
//!             })
//!             .collect();
//!         Ok(out)
//!     }
//! }
//! ```
//!
//! The batch label is the output's first label, or else the first operand's first label, when
//! every term that has it has it once and first; operands with it are slices, the others
//! fixed-size arrays or numbers. Each row is the fixed-size kernel's loop nest with constant
//! bounds, and the batch loop runs over re-sliced operands whose length the compiler knows,
//! so the hot loop has no bounds checks and no per-row overhead. A batch label that is summed
//! gives a fixed-size output.

use crate::diagnostics::kernel_trait;
use crate::gen_fixed::{
    elem_param, element, element_bounds, extent_bounds, extent_param, factor, grad_var,
    gradient_term, gradient_update, nested_array, operand_var, product, slot_index,
};
use crate::gen_into::{self, FixedOutput};
use crate::gen_vjp;
use crate::model::{Gradients, Tables};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The slot that indexes the batch, if the spec has one that every term holding it holds once
/// and first: the output's first slot, or else the first operand's.
fn batch_slot(tables: &Tables) -> Option<usize> {
    let first_of_operands = tables.inputs.iter().find_map(|axes| axes.first());
    let leads_everywhere = |slot: usize| {
        tables
            .inputs
            .iter()
            .chain(core::iter::once(&tables.output))
            .all(|axes| {
                axes.iter().position(|&s| s == slot).is_none_or(|p| p == 0)
                    && axes.iter().filter(|&&s| s == slot).count() <= 1
            })
    };
    tables
        .output
        .first()
        .into_iter()
        .chain(first_of_operands)
        .copied()
        .find(|&slot| leads_everywhere(slot))
}

/// What the generator needs to know about one invocation's batch.
struct Batch<'t> {
    tables: &'t Tables,
    /// The batch slot.
    slot: usize,
}

impl Batch<'_> {
    fn is_sliced(&self, k: usize) -> bool {
        self.tables.inputs[k].first() == Some(&self.slot)
    }

    fn output_is_batched(&self) -> bool {
        self.tables.output.first() == Some(&self.slot)
    }

    /// The loop bound of `slot`: the run-time batch extent or a row's const extent.
    fn bound(&self, slot: usize) -> TokenStream {
        if slot == self.slot {
            quote!(__n)
        } else {
            let (k, axis) = self.tables.first_occurrence(slot);
            let extent = extent_param(k, axis);
            quote!(#extent)
        }
    }

    /// The const extent parameters of operand `k`'s row (every axis but a batch axis).
    fn row_extents(&self, k: usize) -> Vec<Ident> {
        let skip = usize::from(self.is_sliced(k));
        (skip..self.tables.inputs[k].len())
            .map(|axis| extent_param(k, axis))
            .collect()
    }

    /// Operand `k`'s type for element type `elem`: `&[Row]` when sliced, else `&Row` (a
    /// fixed-size array, or a number when the row has no axes).
    fn operand_type(&self, k: usize, elem: &TokenStream) -> TokenStream {
        let row = nested_array(elem, &self.row_extents(k));
        if self.is_sliced(k) {
            quote!(&'__a [#row])
        } else {
            quote!(&'__a #row)
        }
    }

    /// The gradient type of operand `k`: `Vec<Row>`, a fixed-size array or a number.
    fn gradient_type(&self, k: usize, elem: &TokenStream) -> TokenStream {
        let row = nested_array(elem, &self.row_extents(k));
        if self.is_sliced(k) {
            quote!(::std::vec::Vec<#row>)
        } else {
            row
        }
    }

    /// The type of the caller's buffer for operand `k`'s gradient: `&mut [Row]` when sliced,
    /// else `&mut Row`.
    fn buffer_type(&self, k: usize, elem: &TokenStream) -> TokenStream {
        let row = nested_array(elem, &self.row_extents(k));
        if self.is_sliced(k) {
            quote!(&'__g mut [#row])
        } else {
            quote!(&'__g mut #row)
        }
    }

    /// The output's row extents (every output slot but a batch slot).
    fn output_row_extents(&self) -> Vec<TokenStream> {
        let skip = usize::from(self.output_is_batched());
        self.tables.output[skip..]
            .iter()
            .map(|&s| self.bound(s))
            .collect()
    }
}

/// Generates the batch kernel impl (and with `vjp` its gradient) when the spec has a batch
/// label; nothing otherwise.
pub(crate) fn generate(
    tables: &Tables,
    spec: &str,
    krate: &TokenStream,
    gradients: Option<&Gradients>,
    into: bool,
) -> TokenStream {
    let Some(slot) = batch_slot(tables) else {
        return TokenStream::new();
    };
    let batch = Batch { tables, slot };
    let private = quote!(#krate::__private);
    let nothing_saved = crate::diagnostics::nothing_saved(&private);
    let kernel = kernel_trait();
    let operands = tables.inputs.len();

    let mut generics = vec![quote!('__a)];
    let mut operand_types = Vec::new();
    let mut bounds = Vec::new();
    for k in 0..operands {
        let elem = elem_param(k);
        generics.push(quote!(#elem));
        generics.extend(batch.row_extents(k).iter().map(|e| quote!(const #e: usize)));
        operand_types.push(batch.operand_type(k, &quote!(#elem)));
        bounds.extend(element_bounds(k));
    }
    bounds.extend(extent_bounds(tables, Some(slot)));

    let t0 = elem_param(0);
    let t0 = quote!(#t0);
    let zero = quote!(<#t0 as #private::Zero>::zero());
    let output_row = nested_array(&t0, &batch.output_row_extents());
    let output_type = if batch.output_is_batched() {
        quote!(::std::vec::Vec<#output_row>)
    } else {
        output_row.clone()
    };
    let vars: Vec<Ident> = (0..operands).map(operand_var).collect();
    let sliced: Vec<usize> = (0..operands).filter(|&k| batch.is_sliced(k)).collect();
    let label = tables.labels[slot];
    let lengths = sliced.iter().map(|&k| {
        let var = operand_var(k);
        quote!((#k, #var.len()))
    });
    let reslice = sliced.iter().map(|&k| {
        let var = operand_var(k);
        quote!(let #var = &#var[..__n];)
    });
    let prologue = quote! {
        let (#(#vars,)*) = self;
        let __n = #private::batch_extent(#spec, #label, &[#(#lengths),*])?;
        #(#reslice)*
    };
    let body = forward(&batch, &zero, &output_row);

    let vjp_impl = gradients.map(|gradients| {
        let grad_types: Vec<TokenStream> =
            (0..operands).map(|k| batch.gradient_type(k, &t0)).collect();
        let buffer_types: Vec<TokenStream> =
            (0..operands).map(|k| batch.buffer_type(k, &t0)).collect();
        let check = batch.output_is_batched().then(|| {
            let row_shape = batch.output_row_extents();
            quote! {
                #private::check_gradient_rows(#spec, __n, __grad.len(), &[#(#row_shape),*])?;
                let __grad = &__grad[..__n];
            }
        });
        let into = gradients.into.then_some((&private, spec));
        let body = gradients_of(&batch, &zero, gradients, into);
        let done = gradients
            .into
            .then(|| quote!(::core::result::Result::Ok(())));
        gen_vjp::vjp_impl(&gen_vjp::VjpImpl {
            generics: &generics,
            operand_types: &operand_types,
            bounds: &bounds,
            gradients,
            grad_types: &grad_types,
            buffer_types: &buffer_types,
            saving: &nothing_saved,
            body: &quote! {
                #prologue
                #check
                #body
                #done
            },
            private: &private,
        })
    });

    let into_impl = into.then(|| {
        let skip = usize::from(batch.output_is_batched());
        let out = FixedOutput::new(tables, skip, |slot| batch.bound(slot));
        let out_row = &out.ty;
        let (out_type, body) = if batch.output_is_batched() {
            // Each row is computed in a local and written into its place in the output.
            let row = output_row_at(&batch, &zero, &output_row);
            let write = out.write(&quote!(__row), &quote!((*__target)));
            let b = slot_index(batch.slot);
            let first = sliced[0];
            let body = quote! {
                #prologue
                #private::check_output_rows(#spec, #label, (#first, __n), __out.len())?;
                for (#b, __target) in __out.iter_mut().enumerate() {
                    #row
                    #write
                }
                ::core::result::Result::Ok(())
            };
            (quote!(&'__o mut [#out_row]), body)
        } else {
            let write = out.write(&quote!(__value), &quote!((*__out)));
            let body = quote! {
                let __value: #output_type = <Self as #kernel>::run(self)?;
                #write
                ::core::result::Result::Ok(())
            };
            (quote!(&'__o mut #out_row), body)
        };
        gen_into::into_impl(
            &[generics.clone(), out.generics].concat(),
            &operand_types,
            &[bounds.clone(), out.bounds].concat(),
            &out_type,
            &body,
            &private,
        )
    });

    quote! {
        #into_impl
        #[allow(clippy::all, clippy::pedantic, clippy::nursery, non_camel_case_types, unused_parens)]
        impl<#(#generics),*> #kernel for (#(#operand_types,)*)
        where
            #(#bounds,)*
        {
            type Output = #output_type;

            #[inline]
            fn run(self) -> ::core::result::Result<Self::Output, #private::EinsumError> {
                #prologue
                #body
                ::core::result::Result::Ok(__out)
            }
        }
        #vjp_impl
    }
}

/// `for` loops over `slots` (outermost first) around `inner`.
fn loops(batch: &Batch<'_>, slots: &[usize], inner: TokenStream) -> TokenStream {
    slots.iter().rev().fold(inner, |inner, &s| {
        let index = slot_index(s);
        let bound = batch.bound(s);
        quote!(for #index in 0..#bound { #inner })
    })
}

/// Every slot but the batch's, in order of first occurrence in the operands, which is the
/// order slots are numbered in (`einsum_spec::Contraction`).
fn in_operand_order(batch: &Batch<'_>) -> Vec<usize> {
    (0..batch.tables.labels.len())
        .filter(|&s| s != batch.slot)
        .collect()
}

/// The forward pass; defines `__out`. A batched output is built row by row; a summed batch
/// is the outermost loop, accumulating into the fixed-size output.
fn forward(batch: &Batch<'_>, zero: &TokenStream, output_row: &TokenStream) -> TokenStream {
    let b = slot_index(batch.slot);
    if batch.output_is_batched() {
        let row = output_row_at(batch, zero, output_row);
        // Collecting from a mapped range writes each row in place, without the capacity
        // check a `push` makes per row.
        return quote! {
            let __out: ::std::vec::Vec<#output_row> = (0..__n)
                .map(|#b| {
                    #row
                    __row
                })
                .collect();
        };
    }
    let tables = batch.tables;
    let product = product(tables, None);
    let summed: Vec<usize> = tables
        .summed()
        .into_iter()
        .filter(|&s| s != batch.slot)
        .collect();
    // The batch is summed: every output slot is a row slot.
    let indices = tables.output.iter().map(|&s| slot_index(s));
    let row_element = quote!(__row #([#indices])*);
    let zeros = nested_array(zero, &batch.output_row_extents());
    let accumulate = loops(
        batch,
        &tables.output,
        loops(
            batch,
            &summed,
            quote!(#row_element = #row_element + #product;),
        ),
    );
    quote! {
        let mut __row: #output_row = #zeros;
        for #b in 0..__n {
            #accumulate
        }
        let __out = __row;
    }
}

/// Statements that define `__row`, the output row at batch index `__bB` (a batched output).
fn output_row_at(batch: &Batch<'_>, zero: &TokenStream, output_row: &TokenStream) -> TokenStream {
    let tables = batch.tables;
    let product = product(tables, None);
    let row_slots: Vec<usize> = tables
        .output
        .iter()
        .copied()
        .filter(|&s| s != batch.slot)
        .collect();
    let row_indices = row_slots.iter().map(|&s| slot_index(s));
    let row_element = quote!(__row #([#row_indices])*);
    let zeros = nested_array(zero, &batch.output_row_extents());
    let row = if tables.summed().iter().all(|&s| s == batch.slot) {
        loops(batch, &row_slots, quote!(#row_element = #product;))
    } else {
        // The operands' own order, the output row accumulating in place: the innermost
        // loop then walks the last operand's row contiguously, as a hand-written loop
        // would (faster on `bi,bijk,bk->bj` than the output's labels outermost with each
        // element summed in a local).
        let slots = in_operand_order(batch);
        loops(
            batch,
            &slots,
            quote!(#row_element = #row_element + #product;),
        )
    };
    quote! {
        let mut __row: #output_row = #zeros;
        #row
    }
}

/// How many elements a fixed-size operand's gradient may have and still be summed over the
/// batch in one pass: about what the registers hold. A larger one is summed one slice along
/// its first axis at a time, so that the slice's sums stay in registers rather than making a
/// load, an add and a store per element per row.
const REGISTER_ELEMENTS: usize = 16;

/// The wanted operands' gradients. As values (`into` is `None`), defines `__gK` for each; into
/// the caller's buffers `__bK` (`into` is the facade's `__private` path and the spec, for the
/// length check), writes them as `__write` says. The batch operands' rows come from one pass
/// over the batch that builds each gradient row in a local row and stores it once (see
/// [`rows_pass`]). Each fixed-size operand's gradient is a sum over the whole batch, made in
/// passes of its own (see [`fixed_gradient`]): fused with the rows, its sums would not fit in
/// registers.
fn gradients_of(
    batch: &Batch<'_>,
    zero: &TokenStream,
    wanted: &Gradients,
    into: Option<(&TokenStream, &str)>,
) -> TokenStream {
    let tables = batch.tables;
    let slots = in_operand_order(batch);
    let rows = rows_pass(batch, zero, &slots, wanted, into);
    let fixed = (0..tables.inputs.len())
        .filter(|&k| !batch.is_sliced(k) && wanted.wants(k))
        .map(|k| {
            let gradient = fixed_gradient(batch, k, zero, &slots);
            let store = into.map(|_| {
                let extents: Vec<TokenStream> =
                    batch.row_extents(k).iter().map(|e| quote!(#e)).collect();
                gen_vjp::store_fixed(k, &extents)
            });
            quote!(#gradient #store)
        });
    quote! {
        #rows
        #(#fixed)*
    }
}

/// The labels of the batch operands' shared factor: the output gradient times every
/// fixed-size operand, summed over the labels no batch operand has.
struct SharedFactor {
    /// The factor's labels (slots), which some batch operand has.
    axes: Vec<usize>,
    /// The labels it is summed over.
    summed: Vec<usize>,
}

impl SharedFactor {
    /// The shared factor of the batch operands' gradients, if it sums over some label: in
    /// `ijk,bj,bk->bi`, `t[j][k] = sum over i of g[b][i] * eps[i][j][k]`, which both rows'
    /// gradients then contract with the other row (`g1[b][j] = sum over k of t[j][k] *
    /// op2[b][k]`). That is 45 multiplications a row where the plain nest makes 81. Without a
    /// label to sum over, the factor saves nothing.
    fn of(batch: &Batch<'_>, slots: &[usize]) -> Option<Self> {
        let tables = batch.tables;
        let sliced: Vec<&Vec<usize>> = (0..tables.inputs.len())
            .filter(|&k| batch.is_sliced(k))
            .map(|k| &tables.inputs[k])
            .collect();
        let in_factor = |s: &usize| {
            tables.output.contains(s)
                || (0..tables.inputs.len())
                    .any(|k| !batch.is_sliced(k) && tables.inputs[k].contains(s))
        };
        let in_sliced = |s: &usize| sliced.iter().any(|axes| axes.contains(s));
        let (axes, summed): (Vec<usize>, Vec<usize>) =
            slots.iter().copied().filter(in_factor).partition(in_sliced);
        (!summed.is_empty()).then_some(Self { axes, summed })
    }

    /// `__shared` at the current indices.
    fn element(&self) -> TokenStream {
        let indices = self.axes.iter().map(|&s| slot_index(s));
        quote!(__shared #([#indices])*)
    }

    /// Defines `__shared` for the current row (or once, when the output has no batch axis):
    /// a nest with the summed labels outermost, so each step scales one slice of the
    /// fixed-size operands.
    fn compute(&self, batch: &Batch<'_>, zero: &TokenStream) -> TokenStream {
        let tables = batch.tables;
        let extents: Vec<TokenStream> = self.axes.iter().map(|&s| batch.bound(s)).collect();
        let zeros = nested_array(zero, &extents);
        let target = self.element();
        let upstream = element(tables, None);
        let fixed = (0..tables.inputs.len())
            .filter(|&k| !batch.is_sliced(k))
            .map(|k| factor(tables, k));
        let slots: Vec<usize> = self.summed.iter().chain(&self.axes).copied().collect();
        let nest = loops(
            batch,
            &slots,
            quote!(#target = #target + #upstream #(* #fixed)*;),
        );
        quote! {
            let mut __shared = #zeros;
            #nest
        }
    }
}

/// The wanted batch operands' gradients, row by row: declares each `__gK` and fills it, or
/// (with `into`, as for [`gradients_of`]) fills the caller's `__bK` after checking its length.
/// Each row of a gradient is summed in a local row and stored once. `slots` are the nest's
/// slots in the operands' order, the batch's excluded. Empty when no wanted operand is a
/// batch.
fn rows_pass(
    batch: &Batch<'_>,
    zero: &TokenStream,
    slots: &[usize],
    wanted: &Gradients,
    into: Option<(&TokenStream, &str)>,
) -> TokenStream {
    let tables = batch.tables;
    let sliced: Vec<usize> = (0..tables.inputs.len())
        .filter(|&k| batch.is_sliced(k))
        .collect();
    let computed: Vec<usize> = sliced
        .iter()
        .copied()
        .filter(|&k| wanted.wants(k))
        .collect();
    if computed.is_empty() {
        return TokenStream::new();
    }
    let shared = SharedFactor::of(batch, slots);
    let nest_slots: Vec<usize> = match &shared {
        Some(shared) => slots
            .iter()
            .copied()
            .filter(|s| !shared.summed.contains(s))
            .collect(),
        None => slots.to_vec(),
    };
    let b = slot_index(batch.slot);
    let mut declarations = TokenStream::new();
    let mut row_starts = TokenStream::new();
    let mut updates = TokenStream::new();
    let mut row_stores = TokenStream::new();
    for &k in &computed {
        let var = grad_var(k);
        let extents = batch.row_extents(k);
        let zeros = nested_array(zero, &extents);
        let rows = format_ident!("__rows{}", k);
        let row = format_ident!("__row{}", k);
        match into {
            None => {
                declarations.extend(quote! {
                    let mut #var = ::std::vec![#zeros; __n];
                    let #rows = &mut #var[..__n];
                });
                row_stores.extend(quote!(#rows[#b] = #row;));
            }
            Some((private, spec)) => {
                let buffer = gen_vjp::buffer_var(k);
                declarations.extend(quote! {
                    #private::check_gradient_buffer_rows(#spec, #k, __n, #buffer.len(), &[#(#extents),*])?;
                    let #rows = &mut #buffer[..__n];
                });
                let indices: Vec<Ident> = (0..extents.len())
                    .map(|a| format_ident!("__i{}", a))
                    .collect();
                let add = indices.iter().zip(&extents).rev().fold(
                    quote!(#rows[#b] #([#indices])* = #rows[#b] #([#indices])* + #row #([#indices])*;),
                    |inner, (index, extent)| quote!(for #index in 0..#extent { #inner }),
                );
                row_stores.extend(quote! {
                    match __write {
                        #private::Write::Assign => #rows[#b] = #row,
                        #private::Write::Add => { #add }
                    }
                });
            }
        }
        let term = match &shared {
            Some(shared) => {
                let factor_element = shared.element();
                let others = sliced
                    .iter()
                    .filter(|&&j| j != k)
                    .map(|&j| factor(tables, j));
                quote!(#factor_element #(* #others)*)
            }
            None => gradient_term(tables, k),
        };
        let row_axes = &tables.inputs[k][1..];
        let indices: Vec<Ident> = row_axes.iter().map(|&s| slot_index(s)).collect();
        row_starts.extend(quote!(let mut #row = #zeros;));
        updates.extend(if visits_once(row_axes, &nest_slots) {
            // Each step of the nest makes one element of the row: assigned, not added to
            // zero (the compiler then drops the zeroing too).
            quote!(#row #([#indices])* = #term;)
        } else {
            quote!(#row #([#indices])* = #row #([#indices])* + #term;)
        });
    }
    let (per_row, once) = match &shared {
        Some(shared) if batch.output_is_batched() => (shared.compute(batch, zero), None),
        Some(shared) => (TokenStream::new(), Some(shared.compute(batch, zero))),
        None => (TokenStream::new(), None),
    };
    let nest = loops(batch, &nest_slots, updates);
    quote! {
        #declarations
        #once
        for #b in 0..__n {
            #row_starts
            #per_row
            #nest
            #row_stores
        }
    }
}

/// Whether a nest over `slots` visits each element of a row with `axes` exactly once: the row
/// has every slot of the nest, none twice.
fn visits_once(axes: &[usize], slots: &[usize]) -> bool {
    slots.iter().all(|s| axes.contains(s))
        && axes
            .iter()
            .enumerate()
            .all(|(a, s)| slots.contains(s) && !axes[..a].contains(s))
}

/// The gradient of fixed-size operand `k`, summed over the batch; defines `__gK`. `slots` are
/// the nest's slots in the operands' order, the batch's excluded.
///
/// When the gradient has more than [`REGISTER_ELEMENTS`] elements and its first label occurs
/// once in the operand, it is made one slice along that first axis at a time: a pass over the
/// batch per slice, summing into a local slice the compiler keeps in registers. The choice is a
/// condition on const extents, which the compiler folds.
fn fixed_gradient(batch: &Batch<'_>, k: usize, zero: &TokenStream, slots: &[usize]) -> TokenStream {
    let tables = batch.tables;
    let axes = &tables.inputs[k];
    let var = grad_var(k);
    let extents = batch.row_extents(k);
    let whole_zeros = nested_array(zero, &extents);
    let b = slot_index(batch.slot);
    let indices = axes.iter().map(|&s| slot_index(s));
    let whole_update = gradient_update(tables, k, &quote!(#var #([#indices])*));
    let whole_nest = loops(batch, slots, whole_update);
    let in_one_pass = quote! {
        let mut #var = #whole_zeros;
        for #b in 0..__n {
            #whole_nest
        }
    };
    let Some((&lead, rest)) = axes.split_first() else {
        return in_one_pass;
    };
    if rest.is_empty() || rest.contains(&lead) {
        return in_one_pass;
    }
    let slice = format_ident!("__slice{}", k);
    let slice_zeros = nested_array(zero, &extents[1..]);
    let rest_indices = rest.iter().map(|&s| slot_index(s));
    let slice_update = gradient_update(tables, k, &quote!(#slice #([#rest_indices])*));
    let inner_slots: Vec<usize> = slots.iter().copied().filter(|&s| s != lead).collect();
    let slice_nest = loops(batch, &inner_slots, slice_update);
    let lead_index = slot_index(lead);
    let lead_extent = &extents[0];
    quote! {
        let #var = if 1 #(* #extents)* > #REGISTER_ELEMENTS {
            let mut #var = #whole_zeros;
            for #lead_index in 0..#lead_extent {
                let mut #slice = #slice_zeros;
                for #b in 0..__n {
                    #slice_nest
                }
                #var[#lead_index] = #slice;
            }
            #var
        } else {
            #in_one_pass
            #var
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(inputs: &[&[usize]], output: &[usize], labels: &str) -> Tables {
        Tables {
            labels: labels.chars().collect(),
            inputs: inputs.iter().map(|axes| axes.to_vec()).collect(),
            output: output.to_vec(),
        }
    }

    #[test]
    fn a_row_is_visited_once_when_it_has_every_slot_of_the_nest_once() {
        assert!(visits_once(&[0, 1, 2], &[0, 1, 2]));
        assert!(visits_once(&[2, 0, 1], &[0, 1, 2]));
        // A slot the row lacks is summed: several steps add to one element.
        assert!(!visits_once(&[0, 1], &[0, 1, 2]));
        // A diagonal row: the nest over `i` reaches only part of it, and each element of
        // that part through two axes.
        assert!(!visits_once(&[0, 0], &[0]));
        // A row slot the nest does not run over.
        assert!(!visits_once(&[0, 1], &[0]));
    }

    #[test]
    fn the_batch_is_the_output_lead_or_else_the_first_operand_lead() {
        // ijk,bj,bk->bi: b (slot 3) leads the output and both rows operands.
        let cross = tables(&[&[0, 1, 2], &[3, 1], &[3, 2]], &[3, 0], "ijkb");
        assert_eq!(batch_slot(&cross), Some(3));
        // bi,bj->ij: the output's lead i is second in `bi`, so the batch is b, summed.
        let covariance = tables(&[&[0, 1], &[0, 2]], &[1, 2], "bij");
        assert_eq!(batch_slot(&covariance), Some(0));
        // ij,jk->ik: i leads the output and the one term that has it: rows of `a` times `b`.
        let matmul = tables(&[&[0, 1], &[1, 2]], &[0, 2], "ijk");
        assert_eq!(batch_slot(&matmul), Some(0));
        // ii->i: i occurs twice in one term, so there is no batch.
        let diagonal = tables(&[&[0, 0]], &[0], "i");
        assert_eq!(batch_slot(&diagonal), None);
        // ij->ji: i is second in the output and j second in the operand.
        let transpose = tables(&[&[0, 1]], &[1, 0], "ij");
        assert_eq!(batch_slot(&transpose), None);
        // ->: nothing to batch.
        assert_eq!(batch_slot(&tables(&[&[]], &[], "")), None);
    }
}
