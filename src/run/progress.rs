//! Progress on stderr: a bar with chunks done / total, tokens per second and an ETA on a
//! terminal; a plain line every few seconds when stderr is not a terminal (logs, CI); nothing
//! with [`ProgressMode::Quiet`].

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::settings::ProgressMode;

/// Seconds between plain progress lines.
pub const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

enum Show {
    Bar(ProgressBar),
    Plain { last: Instant },
    Quiet,
}

/// Progress of one run.
pub struct Progress {
    show: Show,
    total: u64,
    done: u64,
    /// Chunks that were done before this run's computing started (cache hits and lines taken
    /// from module docs).
    cached: u64,
    tokens: u64,
    start: Instant,
}

impl Progress {
    /// Starts reporting `total` chunks of which `cached` are done already (from the cache or
    /// the authors' docs).
    pub fn new(mode: ProgressMode, total: u64, cached: u64) -> Progress {
        let show = match mode {
            ProgressMode::Quiet => Show::Quiet,
            ProgressMode::Auto if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} chunks  {msg}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_position(cached);
                bar.reset_eta();
                bar.enable_steady_tick(Duration::from_millis(200));
                Show::Bar(bar)
            }
            _ => Show::Plain {
                last: Instant::now(),
            },
        };
        Progress {
            show,
            total,
            done: cached,
            cached,
            tokens: 0,
            start: Instant::now(),
        }
    }

    /// One more chunk is done; `tokens` prompt plus generated tokens were processed for it.
    pub fn advance(&mut self, tokens: u64) {
        self.done += 1;
        self.tokens += tokens;
        let rate = self.rate();
        if let Show::Bar(bar) = &self.show {
            bar.set_position(self.done);
            bar.set_message(format!("{rate:.0} tok/s"));
        }
        self.tick();
    }

    /// Prints a plain line when one is due.
    pub fn tick(&mut self) {
        let line = self.line();
        if let Show::Plain { last } = &mut self.show
            && last.elapsed() >= PLAIN_INTERVAL
        {
            *last = Instant::now();
            eprintln!("{line}");
        }
    }

    /// Prints a message without breaking the bar (nothing when quiet).
    pub fn println(&self, message: &str) {
        match &self.show {
            Show::Bar(bar) => bar.println(message),
            Show::Plain { .. } => eprintln!("{message}"),
            Show::Quiet => {}
        }
    }

    /// Ends the bar, leaving a last line.
    pub fn finish(&mut self) {
        let line = self.line();
        match &self.show {
            Show::Bar(bar) => bar.finish_with_message(format!("{:.0} tok/s", self.rate())),
            Show::Plain { .. } => eprintln!("{line}"),
            Show::Quiet => {}
        }
    }

    fn rate(&self) -> f64 {
        self.tokens as f64 / self.start.elapsed().as_secs_f64().max(1e-3)
    }

    fn line(&self) -> String {
        let computed = self.done - self.cached;
        let left = self.total.saturating_sub(self.done);
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = if computed > 0 {
            format!("{:.0}s", elapsed / computed as f64 * left as f64)
        } else {
            "?".to_string()
        };
        format!(
            "isg: {}/{} chunks ({} known before asking), {:.0} tok/s, {:.0}s elapsed, ETA {eta}",
            self.done,
            self.total,
            self.cached,
            self.rate(),
            elapsed
        )
    }
}
