//! `netdx serve`: a Prometheus exporter on the library. `/probe` runs a
//! module against a target in blackbox_exporter's shape (so existing
//! `relabel_configs` work unchanged), `/metrics` tells about the exporter.

pub mod allow;
pub mod checks;
pub mod config;
pub mod metrics;
pub mod patterns;
pub mod prober;
pub mod routes;
pub mod tls;
pub mod web;

use crate::cli::{GlobalOpts, ServeArgs};
use crate::error::{AppError, AppResult, Exit};
use crate::output::Sink;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

/// Runs `netdx serve` until Ctrl-C or SIGTERM; SIGHUP reloads `--config`.
pub async fn run(args: &ServeArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    if global.json || global.jsonl {
        return Err(AppError::usage(
            "serve answers over HTTP in the Prometheus formats: --json/--jsonl do not apply",
        ));
    }
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        AppError::usage(format!(
            "--listen {}: give ADDRESS:PORT, e.g. 127.0.0.1:9469 or [::1]:9469",
            args.listen
        ))
    })?;
    let allow = allow::AllowList::parse(&args.allow)?;
    if !(args.timeout_offset.is_finite() && args.timeout_offset >= 0.0) {
        return Err(AppError::usage("--timeout-offset: give 0 or more seconds"));
    }
    if args.max_concurrent == 0 {
        return Err(AppError::usage("--max-concurrent must be at least 1"));
    }
    let config = config::Config::load(args.config.as_deref())?;
    let interval = args.checks_interval;
    if !(interval.is_finite() && (0.1..=86_400.0).contains(&interval)) {
        return Err(AppError::usage(
            "--checks-interval: give seconds from 0.1 to 86400",
        ));
    }
    let plan = args.checks.as_deref().map(checks::load).transpose()?;
    let web = match &args.web_config_file {
        Some(path) => web::WebConfig::load(path)?,
        None => web::WebConfig::default(),
    };
    let tls = web.tls.as_ref().map(tls::server_config).transpose()?;
    if args.config_check {
        for (name, m) in &config.modules {
            let only = match m.patterns() {
                Ok(Some(p)) => format!(", targets {}", p.describe()),
                _ => String::new(),
            };
            sink.line(&format!("module {name}: prober {}{only}", m.prober.name()));
        }
        sink.line(&format!("allowed targets: {}", allow.describe()));
        sink.line(&format!("web: {}", web.describe()));
        if let Some(plan) = &plan {
            for (line, text) in plan.lines() {
                sink.line(&format!("check line {line}: {text}"));
            }
        }
        return Ok(Exit::Healthy);
    }
    let listener = crate::probe::listen::http_listener(listen)
        .await
        .map_err(|e| {
            AppError::cannot_run(format!("--listen {listen}: cannot listen there: {e}"))
        })?;
    let (checks, rounds) = match plan {
        Some(plan) => {
            let every = std::time::Duration::from_secs_f64(interval);
            let (results, rounds) = checks::start(plan, every, args.max_concurrent);
            (Some(results), Some(rounds))
        }
        None => (None, None),
    };
    let shared = Arc::new(routes::Shared {
        checks,
        config: RwLock::new(Arc::new(config)),
        allow,
        slots: tokio::sync::Semaphore::new(args.max_concurrent),
        offset: args.timeout_offset,
        metrics: metrics::ExporterMetrics::default(),
    });
    let bound = listener.local_addr().unwrap_or(listen);
    let scheme = if tls.is_some() { "https" } else { "http" };
    log(&format!(
        "listening on {scheme}://{bound}/ (allowed targets: {}; {})",
        shared.allow.describe(),
        web.describe()
    ));
    let reload = tokio::spawn(reload_on_hangup(Arc::clone(&shared), args.config.clone()));
    let mut app = routes::router(shared);
    if !web.users.is_empty() {
        let auth = Arc::new(web::BasicAuth::new(web.users.clone()));
        app = app.layer(axum::middleware::from_fn_with_state(
            auth,
            web::require_auth,
        ));
    }
    let serving = async move {
        match tls {
            Some(config) => match tls::TlsListener::new(listener, config) {
                Ok(listener) => {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(stop_signal())
                        .await
                }
                Err(e) => Err(e),
            },
            None => {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop_signal())
                    .await
            }
        }
    };
    // The checks run on this runtime (they share its probe engines), as
    // local tasks beside the server, and stop with it.
    let served = match rounds {
        Some(rounds) => {
            tokio::task::LocalSet::new()
                .run_until(async move {
                    tokio::select! {
                        served = serving => served,
                        () = rounds => Ok(()),
                    }
                })
                .await
        }
        None => serving.await,
    };
    reload.abort();
    served.map_err(|e| AppError::cannot_run(format!("serving {scheme}://{bound}/ failed: {e}")))?;
    log("stopped");
    Ok(Exit::Healthy)
}

/// One structured log line on stderr, in logfmt as Prometheus and its
/// exporters write them (`ts=… level=info msg="…"`), so log shippers parse
/// it without a custom pattern.
fn log(msg: &str) {
    eprintln!("{}", log_line(std::time::SystemTime::now(), "info", msg));
}

/// Like [`log`], for something that went wrong but did not stop serving.
fn warn(msg: &str) {
    eprintln!("{}", log_line(std::time::SystemTime::now(), "warn", msg));
}

/// The logfmt line for `msg` at `level`, stamped `at`.
fn log_line(at: std::time::SystemTime, level: &str, msg: &str) -> String {
    let escaped = msg.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "ts={} level={level} caller=serve msg=\"{escaped}\"",
        crate::hops::utc_stamp(at)
    )
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// SIGHUP re-reads `--config`; a bad file keeps the modules in force.
async fn reload_on_hangup(shared: Arc<routes::Shared>, path: Option<std::path::PathBuf>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        match config::Config::load(path.as_deref()) {
            Ok(fresh) => {
                let count = fresh.modules.len();
                match shared.config.write() {
                    Ok(mut c) => *c = Arc::new(fresh),
                    Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
                }
                log(&format!("reloaded: {count} modules"));
            }
            Err(e) => warn(&format!("reload failed, keeping the modules in force: {e}")),
        }
    }
}

#[cfg(test)]
mod log_tests {
    use super::log_line;

    #[test]
    fn log_lines_are_logfmt_with_quotes_escaped() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_606_713);
        assert_eq!(
            log_line(at, "warn", r#"reload failed: "x" \ y"#),
            r#"ts=2025-12-01T16:31:53Z level=warn caller=serve msg="reload failed: \"x\" \\ y""#
        );
    }
}
