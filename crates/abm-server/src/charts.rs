//! SVG charts drawn by the server: no JavaScript, no fonts to fetch, readable without colour
//! (every point carries its value as a tooltip).

use maud::{html, Markup};

/// A line over labelled points (oldest first), scaled to the largest value; `fmt` writes values.
pub fn line(points: &[(String, f64)], label: &str, fmt: impl Fn(f64) -> String) -> Markup {
    if points.is_empty() {
        return html! { p.muted { "Nothing to chart." } };
    }
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    let (w, h) = (640.0, 160.0);
    let step = if points.len() > 1 {
        (w - 40.0) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (20.0 + i as f64 * step, h - 20.0 - p.1 / max * (h - 40.0)))
        .collect();
    let path = xy
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        svg width="100%" height="160" viewBox="0 0 640 160" role="img" aria-label=(label) {
            polyline points=(path) fill="none" stroke="#6b4fbb" stroke-width="2" {}
            @for ((x, y), (name, v)) in xy.iter().zip(points) {
                circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="3" fill="#6b4fbb" { title { (name) ": " (fmt(*v)) } }
            }
            text x="20" y="155" font-size="11" { (points[0].0) }
            text x="560" y="155" font-size="11" { (points[points.len() - 1].0) }
            text x="20" y="12" font-size="11" { "max " (fmt(max)) }
        }
    }
}
