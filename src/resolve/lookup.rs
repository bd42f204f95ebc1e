//! A question answered the way a resolver would: servers tried in order,
//! search domains applied by the ndots rule, and every try kept as evidence.

use super::rdata::record_of;
use super::wire::{self, Outcome, WireOpts};
use crate::diagnose::dns::answer::{
    outcome_text, Answer, Attempt, Failure, Flags, Rec, Status, Transport, MAX_CHAIN,
};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;
use std::time::Instant;

/// Where a question goes and how relative names are completed.
#[derive(Debug, Clone)]
pub struct Source {
    /// `system (/etc/resolv.conf)` or the server address, for output.
    pub label: String,
    /// Servers in failover order.
    pub servers: Vec<SocketAddr>,
    /// Search domains (empty when search does not apply).
    pub search: Vec<Name>,
    /// The ndots threshold for trying a name as typed first.
    pub ndots: usize,
    /// Transport settings.
    pub wire: WireOpts,
    /// DNS over TLS/HTTPS settings; None asks over UDP/TCP.
    pub secure: Option<std::sync::Arc<super::secure::Secure>>,
}

/// The names to try, in order, per resolv.conf(5): absolute names as they
/// are; relative ones as typed first when they have at least ndots dots.
pub fn candidates(name: &Name, search: &[Name], ndots: usize) -> Vec<Name> {
    let mut as_typed = name.clone();
    as_typed.set_fqdn(true);
    if name.is_fqdn() || search.is_empty() {
        return vec![as_typed];
    }
    let dots = usize::from(name.num_labels()).saturating_sub(1);
    let searched: Vec<Name> = search
        .iter()
        .filter_map(|domain| {
            let mut d = domain.clone();
            d.set_fqdn(true);
            name.clone().append_domain(&d).ok()
        })
        .collect();
    let mut out = Vec::with_capacity(searched.len() + 1);
    if dots >= ndots {
        out.push(as_typed);
        out.extend(searched);
    } else {
        out.extend(searched);
        out.push(as_typed);
    }
    out
}

/// Resolves one (name, type) through a source: candidates × servers.
pub async fn lookup(source: &Source, input: &str, name: &Name, rtype: RecordType) -> Answer {
    let start = Instant::now();
    let mut attempts = Vec::new();
    let mut negatives: Vec<Answer> = Vec::new();
    let mut done: Option<Answer> = None;
    for qname in candidates(name, &source.search, source.ndots) {
        let answer = ask_servers(source, input, &qname, rtype, &mut attempts).await;
        // Data ends the walk; so does server trouble, as libc stops on TRY_AGAIN.
        if answer.status.resolved() || !answer.status.negative() {
            done = Some(answer);
            break;
        }
        negatives.push(answer);
    }
    let mut answer = done
        .or_else(|| {
            // A name that exists without this type beats NXDOMAIN elsewhere;
            // otherwise the NXDOMAIN of the name as typed is the one to show.
            let nodata = negatives.iter().position(|a| a.status == Status::NoData);
            let typed = negatives
                .iter()
                .position(|a| name_eq_typed(&a.qname, input));
            nodata
                .or(typed)
                .or(negatives.len().checked_sub(1))
                .map(|i| negatives.swap_remove(i))
        })
        .unwrap_or_else(|| empty(source, input, name, rtype));
    answer.attempts = attempts;
    answer.time_ms = start.elapsed().as_secs_f64() * 1000.0;
    answer
}

fn name_eq_typed(qname: &str, input: &str) -> bool {
    qname
        .trim_end_matches('.')
        .eq_ignore_ascii_case(input.trim_end_matches('.'))
}

fn empty(source: &Source, input: &str, name: &Name, rtype: RecordType) -> Answer {
    Answer {
        input: input.to_string(),
        qname: name.to_ascii(),
        qtype: rtype.to_string(),
        source: source.label.clone(),
        server: None,
        transport: None,
        truncated_udp: false,
        status: Status::Network,
        rcode: None,
        flags: None,
        records: Vec::new(),
        cname_chain: Vec::new(),
        authority: Vec::new(),
        unrelated: Vec::new(),
        time_ms: 0.0,
        failure: Some(Failure::Network("no server to ask".into())),
        timeout_s: source.wire.deadline.as_secs_f64(),
        attempts: Vec::new(),
        tls: None,
    }
}

/// Tries each server in order until one gives a usable response; SERVFAIL,
/// REFUSED and silence move on to the next server, like libc.
async fn ask_servers(
    source: &Source,
    input: &str,
    qname: &Name,
    rtype: RecordType,
    attempts: &mut Vec<Attempt>,
) -> Answer {
    let mut last: Option<Answer> = None;
    for server in &source.servers {
        let t0 = Instant::now();
        let (result, tls) = match &source.secure {
            Some(s) => super::secure::exchange(s, *server, qname, rtype, source.wire).await,
            None => (
                wire::exchange(*server, qname, rtype, source.wire).await,
                None,
            ),
        };
        let mut answer = match result {
            Ok(Outcome::Complete(ex)) => {
                let mut a = from_message(source, input, qname, rtype, &ex.message);
                a.transport = Some(ex.transport);
                a.truncated_udp = ex.truncated_udp;
                a.server = Some(server.to_string());
                a
            }
            Ok(Outcome::TcpFallbackFailed { partial, cause }) => {
                let mut a = from_message(source, input, qname, rtype, &partial);
                a.status = Status::TcpFallbackFailed;
                a.transport = Some(Transport::Udp);
                a.truncated_udp = true;
                a.failure = Some(cause);
                a.server = Some(server.to_string());
                a
            }
            Err(failure) => {
                let mut a = empty(source, input, qname, rtype);
                a.status = match failure {
                    Failure::Timeout | Failure::TcpStalled => Status::Timeout,
                    Failure::Refused => Status::ConnRefused,
                    Failure::Icmp(_) | Failure::Network(_) | Failure::Tls(_) => Status::Network,
                    Failure::Malformed(_) => Status::Malformed,
                };
                a.failure = Some(failure);
                a.server = Some(server.to_string());
                a
            }
        };
        answer.tls = tls;
        if answer.transport.is_none() {
            answer.transport = source.secure.as_ref().map(|s| s.transport());
        }
        attempts.push(Attempt {
            server: server.to_string(),
            qname: qname.to_ascii(),
            outcome: outcome_text(&answer),
            time_ms: t0.elapsed().as_secs_f64() * 1000.0,
        });
        let move_on = matches!(
            answer.status,
            Status::ServFail | Status::Refused | Status::Unrelated
        ) || answer.status.no_response();
        last = Some(answer);
        if !move_on {
            break;
        }
    }
    last.unwrap_or_else(|| empty(source, input, qname, rtype))
}

/// The rcode mnemonics dig prints.
pub fn rcode_text(code: ResponseCode) -> String {
    match u16::from(code) {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        6 => "YXDOMAIN".into(),
        7 => "YXRRSET".into(),
        8 => "NXRRSET".into(),
        9 => "NOTAUTH".into(),
        10 => "NOTZONE".into(),
        16 => "BADVERS".into(),
        n => format!("RCODE{n}"),
    }
}

/// The CNAME chain from `qname` through the answer section.
#[derive(Debug, Default)]
struct Chain {
    /// Names on the chain, `qname` first (empty when there is no CNAME).
    names: Vec<Name>,
    /// The chain came back to a name already on it, or ran past [`MAX_CHAIN`].
    broken: bool,
}

/// Follows CNAMEs from `qname` the way a resolver does, stopping at a loop.
fn follow(msg: &Message, qname: &Name, rtype: RecordType) -> Chain {
    let mut chain = Chain::default();
    if rtype == RecordType::CNAME {
        return chain;
    }
    let mut at = qname.clone();
    loop {
        let next = msg.answers().iter().find_map(|r| {
            (r.record_type() == RecordType::CNAME && *r.name() == at)
                .then(|| r.data().as_cname().map(|c| c.0.clone()))
                .flatten()
        });
        let Some(target) = next else { break };
        if chain.names.is_empty() {
            chain.names.push(at.clone());
        }
        if chain.names.contains(&target) {
            chain.names.push(target);
            chain.broken = true;
            break;
        }
        chain.names.push(target.clone());
        at = target;
    }
    // A chain longer than a resolver follows is broken even if it ends in
    // data; its names still own their records (they are not unrelated).
    if chain.names.len() > MAX_CHAIN + 1 {
        chain.broken = true;
    }
    chain
}

/// Classifies a response and lifts out what the output needs. Only
/// records owned by the name asked or a name on its CNAME chain count;
/// the rest are kept apart as `unrelated`, as a resolver discards them.
fn from_message(
    source: &Source,
    input: &str,
    qname: &Name,
    rtype: RecordType,
    msg: &Message,
) -> Answer {
    let chain = follow(msg, qname, rtype);
    let owns = |n: &Name| *n == *qname || chain.names.contains(n);
    let (related, unrelated): (Vec<_>, Vec<_>) = msg.answers().iter().partition(|r| owns(r.name()));
    let records: Vec<Rec> = related.iter().map(|r| record_of(r)).collect();
    let unrelated: Vec<Rec> = unrelated.iter().map(|r| record_of(r)).collect();
    let authority: Vec<Rec> = msg.name_servers().iter().map(record_of).collect();
    let code = msg.response_code();
    let has_type = related
        .iter()
        .any(|r| r.record_type() == rtype || rtype == RecordType::ANY);
    let status = match u16::from(code) {
        0 | 3 if chain.broken => Status::CnameLoop,
        0 if has_type => Status::Answer,
        0 if related.is_empty() && !unrelated.is_empty() => Status::Unrelated,
        0 if msg.answers().is_empty()
            && !msg.authoritative()
            && msg
                .name_servers()
                .iter()
                .any(|r| r.record_type() == RecordType::NS) =>
        {
            Status::Referral
        }
        0 => Status::NoData,
        3 => Status::NxDomain,
        2 => Status::ServFail,
        5 => Status::Refused,
        _ => Status::OtherRcode,
    };
    Answer {
        input: input.to_string(),
        qname: qname.to_ascii(),
        qtype: rtype.to_string(),
        source: source.label.clone(),
        server: None,
        transport: None,
        truncated_udp: false,
        status,
        rcode: Some(rcode_text(code)),
        flags: Some(Flags {
            aa: msg.authoritative(),
            tc: msg.truncated(),
            rd: msg.recursion_desired(),
            ra: msg.recursion_available(),
            ad: msg.authentic_data(),
            cd: msg.checking_disabled(),
        }),
        records,
        cname_chain: chain.names.iter().map(Name::to_ascii).collect(),
        authority,
        unrelated,
        time_ms: 0.0,
        failure: None,
        timeout_s: source.wire.deadline.as_secs_f64(),
        attempts: Vec::new(),
        tls: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn n(s: &str) -> Name {
        match Name::from_str(s) {
            Ok(n) => n,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn texts(v: Vec<Name>) -> Vec<String> {
        v.iter().map(|n| n.to_ascii()).collect()
    }

    #[test]
    fn short_names_try_the_search_list_first() {
        let search = [n("corp.example.test"), n("lab.test")];
        assert_eq!(
            texts(candidates(&n("foo"), &search, 1)),
            ["foo.corp.example.test.", "foo.lab.test.", "foo."]
        );
    }

    #[test]
    fn names_with_enough_dots_go_as_typed_first() {
        let search = [n("lab.test")];
        assert_eq!(
            texts(candidates(&n("www.web"), &search, 1)),
            ["www.web.", "www.web.lab.test."]
        );
        assert_eq!(
            texts(candidates(&n("www.web"), &search, 2)),
            ["www.web.lab.test.", "www.web."]
        );
    }

    #[test]
    fn absolute_names_skip_the_search_list() {
        let search = [n("lab.test")];
        assert_eq!(texts(candidates(&n("foo."), &search, 1)), ["foo."]);
    }
}
