//! What every demo shares: its command line, its training loop, its plots, and the way it ends
//! (the JSON line and the claims checked).
//!
//! Every demo has the same shape: `run` computes and returns a report of what it found; `main`
//! prints and plots the report, then hands it to [`conclude`], which prints the JSON line in
//! `--json` mode and checks the demo's claims ([`Outcome::check`]). The demo's test (`cargo
//! test --examples`) calls the same `run` in the `--quick` mode and the same `check`, without
//! printing or plotting.
#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

/// The Levi-Civita tensor `eps_ijk`: +1 on even permutations of (0, 1, 2), -1 on odd ones,
/// 0 wherever an index repeats. `c_i = sum_jk eps_ijk a_j b_k` is the cross product.
pub fn levi_civita() -> ArrayD<f64> {
    let mut eps = ArrayD::zeros(IxDyn(&[3, 3, 3]));
    for (i, j, k) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
        eps[[i, j, k]] = 1.0; // even permutations
        eps[[i, k, j]] = -1.0; // one swap makes them odd
    }
    eps
}

/// The largest absolute value among `values` (0 for none): the error measure of the demos.
pub fn max_abs<'a>(values: impl IntoIterator<Item = &'a f64>) -> f64 {
    values.into_iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

// -------------------------------------------------------------------------------------------
// The command line.
// -------------------------------------------------------------------------------------------

/// A demo's command-line arguments (without the program name): flags such as `--quick`, and
/// flags with a value such as `--n 20`.
pub struct Args(Vec<String>);

impl Args {
    /// The arguments the program was started with.
    pub fn from_env() -> Args {
        Args(std::env::args().skip(1).collect())
    }

    /// Arguments given in code, as a test passes them: `Args::new(["--quick"])`.
    pub fn new<'a>(args: impl IntoIterator<Item = &'a str>) -> Args {
        Args(args.into_iter().map(String::from).collect())
    }

    /// Whether `flag` is among the arguments.
    pub fn has(&self, flag: &str) -> bool {
        self.0.iter().any(|arg| arg == flag)
    }

    /// The value after `flag` (`--n 20` gives 20), or `default` when the flag is absent; an
    /// error when the flag is given without a value that parses.
    pub fn value<T: FromStr>(&self, flag: &str, default: T) -> Result<T, String> {
        match self.0.iter().position(|arg| arg == flag) {
            Some(at) => self
                .0
                .get(at + 1)
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| format!("{flag} needs a value")),
            None => Ok(default),
        }
    }

    /// The mode every demo understands: `--quick` and `--json`.
    pub fn mode(&self) -> Mode {
        Mode {
            quick: self.has("--quick"),
            json: self.has("--json"),
        }
    }
}

/// How a demo was asked to run.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    /// `--quick`: a short run, for CI and the tests.
    pub quick: bool,
    /// `--json`: the last line on stdout is one JSON object with the demo's figures.
    pub json: bool,
}

/// The demo's options, read from its command line by `parse`. A usage error (a value that
/// does not parse, a flag out of range) ends the program with its message and exit status 2.
pub fn options<T>(parse: impl FnOnce(&Args) -> Result<T, String>) -> T {
    parse(&Args::from_env()).unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    })
}

// -------------------------------------------------------------------------------------------
// Training.
// -------------------------------------------------------------------------------------------

/// A finished training loop: what each step returned (its loss, or the parts of its loss), in
/// order, and how long the loop took.
pub struct Training<T> {
    /// One entry per step.
    pub history: Vec<T>,
    /// Wall-clock seconds for the whole loop.
    pub seconds: f64,
}

impl<T> Training<T> {
    /// Runs `step` `steps` times, keeps what each returns and times the loop; the first error
    /// ends it. A progress bar shows in the normal mode (neither `--quick` nor `--json`).
    pub fn run(
        mode: &Mode,
        steps: usize,
        mut step: impl FnMut() -> Result<T, Box<dyn Error>>,
    ) -> Result<Training<T>, Box<dyn Error>> {
        let progress =
            (!mode.quick && !mode.json).then(|| indicatif::ProgressBar::new(steps as u64));
        let started = Instant::now();
        let mut history = Vec::with_capacity(steps);
        for _ in 0..steps {
            history.push(step()?);
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        Ok(Training { history, seconds })
    }

    /// The number of steps run.
    pub fn steps(&self) -> usize {
        self.history.len()
    }

    /// `steps: 2000, 0.123 s (61.5 µs a step)`, for the report.
    pub fn timing(&self) -> String {
        format!(
            "steps: {}, {:.3} s ({:.1} µs a step)",
            self.steps(),
            self.seconds,
            self.seconds * 1e6 / self.steps() as f64
        )
    }

    /// The JSON figures `steps` and `seconds`.
    pub fn figures(&self) -> [(&'static str, String); 2] {
        [
            ("steps", self.steps().to_string()),
            ("seconds", self.seconds.to_string()),
        ]
    }
}

// -------------------------------------------------------------------------------------------
// Plots.
// -------------------------------------------------------------------------------------------

/// The y axis of a plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced powers of ten, for losses that fall by orders of magnitude; values that
    /// are not positive are drawn at the smallest positive one.
    Log,
}

/// Loss curves: each series has one value per training step, drawn against the step on a log
/// scale into `target/plots/NAME`. Returns the file's path.
pub fn plot_losses(
    name: &str,
    y_label: &str,
    series: &[(&str, Vec<f64>)],
) -> Result<PathBuf, Box<dyn Error>> {
    let per_step: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(label, values)| {
            let points = values
                .iter()
                .enumerate()
                .map(|(step, &value)| (step as f64, value))
                .collect();
            (*label, points)
        })
        .collect();
    plot(name, "step", y_label, Scale::Log, &per_step)
}

/// Draws named series of `(x, y)` points as lines into the SVG file `target/plots/NAME` (the
/// directory created if needed). Returns the file's path.
pub fn plot(
    name: &str,
    x_label: &str,
    y_label: &str,
    scale: Scale,
    series: &[(&str, Vec<(f64, f64)>)],
) -> Result<PathBuf, Box<dyn Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    draw(&path, x_label, y_label, scale, series)?;
    Ok(path)
}

/// The drawing behind [`plot`].
fn draw(
    path: &Path,
    x_label: &str,
    y_label: &str,
    scale: Scale,
    series: &[(&str, Vec<(f64, f64)>)],
) -> Result<(), Box<dyn Error>> {
    use plotters::prelude::*;
    let log_y = scale == Scale::Log;
    let points = || series.iter().flat_map(|(_, s)| s.iter().copied());
    let (x_min, x_max) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (x, _)| {
        (lo.min(x), hi.max(x))
    });
    let floor = points()
        .map(|(_, y)| y)
        .filter(|y| *y > 0.0)
        .fold(f64::INFINITY, f64::min);
    let clamp = |y: f64| if log_y { y.max(floor) } else { y };
    let (y_min, y_max) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, y)| {
        (lo.min(clamp(y)), hi.max(clamp(y)))
    });
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .margin(20)
        .x_label_area_size(40)
        .y_label_area_size(70);
    let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    if log_y {
        let mut chart = builder.build_cartesian_2d(x_min..x_max, (y_min..y_max).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()?;
        for ((name, s), color) in series.iter().zip(colors.iter().cycle()) {
            chart
                .draw_series(LineSeries::new(
                    s.iter().map(|&(x, y)| (x, clamp(y))),
                    color,
                ))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()?;
    } else {
        let mut chart = builder.build_cartesian_2d(x_min..x_max, y_min..y_max)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()?;
        for ((name, s), color) in series.iter().zip(colors.iter().cycle()) {
            chart
                .draw_series(LineSeries::new(s.iter().copied(), color))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

// -------------------------------------------------------------------------------------------
// The end of a run: the JSON line and the claims.
// -------------------------------------------------------------------------------------------

/// What a demo's run found, in the terms every demo ends with: the figures of its JSON line,
/// and the claims they must meet.
pub trait Outcome {
    /// The figures of the `--json` line, in order: `(name, value)`, each value already JSON
    /// (a number, a nested list).
    fn figures(&self) -> Vec<(&'static str, String)>;

    /// The demo's claims, checked in order; the first that does not hold is the error. `main`
    /// checks them through [`conclude`], and the demo's test calls this directly.
    fn check(&self) -> Result<(), ClaimFailed>;
}

/// A claim of a demo that does not hold; the message says which, and by how much.
#[derive(PartialEq, Eq)]
pub struct ClaimFailed(pub String);

impl fmt::Display for ClaimFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The message alone, not `ClaimFailed("...")`: `main` returning the error and a failing test
/// both show it with `Debug`.
impl fmt::Debug for ClaimFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "claim failed: {}", self.0)
    }
}

impl Error for ClaimFailed {}

/// One claim: `Ok` when it `holds`, otherwise its `message` (written only then).
pub fn claim(holds: bool, message: impl FnOnce() -> String) -> Result<(), ClaimFailed> {
    if holds {
        Ok(())
    } else {
        Err(ClaimFailed(message()))
    }
}

/// How every demo ends: in `--json` mode one JSON object of its figures as the last line, then
/// its claims checked. A claim that fails is returned, so `main` fails with its message (exit
/// status 1).
pub fn conclude(mode: &Mode, outcome: &impl Outcome) -> Result<(), ClaimFailed> {
    if mode.json {
        let fields: Vec<String> = outcome
            .figures()
            .iter()
            .map(|(name, value)| format!("\"{name}\": {value}"))
            .collect();
        println!("{{{}}}", fields.join(", "));
    }
    outcome.check()
}
