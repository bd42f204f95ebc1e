//! Progress bars only where a person is watching: a terminal, human mode.

use super::Sink;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar on stderr for `total` items, hidden on pipes and in JSON modes.
pub fn bar(sink: &Sink, total: u64, what: &str) -> ProgressBar {
    let visible = sink.human() && std::io::IsTerminal::is_terminal(&std::io::stderr());
    if !visible {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
