//! Rendering: commands produce data, this module decides how it reaches the
//! user (human text, one JSON document, or JSON lines) so every command
//! behaves the same way for scripts.

pub mod progress;

use crate::diagnose::{Diagnosis, Severity};
use crate::error::{AppError, Exit};
use serde::Serialize;
use std::io::{IsTerminal, Write};

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

/// Where a command writes its results; knows the mode and colour choice.
#[derive(Debug, Clone, Copy)]
pub struct Sink {
    /// Output shape chosen on the command line.
    pub mode: Mode,
    /// Whether ANSI colour may be used.
    pub color: bool,
    /// Whether stdout is a terminal (live redraw, progress bars).
    pub tty: bool,
}

impl Sink {
    /// Builds the sink from the global flags and the terminal state.
    pub fn new(json: bool, jsonl: bool, no_color: bool) -> Self {
        let tty = std::io::stdout().is_terminal();
        let mode = if json {
            Mode::Json
        } else if jsonl {
            Mode::Jsonl
        } else {
            Mode::Human
        };
        let color = tty && !no_color && std::env::var_os("NO_COLOR").is_none();
        Sink { mode, color, tty }
    }

    /// True when human text should be printed.
    pub fn human(&self) -> bool {
        self.mode == Mode::Human
    }

    /// Prints a line of human text (ignored in JSON modes).
    pub fn line(&self, text: &str) {
        if self.human() {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
        }
    }

    /// Streams one event in `--jsonl` mode; `kind` names the event type.
    pub fn event<T: Serialize>(&self, kind: &str, data: &T) {
        if self.mode != Mode::Jsonl {
            return;
        }
        let mut value = serde_json::to_value(data).unwrap_or(serde_json::Value::Null);
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("event".into(), serde_json::Value::String(kind.into()));
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
        let _ = out.flush();
    }

    /// Prints the final document in `--json` mode.
    pub fn document<T: Serialize>(&self, data: &T) {
        if self.mode != Mode::Json {
            return;
        }
        let text = serde_json::to_string_pretty(data).unwrap_or_else(|_| "{}".into());
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }

    /// In JSON modes, a failure before any result still yields a document
    /// (or an `error` event) on stdout, so a script never reads nothing.
    pub fn error(&self, err: &AppError) {
        if self.human() {
            return;
        }
        let kind = match err.exit {
            Exit::Healthy => "none",
            Exit::TargetFailed => "target_failed",
            Exit::Usage => "usage",
            Exit::CannotRun => "cannot_run",
        };
        // Diagnosis codes travel at the end of a message as `[code]`.
        let code = err
            .message
            .rsplit_once('[')
            .and_then(|(_, tail)| tail.strip_suffix(']'))
            .filter(|c| c.contains('.') && !c.contains(' '));
        let body = serde_json::json!({
            "exit": err.exit.code(),
            "kind": kind,
            "message": err.message,
            "code": code,
        });
        match self.mode {
            Mode::Json => self.document(&serde_json::json!({ "error": body })),
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
