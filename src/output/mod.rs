//! Rendering: commands produce data, this module decides how it reaches the
//! user (human text, one JSON document, or JSON lines) so every command
//! behaves the same way for scripts.

pub mod progress;
pub mod schema;

use crate::diagnose::{Diagnosis, Severity};
use crate::error::{AppError, Exit};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The three output shapes every subcommand supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Text for people, possibly coloured, possibly redrawn in place.
    Human,
    /// One JSON document printed when the command ends.
    Json,
    /// One JSON object per event, printed as it happens.
    Jsonl,
}

impl Mode {
    /// The mode the global `--json` / `--jsonl` flags ask for.
    pub fn from_flags(json: bool, jsonl: bool) -> Self {
        if json {
            Mode::Json
        } else if jsonl {
            Mode::Jsonl
        } else {
            Mode::Human
        }
    }
}

/// Where a command's text goes: stdout for the binary, a buffer or nothing
/// for a caller of the library (`check` runs commands with [`Sink::silent`]).
type Writer = Arc<Mutex<Box<dyn Write + Send>>>;

/// Where a command writes its results; knows the mode and colour choice.
/// Cloning shares the writer. The first failed write (a closed pipe)
/// marks the sink closed, later writes are skipped, and long-running
/// commands end their loops on [`Sink::is_closed`].
#[derive(Clone)]
pub struct Sink {
    /// Output shape chosen on the command line.
    pub mode: Mode,
    /// Whether ANSI colour may be used.
    pub color: bool,
    /// Whether the output is a terminal (live redraw, progress bars).
    pub tty: bool,
    /// False for a sink that discards everything (library callers).
    pub enabled: bool,
    out: Writer,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("mode", &self.mode)
            .field("color", &self.color)
            .field("tty", &self.tty)
            .field("enabled", &self.enabled)
            .finish()
    }
}

impl Sink {
    /// Builds the stdout sink from the global flags and the terminal state.
    pub fn new(json: bool, jsonl: bool, no_color: bool) -> Self {
        let tty = std::io::stdout().is_terminal();
        let color = tty && !no_color && std::env::var_os("NO_COLOR").is_none();
        Sink::to_writer(
            Mode::from_flags(json, jsonl),
            color,
            tty,
            Box::new(std::io::stdout()),
        )
    }

    /// A sink over any writer, e.g. a buffer in a test or an embedding.
    pub fn to_writer(mode: Mode, color: bool, tty: bool, out: Box<dyn Write + Send>) -> Self {
        Sink {
            mode,
            color,
            tty,
            enabled: true,
            out: Arc::new(Mutex::new(out)),
            closed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A sink that prints nothing: the caller reads the typed report.
    pub fn silent() -> Self {
        let mut sink = Sink::to_writer(Mode::Json, false, false, Box::new(std::io::sink()));
        sink.enabled = false;
        sink
    }

    /// True when human text should be printed.
    pub fn human(&self) -> bool {
        self.enabled && self.mode == Mode::Human
    }

    /// True when events stream as `--jsonl` lines (so callers can skip
    /// building what only those lines would show).
    pub fn streams_events(&self) -> bool {
        self.enabled && self.mode == Mode::Jsonl
    }

    /// True when the reader went away (a closed pipe): stop producing.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Writes raw text as it is (live redraws); a failed write closes the sink.
    pub fn write_raw(&self, text: &str) {
        if !self.enabled || self.is_closed() {
            return;
        }
        let Ok(mut out) = self.out.lock() else {
            return;
        };
        if out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            self.closed.store(true, Ordering::Relaxed);
        }
    }

    /// Prints a line of human text (ignored in JSON modes).
    pub fn line(&self, text: &str) {
        if self.human() {
            self.write_raw(&format!("{text}\n"));
        }
    }

    /// Streams one event in `--jsonl` mode; `kind` names the event type.
    pub fn event<T: Serialize>(&self, kind: &str, data: &T) {
        if !self.enabled || self.mode != Mode::Jsonl {
            return;
        }
        let mut value = serde_json::to_value(data).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("event".into(), serde_json::Value::String(kind.into()));
            map.insert(schema::VERSION_KEY.into(), schema::SCHEMA_VERSION.into());
        }
        self.write_raw(&format!("{value}\n"));
    }

    /// Prints the final document in `--json` mode, `schema_version` first.
    pub fn document<T: Serialize>(&self, data: &T) {
        if !self.enabled || self.mode != Mode::Json {
            return;
        }
        let versioned = Versioned {
            schema_version: schema::SCHEMA_VERSION,
            body: data,
        };
        let text = serde_json::to_string_pretty(&versioned)
            .or_else(|_| serde_json::to_string_pretty(data))
            .unwrap_or_else(|_| "{}".into());
        self.write_raw(&format!("{text}\n"));
    }

    /// In JSON modes, a failure before any result still yields a document
    /// (or an `error` event) on stdout, so a script never reads nothing.
    pub fn error(&self, err: &AppError) {
        if self.human() {
            return;
        }
        let body = ErrorBody {
            code: err.code.clone(),
            exit: err.exit.code(),
            kind: err.kind(),
            message: err.message.clone(),
        };
        match self.mode {
            Mode::Json => self.document(&ErrorDocument { error: body }),
            _ => self.event("error", &body),
        }
    }

    /// Wraps text in an ANSI colour when colour is on.
    pub fn paint(&self, text: &str, severity: Severity) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match severity {
            Severity::Ok => "32",
            Severity::Info => "36",
            Severity::Warning => "33",
            Severity::Critical => "31",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Prints diagnoses as `diagnosis [severity] code: summary` lines.
    pub fn diagnoses(&self, list: &[Diagnosis]) {
        if !self.human() {
            return;
        }
        for d in list {
            let tag = self.paint(d.severity.label(), d.severity);
            self.line(&format!("diagnosis [{tag}] {}: {}", d.code, d.summary));
        }
    }
}

/// A document with the contract's version as its first key (a document
/// that is not an object fails to serialise this way and is printed as is).
#[derive(Serialize)]
struct Versioned<'a, T: Serialize> {
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// The `--json` document of a command that failed before any result.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorDocument {
    /// Why the command could not produce its result.
    pub error: ErrorBody,
}

/// A failure as JSON shows it; the `--jsonl` `error` event carries the
/// same fields.
// Fields in alphabetical order: the order they have always printed in.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The diagnosis code behind the failure (`dns.nxdomain`…), if any.
    pub code: Option<String>,
    /// The process exit status (1, 2 or 3).
    pub exit: i32,
    /// The exit class in words.
    #[schemars(extend("enum" = ["none", "target_failed", "usage", "cannot_run"]))]
    pub kind: &'static str,
    /// The one-line message also printed on stderr.
    pub message: String,
}

/// What every command returns: a typed result that can be printed in each
/// output shape and judged for the exit status. Commands stream their live
/// lines through the [`Sink`] while they run; the final part is described
/// here once and printed by [`finish`].
pub trait Report: Serialize {
    /// The findings, worst first or in the order they were made.
    fn diagnoses(&self) -> Vec<Diagnosis>;
    /// The exit status this result stands for.
    fn exit(&self) -> Exit;
    /// The closing human text (summary table, totals); diagnosis lines are
    /// printed after it by [`finish`]. Defaults to nothing.
    fn render_human(&self, _sink: &Sink) {}
    /// True when the command already printed its diagnosis lines while it
    /// ran (per name, per sample), so [`finish`] does not print them again.
    fn diagnoses_streamed(&self) -> bool {
        false
    }
    /// The `--jsonl` closing event, when the command has one.
    fn summary_event(&self) -> Option<serde_json::Value> {
        None
    }
}

/// Prints the end of a report in the sink's shape and returns its exit
/// status: the human summary and diagnoses, the `summary` JSON line, or
/// the whole `--json` document.
pub fn finish<R: Report>(sink: &Sink, report: &R) -> Exit {
    match sink.mode {
        Mode::Human => {
            report.render_human(sink);
            if !report.diagnoses_streamed() {
                sink.diagnoses(&report.diagnoses());
            }
        }
        Mode::Jsonl => {
            if let Some(event) = report.summary_event() {
                sink.event("summary", &event);
            }
        }
        Mode::Json => sink.document(report),
    }
    report.exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn printed(mode: Mode, print: impl Fn(&Sink)) -> String {
        let buffer = Buffer::default();
        let sink = Sink::to_writer(mode, false, false, Box::new(buffer.clone()));
        print(&sink);
        let bytes = buffer.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[derive(Serialize)]
    struct Doc {
        zeta: u8,
        alpha: &'static str,
    }

    #[test]
    fn a_document_starts_with_the_version_and_keeps_its_field_order() {
        let text = printed(Mode::Json, |s| {
            s.document(&Doc {
                zeta: 1,
                alpha: "a",
            })
        });
        assert_eq!(
            text,
            "{\n  \"schema_version\": 1,\n  \"zeta\": 1,\n  \"alpha\": \"a\"\n}\n"
        );
    }

    #[test]
    fn every_event_carries_the_version() {
        let text = printed(Mode::Jsonl, |s| {
            s.event(
                "reply",
                &Doc {
                    zeta: 1,
                    alpha: "a",
                },
            )
        });
        assert_eq!(
            text,
            "{\"alpha\":\"a\",\"event\":\"reply\",\"schema_version\":1,\"zeta\":1}\n"
        );
    }

    #[test]
    fn the_error_document_keeps_its_shape() {
        let err = AppError::usage("bad").with_code("x.y");
        let text = printed(Mode::Json, |s| s.error(&err));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(
            doc,
            serde_json::json!({"schema_version": 1, "error":
                {"code": "x.y", "exit": 2, "kind": "usage", "message": "bad"}})
        );
        let line = printed(Mode::Jsonl, |s| s.error(&err));
        assert_eq!(
            line,
            "{\"code\":\"x.y\",\"event\":\"error\",\"exit\":2,\"kind\":\"usage\",\"message\":\"bad\",\"schema_version\":1}\n"
        );
    }
}
