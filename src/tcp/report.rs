//! What the probes found, per target: the state (open, closed, filtered…),
//! connect-time statistics and the errno and ICMP evidence, worded from the
//! errno and ICMP tables so the words match `netdx explain`. The rules that
//! turn these results into diagnoses live in `crate::diagnose::tcp`.

use crate::cli::Expect;
use crate::diagnose::errno;
use crate::diagnose::icmp;
use crate::diagnose::tcp::{
    ConnectFact, Expectation, FailureFact, GENERIC_CODE, PROHIBITED_CODE, RESET_AFTER_ACCEPT_CODE,
    SELF_CONNECT_CODE,
};
use crate::error::Exit;
use crate::probe::connect::{self, Attempt, IcmpOrigin};
use crate::stats::{RttStats, RttSummary};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// One address:port to probe, remembering the name it came from.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The host as the user typed it (name or literal), shared by all its
    /// ports.
    pub host: std::sync::Arc<str>,
    /// The address and port probed.
    pub addr: SocketAddr,
}

impl Endpoint {
    /// `name:port (address)` for names, `addr:port` / `[v6]:port` for literals.
    pub fn label(&self) -> String {
        if crate::resolve::parse_literal(&self.host).is_some() {
            self.addr.to_string()
        } else {
            format!(
                "{}:{} ({})",
                crate::resolve::idn::both_forms(&self.host),
                self.addr.port(),
                self.addr.ip()
            )
        }
    }
}

/// The verdict words; the diagnose rules own them.
pub use crate::diagnose::tcp::State;

/// A failure, classified once and described from the tables.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Failure {
    /// Verdict it leads to.
    pub state: State,
    /// Symbolic errno (ETIMEDOUT for our own timeout; none for a
    /// self-connect, where connect() itself succeeded).
    pub errno: Option<&'static str>,
    /// Numeric errno.
    pub errno_number: Option<i32>,
    /// Stable diagnosis code.
    pub code: &'static str,
    /// Short words for the result line.
    pub detail: String,
    /// The ICMP error behind it, when there was one.
    pub icmp: Option<IcmpOrigin>,
    /// Time until the failure was known, in ms.
    pub time_ms: f64,
    /// True when no packet left this host.
    pub local: bool,
    /// For a refusal: the TTL evidence on who sent the RST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rst: Option<super::rst::RstEvidence>,
}

/// Classifies a failed attempt; None for a successful one.
pub fn failure(attempt: &Attempt, addr: &SocketAddr) -> Option<Failure> {
    match attempt {
        Attempt::Open { .. } => None,
        Attempt::SelfConnect { elapsed } => Some(Failure {
            state: State::Closed,
            errno: None,
            errno_number: None,
            code: SELF_CONNECT_CODE,
            detail: format!(
                "self-connect: the kernel chose the target port as our source port; nothing listens (in {:.3} ms)",
                ms(*elapsed)
            ),
            icmp: None,
            time_ms: ms(*elapsed),
            local: true,
            rst: None,
        }),
        Attempt::ResetAfterAccept { rtt, elapsed } => Some(Failure {
            state: State::Reset,
            errno: Some("ECONNRESET"),
            errno_number: Some(libc::ECONNRESET),
            code: RESET_AFTER_ACCEPT_CODE,
            detail: match rtt {
                Some(rtt) => format!(
                    "handshake completed in {:.3} ms, then RST in {:.3} ms: the application accepted and reset",
                    ms(*rtt),
                    ms(*elapsed)
                ),
                None => format!(
                    "handshake completed, then RST in {:.3} ms: the application accepted and reset",
                    ms(*elapsed)
                ),
            },
            icmp: None,
            time_ms: ms(*elapsed),
            local: false,
            rst: None,
        }),
        Attempt::Timeout { waited } => {
            let info = errno::by_number(libc::ETIMEDOUT);
            Some(Failure {
                state: State::Filtered,
                errno: info.map(|e| e.name),
                errno_number: Some(libc::ETIMEDOUT),
                code: info.and_then(|e| e.diagnosis).unwrap_or(GENERIC_CODE),
                detail: format!("no answer in {:.1} s", waited.as_secs_f64()),
                icmp: None,
                time_ms: ms(*waited),
                local: false,
                rst: None,
            })
        }
        Attempt::Failed {
            errno: n,
            elapsed,
            icmp,
            immediate,
        } => {
            let info = errno::by_number(*n);
            let prohibited = icmp
                .and_then(|o| icmp::lookup(o.v6, o.icmp_type, o.code))
                .is_some_and(|i| i.trace_mark == "!X");
            let state = match *n {
                _ if icmp.is_some() && *n != libc::ECONNREFUSED => State::Unreachable,
                libc::ECONNREFUSED => State::Closed,
                libc::ETIMEDOUT => State::Filtered,
                libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ENETDOWN | libc::EHOSTDOWN => {
                    State::Unreachable
                }
                libc::EPERM | libc::EACCES => State::Blocked,
                _ => State::Error,
            };
            let name = info.map(|e| e.name).unwrap_or("EUNKNOWN");
            let words = match (icmp, *n) {
                (Some(o), _) => format!(
                    "{} from {}",
                    icmp::describe(o.v6, o.icmp_type, o.code),
                    o.from
                ),
                (None, libc::ECONNREFUSED) => "RST from the host or a firewall on the path".to_string(),
                (None, libc::ENETUNREACH) if *immediate => {
                    format!("no route on this host (ip route get {})", addr.ip())
                }
                (None, libc::EPERM | libc::EACCES) if *immediate => {
                    "refused by a local firewall rule or policy; nothing was sent".to_string()
                }
                (None, _) => info.map(|e| e.message.to_string()).unwrap_or_default(),
            };
            Some(Failure {
                state,
                errno: info.map(|e| e.name),
                errno_number: Some(*n),
                code: if prohibited {
                    PROHIBITED_CODE
                } else {
                    info.and_then(|e| e.diagnosis).unwrap_or(GENERIC_CODE)
                },
                detail: format!("{name}: {words} in {:.3} ms", ms(*elapsed)),
                icmp: *icmp,
                time_ms: ms(*elapsed),
                local: *immediate,
                rst: None,
            })
        }
    }
}

/// The diagnosis code of a failure with errno `n` and no ICMP error, as
/// [`failure`] gives it.
pub fn errno_code(n: i32) -> &'static str {
    errno::by_number(n)
        .and_then(|e| e.diagnosis)
        .unwrap_or(GENERIC_CODE)
}

/// Everything found for one target over its attempts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TargetResult {
    /// How the target is printed.
    pub target: String,
    /// The host as typed.
    #[schemars(with = "String")]
    pub host: std::sync::Arc<str>,
    /// The address probed (none when the name did not resolve).
    pub address: Option<IpAddr>,
    /// The port probed.
    pub port: u16,
    /// The verdict: open if any attempt connected, else the last failure's.
    pub state: State,
    /// Attempts made.
    pub sent: u64,
    /// Attempts that connected.
    pub connected: u64,
    /// Attempts whose handshake completed and was reset at once (counted
    /// apart from `connected`: something listens, but serves nothing).
    pub reset_after_accept: u64,
    /// Connect times of the successful attempts.
    pub stats: Option<RttSummary>,
    /// The last failure, if any attempt failed.
    pub failure: Option<Failure>,
    /// Our source address for the connection.
    pub local: Option<SocketAddr>,
    /// What the server sent first, escaped and capped.
    pub banner: Option<String>,
    /// Why the name did not resolve.
    pub error: Option<String>,
    #[serde(skip)]
    rtt: Option<Box<RttStats>>,
}

impl TargetResult {
    /// An empty result for an endpoint about to be probed.
    pub fn new(ep: &Endpoint) -> Self {
        TargetResult {
            target: ep.label(),
            host: ep.host.clone(),
            address: Some(ep.addr.ip()),
            port: ep.addr.port(),
            state: State::Error,
            sent: 0,
            connected: 0,
            reset_after_accept: 0,
            stats: None,
            failure: None,
            local: None,
            banner: None,
            error: None,
            rtt: None,
        }
    }

    /// A result for a host whose name did not resolve.
    pub fn unresolved(host: &str, port: u16, why: &str) -> Self {
        TargetResult {
            target: format!("{host}:{port}"),
            host: host.into(),
            address: None,
            port,
            state: State::Unresolved,
            sent: 0,
            connected: 0,
            reset_after_accept: 0,
            stats: None,
            failure: None,
            local: None,
            banner: None,
            error: Some(why.to_string()),
            rtt: None,
        }
    }

    /// Adds one attempt and returns its failure, if it failed.
    pub fn add(&mut self, attempt: &Attempt) -> Option<Failure> {
        self.sent += 1;
        let addr = SocketAddr::new(self.address?, self.port);
        let failed = failure(attempt, &addr);
        if let Attempt::Open { rtt, local, banner } = attempt {
            self.connected += 1;
            let stats = self.rtt.get_or_insert_with(Box::default);
            stats.add(*rtt);
            self.stats = stats.summary();
            self.local = *local;
            if let Some(b) = banner {
                self.banner = Some(connect::escape(b));
            }
        }
        if matches!(attempt, Attempt::ResetAfterAccept { .. }) {
            self.reset_after_accept += 1;
        }
        if let Some(f) = &failed {
            self.failure = Some(f.clone());
        }
        self.state = if self.connected > 0 {
            State::Open
        } else {
            self.failure
                .as_ref()
                .map(|f| f.state)
                .unwrap_or(State::Error)
        };
        failed
    }

    /// True when the target answered (anything but a timeout): what
    /// grows the connect window.
    pub fn answered(&self) -> bool {
        self.state != State::Filtered
    }

    /// True when this target meets the expectation on every attempt.
    pub fn meets(&self, expect: Expect) -> bool {
        match expect {
            Expect::Open => self.sent > 0 && self.connected == self.sent,
            Expect::Closed => {
                self.state != State::Unresolved
                    && self.connected == 0
                    && self.reset_after_accept == 0
            }
        }
    }

    /// The detail column of a result line.
    pub fn detail(&self) -> String {
        if let Some(why) = &self.error {
            return why.clone();
        }
        let mut text = match (&self.stats, &self.failure) {
            (Some(s), None) => format!("{:.3} ms", s.avg_ms),
            (Some(s), Some(f)) => format!(
                "avg {:.3} ms, {} of {} failed (last: {})",
                s.avg_ms,
                self.sent - self.connected,
                self.sent,
                f.detail
            ),
            (None, Some(f)) => f.detail.clone(),
            (None, None) => String::new(),
        };
        if let Some(b) = &self.banner {
            text.push_str(&format!("  banner \"{b}\""));
        }
        text
    }
}

impl Failure {
    /// The failure as the diagnose rules read it.
    pub fn fact(&self) -> FailureFact<'_> {
        FailureFact {
            state: self.state,
            errno: self.errno,
            errno_number: self.errno_number,
            code: self.code,
            detail: &self.detail,
            icmp: self.icmp,
            time_ms: self.time_ms,
            local: self.local,
            rst_before_host: self
                .rst
                .as_ref()
                .and_then(|e| Some((e.rst_ttl?, e.host_ttl?, e.hops_before_host?))),
        }
    }
}

impl TargetResult {
    /// The result as the diagnose rules read it.
    pub fn fact(&self) -> ConnectFact<'_> {
        ConnectFact {
            target: &self.target,
            host: &self.host,
            address: self.address,
            port: self.port,
            state: self.state,
            sent: self.sent,
            connected: self.connected,
            reset_after_accept: self.reset_after_accept,
            avg_ms: self.stats.map(|s| s.avg_ms),
            failure: self.failure.as_ref().map(Failure::fact),
            banner: self.banner.as_deref(),
            error: self.error.as_deref(),
        }
    }
}

/// The expectation of `--expect` in the diagnose rules' terms.
pub fn expectation(expect: Expect) -> Expectation {
    match expect {
        Expect::Open => Expectation::Open,
        Expect::Closed => Expectation::Closed,
    }
}

/// Milliseconds as f64.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Totals for the summary line, the `--jsonl` summary event and the JSON
/// document.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, Default)]
pub struct Totals {
    /// Targets reported (probed and unresolved).
    pub targets: usize,
    /// Targets that accepted a connection.
    pub open: usize,
    /// Targets that answered RST.
    pub closed: usize,
    /// Targets that completed the handshake and reset it at once.
    pub reset: usize,
    /// Targets that never answered.
    pub filtered: usize,
    /// Targets an ICMP error or a missing route made unreachable.
    pub unreachable: usize,
    /// Targets a local rule refused.
    pub blocked: usize,
    /// Targets that failed with another errno.
    pub error: usize,
    /// Names that did not resolve.
    pub unresolved: usize,
    /// Wall time of the run, in ms.
    pub elapsed_ms: f64,
    /// True when Ctrl-C ended the run early.
    pub interrupted: bool,
}

impl Totals {
    /// Counts the verdicts of `results` and the refusals `folded` stands for.
    pub fn of(
        results: &[TargetResult],
        folded: &crate::diagnose::tcp::Folded,
        elapsed: Duration,
        interrupted: bool,
    ) -> Totals {
        let mut t = Totals {
            targets: results.len() + folded.count,
            closed: folded.count,
            elapsed_ms: ms(elapsed),
            interrupted,
            ..Totals::default()
        };
        for r in results {
            match r.state {
                State::Open => t.open += 1,
                State::Closed => t.closed += 1,
                State::Reset => t.reset += 1,
                State::Filtered => t.filtered += 1,
                State::Unreachable => t.unreachable += 1,
                State::Blocked => t.blocked += 1,
                State::Error => t.error += 1,
                State::Unresolved => t.unresolved += 1,
            }
        }
        t
    }
}

/// Everything `netdx tcp` found: the per-target results, the totals, the
/// diagnoses and the exit status. Serializes as the `--json` document; the
/// skipped fields steer the human rendering.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TcpReport {
    /// `open` or `closed`: what the targets were expected to be.
    pub expect: &'static str,
    /// One result per target, in input order (unresolved names last).
    pub targets: Vec<TargetResult>,
    /// The totals.
    pub summary: Totals,
    /// The findings, worst first.
    pub diagnosis: Vec<crate::diagnose::Diagnosis>,
    /// With `--hold`: how the held connection went and ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<super::hold::HoldResult>,
    /// Attempts per target (`-c`): above one, per-target statistics print.
    #[serde(skip)]
    pub count: u64,
    /// `--all`: list every target even when there are many.
    #[serde(skip)]
    pub all: bool,
    /// Endpoints that were to be probed (for the interrupted line).
    #[serde(skip)]
    pub endpoints: usize,
    /// Endpoints actually probed before an interrupt.
    #[serde(skip)]
    pub probed: usize,
    /// Plain refusals counted but not kept in `targets` (human output of
    /// a large scan lists them only as a count).
    #[serde(skip)]
    pub folded: usize,
    /// Healthy when every target met the expectation.
    #[serde(skip)]
    pub exit: Exit,
}

impl crate::output::Report for TcpReport {
    fn diagnoses(&self) -> Vec<crate::diagnose::Diagnosis> {
        self.diagnosis.clone()
    }

    fn exit(&self) -> Exit {
        self.exit
    }

    fn render_human(&self, sink: &crate::output::Sink) {
        super::render::render(sink, self);
    }

    fn summary_event(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.summary).ok()
    }
}
