//! The text both endpoints answer with, encoded by `prometheus-client`
//! (OpenMetrics text, which Prometheus scrapes and `promtool check metrics`
//! validates): a fresh registry per `/probe` answer, and the exporter's own
//! long-lived counters for `/metrics`.

use super::prober::{Outcome, Series};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;

/// The Content-Type of an OpenMetrics answer (what Prometheus asks for).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Content-Type of the classic text format (curl, promtool, older scrapers).
pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The answer in the format the client accepts: OpenMetrics when its
/// `Accept` names it, else the classic text format, in which a counter's
/// HELP and TYPE name its `_total` series and there is no `# EOF`.
pub fn negotiate(openmetrics: String, accept: &str) -> (&'static str, String) {
    if accept.contains("application/openmetrics-text") {
        return (OPENMETRICS, openmetrics);
    }
    let counters: BTreeSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    (TEXT, out)
}

/// Label pairs, as `prometheus-client` encodes them.
type Labels = Vec<(String, String)>;
/// A gauge holding a float.
type FloatGauge = Gauge<f64, AtomicU64>;

/// Registers a float gauge; `prometheus-client` adds the help's full stop.
fn plain(reg: &mut Registry, name: &str, help: &str, value: f64) {
    let g = FloatGauge::default();
    g.set(value);
    reg.register(name, help.trim_end_matches('.'), g);
}

/// Encodes a registry; writing to a String cannot fail short of a bug in
/// the encoder, which then shows as an empty answer rather than a panic.
fn text(reg: &Registry) -> String {
    let mut out = String::new();
    if encode(&mut out, reg).is_err() {
        out.clear();
    }
    out
}

/// The `/probe` answer for one outcome.
pub fn render_probe(o: &Outcome, duration_s: f64) -> String {
    let mut reg = Registry::default();
    plain(
        &mut reg,
        "probe_success",
        "1 when the probe's verdict was healthy (netdx exit status 0)",
        if o.success { 1.0 } else { 0.0 },
    );
    plain(
        &mut reg,
        "probe_duration_seconds",
        "How long the probe took, resolution included",
        duration_s,
    );
    if o.timed_out {
        plain(
            &mut reg,
            "netdx_probe_timed_out",
            "1 when the probe was stopped at its timeout",
            1.0,
        );
    }
    // Series come grouped by name in the order the prober made them.
    let mut names: Vec<&'static str> = Vec::new();
    for s in &o.series {
        if !names.contains(&s.name) {
            names.push(s.name);
        }
    }
    for name in names {
        let group: Vec<&Series> = o.series.iter().filter(|s| s.name == name).collect();
        let help = group.first().map(|s| s.help).unwrap_or("");
        if let [only] = group.as_slice() {
            if only.labels.is_empty() {
                plain(&mut reg, name, help, only.value);
                continue;
            }
        }
        let family = Family::<Labels, FloatGauge>::default();
        for s in &group {
            family.get_or_create(&s.labels).set(s.value);
        }
        reg.register(name, help.trim_end_matches('.'), family);
    }
    let diagnoses = Family::<Labels, FloatGauge>::default();
    let mut seen = BTreeSet::new();
    for d in &o.diagnoses {
        if seen.insert((d.code.clone(), d.severity.label())) {
            let labels = vec![
                ("code".to_string(), d.code.clone()),
                ("severity".to_string(), d.severity.label().to_string()),
            ];
            diagnoses.get_or_create(&labels).set(1.0);
        }
    }
    reg.register(
        "netdx_diagnosis",
        "A finding that is not ok, by code (see netdx explain) and severity",
        diagnoses,
    );
    text(&reg)
}

/// The exporter's own figures, shared by every request.
#[derive(Debug)]
pub struct ExporterMetrics {
    registry: Registry,
    probes: Family<Labels, Counter>,
    failures: Family<Labels, Counter>,
    refused: Family<Labels, Counter>,
    in_flight: Gauge,
    resident: Gauge,
    cpu: Counter<f64, AtomicU64>,
    fds: Gauge,
}

impl Default for ExporterMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let probes = Family::<Labels, Counter>::default();
        let failures = Family::<Labels, Counter>::default();
        let refused = Family::<Labels, Counter>::default();
        let in_flight = Gauge::default();
        let resident = Gauge::default();
        let cpu = Counter::<f64, AtomicU64>::default();
        let fds = Gauge::default();
        registry.register("netdx_probes", "Probes run, by module", probes.clone());
        registry.register(
            "netdx_probe_failures",
            "Probes whose probe_success was 0, by module",
            failures.clone(),
        );
        registry.register(
            "netdx_probe_refusals",
            "Requests answered 400, 403 or 503 without probing, by status",
            refused.clone(),
        );
        registry.register(
            "netdx_probes_in_flight",
            "Probes running now",
            in_flight.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            resident.clone(),
        );
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time spent in seconds",
            cpu.clone(),
        );
        registry.register(
            "process_open_fds",
            "Number of open file descriptors",
            fds.clone(),
        );
        ExporterMetrics {
            registry,
            probes,
            failures,
            refused,
            in_flight,
            resident,
            cpu,
            fds,
        }
    }
}

impl ExporterMetrics {
    /// A probe started (marks it in flight).
    pub fn started(&self) {
        self.in_flight.inc();
    }

    /// A probe ended: `module` is None when the request was refused
    /// before probing.
    pub fn finished(&self, module: Option<&str>, success: bool) {
        self.in_flight.dec();
        let Some(module) = module else {
            return;
        };
        let labels = vec![("module".to_string(), module.to_string())];
        self.probes.get_or_create(&labels).inc();
        if !success {
            self.failures.get_or_create(&labels).inc();
        }
    }

    /// A request was refused with `status`.
    pub fn refused(&self, status: u16) {
        self.refused
            .get_or_create(&vec![("status".to_string(), status.to_string())])
            .inc();
    }

    /// The `/metrics` answer, process figures read now.
    pub fn render(&self) -> String {
        if let Some((cpu, rss)) = process_stat() {
            // A counter only grows: add what was spent since the last read.
            let before = self.cpu.get();
            if cpu > before {
                self.cpu.inc_by(cpu - before);
            }
            self.resident.set(rss);
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            self.fds.set(dir.count() as i64);
        }
        text(&self.registry)
    }
}

/// CPU seconds and resident bytes from /proc/self/stat (fields 14, 15, 24).
fn process_stat() -> Option<(f64, i64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: fields start after its ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = sysconf(libc::_SC_CLK_TCK).unwrap_or(100) as f64;
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let pages: i64 = f.get(21)?.parse().ok()?;
    let page = sysconf(libc::_SC_PAGESIZE).unwrap_or(4096);
    Some(((utime + stime) / ticks, pages * page))
}

/// A positive `sysconf` value.
fn sysconf(name: libc::c_int) -> Option<i64> {
    // SAFETY: sysconf reads a system constant; it takes no pointers.
    let v = unsafe { libc::sysconf(name) };
    (v > 0).then_some(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Diagnosis, Severity};

    #[test]
    fn a_probe_renders_success_series_and_each_diagnosis_once() {
        let outcome = Outcome {
            success: false,
            series: vec![Series {
                name: "probe_tcp_state",
                help: "State.",
                labels: vec![("state".into(), "closed".into())],
                value: 1.0,
            }],
            diagnoses: vec![
                Diagnosis::new("tcp.refused", Severity::Critical, "refused"),
                Diagnosis::new("tcp.refused", Severity::Critical, "refused again"),
            ],
            timed_out: false,
        };
        let om = render_probe(&outcome, 0.25);
        assert!(om.contains("probe_success 0.0\n"), "{om}");
        assert!(om.contains("probe_duration_seconds 0.25\n"), "{om}");
        assert!(
            om.contains("probe_tcp_state{state=\"closed\"} 1.0\n"),
            "{om}"
        );
        assert_eq!(
            om.matches("netdx_diagnosis{code=\"tcp.refused\",severity=\"critical\"} 1.0")
                .count(),
            1,
            "{om}"
        );
        assert!(om.ends_with("# EOF\n"), "{om}");
    }

    #[test]
    fn the_classic_format_names_counters_by_their_total_and_has_no_eof() {
        let m = ExporterMetrics::default();
        m.started();
        m.finished(Some("tcp"), false);
        let om = m.render();
        let (ct, text) = negotiate(om.clone(), "");
        assert_eq!(ct, TEXT);
        assert!(
            text.contains("# TYPE netdx_probes_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP netdx_probe_failures_total "),
            "{text}"
        );
        assert!(
            text.contains("netdx_probes_total{module=\"tcp\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
        let (ct, same) = negotiate(
            om.clone(),
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        );
        assert_eq!((ct, same), (OPENMETRICS, om));
    }
}
