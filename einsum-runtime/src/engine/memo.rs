//! A per-thread memo of contraction orders, so that a loop contracting operands of the same
//! shapes plans once.
//!
//! Planning three or more operands ranks every pairwise order with a few dozen small
//! allocations: about 2.5 µs for `ij,jk,kl->il`, five times the two 16x16 `dot` calls it
//! then makes. An order is a pure function of the operands' slots, the output's slots and the
//! extents, so the engine keeps the last [`ENTRIES`] orders it computed on each thread and
//! looks them up by that key first (a few comparisons of short `Vec`s).

use super::plan::{self, Step};
use std::cell::RefCell;
use std::rc::Rc;

/// How many orders each thread keeps; the least recently used goes first.
const ENTRIES: usize = 16;

/// One remembered order and the key it was planned for.
struct Entry {
    operands: Vec<Vec<usize>>,
    output: Vec<usize>,
    extents: Vec<usize>,
    order: Rc<[Step]>,
}

thread_local! {
    /// This thread's orders, the most recently used last.
    static ORDERS: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    /// How many orders this thread has planned rather than found (for the tests).
    #[cfg(test)]
    static PLANNED: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// [`plan::greedy_order`] for these arguments, planned only when this thread has not planned
/// them among its last [`ENTRIES`] distinct keys.
pub(super) fn greedy_order(
    operands: &[Vec<usize>],
    output: &[usize],
    extents: &[usize],
) -> Rc<[Step]> {
    let found = ORDERS.with_borrow_mut(|entries| {
        let at = entries.iter().position(|entry| {
            entry.extents == extents && entry.output == output && entry.operands == operands
        })?;
        let entry = entries.remove(at);
        let order = Rc::clone(&entry.order);
        entries.push(entry);
        Some(order)
    });
    if let Some(order) = found {
        return order;
    }
    #[cfg(test)]
    PLANNED.set(PLANNED.get() + 1);
    let order: Rc<[Step]> = plan::greedy_order(operands, output, extents).into();
    ORDERS.with_borrow_mut(|entries| {
        if entries.len() == ENTRIES {
            entries.remove(0);
        }
        entries.push(Entry {
            operands: operands.to_vec(),
            output: output.to_vec(),
            extents: extents.to_vec(),
            order: Rc::clone(&order),
        });
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ij,jk,kl->il` with j = k = 10.
    fn chain(i: usize, l: usize) -> (Vec<Vec<usize>>, Vec<usize>, Vec<usize>) {
        (
            vec![vec![0, 1], vec![1, 2], vec![2, 3]],
            vec![0, 3],
            vec![i, 10, 10, l],
        )
    }

    #[test]
    fn an_order_is_planned_once_per_key_and_equals_the_planners() {
        let planned_before = PLANNED.get();
        let (operands, output, extents) = chain(1, 100);
        let first = greedy_order(&operands, &output, &extents);
        let again = greedy_order(&operands, &output, &extents);
        assert_eq!(PLANNED.get(), planned_before + 1);
        assert_eq!(
            &*first,
            plan::greedy_order(&operands, &output, &extents).as_slice()
        );
        assert!(Rc::ptr_eq(&first, &again));

        // Other extents are another key, with their own order: `ij,jk` first when i is
        // small, `jk,kl` first when l is.
        let (operands, output, extents) = chain(100, 1);
        let other = greedy_order(&operands, &output, &extents);
        assert_eq!(PLANNED.get(), planned_before + 2);
        assert_eq!(
            &*other,
            plan::greedy_order(&operands, &output, &extents).as_slice()
        );
        assert_eq!((first[0].left, first[0].right), (0, 1));
        assert_eq!((other[0].left, other[0].right), (1, 2));
    }

    #[test]
    fn the_least_recently_used_order_goes_first() {
        let keys: Vec<_> = (1..=ENTRIES + 1).map(|n| chain(100 + n, 1)).collect();
        for (operands, output, extents) in &keys[..ENTRIES] {
            greedy_order(operands, output, extents);
        }
        // Use the oldest again, then add one key too many: the second oldest goes.
        let (operands, output, extents) = &keys[0];
        greedy_order(operands, output, extents);
        let (operands, output, extents) = &keys[ENTRIES];
        greedy_order(operands, output, extents);
        let planned = PLANNED.get();
        let (operands, output, extents) = &keys[0];
        greedy_order(operands, output, extents);
        assert_eq!(
            PLANNED.get(),
            planned,
            "the oldest was used again, so it stays"
        );
        let (operands, output, extents) = &keys[1];
        greedy_order(operands, output, extents);
        assert_eq!(PLANNED.get(), planned + 1, "the second oldest was dropped");
    }
}
