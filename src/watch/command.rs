//! The `netdx watch` command: one pipeline for live capture and for files
//! (filter → decode → packet line / flow tracker → pcap writer), so the
//! same packets give the same output whichever way they arrive.

use super::decode::{Decoder, Proto};
use super::filter::{self, LinkType, Program};
use super::flow::{FlowEvent, FlowSummary, FlowTracker};
use super::pcap::{FrameRef, Next, PcapWriter, Reader, MAX_SNAPLEN};
use crate::cli::{GlobalOpts, WatchArgs};
use crate::diagnose::{Diagnosis, Severity};
use crate::error::{AppError, AppResult, Exit};
use crate::output::{Report, Sink};
use crate::probe::capture::{Capture, CaptureLink};
use crate::probe::privilege;
use serde::Serialize;
use std::fs::File;
use std::time::Duration;

/// Packets seen, by where they stopped and what they carried.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct PacketCounts {
    /// Packets that matched the filter and were processed.
    pub captured: u64,
    /// Live: packets the kernel filter passed (tcpdump's "received by filter").
    pub received_by_filter: Option<u64>,
    /// Live: packets the kernel dropped because netdx did not read fast enough.
    pub dropped_by_kernel: Option<u64>,
    /// TCP packets (IPv4 and IPv6).
    pub tcp: u64,
    /// UDP packets.
    pub udp: u64,
    /// ICMP packets.
    pub icmp: u64,
    /// ICMPv6 packets.
    pub icmp6: u64,
    /// Other IP protocols and non-first fragments.
    pub other_ip: u64,
    /// Packets that are not IP (ARP…).
    pub non_ip: u64,
}

/// What `netdx watch` saw.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WatchReport {
    /// `interface NAME`, `all interfaces`, or `file PATH`.
    pub source: String,
    /// The filter expression as compiled (empty: every packet).
    pub filter: String,
    /// Link type of the frames: `ethernet`, `linux_sll`, `linux_sll2`, `raw`.
    pub link: String,
    /// The pcap file written, with -w.
    pub written: Option<String>,
    /// Packet totals.
    pub packets: PacketCounts,
    /// Connections and what they show.
    pub flows: FlowSummary,
    /// A file that ended inside its last record (what was read is kept).
    pub warning: Option<String>,
    /// Findings over all connections.
    pub diagnosis: Vec<Diagnosis>,
}

impl Report for WatchReport {
    fn diagnoses(&self) -> Vec<Diagnosis> {
        self.diagnosis.clone()
    }

    fn exit(&self) -> Exit {
        if self
            .diagnosis
            .iter()
            .any(|d| d.severity == Severity::Critical)
        {
            Exit::TargetFailed
        } else {
            Exit::Healthy
        }
    }

    fn render_human(&self, sink: &Sink) {
        if let Some(path) = &self.written {
            sink.line(&format!("written to {path}"));
        }
        if !self.flows.flows.is_empty() {
            for line in super::flow::render::table(&self.flows).lines() {
                sink.line(line);
            }
        }
        let p = &self.packets;
        sink.line(&format!(
            "{} connections; tcp {}, udp {}, icmp {}, icmp6 {}, other ip {}, not ip {}",
            self.flows.connections, p.tcp, p.udp, p.icmp, p.icmp6, p.other_ip, p.non_ip
        ));
        sink.line(&format!("{} packets captured", p.captured));
        if let Some(r) = p.received_by_filter {
            sink.line(&format!("{r} packets received by filter"));
        }
        if let Some(d) = p.dropped_by_kernel {
            sink.line(&format!("{d} packets dropped by kernel"));
        }
    }

    fn summary_event(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
}

/// Runs `netdx watch` and prints its report.
pub async fn run(args: &WatchArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = watch(args, global, sink).await?;
    Ok(crate::output::finish(sink, &report))
}

/// Settings checked before anything opens.
struct Plan {
    expr: String,
    snaplen: u32,
    count: Option<u64>,
    duration: Option<Duration>,
}

fn plan(args: &WatchArgs) -> AppResult<Plan> {
    if args.count == Some(0) {
        return Err(AppError::usage("-c 0: the count must be at least 1"));
    }
    let duration = match args.duration {
        None => None,
        Some(d) if d.is_finite() && d > 0.0 && d <= 1e7 => Some(Duration::from_secs_f64(d)),
        Some(d) => {
            return Err(AppError::usage(format!(
                "--duration {d}: give a positive number of seconds"
            )))
        }
    };
    if args.read.is_some() && args.duration.is_some() {
        return Err(AppError::usage(
            "--duration applies to a live capture, not to -r",
        ));
    }
    let snaplen = match args.snaplen {
        0 => MAX_SNAPLEN,
        n => n.min(MAX_SNAPLEN),
    };
    Ok(Plan {
        expr: args.filter.join(" "),
        snaplen,
        count: args.count,
        duration,
    })
}

fn compile(expr: &str, link: LinkType, snaplen: u32) -> AppResult<Program> {
    filter::compile(expr, link, snaplen)
        .map_err(|e| AppError::usage(format!("filter {expr:?}: {e}")))
}

fn link_name(link: LinkType) -> &'static str {
    match link {
        LinkType::Ethernet => "ethernet",
        LinkType::LinuxSll => "linux_sll",
        LinkType::LinuxSll2 | LinkType::KernelCooked => "linux_sll2",
        LinkType::RawIp => "raw",
    }
}

/// Captures (or reads) packets until the count, the duration, the end of
/// the file or Ctrl-C, and returns what they showed.
pub async fn watch(args: &WatchArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<WatchReport> {
    let _ = global;
    let plan = plan(args)?;
    match &args.read {
        Some(path) => read_file(args, &plan, path, sink),
        None => live(args, &plan, sink).await,
    }
}

/// Everything a packet goes through, live or from a file.
struct Pipeline<'s> {
    sink: &'s Sink,
    decoder: Decoder,
    tracker: FlowTracker,
    writer: Option<PcapWriter<File>>,
    counts: PacketCounts,
    show_packets: bool,
    show_flows: bool,
    line: String,
    next_expire_us: u64,
    write_error: Option<String>,
}

/// Idle flows are expired about this often (in capture time).
const EXPIRE_EVERY_US: u64 = 1_000_000;

impl<'s> Pipeline<'s> {
    fn new(args: &WatchArgs, sink: &'s Sink, writer: Option<PcapWriter<File>>) -> Self {
        let show_packets = args.packets;
        let show_flows = !args.packets && writer.is_none();
        Pipeline {
            sink,
            decoder: Decoder::new(args.verbose),
            tracker: FlowTracker::new(),
            writer,
            counts: PacketCounts::default(),
            show_packets,
            show_flows,
            line: String::with_capacity(256),
            next_expire_us: 0,
            write_error: None,
        }
    }

    fn packet(&mut self, frame: FrameRef<'_>) {
        self.counts.captured += 1;
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.write(frame.ts_ns, frame.data, frame.wire_len) {
                self.write_error.get_or_insert_with(|| e.to_string());
            }
        }
        self.line.clear();
        let text = if self.show_packets {
            Some(&mut self.line)
        } else {
            None
        };
        let decoded = self.decoder.decode(frame, text);
        match decoded.proto {
            Proto::Tcp => self.counts.tcp += 1,
            Proto::Udp => self.counts.udp += 1,
            Proto::Icmp => self.counts.icmp += 1,
            Proto::Icmp6 => self.counts.icmp6 += 1,
            Proto::OtherIp => self.counts.other_ip += 1,
            Proto::NonIp => self.counts.non_ip += 1,
        }
        if self.show_packets {
            if self.sink.streams_events() {
                self.sink.event(
                    "packet",
                    &PacketEvent {
                        ts_us: frame.ts_ns / 1000,
                        line: &self.line,
                    },
                );
            } else {
                self.sink.line(&self.line);
            }
        }
        if let Some(segment) = decoded.segment {
            let events = self.tracker.observe(&segment);
            self.flow_events(events);
        }
        let now_us = frame.ts_ns / 1000;
        if now_us >= self.next_expire_us {
            self.expire(now_us);
        }
    }

    fn expire(&mut self, now_us: u64) {
        self.next_expire_us = now_us + EXPIRE_EVERY_US;
        let events = self.tracker.expire(now_us);
        self.flow_events(events);
    }

    fn flow_events(&self, events: Vec<FlowEvent>) {
        if !self.show_flows {
            return;
        }
        for event in events {
            if self.sink.streams_events() {
                self.sink.event("flow", &event);
            } else {
                self.sink.line(&super::flow::render::event_line(&event));
            }
        }
    }

    fn finish(mut self, base: WatchReport) -> AppResult<WatchReport> {
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.flush() {
                self.write_error.get_or_insert_with(|| e.to_string());
            }
        }
        if let Some(e) = self.write_error {
            return Err(AppError::cannot_run(format!(
                "cannot write the capture file: {e}"
            )));
        }
        let flows = self.tracker.finish();
        Ok(WatchReport {
            packets: PacketCounts {
                received_by_filter: base.packets.received_by_filter,
                dropped_by_kernel: base.packets.dropped_by_kernel,
                ..self.counts
            },
            diagnosis: flows.diagnoses.clone(),
            flows,
            ..base
        })
    }
}

/// A `--packets --jsonl` line.
#[derive(Serialize)]
struct PacketEvent<'a> {
    ts_us: u64,
    line: &'a str,
}

fn create_writer(
    args: &WatchArgs,
    link: LinkType,
    snaplen: u32,
) -> AppResult<Option<PcapWriter<File>>> {
    let Some(path) = &args.write else {
        return Ok(None);
    };
    let file = File::create(path)
        .map_err(|e| AppError::cannot_run(format!("cannot create {}: {e}", path.display())))?;
    PcapWriter::new(file, link, snaplen)
        .map(Some)
        .map_err(|e| AppError::cannot_run(format!("cannot write {}: {e}", path.display())))
}

fn base_report(source: String, expr: &str, link: LinkType, args: &WatchArgs) -> WatchReport {
    WatchReport {
        source,
        filter: expr.to_string(),
        link: link_name(link).to_string(),
        written: args.write.as_ref().map(|p| p.display().to_string()),
        packets: PacketCounts::default(),
        flows: FlowSummary::default(),
        warning: None,
        diagnosis: Vec::new(),
    }
}

fn read_file(
    args: &WatchArgs,
    plan: &Plan,
    path: &std::path::Path,
    sink: &Sink,
) -> AppResult<WatchReport> {
    let unreadable = |e: String| AppError::cannot_run(format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut reader = Reader::open(file).map_err(|e| unreadable(e.0))?;
    let first = reader.link();
    let mut programs = vec![(first, compile(&plan.expr, first, plan.snaplen)?)];
    let writer = create_writer(args, first, plan.snaplen)?;
    let mut base = base_report(format!("file {}", path.display()), &plan.expr, first, args);
    let mut pipe = Pipeline::new(args, sink, writer);
    loop {
        if plan.count.is_some_and(|c| pipe.counts.captured >= c) || sink.is_closed() {
            break;
        }
        let frame = match reader.next_frame().map_err(|e| unreadable(e.0))? {
            Next::Frame(f) => f,
            Next::End => break,
            Next::Truncated(warning) => {
                eprintln!("netdx: warning: {}: {warning}", path.display());
                base.warning = Some(warning);
                break;
            }
        };
        let index = match programs.iter().position(|(l, _)| *l == frame.link) {
            Some(i) => i,
            None => {
                programs.push((frame.link, compile(&plan.expr, frame.link, plan.snaplen)?));
                programs.len() - 1
            }
        };
        if !programs[index].1.matches(&frame.data, frame.wire_len) {
            continue;
        }
        pipe.packet(frame.view());
    }
    pipe.finish(base)
}

/// Packets handled per wake-up: a burst is read without going back to the
/// event loop, but never past `-c`.
fn batch_max(count: Option<u64>, captured: u64) -> usize {
    const BATCH: u64 = 256;
    count.map_or(BATCH, |c| c.saturating_sub(captured).clamp(1, BATCH)) as usize
}

async fn live(args: &WatchArgs, plan: &Plan, sink: &Sink) -> AppResult<WatchReport> {
    let iface = args.interface.as_deref();
    let kernel_link = match crate::probe::capture::link_of(iface)? {
        CaptureLink::Ethernet => LinkType::Ethernet,
        CaptureLink::Cooked => LinkType::KernelCooked,
    };
    let program = compile(&plan.expr, kernel_link, plan.snaplen)?;
    let insns: Vec<libc::sock_filter> = program
        .insns
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let mut capture = Capture::open(iface, plan.snaplen, &insns)?;
    privilege::sockets_prepared();
    let frame_link = match capture.link() {
        CaptureLink::Ethernet => LinkType::Ethernet,
        CaptureLink::Cooked => LinkType::LinuxSll2,
    };
    let writer = create_writer(args, frame_link, plan.snaplen)?;
    let source = match iface.filter(|n| *n != "any") {
        Some(name) => format!("interface {name}"),
        None => "all interfaces".to_string(),
    };
    let base = base_report(source, &plan.expr, frame_link, args);
    let mut pipe = Pipeline::new(args, sink, writer);
    if sink.human() && !pipe.show_packets && !pipe.show_flows {
        eprintln!(
            "netdx: capturing, writing to {}",
            base.written.as_deref().unwrap_or("-")
        );
    }
    let far = tokio::time::Instant::now() + Duration::from_secs(1 << 40);
    let deadline = plan.duration.map(|d| tokio::time::Instant::now() + d);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        if plan.count.is_some_and(|c| pipe.counts.captured >= c) || sink.is_closed() {
            break;
        }
        tokio::select! {
            biased;
            _ = &mut ctrl_c => break,
            _ = tokio::time::sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => break,
            _ = ticker.tick() => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_micros() as u64)
                    .unwrap_or(0);
                pipe.expire(now);
            }
            got = capture.next_batch(batch_max(plan.count, pipe.counts.captured), |p| pipe.packet(FrameRef {
                ts_ns: p.ts_ns,
                link: frame_link,
                wire_len: p.wire_len,
                data: p.data,
            })) => {
                if let Err(e) = got {
                    return Err(AppError::cannot_run(format!("capture failed: {e}")));
                }
            }
        }
    }
    let stats = capture.stats();
    let mut base = base;
    base.packets.received_by_filter = Some(stats.received);
    base.packets.dropped_by_kernel = Some(stats.dropped);
    pipe.finish(base)
}
