//! `--checks FILE`: a `netdx check` file run every interval in the
//! background, each line's last result kept as gauges that a plain scrape
//! of `/metrics` gets, labelled by line number and check text.

use crate::check::{CheckPlan, CheckResult};
use crate::error::{AppError, AppResult};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Label pairs, as `prometheus-client` encodes them.
type Labels = Vec<(String, String)>;
/// A gauge holding a float.
type FloatGauge = Gauge<f64, AtomicU64>;

/// Reads and parses the check file once, at start: a bad line refuses the
/// start (exit 2) naming the file and the line.
pub fn load(path: &Path) -> AppResult<CheckPlan> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::usage(format!("--checks {}: cannot read it: {e}", path.display()))
    })?;
    CheckPlan::parse(&text)
        .map_err(|e| AppError::usage(format!("--checks {}: {}", path.display(), e.message)))
}

/// The last result of every line, shared with `/metrics`.
#[derive(Debug, Default)]
pub struct CheckResults {
    last: RwLock<Vec<CheckResult>>,
}

impl CheckResults {
    /// Replaces the results with a finished round's.
    fn store(&self, round: Vec<CheckResult>) {
        match self.last.write() {
            Ok(mut last) => *last = round,
            Err(poisoned) => *poisoned.into_inner() = round,
        }
    }

    /// The gauges in OpenMetrics text, without the closing `# EOF`
    /// (they are appended to the exporter's own metrics).
    pub fn render(&self) -> String {
        let success = Family::<Labels, FloatGauge>::default();
        let duration = Family::<Labels, FloatGauge>::default();
        let exit = Family::<Labels, FloatGauge>::default();
        let diagnosis = Family::<Labels, FloatGauge>::default();
        {
            let last = match self.last.read() {
                Ok(l) => l,
                Err(poisoned) => poisoned.into_inner(),
            };
            for r in last.iter() {
                let labels = vec![
                    ("line".to_string(), r.line.to_string()),
                    ("check".to_string(), escape(&r.check)),
                ];
                success
                    .get_or_create(&labels)
                    .set(if r.passed { 1.0 } else { 0.0 });
                duration
                    .get_or_create(&labels)
                    .set(r.elapsed_ms as f64 / 1000.0);
                exit.get_or_create(&labels).set(f64::from(r.exit));
                for d in r
                    .diagnosis
                    .iter()
                    .filter(|d| d.severity != crate::diagnose::Severity::Ok)
                {
                    let mut l = labels.clone();
                    l.push(("code".into(), escape(&d.code)));
                    l.push(("severity".into(), d.severity.label().to_string()));
                    diagnosis.get_or_create(&l).set(1.0);
                }
            }
        }
        let mut reg = Registry::default();
        reg.register(
            "netdx_check_success",
            "1 when the check line's last run passed (its exit status was 0), by line and check",
            success,
        );
        reg.register(
            "netdx_check_duration_seconds",
            "How long the check line's last run took",
            duration,
        );
        reg.register(
            "netdx_check_exit_status",
            "The exit status the check line's command had on its last run",
            exit,
        );
        reg.register(
            "netdx_check_diagnosis",
            "A finding of the check line's last run that is not ok, by code and severity",
            diagnosis,
        );
        let mut out = String::new();
        if encode(&mut out, &reg).is_err() {
            out.clear();
        }
        match out.strip_suffix("# EOF\n") {
            Some(body) => body.to_string(),
            None => out,
        }
    }
}

/// A label value as the text format needs it (the encoder writes it raw).
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The results, and the loop that runs the plan every `interval`, at most
/// `parallel` lines at once, each stopped after the interval so a round
/// never overlaps the next. The loop never ends; the commands' futures are
/// not `Send`, so the caller polls it in a `LocalSet` on the runtime that
/// serves `/probe`, whose probe engines the checks then share.
pub fn start(
    plan: CheckPlan,
    interval: Duration,
    parallel: usize,
) -> (Arc<CheckResults>, impl std::future::Future<Output = ()>) {
    let results = Arc::new(CheckResults::default());
    let shared = Arc::clone(&results);
    let rounds = async move {
        let plan = std::rc::Rc::new(plan);
        loop {
            let started = Instant::now();
            let round = CheckPlan::run(&plan, parallel, interval).await;
            let failed = round.iter().filter(|r| !r.passed).count();
            let total = round.len();
            shared.store(round);
            super::log(&format!(
                "checks: {total} run, {failed} failed in {:.2} s",
                started.elapsed().as_secs_f64()
            ));
            tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
        }
    };
    (results, rounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Diagnosis, Severity};

    #[test]
    fn results_render_as_labelled_gauges_with_escaped_text() {
        let r = CheckResults::default();
        r.store(vec![CheckResult {
            line: 3,
            check: "dns \"a b\" @198.18.1.2".into(),
            exit: 1,
            passed: false,
            elapsed_ms: 1500,
            diagnosis: vec![
                Diagnosis::new("dns.nxdomain", Severity::Critical, "no such name"),
                Diagnosis::new("dns.ok", Severity::Ok, "fine"),
            ],
            error: None,
        }]);
        let text = r.render();
        let labels = r#"line="3",check="dns \"a b\" @198.18.1.2""#;
        assert!(
            text.contains(&format!("netdx_check_success{{{labels}}} 0.0\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("netdx_check_duration_seconds{{{labels}}} 1.5\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "netdx_check_diagnosis{{{labels},code=\"dns.nxdomain\",severity=\"critical\"}} 1.0\n"
            )),
            "{text}"
        );
        assert!(!text.contains("dns.ok"), "{text}");
        assert!(!text.contains("# EOF"), "{text}");
    }
}
