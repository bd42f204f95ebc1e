//! `netdx dns --dnssec`: validates each name and type from the trust
//! anchor (the root KSK, or `--trust-anchor FILE`) against the server
//! asked, prints the chain of trust, and diagnoses the outcome.

use crate::cli::DnsArgs;
use crate::diagnose::dns::dnssec::{self, Security, Validation};
use crate::diagnose::Severity;
use crate::error::AppResult;
use crate::output::Sink;
use crate::resolve::dnssec::anchor::{self, Anchor};
use crate::resolve::dnssec::{validate, Chain};
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The anchors to validate from, read before any query so a bad file
/// fails fast; empty when validation was not asked for.
pub fn anchors(args: &DnsArgs) -> AppResult<Vec<Anchor>> {
    match (&args.trust_anchor, args.dnssec) {
        (Some(path), _) => anchor::load(path),
        (None, true) => Ok(anchor::root()),
        (None, false) => Ok(Vec::new()),
    }
}

/// The shared chain fetcher for a run (None when validation was not
/// asked for): the primary source's servers in order, failing over.
pub fn chain(
    anchors: Vec<Anchor>,
    servers: &[SocketAddr],
    wire: (Duration, bool),
) -> Option<Arc<Chain>> {
    (!anchors.is_empty() && !servers.is_empty())
        .then(|| Arc::new(Chain::new(servers.to_vec(), wire, anchors)))
}

/// Validates one question with the run's shared chain.
pub async fn check(chain: &Chain, name: &Name, rtype: RecordType) -> Validation {
    let mut fqdn = name.clone();
    fqdn.set_fqdn(true);
    validate(chain, &fqdn, rtype).await
}

/// Prints one validation with its name: the verdict line for `--short`,
/// else the chain of trust.
pub fn emit(sink: &Sink, v: &Validation, short: bool) {
    sink.event("dnssec", v);
    if !sink.human() {
        return;
    }
    if short {
        sink.line(&short_line(v));
    } else {
        for line in lines(sink, v) {
            sink.line(&line);
        }
    }
}

/// Whether any validation came out bogus (the run then exits 1).
pub fn any_bogus(list: &[Validation]) -> bool {
    list.iter().any(|v| v.security == Security::Bogus)
}

/// `--short`: the verdict in one line, `NAME TYPE dnssec: bogus (reason)`.
pub fn short_line(v: &Validation) -> String {
    let verdict = match v.security {
        Security::Secure => "secure",
        Security::Insecure => "insecure",
        Security::Bogus => "bogus",
        Security::Indeterminate => "indeterminate",
    };
    let why = match (&v.problem, &v.insecure_at) {
        (Some(p), _) => format!(" ({})", p.detail),
        (None, Some(zone)) => format!(" (unsigned delegation at {zone})"),
        (None, None) => String::new(),
    };
    format!("{} {} dnssec: {verdict}{why}", v.name, v.rtype)
}

/// The chain of trust as text: per zone the DS it hangs from, its keys
/// and the signatures checked, then the answer's signatures.
pub fn lines(sink: &Sink, v: &Validation) -> Vec<String> {
    let mark = |ok: bool| {
        if ok {
            sink.paint("ok", Severity::Ok)
        } else {
            sink.paint("FAIL", Severity::Critical)
        }
    };
    let mut out = vec![format!(
        "dnssec {} {} via {} from anchor {}",
        v.name, v.rtype, v.server, v.anchor
    )];
    for link in &v.chain {
        out.push(format!(
            "  zone {} (vouched for by {})",
            link.zone, link.vouched_by
        ));
        for ds in &link.ds {
            out.push(format!(
                "    DS     key {} alg {} digest type {}  {}",
                ds.key_tag,
                ds.algorithm,
                ds.digest_type,
                if ds.matched {
                    mark(true)
                } else {
                    sink.paint("no matching DNSKEY", Severity::Critical)
                }
            ));
        }
        for k in &link.keys {
            out.push(format!(
                "    DNSKEY key {} alg {} flags {} {}{}",
                k.key_tag,
                k.algorithm,
                k.flags,
                k.role,
                match (k.trusted_by_ds, link.ds.is_empty()) {
                    (false, _) => "",
                    (true, false) => " (matches DS)",
                    (true, true) => " (anchor key)",
                }
            ));
        }
        for s in &link.signatures {
            out.push(sig_line(&mark, s));
        }
        if link.security == Security::Insecure {
            out.push(
                "    unsigned delegation: the parent's NSEC or NSEC3 proves there is no DS"
                    .to_string(),
            );
        }
    }
    for r in &v.records {
        out.push(format!("  answer {r}"));
    }
    for s in &v.answer_signatures {
        out.push(sig_line(&mark, s));
    }
    out
}

fn sig_line(mark: &dyn Fn(bool) -> String, s: &dnssec::SigFact) -> String {
    let mut line = format!(
        "    RRSIG  {} by {} key {} alg {}  {} .. {}  {}",
        s.covers,
        s.signer,
        s.key_tag,
        s.algorithm,
        s.inception,
        s.expiration,
        mark(s.valid)
    );
    if let Some(p) = &s.problem {
        line.push_str(&format!(": {p}"));
    }
    line
}
