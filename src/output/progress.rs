//! Progress bars only where a person is watching: a terminal, human mode.
//! Off a terminal no bar object exists at all, so a library caller that
//! runs thousands of commands pays nothing for them.

use super::Sink;
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr, or nothing when no one is watching.
#[derive(Debug, Clone, Default)]
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// No bar: every call is a no-op.
    pub fn none() -> Self {
        Progress(None)
    }

    /// Counts `n` more items done.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// Runs `f` with the bar hidden, so printed lines do not tear it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish_and_clear(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A bar on stderr for `total` items, absent on pipes and in JSON modes.
pub fn bar(sink: &Sink, total: u64, what: &str) -> Progress {
    let visible = sink.human() && std::io::IsTerminal::is_terminal(&std::io::stderr());
    if !visible {
        return Progress::none();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Progress(Some(bar))
}
