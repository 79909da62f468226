//! A progress bar for long imports: drawn on a terminal only, and only once the work has taken
//! more than a second, so short imports and scripts stay quiet.

use abm_import::accounts::ImportProgress;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Bar {
    started: Instant,
    phase: String,
    total: u64,
    bar: Option<ProgressBar>,
    enabled: bool,
    /// Test hook: abort the process (as a crash would) once this many rows are written.
    abort_after: Option<u64>,
}

impl Bar {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            phase: String::new(),
            total: 0,
            bar: None,
            enabled: std::io::stderr().is_terminal(),
            abort_after: std::env::var("ABM_TEST_ABORT_AFTER_ROWS")
                .ok()
                .and_then(|v| v.parse().ok()),
        }
    }

    fn style(phase: &str) -> ProgressStyle {
        let unit = if phase == "reading" {
            "{bytes}/{total_bytes}"
        } else {
            "{pos}/{len} rows"
        };
        ProgressStyle::with_template(&format!("{{msg:>8}} [{{bar:40}}] {unit} ({{eta}})"))
            .expect("valid template")
            .progress_chars("=> ")
    }
}

impl ImportProgress for Bar {
    fn phase(&mut self, name: &str, total: u64) {
        self.phase = name.to_string();
        self.total = total;
        if let Some(b) = &self.bar {
            b.set_style(Self::style(name));
            b.set_length(total);
            b.set_position(0);
            b.set_message(name.to_string());
        }
    }

    fn advance(&mut self, done: u64) {
        if self.phase == "writing" {
            if let Some(limit) = self.abort_after {
                if done >= limit {
                    eprintln!("ABM_TEST_ABORT_AFTER_ROWS: aborting after {done} rows");
                    std::process::abort();
                }
            }
        }
        if self.bar.is_none() && self.enabled && self.started.elapsed() > Duration::from_secs(1) {
            let b = ProgressBar::new(self.total)
                .with_style(Self::style(&self.phase))
                .with_message(self.phase.clone());
            b.enable_steady_tick(Duration::from_millis(200));
            self.bar = Some(b);
        }
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
