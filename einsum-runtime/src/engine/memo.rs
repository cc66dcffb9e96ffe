//! A per-thread memo of contraction orders, so that a loop contracting operands of the same
//! shapes plans once.
//!
//! Planning three or more operands ranks every pairwise order with a few dozen small
//! allocations, which for small operands costs more than the products it then makes
//! (`benches/README.md`, "Figures from code comments"). An order is a pure function of the operands' slots, the output's slots and the
//! extents, and, for the gradients' contractions, of which operands each stands for and which
//! intermediates the store holds (see `plan::order_reusing`). The engine keeps the last
//! [`ENTRIES`] orders it computed on each thread and looks them up by all of that first (a
//! few comparisons of short `Vec`s). The same kind of memo keeps the contractions built from the
//! macro's tables ([`contraction`]) and the gradients' plans ([`gradient_plan`]).

use super::diagonal::Slots;
use super::plan::{self, Step};
use super::shared::Key;
use super::vjp::{self, Expansion};
use einsum_spec::{Contraction, Label, ShapeError, Slot};
use std::cell::RefCell;
use std::rc::Rc;
use std::thread::LocalKey;

/// How many orders (and contractions built from tables) each thread keeps; the least
/// recently used goes first.
const ENTRIES: usize = 16;

/// What an order is planned from: the operands' slots, which pool operands each stands for
/// (one bit each; empty or 0 when untracked), the output's slots, the extents, and the keys of
/// the stored intermediates, sorted.
#[derive(Clone, Copy)]
pub(super) struct Problem<'p> {
    pub(super) operands: &'p [Slots],
    pub(super) origins: &'p [u64],
    pub(super) output: &'p [usize],
    pub(super) extents: &'p [usize],
    pub(super) stored: &'p [&'p Key],
}

/// A [`Problem`] kept in the memo.
struct Remembered {
    operands: Vec<Slots>,
    origins: Vec<u64>,
    output: Vec<usize>,
    extents: Vec<usize>,
    stored: Vec<Key>,
}

impl Remembered {
    fn of(problem: Problem<'_>) -> Self {
        Remembered {
            operands: problem.operands.to_vec(),
            origins: problem.origins.to_vec(),
            output: problem.output.to_vec(),
            extents: problem.extents.to_vec(),
            stored: problem.stored.iter().map(|&key| key.clone()).collect(),
        }
    }

    fn is(&self, problem: Problem<'_>) -> bool {
        self.extents == problem.extents
            && self.output == problem.output
            && self.operands == problem.operands
            && self.origins == problem.origins
            && self.stored.len() == problem.stored.len()
            && self.stored.iter().zip(problem.stored).all(|(a, &b)| a == b)
    }
}

thread_local! {
    /// This thread's orders and what they were planned from, the most recently used last.
    static ORDERS: RefCell<Vec<(Remembered, Rc<[Step]>)>> = const { RefCell::new(Vec::new()) };
    /// This thread's contractions built from the macro's tables, the most recently used last.
    static CONTRACTIONS: RefCell<Vec<Rc<Contraction>>> = const { RefCell::new(Vec::new()) };
    /// This thread's gradient plans and what they were made for, the most recently used last.
    static GRADIENTS: RefCell<Vec<RememberedGradient>> = const { RefCell::new(Vec::new()) };
    /// How many orders this thread has planned rather than found (for the tests).
    #[cfg(test)]
    static PLANNED: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// The entry of `cache` that `matches` accepts, moved to the back as the most recently used;
/// else the one `make` builds (`None`: nothing to keep), added at the back, the front one
/// leaving when `capacity` entries are kept. `value` is what the caller gets of an entry.
/// `make` runs with the cache released.
fn recall<E: 'static, V>(
    cache: &'static LocalKey<RefCell<Vec<E>>>,
    capacity: usize,
    matches: impl Fn(&E) -> bool,
    value: impl Fn(&E) -> V,
    make: impl FnOnce() -> Option<E>,
) -> Option<V> {
    let found = cache.with_borrow_mut(|entries| {
        let at = entries.iter().position(&matches)?;
        let entry = entries.remove(at);
        let found = value(&entry);
        entries.push(entry);
        Some(found)
    });
    if found.is_some() {
        return found;
    }
    let entry = make()?;
    let made = value(&entry);
    cache.with_borrow_mut(|entries| {
        if entries.len() == capacity {
            entries.remove(0);
        }
        entries.push(entry);
    });
    Some(made)
}

/// The order `plan` computes for `problem`. `plan` runs only when this thread has not planned
/// `problem` among its last [`ENTRIES`] distinct problems, so it must be a function of
/// `problem` alone.
pub(super) fn order(
    problem: Problem<'_>,
    plan: impl FnOnce(Problem<'_>) -> Vec<Step>,
) -> Rc<[Step]> {
    let order = recall(
        &ORDERS,
        ENTRIES,
        |(known, _)| known.is(problem),
        |(_, order)| Rc::clone(order),
        || {
            #[cfg(test)]
            PLANNED.set(PLANNED.get() + 1);
            Some((Remembered::of(problem), plan(problem).into()))
        },
    );
    match order {
        Some(order) => order,
        None => unreachable!("an order is always planned"),
    }
}

/// The contraction that the macro's tables describe ([`Contraction::from_labels`]; `None`
/// when they are inconsistent), built once per thread for each of the last [`ENTRIES`]
/// tables it was asked for, and found again by comparing the tables' contents (a few dozen
/// integers).
pub(crate) fn contraction(
    inputs: &[&[usize]],
    output: &[usize],
    labels: &[char],
) -> Option<Rc<Contraction>> {
    recall(
        &CONTRACTIONS,
        ENTRIES,
        |c| describes(c, inputs, output, labels),
        Rc::clone,
        || Contraction::from_labels(inputs, output, labels).map(Rc::new),
    )
}

/// One operand's gradient plan ([`vjp::plan`]) and what it was made from.
struct RememberedGradient {
    contraction: Contraction,
    operand: usize,
    /// Every operand's shape, one after the other (the ranks are the contraction's).
    shapes: Box<[usize]>,
    plan: GradientPlan,
}

/// The contraction that computes one operand's reduced gradient and the expansion to its
/// shape ([`vjp::plan`]), each shared: the autograd records them in separate nodes.
pub(crate) type GradientPlan = (Rc<Contraction>, Rc<Expansion>);

/// How many gradient plans each thread keeps: one per operand of each contraction a model
/// records, and of the contractions their gradients record in turn.
const GRADIENT_ENTRIES: usize = 64;

/// [`vjp::plan`] for `operand` of `contraction` on operands of these `shapes`, made once per
/// thread for each of the last [`GRADIENT_ENTRIES`] gradients it was asked for and found again by
/// comparing the contraction and the shapes: a warm gradient, into the caller's buffer or
/// recorded by the autograd, builds no `Vec`.
///
/// # Errors
///
/// [`ShapeError`] when the shapes do not fit the contraction (callers have checked them).
pub(crate) fn gradient_plan(
    contraction: &Contraction,
    operand: usize,
    shapes: &[&[usize]],
) -> Result<GradientPlan, ShapeError> {
    let same_shapes = |known: &[usize]| known.iter().eq(shapes.iter().copied().flatten());
    let mut error = None;
    let plan = recall(
        &GRADIENTS,
        GRADIENT_ENTRIES,
        |known| {
            known.operand == operand
                && same_shapes(&known.shapes)
                && known.contraction == *contraction
        },
        |known| known.plan.clone(),
        || {
            let extents = contraction
                .bind_extents(shapes)
                .map_err(|e| error = Some(e))
                .ok()?;
            let (reduce, expansion) = vjp::plan(contraction, operand, &extents, shapes[operand]);
            Some(RememberedGradient {
                contraction: contraction.clone(),
                operand,
                shapes: shapes.concat().into(),
                plan: (Rc::new(reduce), Rc::new(expansion)),
            })
        },
    );
    match (plan, error) {
        (Some(plan), _) => Ok(plan),
        (None, Some(error)) => Err(error),
        (None, None) => unreachable!("a gradient plan is made unless binding fails"),
    }
}

/// Whether `contraction` is the one [`Contraction::from_labels`] builds from these tables.
fn describes(
    contraction: &Contraction,
    inputs: &[&[usize]],
    output: &[usize],
    labels: &[char],
) -> bool {
    let named = |slot: &Slot, c: char| Label::from_char(c).is_some_and(|l| *slot == Slot::Named(l));
    contraction.output() == output
        && contraction.inputs().len() == inputs.len()
        && (contraction.inputs().iter())
            .zip(inputs)
            .all(|(have, &want)| have.as_slice() == want)
        && contraction.slots().len() == labels.len()
        && (contraction.slots().iter())
            .zip(labels)
            .all(|(slot, &c)| named(slot, c))
}

/// The operands' slots as the planner takes them.
pub(super) fn lists(operands: &[Slots]) -> Vec<Vec<usize>> {
    operands.iter().map(|slots| slots.to_vec()).collect()
}

/// [`plan::contraction_order`] through the memo.
pub(super) fn contraction_order(
    operands: &[Slots],
    output: &[usize],
    extents: &[usize],
) -> Rc<[Step]> {
    let problem = Problem {
        operands,
        origins: &[],
        output,
        extents,
        stored: &[],
    };
    order(problem, |p| {
        plan::contraction_order(&lists(p.operands), p.output, p.extents)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_told_apart_by_their_contents() {
        let c = contraction(&[&[0, 1], &[1, 2]], &[0, 2], &['i', 'j', 'k']).unwrap();
        assert!(describes(
            &c,
            &[&[0, 1], &[1, 2]],
            &[0, 2],
            &['i', 'j', 'k']
        ));
        assert!(!describes(
            &c,
            &[&[0, 1], &[1, 2]],
            &[2, 0],
            &['i', 'j', 'k']
        ));
        assert!(!describes(
            &c,
            &[&[0, 1], &[2, 1]],
            &[0, 2],
            &['i', 'j', 'k']
        ));
        assert!(!describes(&c, &[&[0, 1]], &[0, 1], &['i', 'j']));
        assert!(!describes(
            &c,
            &[&[0, 1], &[1, 2]],
            &[0, 2],
            &['a', 'b', 'c']
        ));
        // Found again, not rebuilt.
        let again = contraction(&[&[0, 1], &[1, 2]], &[0, 2], &['i', 'j', 'k']).unwrap();
        assert!(Rc::ptr_eq(&c, &again));
        let renamed = contraction(&[&[0, 1], &[1, 2]], &[0, 2], &['a', 'b', 'c']).unwrap();
        assert!(!Rc::ptr_eq(&c, &renamed));
    }

    /// `ij,jk,kl->il` with j = k = 10.
    fn chain(i: usize, l: usize) -> (Vec<Slots>, Vec<usize>, Vec<usize>) {
        (
            [[0, 1], [1, 2], [2, 3]]
                .map(|s| s.into_iter().collect())
                .to_vec(),
            vec![0, 3],
            vec![i, 10, 10, l],
        )
    }

    #[test]
    fn an_order_is_planned_once_per_key_and_equals_the_planners() {
        let planned_before = PLANNED.get();
        let (operands, output, extents) = chain(1, 100);
        let first = contraction_order(&operands, &output, &extents);
        let again = contraction_order(&operands, &output, &extents);
        assert_eq!(PLANNED.get(), planned_before + 1);
        assert_eq!(
            &*first,
            plan::contraction_order(&lists(&operands), &output, &extents).as_slice()
        );
        assert!(Rc::ptr_eq(&first, &again));

        // Other extents are another key, with their own order: `ij,jk` first when i is
        // small, `jk,kl` first when l is.
        let (operands, output, extents) = chain(100, 1);
        let other = contraction_order(&operands, &output, &extents);
        assert_eq!(PLANNED.get(), planned_before + 2);
        assert_eq!(
            &*other,
            plan::contraction_order(&lists(&operands), &output, &extents).as_slice()
        );
        assert_eq!((first[0].left, first[0].right), (0, 1));
        assert_eq!((other[0].left, other[0].right), (1, 2));
    }

    /// The gradients' orders: the same slots and extents with another intermediate stored, or
    /// with operands standing for other pool operands, are another problem.
    #[test]
    fn what_the_store_holds_is_part_of_the_key() {
        let planned_before = PLANNED.get();
        let (operands, output, extents) = chain(1, 100);
        let reusing = |problem: Problem<'_>| {
            let known = |operands: u64, slots: &[usize]| {
                let key = Key::new(operands, slots.to_vec(), problem.extents);
                problem.stored.binary_search(&&key).is_ok()
            };
            plan::order_reusing(
                &lists(problem.operands),
                problem.origins,
                problem.output,
                problem.extents,
                &known,
            )
        };
        let with = |origins: &[u64], stored: &[&Key]| {
            let problem = Problem {
                operands: &operands,
                origins,
                output: &output,
                extents: &extents,
                stored,
            };
            order(problem, reusing)
        };
        let in_order = [0b001, 0b010, 0b100];
        let fresh = with(&in_order, &[]);
        // `jk,kl->jl` of pool operands 1 and 2 is stored: free to take.
        let jl_key = Key::new(0b110, vec![1, 3], &extents);
        let jl = [&jl_key];
        let reused = with(&in_order, &jl);
        // The same store, but the last two operands stand for pool operands 1 and 0.
        let other_pool = with(&[0b100, 0b010, 0b001], &jl);
        assert_eq!(PLANNED.get(), planned_before + 3);
        assert_eq!((fresh[0].left, fresh[0].right), (0, 1));
        assert_eq!((reused[0].left, reused[0].right), (1, 2));
        assert_eq!((other_pool[0].left, other_pool[0].right), (0, 1));
        assert!(Rc::ptr_eq(&reused, &with(&in_order, &jl)));
        assert_eq!(PLANNED.get(), planned_before + 3);
    }

    #[test]
    fn the_least_recently_used_order_goes_first() {
        let keys: Vec<_> = (1..=ENTRIES + 1).map(|n| chain(100 + n, 1)).collect();
        for (operands, output, extents) in &keys[..ENTRIES] {
            contraction_order(operands, output, extents);
        }
        // Use the oldest again, then add one key too many: the second oldest goes.
        let (operands, output, extents) = &keys[0];
        contraction_order(operands, output, extents);
        let (operands, output, extents) = &keys[ENTRIES];
        contraction_order(operands, output, extents);
        let planned = PLANNED.get();
        let (operands, output, extents) = &keys[0];
        contraction_order(operands, output, extents);
        assert_eq!(
            PLANNED.get(),
            planned,
            "the oldest was used again, so it stays"
        );
        let (operands, output, extents) = &keys[1];
        contraction_order(operands, output, extents);
        assert_eq!(PLANNED.get(), planned + 1, "the second oldest was dropped");
    }
}
