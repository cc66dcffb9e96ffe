//! Contraction order for fixed-size operands, planned at compile time with the real extents.
//!
//! The extents of fixed-size operands are const generic parameters of the generated impl: the
//! macro cannot see their values, but after monomorphisation they are constants. So the
//! macro emits every candidate evaluation order it considers, and a constant computed from
//! the const generics (an associated `const` of a generated trait) says which one runs. Each
//! choice is read in an inline `const { … }` block, so the `match` on it is decided during
//! compilation and only the chosen loop nests survive in the binary.
//!
//! Input: a [`Problem`], the leaves to contract (operands, or in gradients the output
//! gradient and the other operands) and the slots of the result. Output ([`Planned`]): an
//! expression with the result's value and, when there is a choice to make, the choice
//! constant and the methods it chooses between, which live in the inherent impl of a struct
//! holding the operands ([`OPERANDS`]). For `"ij,jk,kl->il"`, in essence:
//!
//! ```text
//! struct __EinsumFixed<'a, T, const I, …>(&'a [[T; J]; I], &'a [[T; K]; J], &'a [[T; L]; K]);
//! impl<…> __EinsumFixed<…> {
//!     const FORWARD: [usize; 1] = { /* costs from I, J, K, L: 0 = direct, 1.. = splits */ };
//!     fn forward_3(&self) -> [[T; K]; I] { /* ab: i,j,k -> i,k */ }
//!     fn forward_6(&self) -> [[T; L]; J] { /* bc: j,k,l -> j,l */ }
//!     fn forward_5(&self) -> [[T; L]; I] … // ac (an outer product)
//!     fn forward(&self) -> [[T; L]; I] {
//!         match const { Self::FORWARD[0] } {
//!             1 => { let l = self.forward_3(); /* (ab) c: i,k,l -> i,l */ }
//!             2 => { let r = self.forward_6(); /* a (bc) */ }
//!             3 => { /* (ac) b */ }
//!             _ => { /* the direct nest over i, l, j, k */ }
//!         }
//!     }
//! }
//! ```
//!
//! **Candidates and choice** come from `einsum_spec::path::fixed`, the module the run-time
//! path search lives in: [`fixed::Candidates`] lists the direct nest and the pairwise trees
//! considered (every tree up to four leaves, contiguous runs up to six, left to right
//! beyond), and the choice constant is a call to the `const fn` [`fixed::choose`] on a table
//! of them, which costs each candidate by the search's rule. This module only turns the
//! candidates into code.
//!
//! Subsets are shared between trees: each intermediate is one method that evaluates the
//! best split of its subset, so the code grows with the number of (subset, split) pairs, not
//! with the number of trees. (Methods rather than closures in one function body: type
//! checking and borrow checking one large body with nested closures took 2.3x longer.)

use super::{elem_param, nested_array, operand_var, slot_index};
use crate::diagnostics::same_element_trait;
use einsum_spec::path::fixed::{self, CandidateStep, Candidates, Mask, Operand};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

/// Where a leaf's elements come from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    /// Operand `k` of the invocation: `__opK`, a reference to a fixed-size array or number,
    /// whose elements are converted to operand 0's element type.
    Operand(usize),
    /// The upstream gradient `__grad` (a reference to a value of the output's type).
    Gradient,
}

/// One tensor a contraction reads.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    /// Where its elements come from.
    pub source: Source,
    /// The slot of each axis, outermost first; a slot may repeat (a diagonal).
    pub axes: Vec<usize>,
}

/// A contraction of `leaves` into an array over the distinct slots `target`.
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    /// The tensors multiplied together.
    pub leaves: Vec<Leaf>,
    /// The slots of the result's axes, outermost first, each once. Every one occurs in a leaf.
    pub target: Vec<usize>,
    /// The const generic parameter that gives each of the result's axes its extent in the
    /// result's type (equal to the slot's extent, but not known to the type checker to be).
    pub result_extents: Vec<Ident>,
    /// Whether this is one operand's gradient: then every tree is searched only up to three
    /// leaves, and contiguous runs beyond, which keeps a gradient's expansion (one problem
    /// per operand) within a few times the forward one.
    pub gradient: bool,
}

/// Every tree is a candidate up to this many leaves in a gradient.
const GRADIENT_EVERY_TREE_UP_TO: usize = 3;

/// What the generated code of one impl shares between its problems.
pub(crate) struct Context {
    /// The const generic parameter that gives each slot's extent, by slot.
    pub extents: Vec<Ident>,
    /// The zero of operand 0's element type.
    pub zero: TokenStream,
    /// The number of operands (fields of the operand struct).
    pub operands: usize,
    /// The output's type, which the upstream gradient has.
    pub output_type: TokenStream,
    /// The path of the facade's hidden module (`::einsum::__private`).
    pub private: TokenStream,
}

/// A planned contraction.
pub(crate) struct Planned {
    /// The choice constant, when there are candidates to choose from: its length and the
    /// expression that computes it (a `[usize; N]`, evaluated where the const generics are in
    /// scope). The methods read it as `Self::NAME[i]`, with the name given to [`contract`].
    pub choices: Option<(usize, TokenStream)>,
    /// Methods of the operand struct ([`OPERANDS`]), when there are candidates: one per
    /// intermediate, and one for the result named as the choice constant in lower case.
    pub methods: TokenStream,
    /// An expression whose value is the result: operand 0's element type in nested arrays
    /// over the target's extents, or the bare element for an empty target. It reads the
    /// operands `__opK` (and `__grad` in gradients), or calls a method on the operand struct
    /// made of them.
    pub value: TokenStream,
}

/// The name of the struct that holds the operands, whose inherent impl holds the choice
/// constants and the methods of planned contractions: `__EinsumFixed(__op0, __op1, …)`.
pub(crate) const OPERANDS: &str = "__EinsumFixed";

/// The distinct labels of `axes`, sorted.
fn distinct<'a>(axes: impl IntoIterator<Item = &'a usize>) -> Vec<usize> {
    let mut all: Vec<usize> = axes.into_iter().copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Plans `problem` and generates its evaluation. `name` names the choice constant (`FORWARD`,
/// which the caller defines in the operand struct's impl from [`Planned::choices`]) and, in
/// lower case, the methods.
pub(crate) fn contract(problem: &Problem, context: &Context, name: &Ident) -> Planned {
    let generator = Generator {
        problem,
        context,
        plan: name,
    };
    let leaves: Vec<Vec<usize>> = problem.leaves.iter().map(|l| l.axes.clone()).collect();
    let every_tree_up_to = if problem.gradient {
        GRADIENT_EVERY_TREE_UP_TO
    } else {
        fixed::EVERY_TREE_UP_TO
    };
    match Candidates::new(&leaves, &problem.target, every_tree_up_to) {
        None => Planned {
            choices: None,
            methods: TokenStream::new(),
            value: generator.direct(),
        },
        Some(mut candidates) => {
            if let Some(pair) = shared_first_step(problem) {
                candidates.prefer_first(pair);
            }
            generator.planned(&candidates)
        }
    }
}

/// In a gradient, the pair to try first (the first of equally cheap candidates wins): the
/// output gradient with the leaf of highest rank (the first of them on a tie). Every
/// gradient but that operand's own then starts from the same product of the same elements,
/// which the compiler computes once when the gradients are inlined into one function: for
/// `ijk,j,k->i`, both `a`'s and `b`'s gradients start from `sum_i g_i eps_ijk`; for
/// `bi,bijk,bk->bj`, both `x` gradients from `sum_j g_bj h_bijk`.
fn shared_first_step(problem: &Problem) -> Option<Mask> {
    if !problem.gradient {
        return None;
    }
    let leaves = &problem.leaves;
    let gradient = leaves.iter().position(|l| l.source == Source::Gradient)?;
    let highest = (0..leaves.len())
        .filter(|&k| k != gradient)
        .min_by_key(|&k| std::cmp::Reverse(leaves[k].axes.len()))?;
    Some((1 << gradient) | (1 << highest))
}

/// The code generation of one problem.
struct Generator<'a> {
    /// The problem planned.
    problem: &'a Problem,
    /// Extents and zero.
    context: &'a Context,
    /// The name of the choice constant.
    plan: &'a Ident,
}

impl Generator<'_> {
    /// One element of leaf `k` at the current indices, as operand 0's element type.
    fn read_leaf(&self, k: usize) -> TokenStream {
        let leaf = &self.problem.leaves[k];
        let (var, convert) = match leaf.source {
            Source::Operand(j) => (operand_var(j), (j > 0).then_some(j)),
            Source::Gradient => (format_ident!("__grad"), None),
        };
        let element = if leaf.axes.is_empty() {
            quote!((*#var))
        } else {
            let indices = leaf.axes.iter().map(|&s| slot_index(s));
            quote!(#var #([#indices])*)
        };
        match convert {
            Some(j) => {
                let same = same_element_trait(j);
                let elem = elem_param(j);
                let t0 = elem_param(0);
                quote!(<#elem as #same<#t0>>::same(#element))
            }
            None => element,
        }
    }

    /// The type of an intermediate over `slots`.
    fn array_type(&self, slots: &[usize]) -> TokenStream {
        let t0 = elem_param(0);
        nested_array(&quote!(#t0), &self.extents(slots))
    }

    /// The extent parameters of `slots`.
    fn extents(&self, slots: &[usize]) -> Vec<Ident> {
        slots
            .iter()
            .map(|&s| self.context.extents[s].clone())
            .collect()
    }

    /// A block whose value is the product of `factors` summed over the slots of `read` not
    /// in `out`, as an array over `out`: output slots outermost, summed slots inside them,
    /// each sum in a local accumulator stored once. The result of the whole problem (`out`
    /// is the target) has the type given by the result's extents.
    fn nest(
        &self,
        factors: &[TokenStream],
        read: &[usize],
        out: &[usize],
        root: bool,
    ) -> TokenStream {
        let zero = &self.context.zero;
        let product = factors
            .iter()
            .cloned()
            .reduce(|a, b| quote!(#a * #b))
            .unwrap_or_default();
        let summed: Vec<usize> = read.iter().copied().filter(|s| !out.contains(s)).collect();
        let loops = |slots: &[usize], inner: TokenStream| {
            slots.iter().rev().fold(inner, |inner, &s| {
                let index = slot_index(s);
                let bound = &self.context.extents[s];
                quote!(for #index in 0..#bound { #inner })
            })
        };
        let sum = || loops(&summed, quote!(__acc = __acc + #product;));
        if out.is_empty() {
            if summed.is_empty() {
                quote!({ #product })
            } else {
                let sum = sum();
                quote!({ let mut __acc = #zero; #sum __acc })
            }
        } else {
            let indices = out.iter().map(|&s| slot_index(s));
            let target = quote!(__res #([#indices])*);
            let element = if summed.is_empty() {
                quote!(#target = #product;)
            } else {
                let sum = sum();
                quote!(let mut __acc = #zero; #sum #target = __acc;)
            };
            let extents = if root {
                self.problem.result_extents.clone()
            } else {
                self.extents(out)
            };
            let t0 = elem_param(0);
            let ty = nested_array(&quote!(#t0), &extents);
            let zeros = nested_array(zero, &extents);
            let nest = loops(out, element);
            quote!({ let mut __res: #ty = #zeros; #nest __res })
        }
    }

    /// The direct nest: every leaf read in place, one loop per slot.
    fn direct(&self) -> TokenStream {
        let leaves = &self.problem.leaves;
        let factors: Vec<TokenStream> = (0..leaves.len()).map(|k| self.read_leaf(k)).collect();
        let read = distinct(leaves.iter().flat_map(|leaf| &leaf.axes));
        self.nest(&factors, &read, &self.problem.target, true)
    }

    /// The name of the method that computes the intermediate of `mask` (or the result, for
    /// every leaf).
    fn method(&self, mask: Mask, all: Mask) -> Ident {
        let prefix = self.plan.to_string().to_lowercase();
        if mask == all {
            format_ident!("{}", prefix)
        } else {
            format_ident!("{}_{}", prefix, mask)
        }
    }

    /// Whether the problem reads the upstream gradient (then every method takes it).
    fn reads_gradient(&self) -> bool {
        self.problem
            .leaves
            .iter()
            .any(|leaf| leaf.source == Source::Gradient)
    }

    /// The arguments of a call to one of this problem's methods.
    fn arguments(&self) -> TokenStream {
        if self.reads_gradient() {
            quote!(__grad)
        } else {
            TokenStream::new()
        }
    }

    /// A method of the operand struct that returns `ty` by evaluating `body` with the
    /// operands (and the upstream gradient) in scope.
    fn define(&self, name: &Ident, ty: &TokenStream, body: &TokenStream) -> TokenStream {
        let operands = Ident::new(OPERANDS, proc_macro2::Span::call_site());
        let vars = (0..self.context.operands).map(operand_var);
        let gradient = self.reads_gradient().then(|| {
            let output = &self.context.output_type;
            quote!(, __grad: &#output)
        });
        quote! {
            #[inline]
            fn #name(&self #gradient) -> #ty {
                let #operands(#(#vars,)*) = *self;
                #body
            }
        }
    }

    /// One side of a pairwise step, the tensor of the leaves in `mask`: the statement that
    /// binds it (if it is an intermediate) and how to read one element.
    fn side(
        &self,
        candidates: &Candidates,
        operand: Operand,
        mask: Mask,
        name: &Ident,
    ) -> (TokenStream, TokenStream) {
        match operand {
            Operand::Leaf(k) if !candidates.reduced_first(k) => {
                (TokenStream::new(), self.read_leaf(k))
            }
            _ => {
                let method = self.method(mask, candidates.all());
                let arguments = self.arguments();
                let slots = candidates.kept(mask);
                let element = if slots.is_empty() {
                    quote!(#name)
                } else {
                    let indices = slots.iter().map(|&s| slot_index(s));
                    quote!(#name #([#indices])*)
                };
                (quote!(let #name = self.#method(#arguments);), element)
            }
        }
    }

    /// The pairwise step that makes the intermediate of its two parts.
    fn step(&self, candidates: &Candidates, step: &CandidateStep) -> TokenStream {
        let (left, right) = step.parts;
        let (bind_left, read_left) = self.side(candidates, step.left, left, &format_ident!("__l"));
        let (bind_right, read_right) =
            self.side(candidates, step.right, right, &format_ident!("__r"));
        let nest = self.nest(
            &[read_left, read_right],
            &step.labels,
            &candidates.kept(left | right),
            left | right == candidates.all(),
        );
        quote!({ #bind_left #bind_right #nest })
    }

    /// The plan with candidates: the methods of the intermediates, the root `match`, and the
    /// choice constant.
    fn planned(&self, candidates: &Candidates) -> Planned {
        let plan = self.plan;
        let all = candidates.all();
        let mut methods = TokenStream::new();
        for k in 0..self.problem.leaves.len() {
            if !candidates.reduced_first(k) {
                continue;
            }
            let name = self.method(1 << k, all);
            let kept = candidates.kept(1 << k);
            let body = self.nest(
                &[self.read_leaf(k)],
                candidates.leaf_labels(k),
                &kept,
                false,
            );
            methods.extend(self.define(&name, &self.array_type(&kept), &body));
        }
        let t0 = elem_param(0);
        for subset in candidates.subsets() {
            let steps: Vec<TokenStream> = subset
                .steps
                .iter()
                .map(|step| self.step(candidates, step))
                .collect();
            let name = self.method(subset.mask, all);
            let entry = subset.choice.map(Literal::usize_suffixed);
            let (ty, body) = if subset.mask == all {
                let arms = steps.iter().enumerate().map(|(i, step)| {
                    let choice = Literal::usize_suffixed(i + 1);
                    quote!(#choice => #step)
                });
                let direct = self.direct();
                let ty = nested_array(&quote!(#t0), &self.problem.result_extents);
                let body = quote!(match const { Self::#plan[#entry] } { #(#arms)* _ => #direct });
                (ty, body)
            } else {
                let ty = self.array_type(&subset.labels);
                let body = match (entry, steps.split_last()) {
                    (Some(entry), Some((last, others))) => {
                        let arms = others.iter().enumerate().map(|(i, step)| {
                            let choice = Literal::usize_suffixed(i);
                            quote!(#choice => #step)
                        });
                        quote!(match const { Self::#plan[#entry] } { #(#arms)* _ => #last })
                    }
                    _ => steps.into_iter().next().unwrap_or_default(),
                };
                (ty, body)
            };
            methods.extend(self.define(&name, &ty, &body));
        }
        let root = self.method(all, all);
        let arguments = self.arguments();
        let operands = Ident::new(OPERANDS, proc_macro2::Span::call_site());
        let vars = (0..self.context.operands).map(operand_var);
        Planned {
            choices: Some((candidates.choices(), self.choice(candidates))),
            methods,
            value: quote!(#operands(#(#vars,)*).#root(#arguments)),
        }
    }

    /// The expression of the choice constant: [`fixed::choose`] on the table of
    /// `candidates`, with the extents the const generics give.
    fn choice(&self, candidates: &Candidates) -> TokenStream {
        let private = &self.context.private;
        let list = |labels: &[usize]| {
            let labels = labels.iter().map(|&l| Literal::usize_suffixed(l));
            quote!(&[#(#labels),*])
        };
        let operand = |operand: Operand| match operand {
            Operand::Leaf(k) => {
                let k = Literal::usize_suffixed(k);
                quote!(__f::Operand::Leaf(#k))
            }
            Operand::Subset(i) => {
                let i = Literal::usize_suffixed(i);
                quote!(__f::Operand::Subset(#i))
            }
        };
        let reduced = candidates.reduced().iter().map(|labels| list(labels));
        let subsets = candidates.subsets().iter().map(|subset| {
            let labels = list(&subset.labels);
            let steps = subset.steps.iter().map(|step| {
                let (left, right) = (operand(step.left), operand(step.right));
                let labels = list(&step.labels);
                quote!(__f::Step { left: #left, right: #right, labels: #labels })
            });
            let choice = match subset.choice {
                Some(entry) => {
                    let entry = Literal::usize_suffixed(entry);
                    quote!(::core::option::Option::Some(#entry))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(__f::Subset { labels: #labels, steps: &[#(#steps),*], choice: #choice })
        });
        let direct = list(candidates.direct());
        let result = list(candidates.result());
        let extents = &self.context.extents;
        let t0 = elem_param(0);
        quote!({
            use #private::fixed as __f;
            __f::choose(
                &__f::Table {
                    reduced: &[#(#reduced),*],
                    subsets: &[#(#subsets),*],
                    direct: #direct,
                    result: #result,
                },
                &[#(#extents as ::core::primitive::u128),*],
                ::core::mem::size_of::<#t0>() as ::core::primitive::u128,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(terms: &[&[usize]], target: &[usize]) -> Problem {
        Problem {
            leaves: terms
                .iter()
                .enumerate()
                .map(|(k, axes)| Leaf {
                    source: Source::Operand(k),
                    axes: axes.to_vec(),
                })
                .collect(),
            target: target.to_vec(),
            result_extents: target.iter().map(|s| format_ident!("__E{}", s)).collect(),
            gradient: false,
        }
    }

    fn context(slots: usize) -> Context {
        Context {
            extents: (0..slots).map(|s| format_ident!("__E{}", s)).collect(),
            zero: quote!(0),
            operands: 3,
            output_type: quote!(()),
            private: quote!(::einsum::__private),
        }
    }

    #[test]
    fn gradients_first_pair_the_output_gradient_with_the_operand_of_highest_rank() {
        // ijk,j,k->i: the gradients of `a` and `b` both try `g_i eps_ijk` first, so that
        // they share it; `eps`'s own gradient pairs `g` with `a`.
        let first_pair = |k: usize, target: &[usize]| {
            let mut p = problem(&[&[0, 1, 2], &[1], &[2]], target);
            p.leaves[k] = Leaf {
                source: Source::Gradient,
                axes: vec![0],
            };
            p.gradient = true;
            shared_first_step(&p)
        };
        assert_eq!(first_pair(1, &[1]), Some(0b011), "a's gradient: g with eps");
        assert_eq!(first_pair(2, &[2]), Some(0b101), "b's gradient: g with eps");
        assert_eq!(
            first_pair(0, &[0, 1, 2]),
            Some(0b011),
            "eps's gradient: g with a"
        );
        // A forward contraction keeps the order of the candidates.
        assert_eq!(
            shared_first_step(&problem(&[&[0, 1, 2], &[1], &[2]], &[0])),
            None
        );
    }

    #[test]
    fn the_choice_constant_calls_the_shared_planner_and_nothing_to_choose_gives_none() {
        let c = context(4);
        let plan = format_ident!("FORWARD");
        let planned = contract(&problem(&[&[0, 1], &[1, 2], &[2, 3]], &[0, 3]), &c, &plan);
        let (length, value) = planned.choices.expect("three leaves have a choice");
        assert_eq!(length, 1);
        assert!(value.to_string().contains("__f :: choose"));
        for p in [
            problem(&[&[0, 1], &[1, 2]], &[0, 2]),
            problem(&[&[0, 1]], &[]),
            problem(&[&[0, 0]], &[0]),
        ] {
            assert!(contract(&p, &c, &plan).choices.is_none());
        }
    }
}
