//! `netdx dns` (alias `lookup`): the nslookup/dig replacement. Questions go
//! out concurrently; answers come back with rcode, flags, the server, the
//! CNAME chain and timing, and end in a diagnosis.

pub mod dnssec;
pub mod question;
pub mod render;
pub mod secure;
pub mod trace;

use crate::cli::{DnsArgs, GlobalOpts};
use crate::diagnose::dns::answer::Answer;
use crate::diagnose::dns::compare::{self, Comparison, DiffKind};
use crate::diagnose::dns::dnssec::Validation;
use crate::diagnose::{self, Diagnosis, Severity};
use crate::error::{AppError, AppResult, Exit};
use crate::output::{progress, Report, Sink};
use crate::resolve::config;
use crate::resolve::lookup::{self, Source};
use crate::resolve::wire::WireOpts;
use crate::resolve::Family;
use hickory_proto::rr::{Name, RecordType};
use question::Target;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time limit per question and server when neither `--timeout` nor
/// resolv.conf says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything `netdx dns` found: every answer, comparison and diagnosis
/// in input order, and the counts. Serialises as the `--json` document.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DnsReport {
    /// Always `dns`.
    pub command: &'static str,
    /// Every answer (per name and type, the primary one first, then one
    /// per compared server). A batch printed as it runs (human, `--jsonl`)
    /// streams its answers and keeps none here, so memory stays flat.
    pub answers: Vec<Answer>,
    /// `--compare` results.
    pub comparisons: Vec<Comparison>,
    /// The findings, per name in input order.
    pub diagnoses: Vec<Diagnosis>,
    /// Counts for the closing line and for scripts.
    pub summary: DnsSummary,
    /// `--dnssec` validations with their chains of trust, per name and type.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dnssec: Vec<crate::diagnose::dns::dnssec::Validation>,
    /// `--trace`: the iterative resolution from the root, step by step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<crate::diagnose::dns::trace::Trace>,
    /// Whether the human output ends with the counts line (batch mode
    /// without `--short`).
    #[serde(skip)]
    pub show_totals: bool,
    /// Whether the (grouped) diagnoses are printed at the end rather than
    /// after each name (batch mode without `--short`).
    #[serde(skip)]
    pub diagnoses_last: bool,
}

/// Counts for the closing line and for scripts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DnsSummary {
    /// Names asked about.
    pub names: usize,
    /// Names that resolved.
    pub resolved: usize,
    /// Names that did not (including the DNSSEC-bogus ones).
    pub failed: usize,
    /// With `--dnssec`: names whose answer is DNSSEC-bogus (counted in
    /// `failed`, never in `resolved`: a validating resolver answers SERVFAIL).
    pub bogus: usize,
    /// Comparisons that found a difference beyond TTLs.
    pub differences: usize,
    /// Wall time of the whole run, in milliseconds.
    pub time_ms: f64,
}

impl Report for DnsReport {
    fn diagnoses_streamed(&self) -> bool {
        !self.diagnoses_last
    }

    fn diagnoses(&self) -> Vec<Diagnosis> {
        self.diagnoses.clone()
    }

    fn exit(&self) -> Exit {
        if self.summary.failed > 0
            || self.summary.differences > 0
            || dnssec::any_bogus(&self.dnssec)
        {
            Exit::TargetFailed
        } else {
            Exit::Healthy
        }
    }

    fn render_human(&self, sink: &Sink) {
        let s = &self.summary;
        if self.show_totals {
            let bogus = if s.bogus > 0 {
                format!(" ({} DNSSEC-bogus)", s.bogus)
            } else {
                String::new()
            };
            sink.line(&format!(
                "{} names: {} resolved, {} failed{bogus}, in {:.0} ms",
                s.names, s.resolved, s.failed, s.time_ms
            ));
        }
    }

    fn summary_event(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.summary).ok()
    }
}

/// Everything asked about one target, once all its questions are back.
#[derive(Debug, Default)]
struct Done {
    /// Per type: the primary answer first, then one per compared server.
    per_type: Vec<Option<Vec<Answer>>>,
    /// Per type: the `--dnssec` validation, when asked for.
    checks: Vec<Option<Validation>>,
    left: usize,
}

/// Runs `netdx dns`: the report, then its closing lines.
pub async fn run(args: &DnsArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = dns(args, global, sink).await?;
    Ok(crate::output::finish(sink, &report))
}

/// Asks every question, streams each name's answers, comparisons and
/// diagnoses through `sink` as soon as that name (in input order) is
/// complete, and returns the whole report.
pub async fn dns(args: &DnsArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<DnsReport> {
    if args.trace {
        return trace::dns_trace(args, global, sink).await;
    }
    let started = Instant::now();
    let family = Family::from_flags(global.ipv4, global.ipv6);
    let mut servers: Vec<SocketAddr> = Vec::new();
    let mut inputs: Vec<String> = Vec::new();
    let tls = secure::plan(args, family, global.timeout.map(Duration::from_secs_f64)).await?;
    for item in &args.names {
        match item.strip_prefix('@') {
            Some(_) if tls.is_some() => {}
            Some(s) => servers.push(config::parse_server(s)?),
            None => inputs.push(item.clone()),
        }
    }
    match &tls {
        Some(plan) => servers.extend(secure::servers(plan)),
        None => {
            for s in &args.servers {
                servers.push(config::parse_server(s)?);
            }
        }
    }
    if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AppError::usage(format!("cannot read {}: {e}", path.display())))?;
        inputs.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    if inputs.is_empty() {
        return Err(AppError::usage(
            "give a name (or an address) to look up, or -f FILE",
        ));
    }
    if args.concurrency == 0 {
        return Err(AppError::usage("--concurrency must be at least 1"));
    }
    if args.compare && servers.is_empty() {
        return Err(AppError::usage(
            "--compare needs a server to compare the system resolver with (@SERVER or --server)",
        ));
    }
    let mut types: Vec<RecordType> = Vec::new();
    for t in &args.types {
        let t = question::parse_type(t)?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if args.all {
        types = question::ALL_TYPES.to_vec();
    }
    let default_types: Vec<RecordType> = match family {
        Family::V4 => vec![RecordType::A],
        Family::V6 => vec![RecordType::AAAA],
        Family::Any => vec![RecordType::A, RecordType::AAAA],
    };
    let targets: Vec<Target> = inputs
        .iter()
        .map(|i| question::parse_target(i, &types, &default_types))
        .collect::<AppResult<_>>()?;

    let anchors = dnssec::anchors(args)?;
    let edns = (!args.no_edns).then_some(args.bufsize.max(512));
    let user_timeout = global.timeout.map(Duration::from_secs_f64);
    let keep = |list: Vec<SocketAddr>| -> Vec<SocketAddr> {
        list.into_iter()
            .filter(|s| family.allows(&s.ip()))
            .collect()
    };
    let explicit = keep(servers.clone());
    if !servers.is_empty() && explicit.is_empty() {
        return Err(AppError::usage(
            "every server given is of the address family excluded by -4/-6",
        ));
    }
    let explicit_wire = WireOpts {
        tcp_only: args.tcp,
        edns,
        deadline: user_timeout.unwrap_or(DEFAULT_TIMEOUT),
        attempts: 2,
    };
    let mut conf_notes: Vec<Diagnosis> = Vec::new();
    let system = if servers.is_empty() || args.compare {
        let conf = config::load_system(args.resolv_conf.as_deref())?;
        conf_notes.extend(conf.skipped.iter().map(|why| {
            Diagnosis::new(
                "dns.resolv_conf_skipped",
                Severity::Warning,
                format!(
                    "{} {why}: libc skips such a line too, so the rest of the file still applies — fix or remove it",
                    conf.path.display()
                ),
            )
            .with("file", conf.path.display().to_string())
            .with("line", why)
        }));
        let conf_servers = keep(conf.servers.clone());
        if conf_servers.is_empty() {
            return Err(AppError::cannot_run(format!(
                "{} lists no name server of the allowed address family",
                conf.path.display()
            )));
        }
        Some(Source {
            label: format!("system ({})", conf.path.display()),
            servers: conf_servers,
            search: if args.no_search {
                Vec::new()
            } else {
                conf.search.clone()
            },
            ndots: conf.ndots,
            wire: WireOpts {
                tcp_only: args.tcp,
                edns,
                deadline: user_timeout.unwrap_or(conf.timeout * conf.attempts as u32),
                attempts: conf.attempts,
            },
            secure: None,
        })
    } else {
        None
    };
    let label = |list: &[SocketAddr]| {
        list.iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (primary, compared): (Source, Vec<Source>) = match system {
        Some(sys) if args.compare => {
            let others = explicit
                .iter()
                .map(|s| Source {
                    label: s.to_string(),
                    servers: vec![*s],
                    search: Vec::new(),
                    ndots: 1,
                    wire: explicit_wire,
                    secure: None,
                })
                .collect();
            (sys, others)
        }
        Some(sys) => (sys, Vec::new()),
        None => (
            Source {
                label: label(&explicit),
                servers: explicit.clone(),
                search: Vec::new(),
                ndots: 1,
                wire: explicit_wire,
                secure: tls.clone(),
            },
            Vec::new(),
        ),
    };

    // --dnssec: each name is validated right after its lookup, in the
    // same bounded set of jobs, sharing one DS/DNSKEY cache.
    let chain = dnssec::chain(
        anchors,
        &primary.servers,
        (primary.wire.deadline, primary.wire.tcp_only),
    );
    let primary = Arc::new(primary);
    let compared = Arc::new(compared);
    // Lookups are started lazily, `concurrency` at a time: a 10,000-name
    // batch never holds 10,000 pending futures (memory stays near dig's).
    let mut jobs = targets
        .iter()
        .enumerate()
        .flat_map(|(ti, t)| (0..t.types.len()).map(move |ki| (ti, ki)));
    type Job = (usize, usize, Vec<Answer>, Option<Validation>);
    let spawn_job = |set: &mut tokio::task::JoinSet<Job>, (ti, ki): (usize, usize)| {
        let target = &targets[ti];
        let (primary, compared, chain) = (primary.clone(), compared.clone(), chain.clone());
        let (input, name, rtype) = (target.input.clone(), target.name.clone(), target.types[ki]);
        set.spawn(async move {
            let first = lookup::lookup(&primary, &input, &name, rtype).await;
            let mut all = vec![first];
            // Ask the others exactly what the system resolver ended up asking.
            let asked = Name::from_ascii(&all[0].qname).unwrap_or(name);
            for other in compared.iter() {
                all.push(lookup::lookup(other, &input, &asked, rtype).await);
            }
            let check = match &chain {
                Some(chain) => Some(dnssec::check(chain, &asked, rtype).await),
                None => None,
            };
            (ti, ki, all, check)
        });
    };
    let mut set = tokio::task::JoinSet::new();
    for job in jobs.by_ref().take(args.concurrency.max(1)) {
        spawn_job(&mut set, job);
    }
    let mut grid: Vec<Done> = targets
        .iter()
        .map(|t| Done {
            per_type: vec![None; t.types.len()],
            checks: vec![None; t.types.len()],
            left: t.types.len(),
        })
        .collect();

    // Many names: their diagnoses are folded into groups at the end.
    let batch = targets.len() > 1;
    let keep_answers = !batch || sink.mode == crate::output::Mode::Json;
    let bar = progress::bar(sink, targets.len() as u64, "resolving");
    if targets.len() < 2 {
        bar.finish_and_clear();
    }
    let mut all_answers: Vec<Answer> = Vec::new();
    let mut all_cmp: Vec<Comparison> = Vec::new();
    for d in &conf_notes {
        sink.event("diagnosis", d);
    }
    if sink.human() && !batch {
        bar.suspend(|| sink.diagnoses(&conf_notes));
    }
    // A batch folds its findings as they come (one name per finding kept);
    // a single name keeps its diagnoses as they are.
    let mut grouper = diagnose::dns::Grouper::default();
    let mut all_diag: Vec<Diagnosis> = Vec::new();
    for d in conf_notes {
        if batch {
            grouper.push(d);
        } else {
            all_diag.push(d);
        }
    }
    let (mut resolved, mut failed, mut differing, mut bogus) = (0usize, 0usize, 0usize, 0usize);
    let mut validations: Vec<Validation> = Vec::new();
    let mut next = 0usize;
    while let Some(joined) = set.join_next().await {
        if let Some(job) = jobs.next() {
            spawn_job(&mut set, job);
        }
        let Ok((ti, ki, answers, check)) = joined else {
            continue;
        };
        let done = &mut grid[ti];
        done.per_type[ki] = Some(answers);
        done.checks[ki] = check;
        done.left -= 1;
        if done.left == 0 {
            bar.inc(1);
        }
        while next < grid.len() && grid[next].left == 0 {
            let per_type: Vec<Vec<Answer>> = grid[next]
                .per_type
                .iter_mut()
                .filter_map(Option::take)
                .collect();
            let checks: Vec<Validation> = grid[next]
                .checks
                .iter_mut()
                .filter_map(Option::take)
                .collect();
            let report = finish_target(&per_type, &checks);
            bar.suspend(|| emit(sink, args.short, batch, (&per_type, &checks), &report));
            if report.ok {
                resolved += 1;
            } else {
                failed += 1;
            }
            if dnssec::any_bogus(&checks) {
                bogus += 1;
            }
            differing += report.comparisons.iter().filter(|c| differs(c)).count();
            // A streamed batch already printed its answers: only a --json
            // document (or a single name) keeps them for the report.
            if keep_answers {
                all_answers.extend(per_type.into_iter().flatten());
            }
            all_cmp.extend(report.comparisons);
            if keep_answers {
                validations.extend(checks);
            }
            for d in report.diagnoses {
                if batch {
                    grouper.push(d);
                } else {
                    all_diag.push(d);
                }
            }
            next += 1;
        }
    }
    bar.finish_and_clear();
    Ok(DnsReport {
        command: "dns",
        answers: all_answers,
        comparisons: all_cmp,
        diagnoses: if batch { grouper.finish() } else { all_diag },
        summary: DnsSummary {
            names: targets.len(),
            resolved,
            failed,
            bogus,
            differences: differing,
            time_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
        dnssec: validations,
        trace: None,
        show_totals: batch && !args.short,
        diagnoses_last: batch && !args.short,
    })
}

/// Comparisons that count as a failed check (TTL drift does not).
fn differs(c: &Comparison) -> bool {
    !matches!(c.kind, DiffKind::Same | DiffKind::Ttl)
}

/// The verdict for one target.
struct Verdict {
    ok: bool,
    comparisons: Vec<Comparison>,
    diagnoses: Vec<Diagnosis>,
}

/// Judges one target from its answers (per type, primary first) and its
/// `--dnssec` validations: a bogus answer does not resolve (a validating
/// resolver answers SERVFAIL), so it gets no `dns.ok`.
fn finish_target(per_type: &[Vec<Answer>], checks: &[Validation]) -> Verdict {
    let primary: Vec<Answer> = per_type.iter().filter_map(|v| v.first().cloned()).collect();
    let mut diagnoses = diagnose::dns::for_name(&primary);
    let mut comparisons = Vec::new();
    for answers in per_type {
        if let Some((reference, others)) = answers.split_first() {
            comparisons.extend(others.iter().map(|o| compare::compare(reference, o)));
        }
    }
    let flat: Vec<Answer> = per_type.iter().flatten().cloned().collect();
    diagnoses.extend(diagnose::dns::for_comparisons(&comparisons, &flat));
    let bogus = dnssec::any_bogus(checks);
    if bogus {
        diagnoses.retain(|d| d.severity != Severity::Ok);
    }
    diagnoses.extend(checks.iter().map(crate::diagnose::dns::dnssec::diagnose));
    // A name resolves only when no answer needed a critical finding (an
    // answer padded with records for other names is not a clean answer).
    let ok = !bogus
        && primary.iter().any(|a| a.status.resolved())
        && !diagnoses.iter().any(|d| d.severity == Severity::Critical);
    Verdict {
        ok,
        comparisons,
        diagnoses,
    }
}

/// Writes one target's results in the chosen output shape.
fn emit(
    sink: &Sink,
    short: bool,
    batch: bool,
    (per_type, checks): (&[Vec<Answer>], &[Validation]),
    report: &Verdict,
) {
    for answers in per_type {
        for a in answers {
            sink.event("answer", a);
        }
    }
    if !sink.human() {
        for v in checks {
            dnssec::emit(sink, v, short);
        }
    }
    for c in &report.comparisons {
        sink.event("comparison", c);
    }
    for d in &report.diagnoses {
        sink.event("diagnosis", d);
    }
    // Only a human sink gets here, so a silent (library) caller never
    // sees the `--short` failure lines on stderr either.
    if !sink.human() {
        return;
    }
    if short {
        for answers in per_type {
            if let Some(a) = answers.first() {
                for line in render::short_lines(a) {
                    sink.line(&line);
                }
            }
        }
        for v in checks {
            dnssec::emit(sink, v, short);
        }
        if !report.ok {
            for d in report
                .diagnoses
                .iter()
                .filter(|d| d.severity >= Severity::Warning)
            {
                eprintln!("netdx: {}: {}", d.code, d.summary);
            }
        }
        return;
    }
    for answers in per_type {
        for a in answers {
            for line in render::answer_lines(sink, a) {
                sink.line(&line);
            }
        }
    }
    for c in &report.comparisons {
        sink.line(&render::comparison_line(sink, c));
    }
    for v in checks {
        dnssec::emit(sink, v, short);
    }
    if !batch {
        sink.diagnoses(&report.diagnoses);
    }
}
