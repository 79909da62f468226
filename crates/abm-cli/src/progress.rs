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
        let template = match phase {
            "reading" => "{msg:>9} [{bar:40}] {bytes}/{total_bytes} ({eta})",
            // A count with no known total.
            "gathering" => "{msg:>9} {pos} activities read ({elapsed})",
            "replaying" => "{msg:>9} [{bar:40}] {pos}/{len} accounts ({eta})",
            "storing" => "{msg:>9} {len} journeys ({elapsed})",
            // The store building its indexes and committing: no count to show.
            "saving" => "{msg:>9} {spinner} building indexes and committing",
            _ => "{msg:>9} [{bar:40}] {pos}/{len} rows ({eta})",
        };
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> ")
    }
}

impl ImportProgress for Bar {
    fn phase(&mut self, name: &str, total: u64) {
        self.phase = name.to_string();
        self.total = total;
        if let Some(b) = &self.bar {
            // The name first: a tick between the two would draw the new style with the old name.
            b.set_message(name.to_string());
            b.set_style(Self::style(name));
            b.set_length(total);
            b.set_position(0);
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

/// Run `work` with a watch on its journey replay, while a bar (on a terminal, after a second)
/// shows where the replay has got.
pub fn watching<T>(work: impl FnOnce(&abm_workspace::journey::Watch) -> T) -> T {
    use abm_workspace::journey::Phase;
    let watch = &abm_workspace::journey::Watch::default();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let ticker = scope.spawn(|| {
            let mut bar = Bar::new();
            let mut shown = Phase::Idle;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (phase, done, total) = watch.now();
                if phase != shown {
                    let name = match phase {
                        Phase::Reading => "gathering",
                        Phase::Replaying => "replaying",
                        Phase::Writing => "storing",
                        Phase::Idle => "",
                    };
                    bar.phase(name, total);
                    shown = phase;
                }
                if phase != Phase::Idle {
                    bar.advance(done);
                }
                std::thread::park_timeout(Duration::from_millis(100));
            }
        });
        let out = work(watch);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        ticker.thread().unpark();
        out
    })
}
