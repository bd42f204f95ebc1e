//! Why the system resolver failed, for every command that resolves a name
//! (ping, tcp, trace, mtr): resolv.conf's servers are asked directly and the
//! answers judged by the same rules `netdx dns` uses, so a name that fails
//! anywhere fails with the same words and code.

use super::config;
use super::lookup::{self, Source};
use super::wire::WireOpts;
use super::Family;
use crate::diagnose::{self, Diagnosis, Severity};
use hickory_proto::rr::{Name, RecordType};
use std::time::Duration;

/// Explains why `host` did not resolve: NXDOMAIN vs no address record vs a
/// resolver that does not answer. Asks resolv.conf's servers directly,
/// within `deadline`, A and AAAA at once.
pub async fn explain_failure(host: &str, family: Family, deadline: Duration) -> Option<Diagnosis> {
    let conf = config::load_system(None).ok()?;
    // The caller has checked host name syntax already.
    let name = Name::from_ascii(host).ok()?;
    let source = Source {
        label: format!("system ({})", conf.path.display()),
        servers: conf.servers.clone(),
        search: conf.search.clone(),
        ndots: conf.ndots,
        wire: WireOpts {
            tcp_only: false,
            edns: Some(1232),
            deadline,
            attempts: conf.attempts,
        },
        secure: None,
    };
    let ask = |t: RecordType| lookup::lookup(&source, host, &name, t);
    let answers = match family {
        Family::V4 => vec![ask(RecordType::A).await],
        Family::V6 => vec![ask(RecordType::AAAA).await],
        Family::Any => {
            let (a, aaaa) = tokio::join!(ask(RecordType::A), ask(RecordType::AAAA));
            vec![a, aaaa]
        }
    };
    diagnose::dns::for_name(&answers)
        .into_iter()
        .find(|d| d.severity >= Severity::Warning)
}

/// The diagnosis for a system resolver that gave no answer within
/// `waited`: naming resolv.conf's servers, without asking them again.
pub fn silent(host: &str, waited: Duration) -> Diagnosis {
    let servers = config::load_system(None)
        .map(|conf| {
            conf.servers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|_| "the system resolver".into());
    diagnose::dns::resolver_silent(host, &servers, waited.as_secs_f64())
}
