//! Tensor networks: contractions of many operands with any number of labels, planned once
//! and contracted as often as needed.
//!
//! A [`Network`] is the operands' labels and shapes, checked as [`einsum_dyn`](crate::einsum_dyn)
//! checks them. [`Network::plan`] searches a contraction path ([`PlanOptions`]: optimal up to
//! 20 operands, sampled greedy trees improved by exact subtree re-solving beyond, labels
//! sliced under a memory limit) and returns a [`Plan`], which keeps it: [`Plan::contract`]
//! runs it on operands of those shapes, each step a (batched) matrix product of the engine,
//! and its `Display` is the table of steps.
//!
//! ```
//! use einsum_runtime::network::{Network, PlanOptions};
//! use ndarray::{ArrayD, IxDyn};
//!
//! // A ring of four 3x3 matrices with labels 100..104: the trace of their product.
//! let inputs: Vec<Vec<u32>> = (0..4).map(|n| vec![100 + n, 100 + (n + 1) % 4]).collect();
//! let shapes = vec![vec![3, 3]; 4];
//! let net = Network::from_labels(&inputs, &[], &shapes).unwrap();
//! let plan = net.plan(&PlanOptions::default()).unwrap();
//! assert_eq!(plan.multiply_adds(), 27 + 27 + 9);
//!
//! let identity = ArrayD::from_shape_fn(IxDyn(&[3, 3]), |i| f64::from(u8::from(i[0] == i[1])));
//! let views = vec![identity.view(); 4];
//! assert_eq!(plan.contract(&views).unwrap()[[]], 3.0);
//! println!("{plan}");
//! ```

mod gradients;

pub use einsum_spec::path::{Method, Minimize, PlanOptions};

use crate::{engine, EinsumError, Element};
use einsum_spec::path::{search, Path, StepCost, Tree};
use einsum_spec::{Contraction, ShapeError, Slot, Spec};
use ndarray::{ArrayD, ArrayViewD};
use std::fmt;

/// A contraction of many operands, by their labels and shapes, ready to plan.
///
/// ```
/// use einsum_runtime::network::Network;
/// let net = Network::from_spec("ij,jk,kl->il", &[vec![2, 3], vec![3, 4], vec![4, 5]]).unwrap();
/// assert_eq!(net.operands(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// What errors call the network: its spec, or "network of N operands".
    name: String,
    contraction: Contraction,
    shapes: Vec<Vec<usize>>,
    extents: Vec<usize>,
}

/// Why a network cannot be built or a plan cannot run, beyond what [`ShapeError`] says.
///
/// ```
/// use einsum_runtime::network::Network;
/// let err = Network::from_labels(&[vec![0, 1]], &[2], &[vec![2, 3]]).unwrap_err();
/// assert_eq!(err.to_string(), "einsum `network of 1 operand`: output label `2` is on no operand");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkError {
    /// An output label that no operand has.
    OutputLabelNotInInputs {
        /// The label.
        label: u32,
    },
    /// A label the output lists twice.
    RepeatedOutputLabel {
        /// The label.
        label: u32,
    },
    /// No plan keeps every intermediate within the memory limit: a result over the limit has
    /// no label left to slice, or the slices needed would cost more multiply-adds than a
    /// `u128` counts.
    MemoryLimitUnreachable {
        /// The limit, in elements.
        limit: u128,
        /// The largest intermediate of the best sliced plan found: over the limit when no
        /// label is left to slice, within it when the slices are too many to count.
        largest: u128,
    },
    /// An operand given to [`Plan::contract`] whose shape is not the one planned for.
    ShapeNotPlanned {
        /// The operand.
        operand: usize,
        /// The shape the plan was made for.
        planned: Vec<usize>,
        /// The shape given.
        given: Vec<usize>,
    },
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkError::OutputLabelNotInInputs { label } => {
                write!(f, "output label `{label}` is on no operand")
            }
            NetworkError::RepeatedOutputLabel { label } => {
                write!(f, "output label `{label}` is listed twice: list it once")
            }
            NetworkError::MemoryLimitUnreachable { limit, largest } => {
                let plural = if *limit == 1 { "" } else { "s" };
                write!(
                    f,
                    "no plan keeps every intermediate within {limit} element{plural}: "
                )?;
                if largest > limit {
                    write!(f, "the best sliced plan found holds {largest}")?;
                } else {
                    write!(
                        f,
                        "the slices it needs would take more than 2^128 multiply-adds"
                    )?;
                }
                write!(f, "; raise the limit")
            }
            NetworkError::ShapeNotPlanned {
                operand,
                planned,
                given,
            } => write!(
                f,
                "operand {operand} has shape {given:?} but the plan was made for {planned:?}: \
                 plan the network again for these shapes"
            ),
        }
    }
}

impl Network {
    /// The network whose operand `k` has axes labelled `inputs[k]` and shape `shapes[k]`,
    /// contracted into the labels `output` (in that order). Labels are any `u32`s, as many as
    /// needed; as in [`einsum_dyn`](crate::einsum_dyn), a label repeated within an operand is
    /// a diagonal, a label absent from the output is summed, and an axis of extent 1
    /// broadcasts against the label's extent elsewhere.
    ///
    /// # Errors
    ///
    /// A [`ShapeError`] when the shapes do not fit (the operand count, an operand's rank, two
    /// extents of one label, a diagonal of unequal extents), and a [`NetworkError`] for an
    /// output label no operand has or the output lists twice.
    ///
    /// ```
    /// use einsum_runtime::network::Network;
    /// let err = Network::from_labels(&[vec![7, 8], vec![8, 9]], &[7, 9], &[vec![2, 3], vec![4, 5]])
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "einsum `network of 2 operands`: label `8` is 3 in operand 0 but 4 in operand 1"
    /// );
    /// ```
    pub fn from_labels(
        inputs: &[Vec<u32>],
        output: &[u32],
        shapes: &[Vec<usize>],
    ) -> Result<Network, EinsumError> {
        let name = format!(
            "network of {} operand{}",
            inputs.len(),
            if inputs.len() == 1 { "" } else { "s" }
        );
        let network_error = |error| EinsumError::from_network_error(&name, error);
        // Slots in order of first appearance.
        let mut labels: Vec<u32> = Vec::new();
        let mut slot_of = std::collections::HashMap::new();
        let mut slots_of = |term: &[u32], labels: &mut Vec<u32>| -> Vec<usize> {
            term.iter()
                .map(|&label| {
                    *slot_of.entry(label).or_insert_with(|| {
                        labels.push(label);
                        labels.len() - 1
                    })
                })
                .collect()
        };
        let input_slots: Vec<Vec<usize>> =
            inputs.iter().map(|t| slots_of(t, &mut labels)).collect();
        let known = labels.len();
        let output_slots = slots_of(output, &mut labels);
        for (n, (&slot, &label)) in output_slots.iter().zip(output).enumerate() {
            if slot >= known {
                return Err(network_error(NetworkError::OutputLabelNotInInputs {
                    label,
                }));
            }
            if output_slots[..n].contains(&slot) {
                return Err(network_error(NetworkError::RepeatedOutputLabel { label }));
            }
        }
        let slots = labels.into_iter().map(Slot::Numbered).collect();
        let Some(contraction) = Contraction::from_parts(input_slots, output_slots, slots) else {
            unreachable!("every slot is in range and the output was checked")
        };
        Network::bound(name, contraction, shapes)
    }

    /// The network of an einsum spec (as [`einsum_dyn`](crate::einsum_dyn) reads it,
    /// `...` included) on operands of these shapes.
    ///
    /// # Errors
    ///
    /// As [`einsum_dyn`](crate::einsum_dyn): an invalid spec, or shapes that do not fit it.
    pub fn from_spec(spec: &str, shapes: &[Vec<usize>]) -> Result<Network, EinsumError> {
        let parsed =
            Spec::parse(spec).map_err(|errors| EinsumError::from_spec_errors(spec, errors))?;
        let ranks: Vec<usize> = shapes.iter().map(Vec::len).collect();
        let contraction = parsed
            .resolve(&ranks)
            .map_err(|error| EinsumError::from_shape_error(spec, error))?;
        Network::bound(spec.to_owned(), contraction, shapes)
    }

    /// The network of `contraction` with its extents bound to `shapes`.
    fn bound(
        name: String,
        contraction: Contraction,
        shapes: &[Vec<usize>],
    ) -> Result<Network, EinsumError> {
        let borrowed: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let extents = contraction
            .bind_extents(&borrowed)
            .map_err(|error| EinsumError::from_shape_error(&name, error))?;
        Ok(Network {
            name,
            contraction,
            shapes: shapes.to_vec(),
            extents,
        })
    }

    /// The number of operands.
    #[must_use]
    pub fn operands(&self) -> usize {
        self.shapes.len()
    }

    /// A contraction path for this network, searched as `options` say.
    ///
    /// # Errors
    ///
    /// [`NetworkError::MemoryLimitUnreachable`] when no sliced plan meets
    /// [`PlanOptions::memory_limit`]. Without a limit every network can be planned (an
    /// intermediate too large to allocate is reported when the plan runs).
    ///
    /// ```
    /// use einsum_runtime::network::{Network, PlanOptions};
    /// // Two outer products and a sum: a memory limit of 4 elements slices `j`.
    /// let net = Network::from_spec("ij,jk->ik", &[vec![4, 8], vec![8, 4]]).unwrap();
    /// let plan = net.plan(&PlanOptions::default().memory_limit(16)).unwrap();
    /// assert_eq!(plan.largest_intermediate(), 16);
    /// ```
    pub fn plan(&self, options: &PlanOptions) -> Result<Plan, EinsumError> {
        let path = search(
            self.contraction.inputs(),
            self.contraction.output(),
            &self.extents,
            options,
        );
        if let Some(limit) = options.memory_limit {
            let cost = path.cost();
            if cost.largest > limit || cost.multiply_adds == u128::MAX {
                let error = NetworkError::MemoryLimitUnreachable {
                    limit,
                    largest: cost.largest,
                };
                return Err(EinsumError::from_network_error(&self.name, error));
            }
        }
        let (order, costs) = match options.memory_limit {
            // Under a limit, the order that holds the fewest elements at once; without one,
            // the search's own, which ran faster on the network benchmark.
            Some(_) => path.tree().in_memory_order(path.step_costs()),
            None => (path.tree().clone(), path.step_costs().to_vec()),
        };
        let execution = engine::SlicedPlan::new(
            &self.contraction,
            &self.shapes,
            &self.extents,
            &order.positions(),
            path.sliced(),
            options
                .memory_limit
                .map(|limit| (limit, order.peak(&costs))),
        );
        Ok(Plan {
            execution,
            network: self.clone(),
            path,
            order,
            costs,
        })
    }
}

/// A network's contraction path, kept to be run on operands of the planned shapes as often as
/// needed. `Display` prints it as a table of steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    network: Network,
    path: Path,
    /// The path's tree in the order it runs (under a memory limit, [`Tree::in_memory_order`]),
    /// and its steps' costs.
    order: Tree,
    costs: Vec<StepCost>,
    /// The order's steps as the engine runs them.
    execution: engine::SlicedPlan,
}

impl Plan {
    /// The multiply-adds of the whole contraction (all slices): each pairwise step's is the
    /// product of the extents of every label its two operands have. Sums an operand makes on
    /// its own (labels only it has, diagonals) are not counted.
    #[must_use]
    pub fn multiply_adds(&self) -> u128 {
        self.path.cost().multiply_adds
    }

    /// The elements of the largest result of a step (one slice's, when sliced).
    #[must_use]
    pub fn largest_intermediate(&self) -> u128 {
        self.path.cost().largest
    }

    /// The number of slices: the contraction runs once per combination of values of the
    /// sliced labels (1 when nothing is sliced).
    #[must_use]
    pub fn slices(&self) -> u128 {
        self.path.slices()
    }

    /// The search's path: the tree, its costs with and without slicing, the sliced slots
    /// (numbered as the network's labels in order of first appearance) and which search found it.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Contracts `operands` (one per network operand, of the planned shapes, any layout)
    /// along the plan. Intermediates are freed as soon as the next step has used them, and an
    /// operand is read (at the slice, for sliced plans) only when its step comes, so besides
    /// the operands and the output a contraction holds its intermediates and little else:
    /// under a memory limit, one slice's at a time on each thread, with only as many slices
    /// side by side as the limit holds.
    ///
    /// # Errors
    ///
    /// [`ShapeError::OperandCount`] for a wrong number of operands,
    /// [`NetworkError::ShapeNotPlanned`] for an operand of another shape, and
    /// [`ShapeError::TooLarge`] or [`ShapeError::AllocationFailed`] when the output or an
    /// intermediate cannot be allocated.
    pub fn contract<T: Element>(
        &self,
        operands: &[ArrayViewD<'_, T>],
    ) -> Result<ArrayD<T>, EinsumError> {
        self.check(operands)?;
        let network = &self.network;
        let work = self.path.cost().multiply_adds;
        self.execution
            .contract(&network.contraction, operands, &network.extents, work)
            .map_err(|error| EinsumError::from_shape_error(&network.name, error))
    }

    /// The gradient of the contraction with respect to every operand, for an upstream
    /// gradient `g` shaped like the output: what [`einsum_vjp_dyn`](crate::einsum_vjp_dyn)
    /// computes. In reverse mode along the plan's tree (about two forward passes, all of the
    /// forward pass's intermediates held until the gradients are done; slices are not used)
    /// when every operand's labels are distinct, each label is on another operand or the
    /// output, and nothing broadcasts; otherwise as `einsum_vjp_dyn` does, one contraction per
    /// operand.
    ///
    /// # Errors
    ///
    /// As [`Plan::contract`], and [`ShapeError::GradientShape`] when `g` does not have the
    /// output's shape.
    ///
    /// ```
    /// use einsum_runtime::network::{Network, PlanOptions};
    /// use ndarray::{array, arr0};
    /// let net = Network::from_spec("i,i->", &[vec![2], vec![2]]).unwrap();
    /// let plan = net.plan(&PlanOptions::default()).unwrap();
    /// let (x, y) = (array![1.0, 2.0].into_dyn(), array![3.0, 4.0].into_dyn());
    /// let grads = plan.gradients(&[x.view(), y.view()], arr0(1.0).into_dyn().view()).unwrap();
    /// assert_eq!(grads[0], y);
    /// ```
    pub fn gradients<T: Element>(
        &self,
        operands: &[ArrayViewD<'_, T>],
        g: ArrayViewD<'_, T>,
    ) -> Result<Vec<ArrayD<T>>, EinsumError> {
        self.check(operands)?;
        let network = &self.network;
        let (contraction, extents) = (&network.contraction, &network.extents);
        let output_shape: Vec<usize> = contraction.output().iter().map(|&s| extents[s]).collect();
        let grads = if g.shape() != output_shape.as_slice() {
            Err(ShapeError::GradientShape {
                expected: output_shape,
                actual: g.shape().to_vec(),
            })
        } else if gradients::applies(contraction, &network.shapes, extents) {
            gradients::along_tree(contraction, extents, self.path.tree(), operands, g)
        } else {
            engine::vjp::vjp(contraction, operands, g)
        };
        grads.map_err(|error| EinsumError::from_shape_error(&network.name, error))
    }

    /// That `operands` are as many as planned, each of its planned shape.
    fn check<T>(&self, operands: &[ArrayViewD<'_, T>]) -> Result<(), EinsumError> {
        let network = &self.network;
        if operands.len() != network.shapes.len() {
            let error = ShapeError::OperandCount {
                terms: network.shapes.len(),
                operands: operands.len(),
            };
            return Err(EinsumError::from_shape_error(&network.name, error));
        }
        for (operand, (view, planned)) in operands.iter().zip(&network.shapes).enumerate() {
            if view.shape() != planned.as_slice() {
                let error = NetworkError::ShapeNotPlanned {
                    operand,
                    planned: planned.clone(),
                    given: view.shape().to_vec(),
                };
                return Err(EinsumError::from_network_error(&network.name, error));
            }
        }
        Ok(())
    }

    /// A slot's name for the table: its letter, number, or `...` axis.
    fn label(&self, slot: usize) -> String {
        match self.network.contraction.slots()[slot] {
            Slot::Named(label) => label.to_string(),
            Slot::Numbered(n) => n.to_string(),
            Slot::Broadcast(k) => format!("…{k}"),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let network = &self.network;
        let cost = self.path.cost();
        let method = match self.path.method() {
            Method::Trivial => "nothing to search",
            Method::Ordered => "optimal (every order of steps)",
            Method::Exact => "optimal (dynamic programming)",
            Method::Greedy => "greedy",
            Method::Sampled => "sampled greedy, subtrees re-solved",
            _ => "searched",
        };
        writeln!(
            f,
            "{}: {} labels; path: {method}",
            network.name,
            network.extents.len()
        )?;
        writeln!(
            f,
            "multiply-adds: {}; largest intermediate: {} elements; at most {} held at once",
            cost.multiply_adds,
            cost.largest,
            self.order.peak(&self.costs)
        )?;
        if self.path.slices() > 1 {
            let labels: Vec<String> = self.path.sliced().iter().map(|&s| self.label(s)).collect();
            let unsliced = self.path.unsliced_cost();
            writeln!(
                f,
                "sliced over {} ({} slices): {:.3}x the unsliced multiply-adds ({}), largest \
                 intermediate {} -> {}",
                labels.join(", "),
                self.path.slices(),
                cost.multiply_adds as f64 / unsliced.multiply_adds.max(1) as f64,
                unsliced.multiply_adds,
                unsliced.largest,
                cost.largest
            )?;
        }
        writeln!(
            f,
            "nodes 0 to {} are the operands; each step's result is the next node",
            network.shapes.len().saturating_sub(1)
        )?;
        writeln!(
            f,
            "{:>5}  {:>11}  {:>20}  {:>12}",
            "node", "contracts", "multiply-adds", "result size"
        )?;
        let operands = network.shapes.len();
        let steps = self.order.steps().iter().zip(&self.costs);
        for (k, (&(a, b), cost)) in steps.enumerate() {
            writeln!(
                f,
                "{:>5}  {:>11}  {:>20}  {:>12}",
                operands + k,
                format!("{a} {b}"),
                cost.multiply_adds,
                cost.size
            )?;
        }
        Ok(())
    }
}
