//! The HTTP side: `/probe`, `/metrics` and a short index page; every
//! refusal is one line of text with its status.

use super::allow::AllowList;
use super::config::Config;
use super::metrics::{self, ExporterMetrics};
use super::prober::{self, Refusal};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// What every request shares.
#[derive(Debug)]
pub struct Shared {
    /// The modules; replaced whole on reload.
    pub config: RwLock<Arc<Config>>,
    /// `--allow`.
    pub allow: AllowList,
    /// One permit per probe allowed to run at once.
    pub slots: Semaphore,
    /// Seconds taken off Prometheus's scrape timeout.
    pub offset: f64,
    /// The exporter's own figures.
    pub metrics: ExporterMetrics,
    /// The last results of `--checks`, when given.
    pub checks: Option<Arc<super::checks::CheckResults>>,
}

/// The router over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/probe", get(probe))
        .route("/metrics", get(own_metrics))
        .route("/", get(index))
        .with_state(shared)
}

/// A one-line refusal.
fn refuse(shared: &Shared, status: StatusCode, reason: &str) -> Response {
    shared.metrics.refused(status.as_u16());
    (status, format!("{reason}\n")).into_response()
}

/// The time a probe may take: Prometheus's scrape timeout less the offset,
/// capped by the module's own timeout.
pub fn budget(headers: &HeaderMap, module_timeout: f64, offset: f64) -> Result<f64, String> {
    let Some(value) = headers.get("X-Prometheus-Scrape-Timeout-Seconds") else {
        return Ok(module_timeout);
    };
    let text = value.to_str().unwrap_or("");
    match text.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 => {
            let left = t - offset;
            if left <= 0.0 {
                Err(format!(
                    "scrape timeout {t} s leaves no time after the {offset} s offset"
                ))
            } else {
                Ok(left.min(module_timeout))
            }
        }
        _ => Err(format!(
            "X-Prometheus-Scrape-Timeout-Seconds '{}' is not a number of seconds",
            text.escape_debug()
        )),
    }
}

/// `/probe?module=NAME&target=T[&name=QNAME]`.
async fn probe(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let config = match shared.config.read() {
        Ok(c) => Arc::clone(&c),
        Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    };
    let module_name = params.get("module").map(String::as_str).unwrap_or("icmp");
    let Some(module) = config.modules.get(module_name) else {
        let known: Vec<&str> = config.modules.keys().map(String::as_str).collect();
        let reason = format!(
            "unknown module '{}' (known: {})",
            module_name.escape_debug(),
            known.join(", ")
        );
        return refuse(&shared, StatusCode::BAD_REQUEST, &reason);
    };
    let Some(target) = params.get("target") else {
        return refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            "target parameter is missing",
        );
    };
    let budget = match budget(&headers, module.timeout(), shared.offset) {
        Ok(b) => Duration::from_secs_f64(b),
        Err(reason) => return refuse(&shared, StatusCode::BAD_REQUEST, &reason),
    };
    // Wait for a slot only as long as the probe itself may take.
    let permit = match tokio::time::timeout(budget, shared.slots.acquire()).await {
        Ok(Ok(p)) => p,
        _ => {
            return refuse(
                &shared,
                StatusCode::SERVICE_UNAVAILABLE,
                "too many probes in flight: no slot freed within the timeout",
            )
        }
    };
    let left = budget.saturating_sub(started.elapsed());
    shared.metrics.started();
    let result = prober::probe(
        module_name,
        module,
        target,
        params.get("name").map(String::as_str),
        &shared.allow,
        left,
    )
    .await;
    drop(permit);
    // A refused request ran no probe: it counts as a refusal only.
    shared.metrics.finished(
        result.as_ref().ok().map(|_| module_name),
        matches!(&result, Ok(o) if o.success),
    );
    match result {
        Ok(outcome) => {
            let body = metrics::render_probe(&outcome, started.elapsed().as_secs_f64());
            answer(&headers, body)
        }
        Err(Refusal::BadRequest(reason)) => refuse(&shared, StatusCode::BAD_REQUEST, &reason),
        Err(Refusal::Forbidden(reason)) => refuse(&shared, StatusCode::FORBIDDEN, &reason),
    }
}

/// `/metrics`: the exporter's own figures, then the `--checks` gauges.
async fn own_metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let mut text = shared.metrics.render();
    if let Some(checks) = &shared.checks {
        // One exposition: the check gauges go before the closing `# EOF`.
        let body_len = text
            .strip_suffix("# EOF\n")
            .map(str::len)
            .unwrap_or(text.len());
        text.truncate(body_len);
        text.push_str(&checks.render());
        text.push_str("# EOF\n");
    }
    answer(&headers, text)
}

/// Metrics text in the format the client's `Accept` asks for.
fn answer(headers: &HeaderMap, openmetrics: String) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (content_type, body) = metrics::negotiate(openmetrics, accept);
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// `/`: where to look.
async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let modules: Vec<String> = match shared.config.read() {
        Ok(c) => c.modules.keys().cloned().collect(),
        Err(_) => Vec::new(),
    };
    format!(
        "netdx serve: /probe?module=NAME&target=TARGET (modules: {}), /metrics\n",
        modules.join(", ")
    )
    .into_response()
}
