//! A question answered the way a resolver would: servers tried in order,
//! search domains applied by the ndots rule, and every try kept as evidence.

use super::rdata::record_of;
use super::wire::{self, Failure, Outcome, Transport, WireOpts};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use serde::Serialize;
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
}

/// One resource record in presentation form (dig's text for the data).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rec {
    /// Owner name, fully qualified.
    pub name: String,
    /// Time to live in seconds.
    pub ttl: u32,
    /// Class, almost always IN.
    pub class: String,
    /// Record type mnemonic.
    #[serde(rename = "type")]
    pub rtype: String,
    /// The data as dig prints it.
    pub data: String,
}

/// Header flags of the response, as dig shows them.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Flags {
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated (only ever seen on the final answer when TCP also truncated).
    pub tc: bool,
    /// Recursion desired (echoed).
    pub rd: bool,
    /// Recursion available at this server.
    pub ra: bool,
    /// Authentic data (DNSSEC validated upstream).
    pub ad: bool,
    /// Checking disabled.
    pub cd: bool,
}

impl Flags {
    /// `qr aa rd ra`-style text.
    pub fn text(&self) -> String {
        let mut out = vec!["qr"];
        for (on, name) in [
            (self.aa, "aa"),
            (self.tc, "tc"),
            (self.rd, "rd"),
            (self.ra, "ra"),
            (self.ad, "ad"),
            (self.cd, "cd"),
        ] {
            if on {
                out.push(name);
            }
        }
        out.join(" ")
    }
}

/// What the question came to; the distinctions people misread are separate.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// NOERROR with records of the asked type.
    Answer,
    /// NOERROR, the name exists, but no record of this type.
    NoData,
    /// NOERROR without answers, pointing elsewhere: a delegation.
    Referral,
    /// The name does not exist.
    NxDomain,
    /// The server failed (upstream, DNSSEC validation, lame delegation).
    ServFail,
    /// The server refused the question (ACL, recursion not offered).
    Refused,
    /// Another response code (FORMERR, NOTIMP, ...).
    OtherRcode,
    /// The UDP answer was truncated and the TCP retry failed: only the
    /// partial UDP answer is known.
    TcpFallbackFailed,
    /// No server answered in time.
    Timeout,
    /// Nothing listens at the server (ICMP port unreachable, TCP RST).
    ConnRefused,
    /// No route or another network error.
    Network,
    /// Garbage came back.
    Malformed,
}

impl Status {
    /// True when the name resolved to data of the asked type.
    pub fn resolved(self) -> bool {
        self == Status::Answer
    }

    /// True when a server answered definitively (the search walk may go on).
    fn negative(self) -> bool {
        matches!(self, Status::NoData | Status::NxDomain)
    }

    /// True when no whole response arrived, so there is nothing to compare.
    pub fn no_response(self) -> bool {
        matches!(
            self,
            Status::TcpFallbackFailed
                | Status::Timeout
                | Status::ConnRefused
                | Status::Network
                | Status::Malformed
        )
    }
}

/// One try against one server, for the evidence trail.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Server asked.
    pub server: String,
    /// Name asked (after search-domain completion).
    pub qname: String,
    /// Response code or failure.
    pub outcome: String,
    /// Time spent on this try, in milliseconds.
    pub time_ms: f64,
}

/// The answer to one question from one source.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The name as typed.
    pub input: String,
    /// The fully qualified name that got the final answer.
    pub qname: String,
    /// Record type asked.
    pub qtype: String,
    /// `system (FILE)` or a server address.
    pub source: String,
    /// The server whose response is shown.
    pub server: Option<String>,
    /// How that response travelled.
    pub transport: Option<Transport>,
    /// UDP came back truncated (then fetched over TCP, unless the status
    /// says the TCP retry failed).
    pub truncated_udp: bool,
    /// The outcome class.
    pub status: Status,
    /// Response code text (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...).
    pub rcode: Option<String>,
    /// Response header flags.
    pub flags: Option<Flags>,
    /// Answer section.
    pub records: Vec<Rec>,
    /// Names followed through CNAMEs, starting at `qname`.
    pub cname_chain: Vec<String>,
    /// Authority section (SOA on negative answers, NS on referrals).
    pub authority: Vec<Rec>,
    /// Wall time for the whole lookup, in milliseconds.
    pub time_ms: f64,
    /// Why no response arrived, when none did.
    pub failure: Option<Failure>,
    /// The time limit per server, in seconds (evidence for timeouts).
    pub timeout_s: f64,
    /// Every try, in order.
    pub attempts: Vec<Attempt>,
}

impl Answer {
    /// The records' data, for `--short` and for comparisons.
    pub fn data(&self) -> Vec<String> {
        self.records.iter().map(|r| r.data.clone()).collect()
    }

    /// The search domain that completed the name, when one did.
    pub fn search_suffix(&self) -> Option<String> {
        let typed = self.input.trim_end_matches('.').to_ascii_lowercase();
        let asked = self.qname.trim_end_matches('.').to_ascii_lowercase();
        if self.input.ends_with('.') || asked == typed {
            return None;
        }
        asked
            .strip_prefix(&format!("{typed}."))
            .map(|suffix| suffix.to_string())
    }
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
        time_ms: 0.0,
        failure: Some(Failure::Network("no server to ask".into())),
        timeout_s: source.wire.deadline.as_secs_f64(),
        attempts: Vec::new(),
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
        let result = wire::exchange(*server, qname, rtype, source.wire).await;
        let answer = match result {
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
                    Failure::Timeout => Status::Timeout,
                    Failure::Refused => Status::ConnRefused,
                    Failure::Icmp(_) | Failure::Network(_) => Status::Network,
                    Failure::Malformed(_) => Status::Malformed,
                };
                a.failure = Some(failure);
                a.server = Some(server.to_string());
                a
            }
        };
        attempts.push(Attempt {
            server: server.to_string(),
            qname: qname.to_ascii(),
            outcome: outcome_text(&answer),
            time_ms: t0.elapsed().as_secs_f64() * 1000.0,
        });
        let move_on = matches!(answer.status, Status::ServFail | Status::Refused)
            || answer.status.no_response();
        last = Some(answer);
        if !move_on {
            break;
        }
    }
    last.unwrap_or_else(|| empty(source, input, qname, rtype))
}

/// Short text for an attempt: the rcode, or the failure kind.
pub fn outcome_text(a: &Answer) -> String {
    if a.status == Status::TcpFallbackFailed {
        let cause = a.failure.as_ref().map(failure_text).unwrap_or_default();
        return format!("truncated over udp, tcp retry failed: {cause}");
    }
    if let Some(rcode) = &a.rcode {
        return rcode.clone();
    }
    match &a.failure {
        Some(f) => failure_text(f),
        None => "no answer".into(),
    }
}

/// Short text for a failure kind.
pub fn failure_text(f: &Failure) -> String {
    match f {
        Failure::Timeout => "timeout".into(),
        Failure::Refused => "connection refused".into(),
        Failure::Icmp(e) => format!(
            "ICMP {} from {}",
            crate::diagnose::icmp::ping_text(e.v6, e.icmp_type, e.code),
            e.from
        ),
        Failure::Network(e) => format!("network error: {e}"),
        Failure::Malformed(e) => format!("malformed: {e}"),
    }
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

/// Classifies a response and lifts out what the output needs.
fn from_message(
    source: &Source,
    input: &str,
    qname: &Name,
    rtype: RecordType,
    msg: &Message,
) -> Answer {
    let records: Vec<Rec> = msg.answers().iter().map(record_of).collect();
    let authority: Vec<Rec> = msg.name_servers().iter().map(record_of).collect();
    let code = msg.response_code();
    let has_type = msg
        .answers()
        .iter()
        .any(|r| r.record_type() == rtype || rtype == RecordType::ANY);
    let status = match u16::from(code) {
        0 if has_type => Status::Answer,
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
    let mut chain = Vec::new();
    let mut at = qname.clone();
    for _ in 0..16 {
        let next = msg.answers().iter().find_map(|r| {
            if r.record_type() == RecordType::CNAME && *r.name() == at {
                r.data().as_cname().map(|c| c.0.clone())
            } else {
                None
            }
        });
        match next {
            Some(target) if rtype != RecordType::CNAME => {
                if chain.is_empty() {
                    chain.push(at.to_ascii());
                }
                chain.push(target.to_ascii());
                at = target;
            }
            _ => break,
        }
    }
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
        cname_chain: chain,
        authority,
        time_ms: 0.0,
        failure: None,
        timeout_s: source.wire.deadline.as_secs_f64(),
        attempts: Vec::new(),
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
