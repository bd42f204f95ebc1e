//! One `/probe` request: checks the target, resolves it once, applies the
//! allow-list to the address, then runs the module's command through the
//! library (silently) and turns its typed report into series.

use super::allow::AllowList;
use super::config::{Module, Prober};
use crate::cli::{Cli, Command};
use crate::diagnose::{Diagnosis, Severity};
use crate::error::{AppError, Exit};
use crate::output::{Report, Sink};
use crate::resolve::{self, Family};
use clap::Parser;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// One sample: metric name, help, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Metric name (`probe_icmp_loss_ratio`).
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// Label pairs; empty for a plain gauge.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// What one probe found, ready to render.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `probe_success`: the command's exit status was healthy.
    pub success: bool,
    /// Every series besides probe_success/probe_duration_seconds.
    pub series: Vec<Series>,
    /// Findings that are not ok (one `netdx_diagnosis` series each).
    pub diagnoses: Vec<Diagnosis>,
    /// The probe ran out of time and was stopped.
    pub timed_out: bool,
}

/// Why a request gets no probe at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: a bad module, target or option; the one-line reason.
    BadRequest(String),
    /// 403: the target is outside `--allow` or the module's `targets`.
    Forbidden(String),
}

/// Parses a module's command line with the CLI's clap definitions.
pub fn parse_command(argv: &[String]) -> Result<(Command, crate::cli::GlobalOpts), String> {
    let words = std::iter::once("netdx".to_string()).chain(argv.iter().cloned());
    let cli = Cli::try_parse_from(words).map_err(|e| {
        let text = e.to_string();
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("bad options")
            .trim_start_matches("error: ")
            .to_string()
    })?;
    crate::validate_global(&cli.global).map_err(|e| e.message)?;
    Ok((cli.command, cli.global))
}

/// Splits `target` into host and port as the prober needs it: tcp needs
/// `HOST:PORT`, dns takes `SERVER[:PORT]` (53), icmp and mtr a bare host.
pub fn split_target(prober: Prober, target: &str) -> Result<(String, Option<u16>), String> {
    if target.is_empty() {
        return Err("target is empty: add &target=HOST".into());
    }
    if target.len() > 255 {
        return Err("target is longer than 255 characters".into());
    }
    if target.starts_with('-') || target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "target '{}' is not a host name or address",
            target.escape_debug()
        ));
    }
    let port_of = |p: &str| -> Result<u16, String> {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "target '{target}': port '{p}' is not a number from 1 to 65535"
            )),
        }
    };
    // [v6]:port, v4:port or name:port; a bare v6 literal has no port.
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, "")) => (h.to_string(), None),
            Some((h, p)) => match p.strip_prefix(':') {
                Some(p) => (h.to_string(), Some(port_of(p)?)),
                None => return Err(format!("target '{target}': expected [ADDRESS]:PORT")),
            },
            None => return Err(format!("target '{target}': unclosed '['")),
        }
    } else if target.parse::<IpAddr>().is_ok() {
        (target.to_string(), None)
    } else if let Some((h, p)) = target.rsplit_once(':') {
        (h.to_string(), Some(port_of(p)?))
    } else {
        (target.to_string(), None)
    };
    match (prober, port) {
        (Prober::Tcp, None) => Err(format!("target '{target}': the tcp prober needs HOST:PORT")),
        (Prober::Icmp | Prober::Mtr, Some(_)) => Err(format!(
            "target '{target}': the {} prober takes a host without a port",
            prober.name()
        )),
        (Prober::Dns, None) => Ok((host, Some(53))),
        _ => Ok((host, port)),
    }
}

/// Checks, resolves and runs one probe within `budget`.
pub async fn probe(
    module_name: &str,
    module: &Module,
    target: &str,
    name: Option<&str>,
    allow: &AllowList,
    budget: Duration,
) -> Result<Outcome, Refusal> {
    let (host, port) = split_target(module.prober, target).map_err(Refusal::BadRequest)?;
    let name = name.or(module.query_name.as_deref());
    if module.prober == Prober::Dns && name.is_none() {
        return Err(Refusal::BadRequest(
            "the dns prober needs a name to ask for: add &name=NAME or set query_name in the module".into(),
        ));
    }
    let family = match module.ip_version {
        Some(4) => Family::V4,
        Some(6) => Family::V6,
        _ => Family::Any,
    };
    let patterns = module.patterns().map_err(Refusal::BadRequest)?;
    if let Some(p) = &patterns {
        p.check_host(module_name, target, &host)
            .map_err(Refusal::Forbidden)?;
    }
    let started = Instant::now();
    let ip = match resolve::resolve_one_within(&host, family, Some(budget)).await {
        Ok(ip) => ip,
        Err(e) if e.exit == Exit::Usage => return Err(Refusal::BadRequest(e.message)),
        Err(e) => return Ok(failed(&e)),
    };
    if let Some(p) = &patterns {
        p.check_resolved(module_name, target, &host, &ip)
            .map_err(Refusal::Forbidden)?;
    }
    allow.check(target, &ip).map_err(Refusal::Forbidden)?;
    let resolved = match port {
        Some(p) => SocketAddr::new(ip, p).to_string(),
        None => ip.to_string(),
    };
    let left = budget.saturating_sub(started.elapsed()).as_secs_f64();
    let argv = module.argv(&resolved, name, left);
    let (command, global) = parse_command(&argv).map_err(Refusal::BadRequest)?;
    // The command bounds itself within `left`; this is the hard stop.
    let hard = budget.saturating_sub(started.elapsed()) + Duration::from_millis(200);
    match tokio::time::timeout(hard, run(&command, &global)).await {
        Ok(Ok(mut outcome)) => {
            outcome.series.push(gauge(
                "probe_ip_protocol",
                "IP version of the probed address (4 or 6).",
                if ip.is_ipv4() { 4.0 } else { 6.0 },
            ));
            Ok(outcome)
        }
        Ok(Err(e)) if e.exit == Exit::Usage => Err(Refusal::BadRequest(e.message)),
        Ok(Err(e)) => Ok(failed(&e)),
        Err(_) => Ok(Outcome {
            success: false,
            series: Vec::new(),
            diagnoses: Vec::new(),
            timed_out: true,
        }),
    }
}

/// A probe the library refused to finish (an unresolvable name, no
/// privilege): failed, with the error's diagnosis code when it has one.
fn failed(e: &AppError) -> Outcome {
    let diagnoses = e
        .code
        .iter()
        .map(|code| Diagnosis::new(code, Severity::Critical, e.message.clone()))
        .collect();
    Outcome {
        success: false,
        series: Vec::new(),
        diagnoses,
        timed_out: false,
    }
}

/// Runs the command silently and reads its typed report.
async fn run(command: &Command, global: &crate::cli::GlobalOpts) -> Result<Outcome, AppError> {
    let sink = Sink::silent();
    Ok(match command {
        Command::Ping(args) => icmp(&crate::ping::ping(args, global, &sink).await?),
        Command::Tcp(args) => tcp(&crate::tcp::tcp(args, global, &sink).await?),
        Command::Dns(args) => dns(&crate::dns::dns(args, global, &sink).await?),
        Command::Mtr(args) => mtr(&crate::mtr::mtr(args, global, &sink).await?),
        _ => return Err(AppError::usage("serve runs ping, tcp, dns and mtr only")),
    })
}

/// A gauge without labels.
fn gauge(name: &'static str, help: &'static str, value: f64) -> Series {
    Series {
        name,
        help,
        labels: Vec::new(),
        value,
    }
}

/// A gauge with labels.
fn labelled(
    name: &'static str,
    help: &'static str,
    labels: &[(&str, String)],
    value: f64,
) -> Series {
    Series {
        name,
        help,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        value,
    }
}

/// The common part of every outcome.
fn outcome<R: Report>(report: &R, series: Vec<Series>) -> Outcome {
    Outcome {
        success: report.exit() == Exit::Healthy,
        series,
        diagnoses: report
            .diagnoses()
            .into_iter()
            .filter(|d| d.severity != Severity::Ok)
            .collect(),
        timed_out: false,
    }
}

/// Milliseconds to seconds.
fn s(ms: f64) -> f64 {
    ms / 1000.0
}

/// `ping`'s figures.
fn icmp(r: &crate::ping::PingReport) -> Outcome {
    let st = &r.stats;
    let mut v = vec![
        gauge(
            "probe_icmp_packets_sent",
            "Echo requests sent.",
            st.transmitted as f64,
        ),
        gauge(
            "probe_icmp_packets_received",
            "Echo replies received.",
            st.received as f64,
        ),
        gauge(
            "probe_icmp_loss_ratio",
            "Share of echo requests without a reply (0 to 1).",
            st.loss_pct / 100.0,
        ),
    ];
    if let Some(rtt) = &st.rtt {
        v.push(gauge(
            "probe_icmp_rtt_min_seconds",
            "Fastest round trip.",
            s(rtt.min_ms),
        ));
        v.push(gauge(
            "probe_icmp_rtt_avg_seconds",
            "Mean round trip.",
            s(rtt.avg_ms),
        ));
        v.push(gauge(
            "probe_icmp_rtt_max_seconds",
            "Slowest round trip.",
            s(rtt.max_ms),
        ));
        v.push(gauge(
            "probe_icmp_rtt_mdev_seconds",
            "Standard deviation of the round trips (ping's mdev).",
            s(rtt.mdev_ms),
        ));
    }
    if let Some(inf) = &r.inference {
        v.push(gauge(
            "probe_icmp_reply_ttl",
            "TTL (hop limit) of the replies.",
            f64::from(inf.reply_ttl),
        ));
        v.push(gauge(
            "probe_icmp_hops",
            "Routers between netdx and the target, inferred from the reply TTL.",
            f64::from(inf.hops),
        ));
    }
    outcome(r, v)
}

/// `tcp`'s figures for its one target.
fn tcp(r: &crate::tcp::TcpReport) -> Outcome {
    let mut v = Vec::new();
    if let Some(t) = r.targets.first() {
        if let Some(rtt) = &t.stats {
            v.push(gauge(
                "probe_tcp_connect_seconds",
                "Time to complete the TCP handshake.",
                s(rtt.avg_ms),
            ));
        }
        let (errno, name) = match &t.failure {
            Some(f) => (
                f.errno_number.unwrap_or(0),
                f.errno.unwrap_or("none").to_string(),
            ),
            None => (0, "none".to_string()),
        };
        v.push(labelled(
            "probe_tcp_errno",
            "errno of the failed connect (0 when it connected).",
            &[("errno", name)],
            f64::from(errno),
        ));
        v.push(labelled(
            "probe_tcp_state",
            "What the port answered: open, closed, filtered, unreachable, blocked, error.",
            &[("state", t.state.word().to_string())],
            1.0,
        ));
    }
    outcome(r, v)
}

/// `dns`'s figures for its one question.
fn dns(r: &crate::dns::DnsReport) -> Outcome {
    let mut v = Vec::new();
    if let Some(a) = r.answers.first() {
        v.push(gauge(
            "probe_dns_lookup_time_seconds",
            "Time the lookup took.",
            s(a.time_ms),
        ));
        v.push(gauge(
            "probe_dns_answer_rrs",
            "Records in the answer section.",
            a.records.len() as f64,
        ));
        if let Some(rcode) = &a.rcode {
            v.push(labelled(
                "probe_dns_rcode",
                "Response code of the answer (1 for the one received).",
                &[("rcode", rcode.clone())],
                1.0,
            ));
        }
        if let Some(server) = &a.server {
            v.push(labelled(
                "probe_dns_server",
                "The server that answered.",
                &[("server", server.clone())],
                1.0,
            ));
        }
    }
    outcome(r, v)
}

/// `mtr`'s per-hop figures, a `hop` label each.
fn mtr(r: &crate::mtr::MtrReport) -> Outcome {
    let mut v = vec![
        gauge(
            "probe_mtr_hops",
            "Hops in the path table.",
            r.hops.len() as f64,
        ),
        gauge(
            "probe_mtr_reached",
            "1 when the target answered.",
            if r.reached { 1.0 } else { 0.0 },
        ),
    ];
    for hop in &r.hops {
        let address = hop
            .main()
            .map(|a| a.address.to_string())
            .unwrap_or_else(|| "???".into());
        let labels = [("hop", hop.ttl.to_string()), ("address", address)];
        v.push(labelled(
            "probe_mtr_hop_sent",
            "Probes sent to this hop.",
            &labels,
            hop.sent as f64,
        ));
        v.push(labelled(
            "probe_mtr_hop_loss_ratio",
            "Share of probes this hop did not answer (0 to 1).",
            &labels,
            hop.loss_pct / 100.0,
        ));
        if let Some(rtt) = &hop.rtt {
            v.push(labelled(
                "probe_mtr_hop_rtt_last_seconds",
                "Last round trip to this hop.",
                &labels,
                s(rtt.last_ms),
            ));
            v.push(labelled(
                "probe_mtr_hop_rtt_avg_seconds",
                "Mean round trip to this hop.",
                &labels,
                s(rtt.avg_ms),
            ));
            v.push(labelled(
                "probe_mtr_hop_rtt_min_seconds",
                "Fastest round trip to this hop.",
                &labels,
                s(rtt.min_ms),
            ));
            v.push(labelled(
                "probe_mtr_hop_rtt_max_seconds",
                "Slowest round trip to this hop.",
                &labels,
                s(rtt.max_ms),
            ));
            v.push(labelled(
                "probe_mtr_hop_rtt_mdev_seconds",
                "Standard deviation of the round trips to this hop.",
                &labels,
                s(rtt.mdev_ms),
            ));
        }
    }
    outcome(r, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_per_prober() {
        assert_eq!(
            split_target(Prober::Tcp, "198.18.0.2:80"),
            Ok(("198.18.0.2".into(), Some(80)))
        );
        assert_eq!(
            split_target(Prober::Tcp, "[2001:db8::1]:443"),
            Ok(("2001:db8::1".into(), Some(443)))
        );
        assert_eq!(
            split_target(Prober::Icmp, "2001:db8::1"),
            Ok(("2001:db8::1".into(), None))
        );
        assert_eq!(
            split_target(Prober::Dns, "198.18.0.2"),
            Ok(("198.18.0.2".into(), Some(53)))
        );
        assert_eq!(
            split_target(Prober::Icmp, "host.example"),
            Ok(("host.example".into(), None))
        );
        for (p, bad) in [
            (Prober::Tcp, "198.18.0.2"),
            (Prober::Tcp, "h:0"),
            (Prober::Tcp, "h:99999"),
            (Prober::Icmp, "h:80"),
            (Prober::Icmp, ""),
            (Prober::Icmp, "-c"),
            (Prober::Icmp, "a b"),
            (Prober::Tcp, "[::1"),
        ] {
            assert!(split_target(p, bad).is_err(), "{bad}");
        }
    }
}
