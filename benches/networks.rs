//! Tensor networks against opt_einsum and cotengra: path cost, planning time, and contraction
//! time and result, on the networks of `benches/networks/networks.json` whose Python figures
//! `benches/networks/anchors.py` wrote to `anchors.json` (see `benches/networks/README.md`).
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench networks [-- NAME_SUBSTRING]` prints one table:
//! for each network, the default plan's multiply-adds against opt_einsum's greedy and dp and
//! cotengra's `HyperOptimizer`, the planning times, and where the anchor contracted the
//! network, our contraction time (best of 5, or of `NETWORKS_RUNS`) against numpy's along
//! cotengra's path, the largest relative difference from opt_einsum's result, and the same
//! for a plan sliced to 1/16 of the largest intermediate: its slices, its multiply-adds
//! against the unsliced plan's, the limit in elements, the peak heap growth during its
//! contraction and the plan's bound on it (`Path::peak` plus the output) in units of
//! (limit + output) elements, the peak in units of (limit + operands + output) elements (the
//! issue's criterion: under 1), and its result's difference.
#![allow(unsafe_code)] // the counting allocator below; the crates under test have none

use einsum::ndarray::{ArrayD, ArrayViewD, IxDyn};
use einsum::network::{Network, PlanOptions};
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Sliced plans with more slices than this are planned but not contracted.
const MAX_SLICES_RUN: u128 = 20_000;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The heap's growth at its peak while `f` runs, in bytes, and what `f` returned.
fn peak_growth<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = f();
    (PEAK.load(Ordering::Relaxed) - base, result)
}

/// SplitMix64's first output from `state`, as `anchors.py` computes operands.
fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Operand `k` of shape `shape`, as `anchors.py` fills it.
fn operand(k: usize, shape: &[usize]) -> ArrayD<f64> {
    let count: usize = shape.iter().product();
    let values = (0..count)
        .map(|j| {
            let bits = splitmix64(((k as u64) << 32) + j as u64) >> 11;
            0.5 + bits as f64 / (1u64 << 53) as f64
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape and values agree")
}

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn numbers(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// The shortest of `runs` timings of `f`.
fn best_of<R>(runs: usize, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let r = f();
        best = best.min(start.elapsed());
        last = Some(r);
    }
    (best, last.expect("at least one run"))
}

/// The largest relative difference between `got` and the anchor's flattened result.
fn difference(got: &ArrayD<f64>, want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max)
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = env!("CARGO_MANIFEST_DIR");
    let networks = read(&format!("{root}/benches/networks/networks.json"));
    let anchors = read(&format!("{root}/benches/networks/anchors.json"));
    assert_eq!(
        splitmix64(0),
        anchors["splitmix64_check"]["0"]
            .as_u64()
            .unwrap_or_default(),
        "splitmix64 agrees with anchors.py"
    );
    println!(
        "| network | n | ours | method | ours / cotengra | ours / greedy | ours / dp | plan ms | cotengra s | contract ms | numpy ms | ratio | max rel diff | sliced: slices, overhead, limit, peak, bound, peak with operands, max rel diff |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    // Contractions timed per network (best of), 5 unless `NETWORKS_RUNS` says otherwise.
    let contract_runs: usize = std::env::var("NETWORKS_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(5);
    let mut log_ratio_sum = 0.0;
    let mut count = 0;
    for network in networks["networks"].as_array().into_iter().flatten() {
        let name = network["name"].as_str().unwrap_or_default();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let anchor = &anchors["networks"][name];
        let inputs: Vec<Vec<u32>> = network["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| numbers(t).into_iter().map(|l| l as u32).collect())
            .collect();
        let output: Vec<u32> = numbers(&network["output"])
            .into_iter()
            .map(|l| l as u32)
            .collect();
        let extents = numbers(&network["extents"]);
        let shapes: Vec<Vec<usize>> = inputs
            .iter()
            .map(|t| t.iter().map(|&l| extents[l as usize] as usize).collect())
            .collect();
        let net = Network::from_labels(&inputs, &output, &shapes).expect("a valid network");
        let options = PlanOptions::default();
        let runs = if inputs.len() > 40 { 1 } else { 3 };
        let (plan_time, plan) = best_of(runs, || net.plan(&options).expect("plannable"));
        let cost = |key: &str| anchor[key]["cost"].as_u64().map(u128::from);
        let ratio = |theirs: Option<u128>| {
            theirs.map_or("–".to_owned(), |t| {
                format!("{:.3}", plan.multiply_adds() as f64 / t as f64)
            })
        };
        if let Some(c) = cost("cotengra") {
            log_ratio_sum += (plan.multiply_adds() as f64 / c as f64).ln();
            count += 1;
        }
        let mut row = format!(
            "| {name} | {} | {} | {:?} | {} | {} | {} | {:.1} | {:.2} |",
            inputs.len(),
            plan.multiply_adds(),
            plan.path().method(),
            ratio(cost("cotengra")),
            ratio(cost("greedy")),
            ratio(cost("dp")),
            plan_time.as_secs_f64() * 1e3,
            anchor["cotengra"]["seconds"].as_f64().unwrap_or(f64::NAN),
        );
        let want: Option<Vec<f64>> = anchor["result"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_f64).collect());
        match (want, anchor["contract_seconds"].as_f64()) {
            (Some(want), Some(numpy)) => {
                let arrays: Vec<ArrayD<f64>> = shapes
                    .iter()
                    .enumerate()
                    .map(|(k, s)| operand(k, s))
                    .collect();
                let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
                let (time, got) =
                    best_of(contract_runs, || plan.contract(&views).expect("contracts"));
                let limit = (plan.largest_intermediate() / 16).max(1);
                row += &format!(
                    " {:.3} | {:.3} | {:.2} | {:.1e} |",
                    time.as_secs_f64() * 1e3,
                    numpy * 1e3,
                    time.as_secs_f64() / numpy,
                    difference(&got, &want),
                );
                match net.plan(&options.clone().memory_limit(limit)) {
                    // Slices of the smallest networks can number millions: not run.
                    Ok(sliced) if sliced.slices() <= MAX_SLICES_RUN => {
                        let (peak, sliced_result) =
                            peak_growth(|| sliced.contract(&views).expect("contracts"));
                        let output = want.len() as f64;
                        let unit = limit as f64 + output;
                        let operands = arrays.iter().map(ArrayD::len).sum::<usize>() as f64;
                        row += &format!(
                            " {}, {:.2}x, {limit}, {:.2}, {:.2}, {:.2}, {:.1e} |",
                            sliced.slices(),
                            sliced.multiply_adds() as f64 / plan.multiply_adds() as f64,
                            peak as f64 / (unit * 8.0),
                            (sliced.path().peak() as f64 + output) / unit,
                            peak as f64 / ((unit + operands) * 8.0),
                            difference(&sliced_result, &want),
                        );
                    }
                    Ok(sliced) => {
                        row += &format!(
                            " {}, {:.2}x, not run |",
                            sliced.slices(),
                            sliced.multiply_adds() as f64 / plan.multiply_adds() as f64
                        )
                    }
                    Err(error) => row += &format!(" {error} |"),
                }
            }
            _ => row += " – | – | – | – | – |",
        }
        println!("{row}");
    }
    if count > 0 {
        println!(
            "\ngeometric mean of ours / cotengra over {count} networks: {:.3}",
            (log_ratio_sum / count as f64).exp()
        );
    }
}
