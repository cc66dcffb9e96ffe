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
//! **Candidates.** The direct nest over every label, and pairwise trees of the leaves. Every
//! intermediate of a subset `S` of leaves keeps the labels of `S` needed later (in the result
//! or in a leaf outside `S`); its other labels are summed in the step that makes it. A leaf
//! with labels nothing else needs (summed labels private to it) is first reduced on its own,
//! so those labels are summed as early as possible. Which trees are considered depends on
//! the number of leaves `n`, to keep the expansion bounded:
//! - `n <= 4`: every tree (every split of every subset: 25 loop nests for 4 leaves);
//! - `n <= 6`: every tree over contiguous runs of leaves in the order written (the classic
//!   matrix-chain search: 20 nests for 5 leaves, 35 for 6);
//! - beyond: left to right only.
//!
//! Subsets are shared between trees: each intermediate is one method that evaluates the
//! best split of its subset, so the code grows with the number of (subset, split) pairs, not
//! with the number of trees. (Methods rather than closures in one function body: type
//! checking and borrow checking one large body with nested closures took 2.3x longer.)
//!
//! **Cost.** Scalar operations: a nest over labels with extents `e_1 … e_m` reading `r`
//! tensors costs `r * e_1 * … * e_m` (one addition and `r - 1` multiplications per
//! iteration): the direct nest reads all `n` leaves, a pairwise step two, a leaf's own sum
//! one. Products saturate in `u128`. A tree is chosen only when strictly cheaper than the
//! direct nest, and among trees the first of the cheapest in the order above.
//!
//! **Stack.** Intermediates are fixed-size arrays in the generated function's frame, as the
//! operands' and result's types are. A subset whose intermediate would exceed 64 KiB, or the
//! result's size when that is larger, is not a candidate: no plan makes the stack grow by
//! much more than the result itself does.

use super::{elem_param, nested_array, operand_var, slot_index};
use crate::diagnostics::same_element_trait;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

/// At most this many leaves: every split of every subset is considered (forward
/// contractions; gradients, of which there is one per operand, search every tree only up to
/// three leaves, see [`Problem::gradient`]).
const FULL_SEARCH_LEAVES: usize = 4;
/// At most this many leaves: every split of every contiguous run of leaves is considered.
const INTERVAL_SEARCH_LEAVES: usize = 6;
/// Beyond this many leaves there is no planning at all (subsets are bit masks in a `u64`).
const MAX_PLANNED_LEAVES: usize = 32;
/// The size in bytes an intermediate may always have; larger ones are allowed up to the
/// result's size.
const STACK_ALLOWANCE: u128 = 64 * 1024;

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

/// A set of leaves, one bit per leaf.
type Mask = u64;

/// The leaves in `mask`, in order.
fn members(mask: Mask) -> impl Iterator<Item = usize> {
    (0..Mask::BITS as usize).filter(move |&k| mask & (1 << k) != 0)
}

/// The mask of the contiguous leaves `from..to`.
fn run(from: usize, to: usize) -> Mask {
    (from..to).fold(0, |mask, k| mask | 1 << k)
}

/// `a ∪ b`, sorted, each slot once.
fn union(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut all: Vec<usize> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Plans `problem` and generates its evaluation. `name` names the choice constant (`FORWARD`,
/// which the caller defines in the operand struct's impl from [`Planned::choices`]) and, in
/// lower case, the methods.
pub(crate) fn contract(problem: &Problem, context: &Context, name: &Ident) -> Planned {
    let planner = Planner::new(problem, context, name);
    if !planner.worth_planning() {
        return Planned {
            choices: None,
            methods: TokenStream::new(),
            value: planner.direct(),
        };
    }
    planner.plan()
}

/// One subset of leaves that an intermediate is made of, and the ways to split it in two.
struct Subset {
    /// The leaves it combines.
    mask: Mask,
    /// Each candidate `(left, right)`, in order of preference among equal costs.
    splits: Vec<(Mask, Mask)>,
}

/// The planning and generation of one problem.
struct Planner<'a> {
    /// The problem planned.
    problem: &'a Problem,
    /// Extents and zero.
    context: &'a Context,
    /// The name of the choice constant.
    plan: &'a Ident,
    /// Every leaf.
    all: Mask,
}

impl<'a> Planner<'a> {
    /// A planner for `problem`.
    fn new(problem: &'a Problem, context: &'a Context, plan: &'a Ident) -> Self {
        let n = problem.leaves.len();
        let all = if n <= MAX_PLANNED_LEAVES {
            run(0, n)
        } else {
            0
        };
        Planner {
            problem,
            context,
            plan,
            all,
        }
    }

    /// The number of leaves.
    fn leaves(&self) -> usize {
        self.problem.leaves.len()
    }

    /// Whether any candidate besides the direct nest exists: three leaves or more, or two of
    /// which one has labels only it needs (then summing them first may pay).
    fn worth_planning(&self) -> bool {
        let n = self.leaves();
        (2..=MAX_PLANNED_LEAVES).contains(&n) && (n >= 3 || (0..n).any(|k| self.reduced_first(k)))
    }

    /// The distinct slots of leaf `k`, sorted.
    fn leaf_slots(&self, k: usize) -> Vec<usize> {
        union(&self.problem.leaves[k].axes, &[])
    }

    /// The distinct slots of the leaves in `mask`, sorted.
    fn slots_of(&self, mask: Mask) -> Vec<usize> {
        members(mask).fold(Vec::new(), |all, k| union(&all, &self.leaf_slots(k)))
    }

    /// The slots an intermediate of `mask` keeps: in the target or in a leaf outside `mask`,
    /// sorted. The whole set keeps the target, in the target's order.
    fn kept(&self, mask: Mask) -> Vec<usize> {
        if mask == self.all {
            return self.problem.target.clone();
        }
        let outside = self.slots_of(self.all & !mask);
        self.slots_of(mask)
            .into_iter()
            .filter(|s| self.problem.target.contains(s) || outside.contains(s))
            .collect()
    }

    /// Whether leaf `k` is first summed on its own (over the slots only it has) in pairwise
    /// trees.
    fn reduced_first(&self, k: usize) -> bool {
        self.kept(1 << k).len() < self.leaf_slots(k).len()
    }

    /// The distinct slots of the tensor that stands for `mask` in a pairwise step, sorted
    /// (the leaf itself, or an intermediate).
    fn tensor_slots(&self, mask: Mask) -> Vec<usize> {
        match self.single_leaf(mask) {
            Some(k) if !self.reduced_first(k) => self.leaf_slots(k),
            _ => self.kept(mask),
        }
    }

    /// The leaf `mask` consists of, if it is one leaf.
    fn single_leaf(&self, mask: Mask) -> Option<usize> {
        (mask.count_ones() == 1).then(|| mask.trailing_zeros() as usize)
    }

    /// The subsets with more than one leaf that trees may use, each after the subsets its
    /// splits use; the last is every leaf.
    fn subsets(&self) -> Vec<Subset> {
        let n = self.leaves();
        let mut subsets = Vec::new();
        let full = if self.problem.gradient {
            3
        } else {
            FULL_SEARCH_LEAVES
        };
        if n <= full {
            for size in 2..=n {
                for mask in 1..=self.all {
                    if mask.count_ones() as usize != size {
                        continue;
                    }
                    let lowest = mask & mask.wrapping_neg();
                    let mut splits = Vec::new();
                    let mut left = (mask - 1) & mask;
                    while left > 0 {
                        if left & lowest != 0 {
                            splits.push((left, mask ^ left));
                        }
                        left = (left - 1) & mask;
                    }
                    splits.reverse();
                    if mask == self.all {
                        self.prefer_shared_first_step(&mut splits);
                    }
                    subsets.push(Subset { mask, splits });
                }
            }
        } else if n <= INTERVAL_SEARCH_LEAVES {
            for size in 2..=n {
                for from in 0..=n - size {
                    let to = from + size;
                    let splits = (from + 1..to)
                        .map(|middle| (run(from, middle), run(middle, to)))
                        .collect();
                    subsets.push(Subset {
                        mask: run(from, to),
                        splits,
                    });
                }
            }
        } else {
            for to in 2..=n {
                subsets.push(Subset {
                    mask: run(0, to),
                    splits: vec![(run(0, to - 1), run(to - 1, to))],
                });
            }
        }
        subsets
    }

    /// In a gradient, moves to the front (the first of equally cheap candidates wins) the
    /// splits whose first step contracts the output gradient with the leaf of highest rank
    /// (the first of them on a tie). Every gradient but that operand's own then starts from
    /// the same product of the same elements, which the compiler computes once when the
    /// gradients are inlined into one function: for `ijk,j,k->i`, both `a`'s and `b`'s
    /// gradients start from `sum_i g_i eps_ijk`; for `bi,bijk,bk->bj`, both `x` gradients
    /// from `sum_j g_bj h_bijk`.
    fn prefer_shared_first_step(&self, splits: &mut [(Mask, Mask)]) {
        if !self.problem.gradient {
            return;
        }
        let leaves = &self.problem.leaves;
        let Some(gradient) = leaves.iter().position(|l| l.source == Source::Gradient) else {
            return;
        };
        let highest = (0..leaves.len())
            .filter(|&k| k != gradient)
            .min_by_key(|&k| std::cmp::Reverse(leaves[k].axes.len()));
        let Some(highest) = highest else {
            return;
        };
        let pair: Mask = (1 << gradient) | (1 << highest);
        splits.sort_by_key(|&(left, right)| left != pair && right != pair);
    }

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
        let n = self.leaves();
        let factors: Vec<TokenStream> = (0..n).map(|k| self.read_leaf(k)).collect();
        let read = (0..n).fold(Vec::new(), |all, k| union(&all, &self.leaf_slots(k)));
        self.nest(&factors, &read, &self.problem.target, true)
    }

    /// The method that computes the intermediate of `mask` (or the result, for every leaf).
    fn method(&self, mask: Mask) -> Ident {
        let prefix = self.plan.to_string().to_lowercase();
        if mask == self.all {
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

    /// One side of a pairwise step: the statement that binds it (if it is an intermediate),
    /// how to read one element, and its distinct slots.
    fn side(&self, mask: Mask, name: &Ident) -> (TokenStream, TokenStream, Vec<usize>) {
        match self.single_leaf(mask) {
            Some(k) if !self.reduced_first(k) => {
                (TokenStream::new(), self.read_leaf(k), self.leaf_slots(k))
            }
            _ => {
                let method = self.method(mask);
                let arguments = self.arguments();
                let slots = self.kept(mask);
                let element = if slots.is_empty() {
                    quote!(#name)
                } else {
                    let indices = slots.iter().map(|&s| slot_index(s));
                    quote!(#name #([#indices])*)
                };
                (
                    quote!(let #name = self.#method(#arguments);),
                    element,
                    slots,
                )
            }
        }
    }

    /// The pairwise step that makes the intermediate of `left ∪ right` from its two sides.
    fn step(&self, left: Mask, right: Mask) -> TokenStream {
        let (bind_left, read_left, slots_left) = self.side(left, &format_ident!("__l"));
        let (bind_right, read_right, slots_right) = self.side(right, &format_ident!("__r"));
        let nest = self.nest(
            &[read_left, read_right],
            &union(&slots_left, &slots_right),
            &self.kept(left | right),
            left | right == self.all,
        );
        quote!({ #bind_left #bind_right #nest })
    }

    /// Plans with candidates: the methods of the intermediates, the root `match`, and the
    /// choice constant.
    fn plan(&self) -> Planned {
        let n = self.leaves();
        let subsets = self.subsets();
        let plan = self.plan;
        // Entries of the choice constant: one per subset with more than one split, and the
        // root's (the direct nest is one more candidate there).
        let mut entries: Vec<Option<usize>> = Vec::new();
        let mut count = 0;
        for subset in &subsets {
            let has_entry = subset.mask == self.all || subset.splits.len() > 1;
            entries.push(has_entry.then_some(count));
            count += usize::from(has_entry);
        }

        let mut methods = TokenStream::new();
        for k in (0..n).filter(|&k| self.reduced_first(k)) {
            let name = self.method(1 << k);
            let ty = self.array_type(&self.kept(1 << k));
            let body = self.nest(
                &[self.read_leaf(k)],
                &self.leaf_slots(k),
                &self.kept(1 << k),
                false,
            );
            methods.extend(self.define(&name, &ty, &body));
        }
        let t0 = elem_param(0);
        for (subset, entry) in subsets.iter().zip(&entries) {
            let steps: Vec<TokenStream> = subset
                .splits
                .iter()
                .map(|&(left, right)| self.step(left, right))
                .collect();
            if subset.mask == self.all {
                let entry = Literal::usize_suffixed(entry.unwrap_or_default());
                let arms = steps.iter().enumerate().map(|(i, step)| {
                    let choice = Literal::usize_suffixed(i + 1);
                    quote!(#choice => #step)
                });
                let direct = self.direct();
                let name = self.method(subset.mask);
                let ty = nested_array(&quote!(#t0), &self.problem.result_extents);
                let body = quote!(match const { Self::#plan[#entry] } { #(#arms)* _ => #direct });
                methods.extend(self.define(&name, &ty, &body));
            } else {
                let name = self.method(subset.mask);
                let ty = self.array_type(&self.kept(subset.mask));
                let body = match entry {
                    Some(entry) if steps.len() > 1 => {
                        let entry = Literal::usize_suffixed(*entry);
                        let last = steps.len() - 1;
                        let arms = steps[..last].iter().enumerate().map(|(i, step)| {
                            let choice = Literal::usize_suffixed(i);
                            quote!(#choice => #step)
                        });
                        let last = &steps[last];
                        quote!(match const { Self::#plan[#entry] } { #(#arms)* _ => #last })
                    }
                    _ => steps.into_iter().next().unwrap_or_default(),
                };
                methods.extend(self.define(&name, &ty, &body));
            }
        }
        let root = self.method(self.all);
        let arguments = self.arguments();
        let operands = Ident::new(OPERANDS, proc_macro2::Span::call_site());
        let vars = (0..self.context.operands).map(operand_var);
        Planned {
            choices: Some((count, self.costs(&subsets, &entries, count))),
            methods,
            value: quote!(#operands(#(#vars,)*).#root(#arguments)),
        }
    }

    /// The expression of the choice constant: the cheapest split of every subset, by dynamic
    /// programming over the subsets in order, with the direct nest as the root's choice 0.
    fn costs(&self, subsets: &[Subset], entries: &[Option<usize>], count: usize) -> TokenStream {
        let n = self.leaves();
        let u128 = quote!(::core::primitive::u128);
        let t0 = elem_param(0);
        let slot_list = |slots: &[usize]| {
            let slots = slots.iter().map(|&s| Literal::usize_suffixed(s));
            quote!(&[#(#slots),*])
        };
        let cost = |mask: Mask| format_ident!("__c{}", mask);
        let product = |slots: &[usize]| {
            let list = slot_list(slots);
            quote!(__prod(&__e, #list))
        };
        let extents = &self.context.extents;
        let mut body = TokenStream::new();
        for k in 0..n {
            let name = cost(1 << k);
            let value = if self.reduced_first(k) {
                product(&self.leaf_slots(k))
            } else {
                quote!(0)
            };
            body.extend(quote!(let #name: #u128 = #value;));
        }
        for (subset, entry) in subsets.iter().zip(entries) {
            let is_root = subset.mask == self.all;
            let best = if is_root {
                format_ident!("__best")
            } else {
                cost(subset.mask)
            };
            let mut candidates = TokenStream::new();
            for (i, &(left, right)) in subset.splits.iter().enumerate() {
                let (cost_left, cost_right) = (cost(left), cost(right));
                let work = product(&union(&self.tensor_slots(left), &self.tensor_slots(right)));
                let record = entry.map(|entry| {
                    let entry = Literal::usize_suffixed(entry);
                    let choice = Literal::usize_suffixed(i + usize::from(is_root));
                    quote!(__plan[#entry] = #choice;)
                });
                candidates.extend(quote! {
                    let __x = #cost_left.saturating_add(#cost_right).saturating_add(#work.saturating_mul(2));
                    if __x < #best { #best = __x; #record }
                });
            }
            if is_root {
                let direct = product(&self.slots_of(self.all));
                let readers = Literal::u128_suffixed(n as u128);
                body.extend(quote! {
                    let mut __best: #u128 = #direct.saturating_mul(#readers);
                    #candidates
                });
            } else {
                let size = product(&self.kept(subset.mask));
                body.extend(quote! {
                    let mut #best: #u128 = #u128::MAX;
                    if #size.saturating_mul(__size) <= __limit { #candidates }
                });
            }
        }
        let target = product(&self.problem.target);
        let slots = extents.len();
        let count = Literal::usize_suffixed(count);
        let allowance = Literal::u128_suffixed(STACK_ALLOWANCE);
        quote!({
            const fn __prod(extents: &[#u128], slots: &[::core::primitive::usize]) -> #u128 {
                let mut product: #u128 = 1;
                let mut i = 0;
                while i < slots.len() {
                    product = product.saturating_mul(extents[slots[i]]);
                    i += 1;
                }
                product
            }
            let __e: [#u128; #slots] = [#(#extents as #u128),*];
            let __size: #u128 = ::core::mem::size_of::<#t0>() as #u128;
            let __result: #u128 = #target.saturating_mul(__size);
            let __limit: #u128 = if __result > #allowance { __result } else { #allowance };
            let mut __plan: [::core::primitive::usize; #count] = [0; #count];
            #body
            __plan
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
        }
    }

    #[test]
    fn every_tree_of_four_leaves_shares_25_steps() {
        let p = problem(&[&[0, 1], &[1, 2], &[2, 3], &[3, 4]], &[0, 4]);
        let c = context(5);
        let plan = format_ident!("FORWARD");
        let planner = Planner::new(&p, &c, &plan);
        let subsets = planner.subsets();
        let steps: usize = subsets.iter().map(|s| s.splits.len()).sum();
        assert_eq!(subsets.len(), 6 + 4 + 1);
        assert_eq!(steps, 6 + 12 + 7);
        assert_eq!(subsets.last().unwrap().mask, 0b1111);
    }

    #[test]
    fn five_and_six_leaves_search_contiguous_runs_and_more_go_left_to_right() {
        let count = |n: usize| {
            let terms: Vec<Vec<usize>> = (0..n).map(|k| vec![k, k + 1]).collect();
            let refs: Vec<&[usize]> = terms.iter().map(Vec::as_slice).collect();
            let p = problem(&refs, &[0, n]);
            let c = context(n + 1);
            let plan = format_ident!("FORWARD");
            let planner = Planner::new(&p, &c, &plan);
            planner
                .subsets()
                .iter()
                .map(|s| s.splits.len())
                .sum::<usize>()
        };
        assert_eq!(count(5), 20);
        assert_eq!(count(6), 35);
        assert_eq!(count(7), 6);
    }

    #[test]
    fn gradients_first_pair_the_output_gradient_with_the_operand_of_highest_rank() {
        // ijk,j,k->i (i, j, k = slots 0, 1, 2): the gradients of `a` and `b` both try
        // `g_i eps_ijk` first, so that they share it; `eps`'s own gradient pairs `g` with `a`.
        let c = context(3);
        let plan = format_ident!("GRAD");
        let first_split_pairs = |k: usize, target: &[usize], pair: Mask| {
            let mut p = problem(&[&[0, 1, 2], &[1], &[2]], target);
            p.leaves[k] = Leaf {
                source: Source::Gradient,
                axes: vec![0],
            };
            p.gradient = true;
            let planner = Planner::new(&p, &c, &plan);
            let (left, right) = planner.subsets().last().unwrap().splits[0];
            left == pair || right == pair
        };
        assert!(
            first_split_pairs(1, &[1], 0b011),
            "a's gradient: g with eps first"
        );
        assert!(
            first_split_pairs(2, &[2], 0b101),
            "b's gradient: g with eps first"
        );
        assert!(
            first_split_pairs(0, &[0, 1, 2], 0b011),
            "eps's gradient: g with a first"
        );
        // A forward contraction keeps the order of the subsets.
        let p = problem(&[&[0, 1, 2], &[1], &[2]], &[0]);
        let planner = Planner::new(&p, &c, &plan);
        assert_eq!(planner.subsets().last().unwrap().splits[0], (0b001, 0b110));
    }

    #[test]
    fn kept_slots_are_those_needed_later() {
        // ij,jk,kl->il: ab keeps i,k; bc keeps j,l; a leaf with a private label is reduced.
        let p = problem(&[&[0, 1], &[1, 2], &[2, 3]], &[0, 3]);
        let c = context(4);
        let plan = format_ident!("FORWARD");
        let planner = Planner::new(&p, &c, &plan);
        assert_eq!(planner.kept(0b011), vec![0, 2]);
        assert_eq!(planner.kept(0b110), vec![1, 3]);
        assert_eq!(planner.kept(0b111), vec![0, 3]);
        assert!(!planner.reduced_first(0));
        let p = problem(&[&[0, 1], &[1, 2]], &[0]);
        let planner = Planner::new(&p, &c, &plan);
        assert!(planner.reduced_first(1));
        assert_eq!(planner.kept(0b10), vec![1]);
        assert!(planner.worth_planning());
    }

    #[test]
    fn two_leaves_without_private_labels_and_one_leaf_are_not_planned() {
        let c = context(3);
        let plan = format_ident!("FORWARD");
        for p in [
            problem(&[&[0, 1], &[1, 2]], &[0, 2]),
            problem(&[&[0, 1]], &[]),
            problem(&[&[0, 0]], &[0]),
        ] {
            let planned = contract(&p, &c, &plan);
            assert!(planned.choices.is_none());
        }
    }
}
