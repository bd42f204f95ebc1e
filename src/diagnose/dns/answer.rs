//! The facts of one DNS question as a resolver client saw them: the
//! answer with its rcode, flags, records and timing, or why none came. The
//! rules in `diagnose::dns` read these; the client in `resolve` fills them.

use serde::Serialize;
use std::net::IpAddr;

/// CNAME hops a resolver follows before it gives up (BIND's limit).
pub const MAX_CHAIN: usize = 16;

/// One resource record in presentation form (dig's text for the data).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, schemars::JsonSchema)]
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
    /// The answer section held only records for names outside the
    /// question and its CNAME chain (a broken or spoofing server).
    Unrelated,
    /// The CNAME chain loops back on itself or is too long to follow.
    CnameLoop,
}

impl Status {
    /// True when the name resolved to data of the asked type.
    pub fn resolved(self) -> bool {
        self == Status::Answer
    }

    /// True when a server answered definitively (the search walk may go on).
    pub fn negative(self) -> bool {
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
    /// Answer-section records whose owner is neither the name asked nor a
    /// name on its CNAME chain: reported, never counted as the answer.
    pub unrelated: Vec<Rec>,
    /// Wall time for the whole lookup, in milliseconds.
    pub time_ms: f64,
    /// Why no response arrived, when none did.
    pub failure: Option<Failure>,
    /// The time limit per server, in seconds (evidence for timeouts).
    pub timeout_s: f64,
    /// Every try, in order.
    pub attempts: Vec<Attempt>,
    /// The TLS session, for DNS over TLS or HTTPS.
    pub tls: Option<super::tls::TlsSession>,
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

/// How the answer travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A UDP datagram each way.
    Udp,
    /// A TCP connection with length-prefixed messages.
    Tcp,
    /// DNS over TLS (RFC 7858, port 853).
    Tls,
    /// DNS over HTTPS (RFC 8484).
    Https,
}

impl Transport {
    /// Lower-case name for human output.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Https => "https",
        }
    }
}

/// Why no response arrived: the distinctions the diagnoses are built on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Failure {
    /// Nothing came back in time: dropped on the way or a dead server.
    Timeout,
    /// ICMP port unreachable or a TCP RST: the host is up, no DNS server listens.
    Refused,
    /// An ICMP error other than the server's own port unreachable: a router
    /// (or the server's firewall) rejected the query.
    Icmp(IcmpError),
    /// No route, host or network unreachable, or another socket error.
    Network(String),
    /// Something answered but it was not a usable DNS response.
    Malformed(String),
    /// TCP connected, the query was sent, and no answer came back in time:
    /// the server (or a proxy in front of it) accepted and then stalled.
    TcpStalled,
    /// DNS over TLS/HTTPS: TCP connected, then TLS, the certificate or HTTP failed.
    Tls(Box<super::tls::TlsFailure>),
}

/// The ICMP error a query drew, read from the socket's error queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IcmpError {
    /// The router or host that sent the ICMP error.
    pub from: IpAddr,
    /// True for ICMPv6 (type/code numbering differs).
    pub v6: bool,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
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
        Failure::TcpStalled => "tcp connected, then no answer".into(),
        Failure::Tls(t) => t.short(),
    }
}
