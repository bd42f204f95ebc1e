//! How a held connection (`netdx tcp --hold`) ended, and what to make of
//! it: peer closed, peer forgot (RST), black hole found by keepalive or the
//! user timeout, with the time it took against the time the settings
//! promised, and the advice about keepalive timing that survives NAT idle
//! timeouts.

use super::{Diagnosis, Severity};
use serde::Serialize;

/// How a held connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// `--duration` ran out with the connection alive.
    Alive,
    /// Ctrl-C ended the hold with the connection alive.
    Interrupted,
    /// The peer closed its side (FIN).
    PeerClosed,
    /// The peer reset the connection (RST): it forgot it, or refused it.
    PeerReset,
    /// Keepalive probes went unanswered: ETIMEDOUT.
    KeepaliveTimeout,
    /// Data or probes stayed unacknowledged for TCP_USER_TIMEOUT: ETIMEDOUT.
    UserTimeout,
    /// Retransmissions ran out (tcp_retries2): ETIMEDOUT.
    RetransmitTimeout,
    /// An ICMP error ended it (host or network unreachable).
    Unreachable,
    /// Another local error.
    LocalError,
}

impl Ending {
    /// True when the connection died (exit 1).
    pub fn died(self) -> bool {
        !matches!(self, Ending::Alive | Ending::Interrupted)
    }
}

/// What the kernel last said about the connection before it ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct LastSeen {
    /// Keepalive probes outstanding.
    pub probes: u8,
    /// Segments sent and not acknowledged.
    pub unacked: u32,
    /// Retransmissions of the current timer.
    pub retransmits: u8,
}

/// Names the ending of a connection that failed with `errno`.
pub fn classify(errno: i32, last: LastSeen, keepalive: bool, user_timeout: bool) -> Ending {
    match errno {
        libc::ECONNRESET | libc::EPIPE => Ending::PeerReset,
        libc::ETIMEDOUT => {
            if last.unacked > 0 && user_timeout {
                Ending::UserTimeout
            } else if last.unacked > 0 {
                Ending::RetransmitTimeout
            } else if keepalive || last.probes > 0 {
                Ending::KeepaliveTimeout
            } else if user_timeout {
                Ending::UserTimeout
            } else {
                Ending::RetransmitTimeout
            }
        }
        libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EHOSTDOWN | libc::ENETDOWN => {
            Ending::Unreachable
        }
        _ => Ending::LocalError,
    }
}

/// The facts of one hold, as the rules read them.
#[derive(Debug, Clone, Copy)]
pub struct HoldFact<'a> {
    /// The target as printed.
    pub target: &'a str,
    /// How it ended.
    pub ending: Ending,
    /// The errno that ended it, by name.
    pub errno: Option<&'static str>,
    /// Seconds from the handshake to the end.
    pub elapsed_s: f64,
    /// Seconds the peer had been silent (no ACK) when it ended.
    pub peer_silent_s: Option<f64>,
    /// idle + intvl × count of the keepalive settings.
    pub keepalive_promise_s: Option<f64>,
    /// `--keepalive` as given (idle, intvl, count).
    pub keepalive: Option<(u32, u32, u32)>,
    /// TCP_USER_TIMEOUT in seconds.
    pub user_timeout_s: Option<f64>,
    /// Bytes the peer sent.
    pub bytes_received: u64,
}

/// Advice on keepalive timing, from the seed: per socket beats sysctl.
const ADVICE: &str = "set keepalive per socket (SO_KEEPALIVE + TCP_KEEPIDLE/INTVL/CNT) rather than through net.ipv4.tcp_keepalive_* sysctls, which change every program on the host; keep the idle time below the shortest NAT/firewall idle timeout on the path (often 5–60 min, some cloud NATs 350 s): e.g. --keepalive 240,30,4";

/// The diagnosis of a hold.
pub fn diagnose(f: &HoldFact<'_>) -> Diagnosis {
    let t = f.target;
    let el = f.elapsed_s;
    let silent = f
        .peer_silent_s
        .map(|s| format!("; the peer was silent for the last {s:.1} s"))
        .unwrap_or_default();
    let (code, severity, summary) = match f.ending {
        Ending::Alive | Ending::Interrupted => (
            "tcp.hold_alive",
            Severity::Ok,
            format!(
                "{t}: the connection stayed up for {el:.1} s{}{}",
                if f.ending == Ending::Interrupted { " (interrupted)" } else { "" },
                match f.keepalive {
                    Some((i, v, c)) if el > f64::from(i) => format!(", keepalive {i},{v},{c}: idle periods passed and the probes were answered — the path keeps the flow and the peer is there"),
                    Some((i, ..)) => format!(" (shorter than the keepalive idle time of {i} s: no probe was needed)"),
                    None => String::new(),
                }
            ),
        ),
        Ending::PeerClosed => (
            "tcp.hold_peer_closed",
            Severity::Critical,
            format!(
                "{t}: the peer closed the connection (FIN) after {el:.1} s{silent} — the server or a proxy in front of it ended it on purpose, most often an idle timeout there \
                 ({} bytes received before). Check: the server's or load balancer's idle timeout; send traffic or keepalives more often than it (--send-every)",
                f.bytes_received
            ),
        ),
        Ending::PeerReset => (
            "tcp.hold_peer_reset",
            Severity::Critical,
            format!(
                "{t}: the connection was reset (RST, ECONNRESET) after {el:.1} s{silent} — the peer no longer knows it: the server restarted or aborted it, \
                 or a NAT, firewall or load balancer on the path dropped the flow's state and the host answered our next segment or keepalive probe with RST. \
                 Check: server restarts and logs at that moment; idle timeouts of middleboxes; {ADVICE}"
            ),
        ),
        Ending::KeepaliveTimeout => (
            "tcp.hold_black_hole",
            Severity::Critical,
            format!(
                "{t}: keepalive found a dead path — {}, ETIMEDOUT after {el:.1} s{silent}{} — the peer vanished without a word (power loss, crash, cable) or a firewall/NAT now drops the flow silently (half-open). \
                 Without keepalive the host would have waited for tcp_keepalive_time (7200 s by default) or forever. Check: is the peer up (`netdx ping`, `netdx tcp PEER:PORT`); {ADVICE}",
                match f.keepalive {
                    Some((_, _, c)) => format!("{c} keepalive probes unanswered"),
                    None => "keepalive probes unanswered".to_string(),
                },
                match f.keepalive_promise_s {
                    Some(p) => format!(" (the settings promised detection within idle + intvl × count = {p:.0} s of silence)"),
                    None => String::new(),
                }
            ),
        ),
        Ending::UserTimeout => (
            "tcp.hold_user_timeout",
            Severity::Critical,
            format!(
                "{t}: TCP_USER_TIMEOUT ({}) expired — data or probes went unacknowledged that long, ETIMEDOUT after {el:.1} s{silent}: the peer vanished or the path drops the flow silently (half-open). Check: is the peer up; {ADVICE}",
                f.user_timeout_s.map_or("set".to_string(), |u| format!("{u:.1} s"))
            ),
        ),
        Ending::RetransmitTimeout => (
            "tcp.hold_retransmit_timeout",
            Severity::Critical,
            format!(
                "{t}: our data went unacknowledged until the kernel gave up (net.ipv4.tcp_retries2, ~15 min by default): ETIMEDOUT after {el:.1} s{silent} — the peer vanished or the path became a black hole. \
                 Set TCP_USER_TIMEOUT (--user-timeout) to give up sooner"
            ),
        ),
        Ending::Unreachable => (
            "tcp.hold_unreachable",
            Severity::Critical,
            format!(
                "{t}: the connection died with {} after {el:.1} s{silent}: a router reported the host or network unreachable while we retransmitted",
                f.errno.unwrap_or("EHOSTUNREACH")
            ),
        ),
        Ending::LocalError => (
            "tcp.hold_error",
            Severity::Critical,
            format!(
                "{t}: the connection failed with {} after {el:.1} s",
                f.errno.unwrap_or("an error")
            ),
        ),
    };
    Diagnosis::new(code, severity, summary)
        .with("target", t)
        .with("ending", f.ending)
        .with("errno", f.errno)
        .with("elapsed_s", round1(el))
        .with("peer_silent_s", f.peer_silent_s.map(round1))
        .with("keepalive_promise_s", f.keepalive_promise_s)
        .with("user_timeout_s", f.user_timeout_s)
}

/// One decimal, for evidence that reads well in JSON.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_told_apart_by_what_was_outstanding() {
        let idle = LastSeen::default();
        let data = LastSeen {
            unacked: 2,
            retransmits: 5,
            probes: 0,
        };
        assert_eq!(
            classify(libc::ETIMEDOUT, idle, true, false),
            Ending::KeepaliveTimeout
        );
        assert_eq!(
            classify(libc::ETIMEDOUT, data, true, true),
            Ending::UserTimeout
        );
        assert_eq!(
            classify(libc::ETIMEDOUT, data, false, false),
            Ending::RetransmitTimeout
        );
        assert_eq!(
            classify(libc::ECONNRESET, idle, true, false),
            Ending::PeerReset
        );
        assert_eq!(
            classify(libc::EHOSTUNREACH, data, false, false),
            Ending::Unreachable
        );
        assert!(!Ending::Alive.died() && Ending::PeerClosed.died());
    }
}
