//! `netdx tcp HOST:PORT --hold`: connect once and keep the connection,
//! with keepalive / user-timeout settings of its own and optional traffic,
//! printing what the kernel's TCP_INFO shows whenever it changes, until the
//! connection dies (exit 1) or `--duration` runs out (exit 0). How it died
//! is judged in `crate::diagnose::hold`.

use super::report::{self, Endpoint, TargetResult, TcpReport, Totals};
use crate::cli::TcpArgs;
use crate::diagnose::hold::{self as rules, Ending, HoldFact, LastSeen};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;
use crate::probe::connect::Attempt;
use crate::probe::held::{self, HoldSettings, Keepalive, Wake};
use crate::probe::socket::TcpInfo;
use serde::Serialize;
use std::time::{Duration, Instant};

/// How often TCP_INFO is read while holding.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// Longest hold, keepalive idle or user timeout accepted (a day).
const MAX_SECS: f64 = 86_400.0;

/// What the hold found, in the `--json` document under `hold`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HoldResult {
    /// How the connection ended.
    pub ending: Ending,
    /// The errno that ended it (none when it stayed alive).
    pub errno: Option<&'static str>,
    /// Seconds from the completed handshake to the end.
    pub elapsed_s: f64,
    /// Seconds the peer had been silent (no ACK) when the connection ended.
    pub peer_silent_s: Option<f64>,
    /// Keepalive settings (`--keepalive`).
    pub keepalive: Option<Keepalive>,
    /// idle + intvl × count: the longest silence keepalive lets pass.
    pub keepalive_promise_s: Option<f64>,
    /// TCP_USER_TIMEOUT in seconds (`--user-timeout`).
    pub user_timeout_s: Option<f64>,
    /// Seconds between the bytes sent (`--send-every`).
    pub send_every_s: Option<f64>,
    /// Planned length of the hold (`--duration`).
    pub duration_s: Option<f64>,
    /// Bytes the peer sent.
    pub bytes_received: u64,
    /// Bytes we sent.
    pub bytes_sent: u64,
    /// The last TCP_INFO read, after the end when the kernel still had it.
    pub last_info: Option<TcpInfo>,
}

/// One `--jsonl` event per change in what TCP_INFO shows.
#[derive(Serialize)]
struct StateEvent<'a> {
    target: &'a str,
    elapsed_s: f64,
    /// The state in `ss` words (`state` is the kernel's number).
    state_name: &'static str,
    #[serde(flatten)]
    info: TcpInfo,
}

/// The flags of a hold, checked.
struct HoldPlan {
    settings: HoldSettings,
    send_every: Option<Duration>,
    duration: Option<Duration>,
}

/// Seconds from a flag: finite, above 0, at most a day.
fn seconds(flag: &str, value: Option<f64>) -> AppResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v > 0.0 && v <= MAX_SECS => {
            Ok(Some(Duration::from_secs_f64(v)))
        }
        Some(v) => Err(AppError::usage(format!(
            "{flag} {v}: give seconds greater than 0 and at most {MAX_SECS}"
        ))),
    }
}

/// Parses `IDLE,INTVL,COUNT` (whole seconds, count of probes).
fn parse_keepalive(text: &str) -> AppResult<Keepalive> {
    let bad = || {
        AppError::usage(format!(
            "--keepalive {text}: give IDLE,INTVL,COUNT as whole numbers (idle and interval 1-32767 s, count 1-127), e.g. 240,30,4"
        ))
    };
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [idle, intvl, count] = parts.as_slice() else {
        return Err(bad());
    };
    let num = |s: &str, max: u32| s.parse::<u32>().ok().filter(|n| (1..=max).contains(n));
    Ok(Keepalive {
        idle: num(idle, 32767).ok_or_else(bad)?,
        intvl: num(intvl, 32767).ok_or_else(bad)?,
        count: num(count, 127).ok_or_else(bad)?,
    })
}

/// Checks the hold flags.
fn plan(args: &TcpArgs, wait: Duration) -> AppResult<HoldPlan> {
    let keepalive = args.keepalive.as_deref().map(parse_keepalive).transpose()?;
    Ok(HoldPlan {
        settings: HoldSettings {
            keepalive,
            user_timeout: seconds("--user-timeout", args.user_timeout)?,
            wait,
        },
        send_every: seconds("--send-every", args.send_every)?,
        duration: seconds("--duration", args.duration)?,
    })
}

/// Holds a connection to `ep` and reports how it went.
pub async fn hold(
    args: &TcpArgs,
    ep: Endpoint,
    wait: Duration,
    sink: &Sink,
) -> AppResult<TcpReport> {
    let plan = plan(args, wait)?;
    let started = Instant::now();
    let mut result = TargetResult::new(&ep);
    let held = match held::open(ep.addr, plan.settings).await {
        Ok(h) => h,
        Err(attempt) => {
            result.add(&attempt);
            return Ok(finish(args, result, None, started, sink));
        }
    };
    result.add(&Attempt::Open {
        rtt: held.rtt,
        local: held.local,
        banner: None,
    });
    sink.line(&format!(
        "{}: connected in {:.3} ms from {}; holding{}",
        result.target,
        report::ms(held.rtt),
        held.local.map_or("?".into(), |l| l.to_string()),
        describe_plan(&plan)
    ));
    sink.event("connected", &result);
    let outcome = watch(&held, &plan, &result.target, sink).await;
    Ok(finish(args, result, Some(outcome), started, sink))
}

/// The settings in words, for the first line.
fn describe_plan(p: &HoldPlan) -> String {
    let mut words = Vec::new();
    if let Some(k) = p.settings.keepalive {
        words.push(format!(
            "keepalive idle {} s, interval {} s, {} probes (dead after {} s of silence)",
            k.idle,
            k.intvl,
            k.count,
            k.promise().as_secs()
        ));
    }
    if let Some(u) = p.settings.user_timeout {
        words.push(format!("user timeout {:.1} s", u.as_secs_f64()));
    }
    if let Some(s) = p.send_every {
        words.push(format!("a byte every {:.1} s", s.as_secs_f64()));
    }
    let until = match p.duration {
        Some(d) => format!("for {:.1} s", d.as_secs_f64()),
        None => "until it dies (Ctrl-C to stop)".into(),
    };
    if words.is_empty() {
        return format!(" {until}");
    }
    format!(" with {} {until}", words.join(", "))
}

/// What watching the connection ended with.
struct Outcome {
    hold: HoldResult,
}

/// Watches the connection until it ends or the duration runs out.
async fn watch(held: &held::Held, plan: &HoldPlan, target: &str, sink: &Sink) -> Outcome {
    let start = Instant::now();
    let deadline = plan.duration.map(|d| tokio::time::Instant::now() + d);
    let mut next_send = plan.send_every.map(|s| tokio::time::Instant::now() + s);
    let mut ticker = tokio::time::interval(SAMPLE_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let (mut received, mut sent) = (0u64, 0u64);
    let mut last: Option<TcpInfo> = None;
    let mut shown: Option<(u8, bool, u8, u8, u8)> = None;
    let far = tokio::time::Instant::now() + Duration::from_secs(MAX_SECS as u64 * 2);
    let end: Result<Ending, i32> = loop {
        tokio::select! {
            wake = held.wake() => match wake {
                Wake::Data(n) => received += n as u64,
                Wake::Closed => break Ok(Ending::PeerClosed),
                Wake::Failed(errno) => break Err(errno),
            },
            _ = tokio::time::sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => {
                break Ok(Ending::Alive);
            }
            _ = tokio::time::sleep_until(next_send.unwrap_or(far)), if next_send.is_some() => {
                match held.send_byte() {
                    Ok(true) => sent += 1,
                    Ok(false) => {}
                    Err(errno) => break Err(errno),
                }
                next_send = plan.send_every.map(|s| tokio::time::Instant::now() + s);
            }
            _ = ticker.tick() => {
                if let Ok(info) = held.info() {
                    let key = (info.state, info.unacked > 0, info.retransmits, info.probes, info.backoff);
                    if shown != Some(key) {
                        shown = Some(key);
                        show(sink, target, start.elapsed(), &info);
                    }
                    last = Some(info);
                }
            }
            _ = &mut ctrl_c => break Ok(Ending::Interrupted),
        }
    };
    let elapsed = start.elapsed();
    let after = held.info().ok();
    let before = last.unwrap_or_default();
    let seen = LastSeen {
        probes: before.probes,
        unacked: before.unacked,
        retransmits: before.retransmits,
    };
    let (ending, errno) = match end {
        Ok(e) => (e, None),
        Err(n) => (
            rules::classify(
                n,
                seen,
                plan.settings.keepalive.is_some(),
                plan.settings.user_timeout.is_some(),
            ),
            Some(crate::diagnose::errno::by_number(n).map_or("EUNKNOWN", |e| e.name)),
        ),
    };
    let info = after.or(last);
    let hold = HoldResult {
        ending,
        errno,
        elapsed_s: elapsed.as_secs_f64(),
        peer_silent_s: info
            .filter(|_| {
                matches!(
                    ending,
                    Ending::KeepaliveTimeout | Ending::UserTimeout | Ending::RetransmitTimeout
                )
            })
            .map(|i| f64::from(i.last_ack_recv_ms) / 1000.0),
        keepalive: plan.settings.keepalive,
        keepalive_promise_s: plan.settings.keepalive.map(|k| k.promise().as_secs_f64()),
        user_timeout_s: plan.settings.user_timeout.map(|u| u.as_secs_f64()),
        send_every_s: plan.send_every.map(|s| s.as_secs_f64()),
        duration_s: plan.duration.map(|d| d.as_secs_f64()),
        bytes_received: received,
        bytes_sent: sent,
        last_info: info,
    };
    Outcome { hold }
}

/// Prints one TCP_INFO sample (human line or `--jsonl` event).
fn show(sink: &Sink, target: &str, at: Duration, info: &TcpInfo) {
    let state = state_word(info.state);
    sink.event(
        "hold_state",
        &StateEvent {
            target,
            elapsed_s: at.as_secs_f64(),
            state_name: state,
            info: *info,
        },
    );
    sink.line(&format!(
        "  +{:.1} s {state} unacked={} retransmits={} probes={} backoff={} rto={} ms, last data received {:.1} s ago, last ACK received {:.1} s ago",
        at.as_secs_f64(),
        info.unacked,
        info.retransmits,
        info.probes,
        info.backoff,
        info.rto_ms,
        f64::from(info.last_data_recv_ms) / 1000.0,
        f64::from(info.last_ack_recv_ms) / 1000.0
    ));
}

/// The kernel's TCP state number in `ss` words.
fn state_word(n: u8) -> &'static str {
    crate::diagnose::sockets::state::TcpState::from_kernel(n).map_or("UNKNOWN", |s| s.name())
}

/// Builds the report of a hold (or of its failed connect).
fn finish(
    args: &TcpArgs,
    result: TargetResult,
    outcome: Option<Outcome>,
    started: Instant,
    sink: &Sink,
) -> TcpReport {
    let mut diagnosis = match &outcome {
        Some(o) => vec![rules::diagnose(&HoldFact {
            target: &result.target,
            ending: o.hold.ending,
            errno: o.hold.errno,
            elapsed_s: o.hold.elapsed_s,
            peer_silent_s: o.hold.peer_silent_s,
            keepalive_promise_s: o.hold.keepalive_promise_s,
            keepalive: o.hold.keepalive.map(|k| (k.idle, k.intvl, k.count)),
            user_timeout_s: o.hold.user_timeout_s,
            bytes_received: o.hold.bytes_received,
        })],
        None => crate::diagnose::tcp::diagnoses(
            &[result.fact()],
            report::expectation(crate::cli::Expect::Open),
        ),
    };
    diagnosis.sort_by_key(|d| std::cmp::Reverse(d.severity));
    let hold = outcome.map(|o| o.hold);
    if let Some(h) = &hold {
        sink.event("ended", h);
    }
    let died = hold.as_ref().is_none_or(|h| h.ending.died());
    let results = vec![result];
    TcpReport {
        expect: "open",
        summary: Totals::of(
            &results,
            &crate::diagnose::tcp::Folded::default(),
            started.elapsed(),
            false,
        ),
        targets: results,
        diagnosis,
        count: 1,
        all: args.all,
        endpoints: 1,
        probed: 1,
        folded: 0,
        hold,
        exit: if died {
            Exit::TargetFailed
        } else {
            Exit::Healthy
        },
    }
}
