//! What every demo shares: its command-line mode, its plots, its JSON line.
#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};

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

/// How a demo was asked to run.
pub struct Mode {
    /// `--quick`: a short run, for CI.
    pub quick: bool,
    /// `--json`: the last line on stdout is one JSON object with the demo's figures.
    pub json: bool,
}

impl Mode {
    /// The mode from the command line.
    pub fn from_args() -> Mode {
        let has = |flag: &str| std::env::args().any(|arg| arg == flag);
        Mode {
            quick: has("--quick"),
            json: has("--json"),
        }
    }

    /// A progress bar for a loop of `steps`, in the normal (long, human) mode only.
    pub fn progress(&self, steps: usize) -> Option<indicatif::ProgressBar> {
        (!self.quick && !self.json).then(|| indicatif::ProgressBar::new(steps as u64))
    }
}

/// The value after `flag` on the command line (`--n 20`), or `default` when the flag is absent.
///
/// # Panics
///
/// When the flag is given without a value that parses.
pub fn flag_value<T: std::str::FromStr>(flag: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|arg| arg == flag) {
        Some(i) => args
            .get(i + 1)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a value")),
        None => default,
    }
}

/// `target/plots/NAME`, the directory created if needed.
pub fn plot_path(name: &str) -> std::io::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join(name))
}

/// Draws named series of `(x, y)` points as lines into an SVG file; `log_y` puts the y axis
/// on a log scale (non-positive values are clamped to the smallest positive one).
pub fn plot_lines(
    path: &Path,
    x_label: &str,
    y_label: &str,
    series: &[(&str, Vec<(f64, f64)>)],
    log_y: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
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

/// One JSON object from `(name, value)` pairs whose values are already JSON (numbers,
/// nested lists); printed as the demo's last line in `--json` mode.
pub fn json_line(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("\"{name}\": {value}"))
        .collect();
    format!("{{{}}}", body.join(", "))
}
