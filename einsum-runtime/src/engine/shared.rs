//! Pairwise intermediates shared between contractions over one pool of operands.
//!
//! The gradients of one contraction are several contractions over the same arrays: for
//! `bi,bjik,bk->bj`, both `x` gradients start from `sum_j g_bj h_bjik`. When the engine
//! evaluates them through [`contract_sharing`](super::contract_sharing), each pairwise
//! intermediate is remembered under the operands it combines and the axes it keeps, and a
//! later contraction that needs the same intermediate takes it instead of recomputing it.
//!
//! Why the key is enough: within a pool, an index always stands for the same array with the
//! same labels. A pairwise intermediate of a set `S` of pool operands is the product of `S`'s
//! operands summed over every label of `S` that it does not keep — a label is only summed
//! once no operand outside `S` (and not the output) needs it, so its extent is fixed by `S`
//! alone. The value is therefore determined by `S`, the kept slots in order, and their
//! extents, whichever contraction asks for it and however it was reached.

use crate::Element;
use ndarray::ArrayD;
use std::collections::HashMap;
use std::sync::Arc;

/// Which intermediate: the pool operands it combines (one bit each), its slots in axis order
/// and its shape.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Key {
    pub(super) operands: u64,
    pub(super) slots: Vec<usize>,
    pub(super) shape: Vec<usize>,
}

impl Key {
    /// The key of the intermediate of pool `operands` with axes `slots`, each as long as its
    /// extent in `extents`.
    pub(super) fn new(operands: u64, slots: Vec<usize>, extents: &[usize]) -> Key {
        let shape = slots.iter().map(|&s| extents[s]).collect();
        Key {
            operands,
            slots,
            shape,
        }
    }
}

/// The intermediates computed so far while evaluating contractions over one pool of operands.
///
/// ```
/// use einsum_runtime::engine::{self, Intermediates};
/// use einsum_runtime::spec::Spec;
/// use ndarray::Array2;
///
/// // Two contractions over the pool [a, b, c] that both start with `a · b`.
/// let (a, b, c) = (Array2::<f64>::ones((40, 50)), Array2::ones((50, 60)), Array2::ones((60, 70)));
/// let pool = [a.view().into_dyn(), b.view().into_dyn(), c.view().into_dyn()];
/// let chain = Spec::parse("ij,jk,kl->il").unwrap().resolve(&[2, 2, 2]).unwrap();
/// let summed = Spec::parse("ij,jk,kl->l").unwrap().resolve(&[2, 2, 2]).unwrap();
/// let mut shared = Intermediates::new();
/// let first = engine::contract_sharing(&chain, &pool, &[0, 1, 2], &mut shared).unwrap();
/// let second = engine::contract_sharing(&summed, &pool, &[0, 1, 2], &mut shared).unwrap();
/// assert_eq!(first, engine::contract(&chain, &pool).unwrap());
/// assert_eq!(second, engine::contract(&summed, &pool).unwrap());
/// ```
///
/// Cloning a store is cheap: the arrays are shared, not copied.
#[derive(Debug)]
pub struct Intermediates<T> {
    arrays: HashMap<Key, Arc<ArrayD<T>>>,
}

impl<T> Clone for Intermediates<T> {
    fn clone(&self) -> Self {
        Intermediates {
            arrays: self.arrays.clone(),
        }
    }
}

impl<T> Default for Intermediates<T> {
    fn default() -> Self {
        Intermediates {
            arrays: HashMap::new(),
        }
    }
}

impl<T: Element> Intermediates<T> {
    /// An empty store.
    ///
    /// ```
    /// let shared = einsum_runtime::engine::Intermediates::<f64>::new();
    /// assert!(shared.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many intermediates are stored.
    ///
    /// ```
    /// assert_eq!(einsum_runtime::engine::Intermediates::<f32>::new().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.arrays.len()
    }

    /// Whether nothing is stored.
    ///
    /// ```
    /// assert!(einsum_runtime::engine::Intermediates::<f32>::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.arrays.is_empty()
    }

    /// The keys of the stored intermediates, sorted.
    pub(super) fn sorted_keys(&self) -> Vec<&Key> {
        let mut keys: Vec<&Key> = self.arrays.keys().collect();
        keys.sort_unstable();
        keys
    }

    /// The intermediate stored under `key`, if any (shared, not copied).
    pub(super) fn get(&self, key: &Key) -> Option<Arc<ArrayD<T>>> {
        self.arrays.get(key).cloned()
    }

    /// Remembers `array` under `key`.
    pub(super) fn insert(&mut self, key: Key, array: Arc<ArrayD<T>>) {
        self.arrays.insert(key, array);
    }
}
