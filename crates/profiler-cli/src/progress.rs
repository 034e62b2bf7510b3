//! A progress bar per phase on stderr, with live messages per second. Only used on a terminal.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use perfgate_profiler::{Length, Observer, PhaseStart};

use crate::summary::rate;

/// Draws one bar per phase.
#[derive(Debug)]
pub(crate) struct ProgressBars {
    state: Mutex<Option<Current>>,
}

#[derive(Debug)]
struct Current {
    bar: ProgressBar,
    last_finished: u64,
    last_elapsed: Duration,
}

impl ProgressBars {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(None),
        }
    }
}

impl Observer for ProgressBars {
    fn phase_started(&self, phase: &PhaseStart) {
        let total = match (phase.warmup, phase.length) {
            (Length::Messages(warmup), Length::Messages(measured)) => Some(warmup + measured),
            _ => None,
        };
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template(
                        "{prefix:>11} [{bar:32.cyan/blue}] {human_pos}/{human_len} {msg} · {elapsed} elapsed, {eta} left",
                    )
                    .expect("static template")
                    .progress_chars("=> "),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{prefix:>11} {spinner} {elapsed} {human_pos} messages {msg}")
                    .expect("static template"),
            ),
        };
        let label = match phase.rate {
            Some(rate_per_s) => format!("{} @ {}", phase.name, rate(rate_per_s)),
            None => phase.name.to_owned(),
        };
        bar.set_prefix(phase.name);
        bar.set_message(label);
        *self.state.lock().expect("progress lock") = Some(Current {
            bar,
            last_finished: 0,
            last_elapsed: Duration::ZERO,
        });
    }

    fn progress(&self, finished: u64, elapsed: Duration) {
        let mut state = self.state.lock().expect("progress lock");
        let Some(current) = state.as_mut() else { return };
        let span = elapsed.saturating_sub(current.last_elapsed).as_secs_f64();
        if span > 0.0 {
            let per_second = finished.saturating_sub(current.last_finished) as f64 / span;
            current.bar.set_message(format!("{} msg/s", rate(per_second)));
        }
        current.bar.set_position(finished);
        current.last_finished = finished;
        current.last_elapsed = elapsed;
    }

    fn phase_finished(&self, _name: &str) {
        if let Some(current) = self.state.lock().expect("progress lock").take() {
            current.bar.finish_and_clear();
        }
    }
}
