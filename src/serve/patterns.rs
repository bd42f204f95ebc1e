//! A module's `targets = ["198.18.0.0/15", "*.lab.test"]`: what that
//! module may probe, on top of `--allow`. An address must lie in one of
//! the networks; a name must match one of the name patterns, or, when the
//! module lists no name patterns, resolve to an address in a network.

use super::allow::Cidr;
use std::net::IpAddr;

/// One name pattern: `web.lab.test` (that name) or `*.lab.test` (any name
/// below lab.test, not lab.test itself); no case, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NamePattern {
    Exact(String),
    Below(String),
}

impl NamePattern {
    fn matches(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match self {
            NamePattern::Exact(n) => name == *n,
            NamePattern::Below(suffix) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        }
    }
}

impl std::fmt::Display for NamePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamePattern::Exact(n) => write!(f, "{n}"),
            NamePattern::Below(s) => write!(f, "*.{s}"),
        }
    }
}

/// The parsed `targets` list of one module.
#[derive(Debug, Clone, Default)]
pub struct TargetPatterns {
    nets: Vec<Cidr>,
    names: Vec<NamePattern>,
}

impl TargetPatterns {
    /// Parses every pattern; the first bad one is the error.
    pub fn parse(texts: &[String]) -> Result<TargetPatterns, String> {
        let mut out = TargetPatterns::default();
        if texts.is_empty() {
            return Err("targets is empty: list networks or name patterns, or leave it out".into());
        }
        for text in texts {
            let t = text.trim();
            if t.contains('/') || t.parse::<IpAddr>().is_ok() {
                let net = Cidr::parse(t).map_err(|_| {
                    format!(
                        "targets: '{t}' is not a network: give ADDRESS/PREFIX, e.g. 198.18.0.0/15"
                    )
                })?;
                out.nets.push(net);
                continue;
            }
            let lower = t.trim_end_matches('.').to_ascii_lowercase();
            let (below, name) = match lower.strip_prefix("*.") {
                Some(rest) => (true, rest.to_string()),
                None => (false, lower.clone()),
            };
            let valid = !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
            if !valid {
                return Err(format!(
                    "targets: '{t}' is neither a network (198.18.0.0/15) nor a name pattern (web.example.org, *.example.org)"
                ));
            }
            out.names.push(if below {
                NamePattern::Below(name)
            } else {
                NamePattern::Exact(name)
            });
        }
        Ok(out)
    }

    /// Before resolution: `Err(reason)` when `host` (an address or a name)
    /// is outside the patterns.
    pub fn check_host(&self, module: &str, target: &str, host: &str) -> Result<(), String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.check_address(module, target, &ip);
        }
        if self.names.is_empty() {
            // Decided on the address the name resolves to.
            return if self.nets.is_empty() {
                Err(self.refusal(module, target, "it is a name"))
            } else {
                Ok(())
            };
        }
        if self.names.iter().any(|p| p.matches(host)) {
            return Ok(());
        }
        Err(self.refusal(module, target, "no name pattern matches it"))
    }

    /// After resolution: a name is checked by its address only when the
    /// module lists no name patterns.
    pub fn check_resolved(
        &self,
        module: &str,
        target: &str,
        host: &str,
        ip: &IpAddr,
    ) -> Result<(), String> {
        if host.parse::<IpAddr>().is_ok() || !self.names.is_empty() {
            return Ok(());
        }
        self.check_address(module, target, ip)
    }

    fn check_address(&self, module: &str, target: &str, ip: &IpAddr) -> Result<(), String> {
        if self.nets.iter().any(|n| n.contains(ip)) {
            return Ok(());
        }
        Err(self.refusal(module, target, &format!("{ip} is in none of its networks")))
    }

    fn refusal(&self, module: &str, target: &str, why: &str) -> String {
        format!(
            "target {target} is outside module {module}'s targets ({}): {why}",
            self.describe()
        )
    }

    /// The patterns, for messages and `--config-check`.
    pub fn describe(&self) -> String {
        let nets = self.nets.iter().map(Cidr::to_string);
        let names = self.names.iter().map(NamePattern::to_string);
        nets.chain(names).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[&str]) -> TargetPatterns {
        let v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        TargetPatterns::parse(&v).expect("valid patterns")
    }

    #[test]
    fn names_match_by_suffix_and_addresses_by_network() {
        let t = p(&["198.18.0.0/15", "*.lab.test", "exact.example"]);
        assert!(t.check_host("m", "x", "WEB.lab.test.").is_ok());
        assert!(t.check_host("m", "x", "a.b.lab.test").is_ok());
        assert!(t.check_host("m", "x", "lab.test").is_err());
        assert!(t.check_host("m", "x", "evillab.test").is_err());
        assert!(t.check_host("m", "x", "exact.example").is_ok());
        assert!(t.check_host("m", "x", "a.exact.example").is_err());
        assert!(t.check_host("m", "x", "198.19.0.1").is_ok());
        let why = t
            .check_host("m", "10.0.0.1:80", "10.0.0.1")
            .expect_err("outside");
        assert!(
            why.contains("module m") && why.contains("*.lab.test"),
            "{why}"
        );
        // With name patterns, a matching name is not checked by address.
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        assert!(t.check_resolved("m", "x", "web.lab.test", &ip).is_ok());
    }

    #[test]
    fn without_name_patterns_a_name_is_decided_by_its_address() {
        let t = p(&["198.18.0.0/15"]);
        assert!(t.check_host("m", "x", "anything.example").is_ok());
        let inside: IpAddr = "198.18.1.2".parse().expect("ip");
        let outside: IpAddr = "10.1.1.1".parse().expect("ip");
        assert!(t.check_resolved("m", "x", "a.example", &inside).is_ok());
        assert!(t.check_resolved("m", "x", "a.example", &outside).is_err());
        let names_only = p(&["*.lab.test"]);
        assert!(names_only.check_host("m", "x", "198.18.1.2").is_err());
    }

    #[test]
    fn bad_patterns_are_named() {
        for bad in [
            &["10.0.0.0/40"][..],
            &["a..b"],
            &["*"],
            &["*.*.x"],
            &["a b"],
            &[],
        ] {
            let v: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            assert!(TargetPatterns::parse(&v).is_err(), "{bad:?}");
        }
    }
}
