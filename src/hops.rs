//! What `trace` and `mtr` share: the validated path plan (method, port,
//! TTL range, wait), turning a probe's outcome into what it says about a
//! hop, and reverse DNS names looked up off the probe path.

use crate::cli::{GlobalOpts, PathOpts, TableFormat};
use crate::diagnose::icmp;
use crate::diagnose::path::local_error_ends_path;
use crate::error::{AppError, AppResult};
use crate::probe::packet::MplsLabel;
use crate::probe::{route, Binding, Engine, Outcome, Probe, ProbeKind, Response, SocketMode};
use crate::resolve::asn::Asns;
use crate::resolve::geoip::{GeoDb, GeoFacts};
use crate::resolve::Family;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::diagnose::path::HopAnswer;

/// Largest packet length a trace accepts (traceroute's limit is 65000).
pub const MAX_PACKET: u32 = 65000;

/// traceroute's first UDP port.
pub const UDP_BASE_PORT: u16 = 33434;
/// tcptraceroute's default port.
pub const TCP_DEFAULT_PORT: u16 = 80;

/// How probes are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// ICMP / ICMPv6 echo.
    Icmp,
    /// UDP to rising ports.
    Udp,
    /// TCP SYN to one port.
    Tcp,
}

impl Method {
    /// The word used in headers ("icmp", "udp", "tcp").
    pub fn word(self) -> &'static str {
        match self {
            Method::Icmp => "icmp",
            Method::Udp => "udp",
            Method::Tcp => "tcp",
        }
    }
}

/// The validated flags common to trace and mtr.
#[derive(Debug, Clone)]
pub struct PathPlan {
    /// Probe method.
    pub method: Method,
    /// TCP destination port, or the first UDP port.
    pub port: u16,
    /// First TTL probed.
    pub first: u8,
    /// Last TTL probed.
    pub max: u8,
    /// How long each probe waits.
    pub wait: Duration,
    /// Whether reverse names are looked up.
    pub names: bool,
    /// traceroute's default `-w 5,3,10`: once the end of the path answered,
    /// probes still out before it wait only a few times that round trip,
    /// not the whole wait. Off when `-w`/`--timeout` is given (as
    /// traceroute's single-value `-w`).
    pub near: bool,
    /// The Paris flow the probes belong to (`--flows` runs several).
    pub flow: u16,
    /// traceroute's packet length: the whole IP packet of every probe,
    /// headers included (None: each method's usual small probe).
    pub size: Option<u16>,
}

/// Bytes of the IP header of a probe to `target` (no options).
fn ip_header(target: IpAddr) -> usize {
    if target.is_ipv6() {
        40
    } else {
        20
    }
}

impl PathPlan {
    /// Checks the flags; every mistake is one usage line.
    pub fn new(opts: &PathOpts, global: &GlobalOpts, default_wait: f64) -> AppResult<PathPlan> {
        let method = if opts.tcp {
            Method::Tcp
        } else if opts.udp {
            Method::Udp
        } else {
            Method::Icmp
        };
        let port = match (opts.port, method) {
            (None, Method::Tcp) => TCP_DEFAULT_PORT,
            (None, _) => UDP_BASE_PORT,
            (Some(p), _) if (1..=65535).contains(&p) => p as u16,
            (Some(p), _) => {
                return Err(AppError::usage(format!(
                    "-p {p}: a port is a number from 1 to 65535"
                )))
            }
        };
        if opts.port.is_some() && method == Method::Icmp {
            return Err(AppError::usage(
                "-p is for --udp or --tcp probes; ICMP echo has no port",
            ));
        }
        if !(1..=255).contains(&opts.max_hops) {
            return Err(AppError::usage(format!(
                "-m {}: the max hops must be between 1 and 255",
                opts.max_hops
            )));
        }
        if !(1..=255).contains(&opts.first) {
            return Err(AppError::usage(format!(
                "-f {}: the first TTL must be between 1 and 255",
                opts.first
            )));
        }
        if opts.first > opts.max_hops {
            return Err(AppError::usage(format!(
                "-f {} is larger than -m {}: the first TTL cannot exceed the max hops",
                opts.first, opts.max_hops
            )));
        }
        if let Some(zone) = &opts.asn_zone {
            crate::resolve::asn::check_zone(zone).map_err(AppError::usage)?;
        }
        let wait = opts.wait.or(global.timeout).unwrap_or(default_wait);
        if !(wait.is_finite() && wait > 0.0 && wait <= 3600.0) {
            return Err(AppError::usage(format!(
                "-w {wait}: the wait must be greater than 0 and at most 3600 seconds"
            )));
        }
        Ok(PathPlan {
            method,
            port,
            first: opts.first as u8,
            max: opts.max_hops as u8,
            wait: Duration::from_secs_f64(wait),
            near: opts.wait.is_none() && global.timeout.is_none(),
            names: !opts.numeric,
            flow: 0,
            size: None,
        })
    }

    /// The smallest packet length a probe to `target` of this method can
    /// have: the IP header, then the ICMP/UDP header or the SYN's 24 bytes.
    pub fn min_size(&self, target: IpAddr) -> usize {
        ip_header(target)
            + match self.method {
                Method::Icmp | Method::Udp => 8,
                Method::Tcp => 24,
            }
    }

    /// Takes traceroute's packet length (`host packetlen`), refusing one
    /// no IP packet can have; [`PathPlan::check_size`] checks it against
    /// the headers once the target's family is known.
    pub fn with_size(mut self, size: Option<u32>) -> AppResult<PathPlan> {
        let Some(size) = size else { return Ok(self) };
        if size > MAX_PACKET {
            return Err(AppError::usage(format!(
                "packet length {size}: at most {MAX_PACKET} bytes"
            )));
        }
        self.size = Some(size as u16);
        Ok(self)
    }

    /// Refuses a packet length smaller than the headers of a probe to `target`.
    pub fn check_size(&self, target: IpAddr) -> AppResult<()> {
        let least = self.min_size(target);
        match self.size {
            Some(size) if usize::from(size) < least => Err(AppError::usage(format!(
                "packet length {size}: a {} probe to {target} needs at least {least} bytes (its headers)",
                self.method.word()
            ))),
            _ => Ok(()),
        }
    }

    /// The probe for TTL `ttl` in this plan's flow: every probe of a flow
    /// has the same ports (UDP), identifier and checksum (ICMP), so ECMP
    /// routers keep the whole trace on one branch (Paris traceroute).
    pub fn probe(&self, target: IpAddr, ttl: u8) -> Probe {
        // Data bytes after the transport header for a sized probe.
        let data = self
            .size
            .map(|s| usize::from(s).saturating_sub(self.min_size(target)));
        let kind = match self.method {
            Method::Icmp => ProbeKind::Echo {
                payload: data.unwrap_or(32),
            },
            // Paris: one port, one flow (source port) for every probe.
            Method::Udp => ProbeKind::Udp {
                port: self.port,
                flow: Some(self.flow),
                payload: data,
            },
            // Paris TCP: one source port per flow (raw SYNs).
            Method::Tcp => ProbeKind::TcpSyn {
                port: self.port,
                payload: data.unwrap_or(0),
                flow: Some(self.flow),
            },
        };
        Probe {
            target,
            ttl: Some(ttl),
            kind,
            timeout: self.wait,
        }
    }

    /// The probe kind, for preparing sockets before the first probe.
    pub fn kind(&self) -> ProbeKind {
        self.probe(IpAddr::from([0, 0, 0, 0]), 1).kind
    }
}

/// Checks `--flows` (trace and mtr): 1 to 16, several only with UDP or TCP
/// (each flow is its own source port; ICMP echo keeps one identifier).
pub fn check_flows(flows: u32, method: Method) -> AppResult<()> {
    if !(1..=16).contains(&flows) {
        return Err(AppError::usage(format!(
            "--flows {flows}: the number of flows must be between 1 and 16"
        )));
    }
    if flows > 1 && method == Method::Icmp {
        return Err(AppError::usage(format!(
            "--flows {flows}: several flows need --udp or --tcp (each flow is its own source port; ICMP echo keeps one identifier per run)"
        )));
    }
    Ok(())
}

/// Checks `--flows` against the sockets the run got: TCP flows need
/// hand-built SYNs (a kernel connect() picks a new port for every probe).
pub fn check_flow_sockets(flows: u32, mode: crate::probe::SocketMode) -> AppResult<()> {
    if flows > 1 && mode == crate::probe::SocketMode::Connect {
        return Err(AppError::cannot_run(format!(
            "--flows {flows} with --tcp needs hand-built SYNs (one source port per flow): run as root or `setcap cap_net_raw+ep $(which netdx)`, or use --udp"
        )));
    }
    Ok(())
}

/// The errno of asking the routing table for `target` from `binding`'s
/// source and interface, when it is one that holds for every TTL (no route,
/// a reject route, a local firewall); None when a route exists. Found
/// before the first probe instead of once per TTL.
pub fn route_error(target: IpAddr, binding: &Binding) -> Option<i32> {
    route::lookup_error(target, binding).filter(|n| local_error_ends_path(*n))
}

/// The AS lookups `--asn` asks for: against `--asn-server` or the first
/// name server of resolv.conf, under `--asn-zone` or mtr's zones.
pub fn asns(opts: &PathOpts) -> AppResult<Option<Asns>> {
    if !opts.asn {
        return Ok(None);
    }
    let server = match &opts.asn_server {
        Some(text) => crate::resolve::config::parse_server(text)?,
        None => {
            let conf = crate::resolve::config::load_system(None)?;
            *conf.servers.first().ok_or_else(|| {
                AppError::cannot_run(
                    "--asn: resolv.conf lists no name server; give --asn-server ADDR",
                )
            })?
        }
    };
    Ok(Some(Asns::new(server, opts.asn_zone.as_deref())))
}

/// The `--geoip` database, opened before anything is sent.
pub fn geoip(opts: &PathOpts) -> AppResult<Option<GeoDb>> {
    opts.geoip.as_deref().map(GeoDb::open).transpose()
}

/// Which lookups a run made, for the `--format` columns: `as_name` with
/// `--asn` or `--geoip`, `country` with `--geoip` (absent otherwise, so the
/// plain table keeps its columns).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lookups {
    /// AS names were looked up (`--asn` or `--geoip`).
    pub as_name: bool,
    /// Countries were looked up (`--geoip`).
    pub country: bool,
}

impl Lookups {
    /// The lookups `opts` asks for.
    pub fn of(opts: &PathOpts) -> Lookups {
        Lookups {
            as_name: opts.asn || opts.geoip.is_some(),
            country: opts.geoip.is_some(),
        }
    }

    /// Inserts the extra column names after `asn` in `header`.
    pub fn header<'a>(&self, header: &[&'a str]) -> Vec<&'a str> {
        let mut out = Vec::with_capacity(header.len() + 2);
        for h in header {
            out.push(*h);
            if *h == "asn" {
                if self.as_name {
                    out.push("as_name");
                }
                if self.country {
                    out.push("country");
                }
            }
        }
        out
    }

    /// Inserts the extra cells after the `asn` cell (at `at`) of `row`.
    pub fn cells(
        &self,
        mut row: Vec<String>,
        at: usize,
        as_name: Option<&str>,
        country: Option<&str>,
    ) -> Vec<String> {
        let mut extra = Vec::new();
        if self.as_name {
            extra.push(as_name.unwrap_or_default().to_string());
        }
        if self.country {
            extra.push(country.unwrap_or_default().to_string());
        }
        let at = (at + 1).min(row.len());
        row.splice(at..at, extra);
        row
    }
}

/// Prints a `--format` table: `header` then `rows`; Markdown adds the
/// diagnoses as a list after it (CSV stays a pure table: the exit code and
/// `--json` carry the diagnosis).
pub fn print_table(
    sink: &crate::output::Sink,
    format: TableFormat,
    header: &[&str],
    rows: &[Vec<String>],
    diagnoses: &[crate::diagnose::Diagnosis],
) {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    match format {
        TableFormat::Csv => {
            for row in std::iter::once(&header).chain(rows) {
                let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
                sink.line(&cells.join(","));
            }
        }
        TableFormat::Markdown => {
            let line = |row: &[String]| {
                let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                format!("| {} |", cells.join(" | "))
            };
            sink.line(&line(&header));
            sink.line(&format!("|{}", "---|".repeat(header.len())));
            for row in rows {
                sink.line(&line(row));
            }
            sink.line("");
            for d in diagnoses {
                let tag = d.severity.label();
                sink.line(&format!("- **{tag}** `{}`: {}", d.code, d.summary));
            }
        }
    }
}

/// One CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Reads an outcome the way traceroute does.
pub fn classify(outcome: &Outcome) -> HopAnswer {
    let target = outcome.probe.target;
    let v6 = target.is_ipv6();
    match &outcome.response {
        Response::Reply { from, .. } | Response::TcpReply { from, .. } => {
            HopAnswer::Destination { from: *from }
        }
        Response::TimeExceeded { from, .. } => HopAnswer::Router { from: *from },
        Response::Unreachable {
            from,
            icmp_type,
            code,
            mtu,
            ..
        } => {
            let port_unreachable = if v6 {
                (*icmp_type, *code) == (1, 4)
            } else {
                (*icmp_type, *code) == (3, 3)
            };
            let udp = matches!(outcome.probe.kind, ProbeKind::Udp { .. });
            if port_unreachable && *from == target && udp {
                HopAnswer::Destination { from: *from }
            } else {
                // traceroute's `!F-1280`: the MTU the router named.
                let mark = icmp::trace_mark(v6, *icmp_type, *code);
                HopAnswer::Unreachable {
                    from: *from,
                    mark: match mtu {
                        Some(m) => format!("{mark}-{m}"),
                        None => mark,
                    },
                    icmp_type: *icmp_type,
                    code: *code,
                }
            }
        }
        Response::Timeout => HopAnswer::Silent,
        Response::LocalError { errno } => HopAnswer::LocalError { errno: *errno },
    }
}

/// At most this many reverse lookups run at once.
const MAX_LOOKUPS: usize = 8;

/// Where one address's reverse lookup stands.
#[derive(Clone)]
enum Lookup {
    /// Asked for at this instant, not answered yet.
    Pending(std::time::Instant),
    /// Finished: the name, if there is one.
    Done(Option<String>),
}

/// The lookups, the addresses waiting for a worker, and the worker count.
#[derive(Default)]
struct NameState {
    map: HashMap<IpAddr, Lookup>,
    queue: std::collections::VecDeque<IpAddr>,
    workers: usize,
}

/// The TTL the answer arrived with, when the socket told it.
pub fn reply_ttl(outcome: &Outcome) -> Option<u8> {
    match &outcome.response {
        Response::Reply { ttl, .. }
        | Response::TcpReply { ttl, .. }
        | Response::TimeExceeded { ttl, .. } => *ttl,
        _ => None,
    }
}

/// The MPLS label stack a router quoted with its Time Exceeded or
/// Destination Unreachable.
pub fn mpls(outcome: &Outcome) -> Vec<MplsLabel> {
    match &outcome.response {
        Response::TimeExceeded { mpls, .. } | Response::Unreachable { mpls, .. } => mpls.clone(),
        _ => Vec::new(),
    }
}

/// How many hops an answer that arrived with `reply_ttl` travelled back,
/// counted as trace counts the forward way (the sender is hop 1 when it
/// is next door): the initial TTL (64, 128 or 255) minus what is left,
/// plus one — traceroute --back's figure.
pub fn back_hops(reply_ttl: u8) -> u16 {
    crate::diagnose::ttl::infer(reply_ttl).hops + 1
}

/// Reverse DNS names, looked up concurrently (at most [`MAX_LOOKUPS`] at
/// once) on detached threads as soon as an address is first seen, so probes
/// never wait for DNS and a resolver that never answers cannot hold the
/// process after its output: the threads die with it.
#[derive(Clone, Default)]
pub struct Names {
    enabled: bool,
    state: Arc<Mutex<NameState>>,
    /// With `--asn`: origin AS lookups, started and awaited with the names.
    asns: Option<Asns>,
    /// With `--geoip`: the offline database.
    geo: Option<Arc<GeoDb>>,
}

impl Names {
    /// A cache that looks names up only when `enabled` (not with `-n`).
    pub fn new(enabled: bool) -> Names {
        Names {
            enabled,
            state: Arc::default(),
            asns: None,
            geo: None,
        }
    }

    /// The same cache, also reading AS and country from `--geoip`'s file.
    pub fn with_geo(mut self, geo: Option<GeoDb>) -> Names {
        self.geo = geo.map(Arc::new);
        self
    }

    /// What `--geoip`'s file says about `addr` (empty without one).
    fn geo(&self, addr: IpAddr) -> GeoFacts {
        self.geo
            .as_ref()
            .map(|g| g.lookup(addr))
            .unwrap_or_default()
    }

    /// The country of `addr`, when `--geoip`'s file has one.
    pub fn country(&self, addr: IpAddr) -> Option<String> {
        self.geo(addr).country
    }

    /// The same cache, also looking up each address's origin AS.
    pub fn with_asns(mut self, asns: Option<Asns>) -> Names {
        self.asns = asns;
        self
    }

    /// The origin AS of `addr`, when `--asn` found one, else when
    /// `--geoip`'s file has one.
    pub fn asn(&self, addr: IpAddr) -> Option<u32> {
        self.asns
            .as_ref()
            .and_then(|a| a.get(addr))
            .or_else(|| self.geo(addr).asn)
    }

    /// The name of the origin AS of `addr`, from the source its number came from.
    pub fn as_name(&self, addr: IpAddr) -> Option<String> {
        match self.asns.as_ref() {
            Some(asns) if asns.get(addr).is_some() => asns.name(asns.get(addr)?),
            _ => self.geo(addr).as_name,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NameState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the lookup of `addr` if it is new.
    pub fn want(&self, addr: IpAddr) {
        if let Some(asns) = &self.asns {
            asns.want(addr);
        }
        if !self.enabled {
            return;
        }
        let mut st = self.lock();
        if st.map.contains_key(&addr) {
            return;
        }
        st.map
            .insert(addr, Lookup::Pending(std::time::Instant::now()));
        st.queue.push_back(addr);
        if st.workers >= MAX_LOOKUPS {
            return;
        }
        st.workers += 1;
        drop(st);
        let state = self.state.clone();
        let spawned = std::thread::Builder::new()
            .name("netdx-rdns".into())
            .spawn(move || lookup_worker(&state));
        if spawned.is_err() {
            // No thread: the address stays pending and its wait runs out.
            self.lock().workers -= 1;
        }
    }

    /// The name if the lookup has finished and found one.
    pub fn get(&self, addr: IpAddr) -> Option<String> {
        match self.lock().map.get(&addr) {
            Some(Lookup::Done(name)) => name.clone(),
            _ => None,
        }
    }

    /// True when every address in `addrs` is looked up or has waited
    /// `limit` since it was asked for.
    fn settled(&self, addrs: &[IpAddr], limit: Duration) -> bool {
        if self.asns.as_ref().is_some_and(|a| !a.settled(addrs, limit)) {
            return false;
        }
        if !self.enabled {
            return true;
        }
        let st = self.lock();
        addrs.iter().all(|a| match st.map.get(a) {
            Some(Lookup::Pending(since)) => since.elapsed() >= limit,
            _ => true,
        })
    }

    /// Waits until the lookups of `addrs` are finished, each at most `limit`
    /// after it was asked for: lookups run side by side, so hops whose names
    /// never come cost one `limit` in all, not one each.
    pub async fn settle(&self, addrs: &[IpAddr], limit: Duration) {
        if !self.enabled && self.asns.is_none() {
            return;
        }
        while !self.settled(addrs, limit) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// `name (addr)` when a name is known, else the address.
    pub fn label(&self, addr: IpAddr) -> String {
        match self.get(addr) {
            Some(name) => format!("{name} ({addr})"),
            None => addr.to_string(),
        }
    }
}

/// One lookup thread: takes queued addresses until none is left.
fn lookup_worker(state: &Mutex<NameState>) {
    loop {
        let next = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            let next = st.queue.pop_front();
            if next.is_none() {
                st.workers -= 1;
            }
            next
        };
        let Some(addr) = next else { return };
        let name = crate::resolve::reverse_name(addr);
        state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .insert(addr, Lookup::Done(name));
    }
}

/// The host as echoed in headers and JSON: `[2001:db8::1]` as the address
/// it is (the brackets only delimit it on a command line), anything else
/// as given.
pub fn shown_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .filter(|t| t.parse::<IpAddr>().is_ok())
        .unwrap_or(host)
}

/// `t` as an RFC 3339 UTC timestamp to the second (`2026-12-01T16:51:53Z`):
/// when a trace or mtr run started and ended, for reports read later.
pub fn utc_stamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    crate::timefmt::Utc::from_unix(secs).rfc3339()
}

/// Whether the process runs as root (mtr's and ping's interval floors).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// What trace and mtr need before their first probe.
pub struct PathSetup {
    /// The resolved destination.
    pub target: IpAddr,
    /// errno when this host has no usable route to it (checked without sending).
    pub route: Option<i32>,
    /// The probe engine, bound as asked.
    pub engine: std::sync::Arc<Engine>,
    /// Raw or unprivileged sockets, as opened for the method.
    pub mode: SocketMode,
}

/// Binds, resolves (bounded by `--timeout`), checks the route and opens the
/// method's sockets — the same steps, in the same order, for trace and mtr.
pub async fn prepare_path(
    host: &str,
    source: Option<(&str, &str)>,
    device: Option<(&str, &str)>,
    global: &GlobalOpts,
    kind: &ProbeKind,
    pmtu: Option<crate::probe::PmtuDisc>,
) -> AppResult<PathSetup> {
    let (mut binding, family) = binding_and_family(host, source, device, global)?;
    binding.pmtu = pmtu;
    let limit = global.timeout.map(std::time::Duration::from_secs_f64);
    let target = crate::resolve::resolve_one_within(host, family, limit).await?;
    let route = route_error(target, &binding);
    let engine = crate::probe::pool::engine_for(binding);
    let mode = engine.prepare_kind(target, kind)?;
    Ok(PathSetup {
        target,
        route,
        engine,
        mode,
    })
}

/// The binding of `--source`/`--interface` and the address family to
/// resolve `host` in: a source address implies its family unless `-4`/`-6`
/// say otherwise (a clash is then reported when the socket is bound); a
/// literal target of the other family is a usage error.
pub fn binding_and_family(
    host: &str,
    source: Option<(&str, &str)>,
    device: Option<(&str, &str)>,
    global: &GlobalOpts,
) -> AppResult<(Binding, Family)> {
    let binding = Binding::from_parts(source, device)?;
    if let (Some(src), Some((flag, _)), Ok(target)) =
        (binding.source, source, host.parse::<IpAddr>())
    {
        if src.is_ipv6() != target.is_ipv6() {
            return Err(AppError::usage(format!(
                "{flag} {src}: the source and the target {target} are of different address families"
            )));
        }
    }
    let family = match (global.ipv4, global.ipv6, binding.source) {
        (false, false, Some(IpAddr::V4(_))) => Family::V4,
        (false, false, Some(IpAddr::V6(_))) => Family::V6,
        (v4, v6, _) => Family::from_flags(v4, v6),
    };
    Ok((binding, family))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let t = std::time::UNIX_EPOCH + Duration::from_secs(20_417 * 86_400 + 3_661);
        assert_eq!(utc_stamp(t), "2025-11-25T01:01:01Z");
    }
}

#[cfg(test)]
mod format_tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_only_when_needed() {
        assert_eq!(csv_cell("198.18.0.2"), "198.18.0.2");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
