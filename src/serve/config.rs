//! Modules: what `/probe?module=NAME` runs. Four built in (`icmp`, `tcp`,
//! `dns`, `mtr`) and any number more from a TOML file, in the spirit of
//! blackbox_exporter's `modules:`. A module becomes the command line of
//! its prober (`ping -c 3 -i 0.2 …`), parsed by the CLI's own clap
//! definitions, so a module takes exactly the options and checks the CLI
//! does, and the file is checked by parsing each module's command line.

use super::patterns::TargetPatterns;
use crate::error::{AppError, AppResult};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Which library function a module runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prober {
    /// `netdx ping`: N echo requests per probe.
    Icmp,
    /// `netdx tcp`: one connect to `host:port`.
    Tcp,
    /// `netdx dns`: one query to the target server.
    Dns,
    /// `netdx mtr`: rounds of traces, per-hop loss and RTT.
    Mtr,
}

impl Prober {
    /// The name used in metric names and labels.
    pub fn name(self) -> &'static str {
        match self {
            Prober::Icmp => "icmp",
            Prober::Tcp => "tcp",
            Prober::Dns => "dns",
            Prober::Mtr => "mtr",
        }
    }
}

/// One module's options; unset ones take the prober's serve defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// The prober this module runs.
    pub prober: Prober,
    /// Echo requests (icmp) or rounds (mtr) per probe.
    pub count: Option<u64>,
    /// Seconds between packets (icmp) or rounds (mtr).
    pub interval: Option<f64>,
    /// Longest a probe may run, in seconds (Prometheus's scrape timeout, less the offset, wins when shorter).
    pub timeout: Option<f64>,
    /// IP version to use: 4 or 6 (default: whichever the name resolves to first).
    pub ip_version: Option<u8>,
    /// ICMP payload bytes (icmp).
    pub size: Option<usize>,
    /// Name to ask for (dns); the `name` URL parameter overrides it.
    pub query_name: Option<String>,
    /// Record type to ask for (dns, default A).
    pub query_type: Option<String>,
    /// Query over TCP (dns).
    pub tcp: Option<bool>,
    /// Largest TTL probed (mtr).
    pub max_hops: Option<u32>,
    /// Probe method (mtr): icmp, udp or tcp.
    pub method: Option<String>,
    /// Destination port of udp/tcp probes (mtr).
    pub port: Option<u16>,
    /// What this module may probe, on top of `--allow`: networks
    /// (`198.18.0.0/15`) for addresses, name patterns (`*.lab.test`) for names.
    pub targets: Option<Vec<String>>,
}

impl Module {
    /// A built-in module: the prober with serve's defaults.
    pub fn builtin(prober: Prober) -> Module {
        Module {
            prober,
            count: None,
            interval: None,
            timeout: None,
            ip_version: None,
            size: None,
            query_name: None,
            query_type: None,
            tcp: None,
            max_hops: None,
            method: None,
            port: None,
            targets: None,
        }
    }

    /// The parsed `targets` patterns, when the module has any.
    pub fn patterns(&self) -> Result<Option<TargetPatterns>, String> {
        self.targets
            .as_deref()
            .map(TargetPatterns::parse)
            .transpose()
    }

    /// The longest this module's probe may run when Prometheus sends no
    /// scrape timeout.
    pub fn timeout(&self) -> f64 {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The command line (after `netdx`) that probes `target` within
    /// `budget` seconds; `name` is the dns query name.
    pub fn argv(&self, target: &str, name: Option<&str>, budget: f64) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let secs = |x: f64| format!("{:.3}", x.max(0.001));
        match self.ip_version {
            Some(4) => v.push("-4".into()),
            Some(6) => v.push("-6".into()),
            _ => {}
        }
        match self.prober {
            Prober::Icmp => {
                let count = self.count.unwrap_or(3);
                let interval = self.interval.unwrap_or(0.2);
                let wait = budget.min(1.0);
                v.extend(["ping".into(), "-c".into(), count.to_string()]);
                v.extend(["-i".into(), interval.to_string(), "-W".into(), secs(wait)]);
                // `count` packets, then the last one's wait; a deadline only
                // when that would not fit the budget (with -w, ping goes on
                // sending until `count` replies came, so it is not the default).
                if count.saturating_sub(1) as f64 * interval + wait > budget {
                    v.extend(["-w".into(), secs(budget)]);
                }
                if let Some(size) = self.size {
                    v.extend(["-s".into(), size.to_string()]);
                }
            }
            Prober::Tcp => {
                v.extend(["tcp".into(), "--wait".into(), secs(budget)]);
            }
            Prober::Dns => {
                v.extend(["dns".into(), "--no-search".into(), "--timeout".into()]);
                v.push(secs(budget));
                v.extend(["--server".into(), target.to_string()]);
                v.extend(["-t".into(), self.query_type.clone().unwrap_or("A".into())]);
                if self.tcp == Some(true) {
                    v.push("--tcp".into());
                }
                v.extend(["--".into(), name.unwrap_or(".").to_string()]);
                return v;
            }
            Prober::Mtr => {
                let count = self.count.unwrap_or(3);
                let interval = self.interval.unwrap_or(0.2);
                v.extend(["mtr".into(), "-n".into(), "-c".into(), count.to_string()]);
                v.extend(["-i".into(), interval.to_string()]);
                v.extend(["-w".into(), secs(budget.min(1.0))]);
                v.extend(["-m".into(), self.max_hops.unwrap_or(30).to_string()]);
                match self.method.as_deref() {
                    Some("udp") => v.push("-U".into()),
                    Some("tcp") => v.push("-T".into()),
                    _ => {}
                }
                if let Some(port) = self.port {
                    v.extend(["--port".into(), port.to_string()]);
                }
            }
        }
        v.extend(["--".into(), target.to_string()]);
        v
    }
}

/// Seconds a probe may run when neither Prometheus nor the module says.
pub const DEFAULT_TIMEOUT: f64 = 10.0;

/// Every module `/probe` knows, by name.
#[derive(Debug, Clone)]
pub struct Config {
    /// Built-in modules, then the file's (a file module may replace a built-in one).
    pub modules: BTreeMap<String, Module>,
}

/// The file's shape: `[modules.NAME]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    modules: BTreeMap<String, Module>,
}

impl Config {
    /// The four built-in modules.
    pub fn builtin() -> Config {
        let modules = [Prober::Icmp, Prober::Tcp, Prober::Dns, Prober::Mtr]
            .into_iter()
            .map(|p| (p.name().to_string(), Module::builtin(p)))
            .collect();
        Config { modules }
    }

    /// Built-ins plus the modules of `path`, each checked.
    pub fn load(path: Option<&Path>) -> AppResult<Config> {
        let mut config = Config::builtin();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|e| {
                AppError::usage(format!("--config {}: cannot read it: {e}", path.display()))
            })?;
            let file = Config::parse(&text)
                .map_err(|e| AppError::usage(format!("--config {}: {e}", path.display())))?;
            config.modules.extend(file.modules);
        }
        Ok(config)
    }

    /// Parses and checks a config file's text (modules of the file only).
    pub fn parse(text: &str) -> Result<Config, String> {
        let file: FileShape = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].lines().count().max(1);
                    format!("line {line}: {msg}")
                }
                None => msg,
            }
        })?;
        for (name, module) in &file.modules {
            check_module(name, module)?;
        }
        Ok(Config {
            modules: file.modules,
        })
    }
}

/// A module is valid when its command line parses and its values are sane.
fn check_module(name: &str, m: &Module) -> Result<(), String> {
    let bad = |why: String| Err(format!("module {name}: {why}"));
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return bad("a module name is letters, digits, '_' and '-'".into());
    }
    if let Some(t) = m.timeout {
        if !(t.is_finite() && t > 0.0 && t <= 3600.0) {
            return bad(format!("timeout = {t}: give seconds above 0, at most 3600"));
        }
    }
    if let Some(i) = m.interval {
        if !(i.is_finite() && i > 0.0 && i <= 60.0) {
            return bad(format!("interval = {i}: give seconds above 0, at most 60"));
        }
    }
    if matches!(m.count, Some(0)) || m.count.is_some_and(|c| c > 1000) {
        return bad("count must be 1 to 1000".into());
    }
    if let Some(v) = m.ip_version {
        if v != 4 && v != 6 {
            return bad(format!("ip_version = {v}: give 4 or 6"));
        }
    }
    if let Some(method) = &m.method {
        if !["icmp", "udp", "tcp"].contains(&method.as_str()) {
            return bad(format!("method = \"{method}\": give icmp, udp or tcp"));
        }
    }
    if let Err(why) = m.patterns() {
        return bad(why);
    }
    // Options that mean nothing to this prober are a mistake worth naming.
    let unused: Vec<&str> = [
        ("size", m.size.is_some(), Prober::Icmp),
        ("query_name", m.query_name.is_some(), Prober::Dns),
        ("query_type", m.query_type.is_some(), Prober::Dns),
        ("tcp", m.tcp.is_some(), Prober::Dns),
        ("max_hops", m.max_hops.is_some(), Prober::Mtr),
        ("method", m.method.is_some(), Prober::Mtr),
        ("port", m.port.is_some(), Prober::Mtr),
    ]
    .iter()
    .filter(|(_, set, p)| *set && *p != m.prober)
    .map(|(n, _, _)| *n)
    .collect();
    if !unused.is_empty() {
        return bad(format!(
            "{} does not apply to the {} prober",
            unused.join(", "),
            m.prober.name()
        ));
    }
    if m.count.is_some() && !matches!(m.prober, Prober::Icmp | Prober::Mtr) {
        return bad(format!(
            "count does not apply to the {} prober",
            m.prober.name()
        ));
    }
    // The same parser the CLI uses checks the rest (a documentation address, no traffic).
    let example = if m.prober == Prober::Tcp {
        "192.0.2.1:80"
    } else {
        "192.0.2.1"
    };
    let argv = m.argv(example, Some("example.org"), m.timeout());
    super::prober::parse_command(&argv).map_err(|e| format!("module {name}: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_modules_parse_and_checked() {
        let c = Config::parse(
            "[modules.icmp_fast]\nprober = \"icmp\"\ncount = 5\ninterval = 0.2\n\n[modules.dns_a]\nprober = \"dns\"\nquery_name = \"example.org\"\n\n[modules.mtr_tcp]\nprober = \"mtr\"\nmethod = \"tcp\"\nport = 443\n",
        )
        .expect("valid file");
        assert_eq!(c.modules["icmp_fast"].count, Some(5));
        assert_eq!(c.modules["dns_a"].prober, Prober::Dns);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let cases = [
            ("[modules.x]\nprober = \"http\"\n", "unknown variant"),
            (
                "[modules.x]\nprober = \"icmp\"\ncolor = 1\n",
                "unknown field",
            ),
            (
                "[modules.x]\nprober = \"icmp\"\ncount = 0\n",
                "count must be",
            ),
            (
                "[modules.x]\nprober = \"tcp\"\nsize = 10\n",
                "does not apply",
            ),
            ("[modules.x]\nprober = \"icmp\"\ntimeout = -1\n", "timeout"),
            (
                "[modules.x]\nprober = \"mtr\"\nmethod = \"sctp\"\n",
                "method",
            ),
            (
                "[modules]\n\"a b\" = { prober = \"icmp\" }\n",
                "module name",
            ),
            ("modules = 3", "line 1"),
            (
                "[modules.x]\nprober = \"tcp\"\ntargets = [\"10.0.0.0/99\"]\n",
                "module x: targets: '10.0.0.0/99' is not a network",
            ),
        ];
        for (text, want) in cases {
            let err = Config::parse(text).expect_err(text);
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn builtins_cover_the_four_probers() {
        let c = Config::builtin();
        for name in ["icmp", "tcp", "dns", "mtr"] {
            let m = &c.modules[name];
            let example = if name == "tcp" {
                "192.0.2.1:80"
            } else {
                "192.0.2.1"
            };
            let argv = m.argv(example, Some("a.example"), 5.0);
            super::super::prober::parse_command(&argv).expect(name);
        }
    }
}
