//! Random valid specs with extents, values and memory layouts, shared by the property tests.
#![allow(dead_code)]

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};
use proptest::prelude::*;

/// Labels are drawn from a small alphabet so that they repeat across and within terms; `B`
/// checks that implicit outputs put upper case first.
const ALPHABET: [char; 5] = ['a', 'b', 'c', 'd', 'B'];

/// How an operand's elements are laid out in memory; its logical value is the same in all
/// of them except `Broadcast`, which repeats one slice along an axis.
#[derive(Clone, Copy, Debug)]
pub enum Layout {
    Standard,
    /// Column-major: the view is the transpose of a standard array.
    Transposed,
    /// Every second element of every axis of a larger array (padded with NaN).
    Stepped,
    /// Stored backwards along one axis, so the view has a negative stride.
    Reversed(usize),
    /// A stride-0 view along one axis.
    Broadcast(usize),
}

#[derive(Clone, Debug)]
pub struct OperandPlan {
    /// Indices into [`ALPHABET`].
    pub labels: Vec<usize>,
    /// Where `...` goes among the labels (modulo their count + 1), if anywhere.
    pub ellipsis_at: Option<usize>,
    /// How many axes the `...` stands for.
    pub dots: usize,
    /// Per alphabet label: this operand has extent 1 there (numpy broadcasting).
    pub ones: Vec<bool>,
    /// Per `...` axis, counted from the right: this operand has extent 1 there.
    pub dot_ones: Vec<bool>,
    pub layout: Layout,
    pub seed: u64,
}

#[derive(Clone, Debug)]
pub struct OutputPlan {
    /// Per alphabet label: whether the output keeps it (if some input has it).
    pub keep: Vec<bool>,
    /// Sort keys that shuffle the kept labels.
    pub order: Vec<u8>,
    /// Where `...` goes, if some input has it and the output keeps it.
    pub ellipsis_at: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub operands: Vec<OperandPlan>,
    /// Extent of each alphabet label.
    pub extents: Vec<usize>,
    /// Extent of each `...` axis, counted from the right.
    pub dot_extents: Vec<usize>,
    /// `None` for an implicit output.
    pub output: Option<OutputPlan>,
}

pub fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        2 => Just(Layout::Standard),
        1 => Just(Layout::Transposed),
        1 => Just(Layout::Stepped),
        1 => (0..4usize).prop_map(Layout::Reversed),
        1 => (0..4usize).prop_map(Layout::Broadcast),
    ]
}

pub fn operand() -> impl Strategy<Value = OperandPlan> {
    (
        prop::collection::vec(0..ALPHABET.len(), 0..=4),
        prop::option::weighted(0.3, 0..5usize),
        0..=2usize,
        prop::collection::vec(prop::bool::weighted(0.15), ALPHABET.len()),
        prop::collection::vec(prop::bool::weighted(0.3), 2),
        layout(),
        any::<u64>(),
    )
        .prop_map(
            |(labels, ellipsis_at, dots, ones, dot_ones, layout, seed)| OperandPlan {
                labels,
                ellipsis_at,
                dots,
                ones,
                dot_ones,
                layout,
                seed,
            },
        )
}

pub fn output() -> impl Strategy<Value = OutputPlan> {
    (
        prop::collection::vec(any::<bool>(), ALPHABET.len()),
        prop::collection::vec(any::<u8>(), ALPHABET.len()),
        prop::option::weighted(0.7, 0..5usize),
    )
        .prop_map(|(keep, order, ellipsis_at)| OutputPlan {
            keep,
            order,
            ellipsis_at,
        })
}

/// An extent from 0 to 3; rarely 0, since one empty axis makes the whole result zero.
pub fn extent() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 3 => Just(1usize), 6 => Just(2usize), 6 => Just(3usize)]
}

pub fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(operand(), 1..=4),
        prop::collection::vec(extent(), ALPHABET.len()),
        prop::collection::vec(extent(), 2),
        prop::option::weighted(0.6, output()),
    )
        .prop_map(|(operands, extents, dot_extents, output)| Case {
            operands,
            extents,
            dot_extents,
            output,
        })
}

/// Deterministic values in `[-1, 1)`.
pub fn values(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut state = seed | 1;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// The spec text and each operand's shape.
pub fn spec_and_shapes(case: &Case) -> (String, Vec<Vec<usize>>) {
    let mut terms = Vec::new();
    let mut shapes = Vec::new();
    for op in &case.operands {
        let mut term = String::new();
        let mut shape = Vec::new();
        let at = op.ellipsis_at.map(|p| p % (op.labels.len() + 1));
        for position in 0..=op.labels.len() {
            if at == Some(position) {
                term.push_str("...");
                for d in (0..op.dots).rev() {
                    shape.push(if op.dot_ones[d] {
                        1
                    } else {
                        case.dot_extents[d]
                    });
                }
            }
            if let Some(&l) = op.labels.get(position) {
                term.push(ALPHABET[l]);
                shape.push(if op.ones[l] { 1 } else { case.extents[l] });
            }
        }
        terms.push(term);
        shapes.push(shape);
    }
    let mut spec = terms.join(",");
    if let Some(out) = &case.output {
        let mut kept: Vec<usize> = (0..ALPHABET.len())
            .filter(|&l| out.keep[l] && case.operands.iter().any(|op| op.labels.contains(&l)))
            .collect();
        kept.sort_by_key(|&l| out.order[l]);
        let mut text: Vec<String> = kept.iter().map(|&l| ALPHABET[l].to_string()).collect();
        if let (Some(at), true) = (
            out.ellipsis_at,
            case.operands.iter().any(|op| op.ellipsis_at.is_some()),
        ) {
            text.insert(at % (text.len() + 1), "...".to_owned());
        }
        spec.push_str("->");
        spec.push_str(&text.concat());
    }
    (spec, shapes)
}

/// The array an operand's view borrows from, with the layout to view it in.
pub struct Stored {
    storage: ArrayD<f64>,
    pub layout: Layout,
    shape: Vec<usize>,
}

impl Stored {
    pub fn new(logical: &ArrayD<f64>, layout: Layout) -> Stored {
        let shape = logical.shape().to_vec();
        let ndim = shape.len();
        let storage = match layout {
            _ if ndim == 0 => logical.clone(),
            Layout::Standard => logical.clone(),
            Layout::Transposed => logical.t().as_standard_layout().into_owned(),
            Layout::Stepped => {
                let padded: Vec<usize> = shape.iter().map(|e| 2 * e).collect();
                let mut storage = ArrayD::from_elem(IxDyn(&padded), f64::NAN);
                storage
                    .slice_each_axis_mut(|_| Slice::new(0, None, 2))
                    .assign(logical);
                storage
            }
            Layout::Reversed(axis) => {
                let mut view = logical.view();
                view.invert_axis(Axis(axis % ndim));
                view.as_standard_layout().into_owned()
            }
            Layout::Broadcast(axis) => {
                let axis = Axis(axis % ndim);
                let first = shape[axis.index()].min(1);
                logical.slice_axis(axis, Slice::from(0..first)).to_owned()
            }
        };
        Stored {
            storage,
            layout,
            shape,
        }
    }

    pub fn view(&self) -> ArrayViewD<'_, f64> {
        let ndim = self.shape.len();
        match self.layout {
            _ if ndim == 0 => self.storage.view(),
            Layout::Standard => self.storage.view(),
            Layout::Transposed => self.storage.t(),
            Layout::Stepped => self.storage.slice_each_axis(|_| Slice::new(0, None, 2)),
            Layout::Reversed(axis) => {
                let mut view = self.storage.view();
                view.invert_axis(Axis(axis % ndim));
                view
            }
            Layout::Broadcast(_) => self
                .storage
                .broadcast(IxDyn(&self.shape))
                .expect("extent 1 or 0 broadcasts"),
        }
    }
}

/// Each operand of `case` (of the given shapes) stored in its layout, with deterministic values.
pub fn stored_operands(case: &Case, shapes: &[Vec<usize>]) -> Vec<Stored> {
    case.operands
        .iter()
        .zip(shapes)
        .map(|(op, shape)| Stored::new(&values(shape, op.seed), op.layout))
        .collect()
}

/// The logical values of `views`, in standard layout, as the reference evaluator takes them.
pub fn standard_copies(views: &[ArrayViewD<'_, f64>]) -> Vec<ArrayD<f64>> {
    views
        .iter()
        .map(|v| v.as_standard_layout().into_owned())
        .collect()
}
