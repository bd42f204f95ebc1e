//! The knowledge of netdx: what measured facts mean. Diagnoses are data with
//! a stable code so scripts can match on them while humans read the summary.

use serde::{Deserialize, Serialize};

/// How much a finding should worry the reader.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Healthy: nothing to do.
    Ok,
    /// Worth knowing, not a failure.
    Info,
    /// Degraded: works, but something is off.
    Warning,
    /// Broken: the target does not work.
    Critical,
}

impl Severity {
    /// Short label for human output.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One finding: stable code, severity, one-line summary, and the evidence.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Diagnosis {
    /// Stable identifier such as `ping.healthy` or `tcp.refused`.
    pub code: String,
    /// How serious the finding is.
    pub severity: Severity,
    /// One sentence a person on call can act on.
    pub summary: String,
    /// The numbers and facts the summary rests on.
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

impl Diagnosis {
    /// Starts a diagnosis; add evidence with [`Diagnosis::with`].
    pub fn new(code: &str, severity: Severity, summary: impl Into<String>) -> Self {
        Diagnosis {
            code: code.to_string(),
            severity,
            summary: summary.into(),
            evidence: serde_json::Map::new(),
        }
    }

    /// Attaches one piece of evidence.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.evidence.insert(key.to_string(), value);
        self
    }
}

pub mod codes;
pub mod dns;
pub mod errno;
pub mod hold;
pub mod icmp;
pub mod path;
pub mod ping;
pub mod sockets;
pub mod tcp;
pub mod tcp_flags;
pub mod tcp_state;
pub mod ttl;
pub mod watch;

#[cfg(test)]
mod rules_tests;
