//! Every `dns.*` diagnosis code with what it means and what to check, so
//! `netdx explain dns.servfail` answers like `netdx explain tcp.refused`.

pub use crate::diagnose::codes::CodeInfo;

/// The table, one entry per code any DNS rule emits.
pub const DNS_CODES: &[CodeInfo] = &[
    CodeInfo { code: "dns.ok", meaning: "the name resolved to records of the asked type", check: "nothing; compare with --compare if the data looks wrong" },
    CodeInfo { code: "dns.nxdomain", meaning: "the server says the name does not exist (rcode NXDOMAIN); for a reverse (PTR) name it means no reverse record was published", check: "the spelling, the zone, the search domain used; for PTR, the address owner's reverse zone" },
    CodeInfo { code: "dns.nodata", meaning: "the name exists but has no record of the asked type (NOERROR, empty answer)", check: "whether the zone should have that type (AAAA, MX...), or the end of the CNAME chain" },
    CodeInfo { code: "dns.referral", meaning: "the server is not recursive for this client: it answered with a delegation (NS in authority) instead of data", check: "ask a recursive resolver, or the delegated servers directly" },
    CodeInfo { code: "dns.servfail", meaning: "the resolver could not get an answer (rcode SERVFAIL): DNSSEC validation failed, or the authoritative servers were unreachable or lame", check: "dig +cd to see whether DNSSEC is the cause; the authoritative servers of the zone" },
    CodeInfo { code: "dns.refused", meaning: "the server refuses this question (rcode REFUSED): it does not serve the zone or does not offer recursion to this client", check: "the server's access control; whether you are meant to use another resolver" },
    CodeInfo { code: "dns.error_rcode", meaning: "the server answered with another error rcode (FORMERR, NOTIMP, ...)", check: "whether the server supports the query (EDNS, type); try --no-edns" },
    CodeInfo { code: "dns.server_unreachable", meaning: "no answer came: a timeout (dead server or silent firewall), nothing listening (ICMP port unreachable / TCP reset), or an ICMP rejection on the path", check: "the evidence's kind; the route and firewall to the server; whether the server runs" },
    CodeInfo { code: "dns.malformed_reply", meaning: "the server replied, but not with a valid DNS answer (unparseable, truncated header, compression loop, QR=0, wrong question); the query waited on for a valid reply and none came", check: "what listens on that port; a middlebox rewriting DNS; the server's software" },
    CodeInfo { code: "dns.unrelated_answer", meaning: "the answer section held records for names that are neither the question nor on its CNAME chain; a resolver discards them, so netdx does not count them", check: "a broken or spoofing server, a DNS-rewriting middlebox; compare with another resolver (--compare)" },
    CodeInfo { code: "dns.cname_loop", meaning: "the CNAME chain loops back to a name already on it, or is longer than a resolver follows (16 hops)", check: "the CNAME records of the names on the chain" },
    CodeInfo { code: "dns.tcp_stalled", meaning: "DNS over TCP connected, the query was sent, and no answer came back in time: the server or a proxy accepted and stalled", check: "the server's TCP service and load; a proxy or firewall that completes handshakes and drops data" },
    CodeInfo { code: "dns.tcp_fallback_failed", meaning: "the UDP answer was truncated (TC) and the TCP retry failed, so only a partial answer is known", check: "TCP port 53 (or the server's port) on the path and at the server" },
    CodeInfo { code: "dns.truncated", meaning: "the UDP answer was truncated and was fetched again over TCP (it worked)", check: "keep TCP/53 open on the path: large answers need it" },
    CodeInfo { code: "dns.dead_nameserver", meaning: "a name server listed earlier did not answer and a later one did: every lookup waits out the dead one first", check: "remove or fix the dead server in resolv.conf, or list it last" },
    CodeInfo { code: "dns.resolv_conf_skipped", meaning: "a resolv.conf line could not be read (e.g. `nameserver garbage`); libc skips it and so does netdx", check: "fix or remove the line" },
    CodeInfo { code: "dns.search_domain", meaning: "a relative name was completed with a search domain from resolv.conf: the answer is for the longer name", check: "write the full name with a trailing dot to ask exactly" },
    CodeInfo { code: "dns.split_horizon", meaning: "the system resolver and the given server disagree on the answer: split-horizon views, a stale cache, or the wrong resolver configured", check: "which answer is right for this machine; its resolv.conf" },
    CodeInfo { code: "dns.ttl_differs", meaning: "same data, different TTLs: a cache counting down", check: "nothing, unless a cache's TTL exceeds the authority's" },
    CodeInfo { code: "dns.tls_name_mismatch", meaning: "DNS over TLS/HTTPS: the server's certificate is not valid for the name checked (the server address, the URL host or --tls-name); the diagnosis lists the names it carries", check: "connect with a name on the certificate (--tls-name), or give the server a certificate for the name clients use" },
    CodeInfo { code: "dns.tls_cert_expired", meaning: "DNS over TLS/HTTPS: the server's certificate is past its notAfter date (dates in the evidence)", check: "renew the certificate on the server; if the dates look right, this machine's clock" },
    CodeInfo { code: "dns.tls_cert_not_yet_valid", meaning: "DNS over TLS/HTTPS: the certificate's notBefore date is in the future", check: "this machine's clock (NTP); a certificate issued with a future start date" },
    CodeInfo { code: "dns.tls_unknown_ca", meaning: "DNS over TLS/HTTPS: no trusted root vouches for the certificate's issuer (a private CA, or a missing intermediate)", check: "give the private CA with --ca-file; make the server send its intermediate certificates" },
    CodeInfo { code: "dns.tls_self_signed", meaning: "DNS over TLS/HTTPS: the certificate is self-signed (issuer = subject) and not among the trusted roots", check: "trust it explicitly with --ca-file, or install a CA-issued certificate on the server" },
    CodeInfo { code: "dns.tls_bad_cert", meaning: "DNS over TLS/HTTPS: the certificate was rejected for another reason (bad signature, wrong key usage, unsupported algorithm)", check: "the verifier's error in the evidence; the server's certificate chain" },
    CodeInfo { code: "dns.tls_handshake_failed", meaning: "DNS over TLS/HTTPS: TCP connected but the TLS handshake failed (alert, no common version or cipher, ALPN refused, not TLS at all, or no reply)", check: "that the port serves DoT/DoH (853 / 443) and TLS 1.2 or newer; the server's TLS log" },
    CodeInfo { code: "dns.doh_http_status", meaning: "DNS over HTTPS: the server answered an HTTP error (404 wrong path, 405 method, 415 media type, 400 bad query, 5xx server trouble)", check: "the URL path (usually /dns-query); that the endpoint takes POST application/dns-message" },
    CodeInfo { code: "dns.doh_no_http_response", meaning: "DNS over HTTPS: TLS was set up but the server closed the connection without any HTTP response to netdx's HTTP/1.1 request — what an HTTP/2-only DoH server (unbound's https-port) does", check: "whether the server offers HTTP/1.1; its DoT port (--tls) instead" },
    CodeInfo { code: "dns.doh_not_dns", meaning: "DNS over HTTPS: HTTP 200, but the body is not a DNS message (wrong Content-Type or unparseable): the URL serves a web page, not DoH", check: "the URL; a proxy or captive portal answering in the server's place" },
    CodeInfo { code: "dns.dnssec_secure", meaning: "--dnssec: every signature from the trust anchor down to the answer verified (DS digests, DNSKEY sets, RRSIGs in their validity window)", check: "nothing" },
    CodeInfo { code: "dns.dnssec_insecure", meaning: "--dnssec: a signed parent proves (NSEC or NSEC3 without DS, or an NSEC3 opt-out span) that a zone on the way is unsigned, so the answer cannot be validated; the zone where the chain stops is named", check: "whether that zone should be signed: publish its DS in the parent" },
    CodeInfo { code: "dns.dnssec_bogus", meaning: "--dnssec: something that must verify did not: a bad signature, an RRSIG expired or not yet valid (dates given), no DNSKEY matching a DS or RRSIG, a DS digest mismatch, a missing RRSIG, or an NSEC/NSEC3 denial proof that does not hold; the name then counts as failed, not resolved; a validating resolver answers SERVFAIL", check: "the reason given: re-sign the zone, fix the DS in the parent, publish the key; compare with delv" },
    CodeInfo { code: "dns.dnssec_indeterminate", meaning: "--dnssec: not decided: an algorithm or digest netdx cannot verify, NSEC3 above 150 hash iterations, no trust anchor for the name, or a chain record the server would not give", check: "the reason given; --trust-anchor for a private tree; a server that serves the whole chain" },
    CodeInfo { code: "dns.trace_ok", meaning: "--trace: the name resolved iteratively from the root hints, every step answered by a server of the zone", check: "nothing; the other findings of the trace (lame servers, timeouts) still cost resolvers time" },
    CodeInfo { code: "dns.trace_failed", meaning: "--trace: no listed server of some zone gave a usable reply (all timed out, were lame, or had no reachable address), so the name cannot resolve", check: "the servers named for that zone: do they run, do they serve the zone, is the delegation at the parent right" },
    CodeInfo { code: "dns.trace_loop", meaning: "--trace: the delegation cannot end: a referral back to the same zone or above it, NS names that need each other to resolve, or a chain over the depth limits", check: "the NS records and glue at each level named in the error; give in-zone NS names glue" },
    CodeInfo { code: "dns.lame_delegation", meaning: "a server listed in a zone's NS set does not answer authoritatively for it: REFUSED, SERVFAIL, no AA flag, a referral upward, or nothing listening on its port 53", check: "whether that server should serve the zone (zone loaded? typo in the NS name?); remove it from the NS set at the parent and in the zone if not" },
    CodeInfo { code: "dns.delegation_mismatch", meaning: "the parent's NS set for a zone differs from the zone's own apex NS set, or the zone's servers disagree (SOA serial, answer)", check: "make the parent's delegation and the apex NS records the same; check zone transfers between the servers" },
    CodeInfo { code: "dns.missing_glue", meaning: "a zone is delegated to a name server inside itself without the server's address (glue) at the parent: it can only be reached through the other servers", check: "add A/AAAA glue for that name at the parent (registrar or parent zone)" },
    CodeInfo { code: "dns.step_timeout", meaning: "a server listed for a zone did not answer within the per-step timeout: resolvers that pick it wait that long before trying another", check: "whether the server runs and port 53 (UDP and TCP) reaches it; remove it from the NS set if it is gone" },
    CodeInfo { code: "dns.compare_agree", meaning: "the system resolver and the given servers gave the same answers", check: "nothing" },
];

/// The entry for `code`, if it is a DNS diagnosis code.
pub fn by_code(code: &str) -> Option<&'static CodeInfo> {
    DNS_CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `dns.*` code in the rules' source is in the table.
    #[test]
    fn every_code_the_rules_emit_is_explained() {
        let sources = [
            include_str!("../dns.rs"),
            include_str!("dnssec.rs"),
            include_str!("../../dns/mod.rs"),
            include_str!("../../resolve/system.rs"),
            include_str!("tls.rs"),
        ];
        for src in sources {
            for part in src.split("\"dns.").skip(1) {
                let code: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if code.is_empty() || !part[code.len()..].starts_with('"') {
                    continue;
                }
                assert!(
                    by_code(&format!("dns.{code}")).is_some(),
                    "dns.{code} unknown to explain"
                );
            }
        }
    }
}
