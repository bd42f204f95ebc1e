//! ICMP and ICMPv6 types and codes: the words ping prints, the mark
//! traceroute prints, and what each one means for the person debugging.

/// Everything netdx knows about one ICMP type/code.
#[derive(Debug, Clone, Copy)]
pub struct IcmpInfo {
    /// True for ICMPv6.
    pub v6: bool,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code; None matches every code of the type.
    pub code: Option<u8>,
    /// Short name.
    pub name: &'static str,
    /// The text iputils ping prints after `From X icmp_seq=N`.
    pub ping_text: &'static str,
    /// traceroute's annotation (`!H`, `!N`, …), empty when none.
    pub trace_mark: &'static str,
    /// What it means and what to check next.
    pub meaning: &'static str,
    /// For errors a router or host sends back: what to look at on the
    /// machine that sent it (the ICMP names the culprit, so the advice is
    /// about that machine, never this one). Empty when there is nothing
    /// beyond the meaning.
    pub check: &'static str,
}

impl IcmpInfo {
    /// The same entry with advice for the sender of the error.
    const fn with_check(self, check: &'static str) -> IcmpInfo {
        IcmpInfo { check, ..self }
    }
}

/// Advice for an administrative prohibition: a policy, not a broken path.
const CHECK_REJECT_RULE: &str = "find the reject rule there (`nft list ruleset`, `iptables -S FORWARD`, or the device's ACLs): the path works, a policy on that machine blocks this traffic";
/// Advice for a reject route rather than a filter rule.
const CHECK_REJECT_ROUTE: &str = "find the reject route there (`ip -6 route show type prohibit`, `type unreachable`): the path works, a route on that machine refuses this destination";
/// Advice for a router without a route.
const CHECK_NO_ROUTE: &str = "its routing table for this destination (`ip route get ADDR` there); `netdx trace ADDR` from here shows where the path ends";
/// Advice for the last router failing to reach the host.
const CHECK_HOST_LINK: &str = "its link to the host and its neighbour table (`ip neigh` there): is the host up, is its address right? A reject rule answering host-unreachable looks the same (`nft list ruleset` there)";
/// Advice for a path MTU problem.
const CHECK_MTU: &str = "the MTU of its next link (`ip link` there): lower the packet size or clamp the TCP MSS, and let this ICMP through on the way back";
/// Advice for a port nobody listens on.
const CHECK_PORT: &str = "whether the service runs on that host and listens on that port (`netdx sockets --port PORT` there)";

const fn v4(
    t: u8,
    c: u8,
    name: &'static str,
    ping: &'static str,
    mark: &'static str,
    meaning: &'static str,
) -> IcmpInfo {
    IcmpInfo {
        v6: false,
        icmp_type: t,
        code: Some(c),
        name,
        ping_text: ping,
        trace_mark: mark,
        meaning,
        check: "",
    }
}

const fn v6(
    t: u8,
    c: u8,
    name: &'static str,
    ping: &'static str,
    mark: &'static str,
    meaning: &'static str,
) -> IcmpInfo {
    IcmpInfo {
        v6: true,
        icmp_type: t,
        code: Some(c),
        name,
        ping_text: ping,
        trace_mark: mark,
        meaning,
        check: "",
    }
}

/// The table: one source of truth for ping, trace, mtr, tcp and explain.
pub static ICMP_TABLE: &[IcmpInfo] = &[
    v4(0, 0, "Echo Reply", "Echo Reply", "", "the target answered a ping: it is up and ICMP echo is allowed both ways"),
    v4(3, 0, "Net Unreachable", "Destination Net Unreachable", "!N", "a router has no route to the destination network: check routing tables on the router that sent it").with_check(CHECK_NO_ROUTE),
    v4(3, 1, "Host Unreachable", "Destination Host Unreachable", "!H", "the last router could not reach the host on its own network (ARP got no answer): the host is down or its address is wrong — or a firewall rejects with host-unreachable").with_check(CHECK_HOST_LINK),
    v4(3, 2, "Protocol Unreachable", "Destination Protocol Unreachable", "!P", "the host does not speak the IP protocol of the probe"),
    v4(3, 3, "Port Unreachable", "Destination Port Unreachable", "", "the host is up but nothing listens on that UDP port (for traceroute's UDP probes this means the destination was reached)").with_check(CHECK_PORT),
    v4(3, 4, "Fragmentation Needed", "Frag needed and DF set", "!F", "a link on the path has a smaller MTU than the packet and DF forbids fragmenting: path MTU problem, lower the size or fix MSS clamping").with_check(CHECK_MTU),
    v4(3, 5, "Source Route Failed", "Source Route Failed", "!S", "a source-routed packet could not follow its route"),
    v4(3, 6, "Destination Network Unknown", "Destination Net Unknown", "!N", "the destination network is unknown to the router").with_check(CHECK_NO_ROUTE),
    v4(3, 7, "Destination Host Unknown", "Destination Host Unknown", "!H", "the destination host is unknown to the router").with_check(CHECK_HOST_LINK),
    v4(3, 8, "Source Host Isolated", "Source Host Isolated", "!H", "obsolete: the source host is isolated"),
    v4(3, 9, "Network Administratively Prohibited", "Destination Net Prohibited", "!X", "a firewall forbids traffic to that network").with_check(CHECK_REJECT_RULE),
    v4(3, 10, "Host Administratively Prohibited", "Destination Host Prohibited", "!X", "a firewall forbids traffic to that host").with_check(CHECK_REJECT_RULE),
    v4(3, 11, "Network Unreachable for TOS", "Destination Net Unreachable for Type of Service", "!N", "no route for this type of service").with_check(CHECK_NO_ROUTE),
    v4(3, 12, "Host Unreachable for TOS", "Destination Host Unreachable for Type of Service", "!H", "no route to the host for this type of service").with_check(CHECK_HOST_LINK),
    v4(3, 13, "Communication Administratively Prohibited", "Packet filtered", "!X", "a firewall rule rejects the packet (e.g. nft/iptables `reject with icmp admin-prohibited`): the path works, a policy blocks it — find the rule on the router that sent it").with_check(CHECK_REJECT_RULE),
    v4(3, 14, "Host Precedence Violation", "Precedence Violation", "!V", "the precedence of the packet is not allowed"),
    v4(3, 15, "Precedence Cutoff", "Precedence Cutoff", "!C", "the precedence of the packet is below the required minimum"),
    v4(4, 0, "Source Quench", "Source Quench", "", "deprecated (RFC 6633): a router asked the sender to slow down; modern stacks ignore it"),
    v4(5, 0, "Redirect for Network", "Redirect Network", "", "a router says a better first hop exists for this network: usually a host on a LAN with two routers; hosts behind a firewall should ignore redirects"),
    v4(5, 1, "Redirect for Host", "Redirect Host", "", "a router says a better first hop exists for this host"),
    v4(8, 0, "Echo Request", "Echo Request", "", "a ping: the request side of echo"),
    v4(11, 0, "TTL Exceeded in Transit", "Time to live exceeded", "", "a router dropped the packet because its TTL ran out: expected in a trace; in a ping it means the TTL is too small or there is a routing loop"),
    v4(11, 1, "Fragment Reassembly Time Exceeded", "Frag reassembly time exceeded", "", "the receiver gave up reassembling a fragmented packet: fragments are being lost"),
    v4(12, 0, "Parameter Problem", "Parameter problem", "", "a router or host found a bad header field"),
    v6(1, 0, "No Route to Destination", "Destination unreachable: No route", "!N", "a router has no route to the destination: check IPv6 routing on the router that sent it").with_check(CHECK_NO_ROUTE),
    v6(1, 1, "Administratively Prohibited", "Destination unreachable: Administratively prohibited", "!X", "a firewall rule rejects the packet: find the rule on the router that sent it").with_check(CHECK_REJECT_RULE),
    v6(1, 2, "Beyond Scope of Source Address", "Destination unreachable: Beyond scope of source address", "!S", "the source address's scope does not reach the destination (e.g. link-local source)"),
    v6(1, 3, "Address Unreachable", "Destination unreachable: Address unreachable", "!H", "the last router could not reach the host (neighbour discovery got no answer): the host is down or its address is wrong").with_check(CHECK_HOST_LINK),
    v6(1, 4, "Port Unreachable", "Destination unreachable: Port unreachable", "", "the host is up but nothing listens on that port (for UDP traces: the destination was reached)").with_check(CHECK_PORT),
    v6(1, 5, "Source Address Failed Policy", "Destination unreachable: Source address failed ingress/egress policy", "!X", "a policy rejects this source address").with_check(CHECK_REJECT_RULE),
    v6(1, 6, "Reject Route to Destination", "Destination unreachable: Reject route to destination", "!X", "a reject route on the router blocks the destination").with_check(CHECK_REJECT_ROUTE),
    v6(2, 0, "Packet Too Big", "Packet too big", "!F", "a link on the path has a smaller MTU: path MTU problem; make sure ICMPv6 Packet Too Big is not filtered").with_check(CHECK_MTU),
    v6(3, 0, "Hop Limit Exceeded", "Time exceeded: Hop limit", "", "a router dropped the packet because its hop limit ran out: expected in a trace; in a ping the hop limit is too small or there is a routing loop"),
    v6(3, 1, "Fragment Reassembly Time Exceeded", "Time exceeded: Defrag", "", "the receiver gave up reassembling a fragmented packet"),
    v6(4, 0, "Parameter Problem: Erroneous Header", "Parameter problem: Wrong header field", "", "a bad header field"),
    v6(4, 1, "Parameter Problem: Unknown Next Header", "Parameter problem: Unknown header", "", "an unknown next header"),
    v6(4, 2, "Parameter Problem: Unrecognized IPv6 Option", "Parameter problem: Unknown option", "", "an unrecognised IPv6 option"),
    v6(128, 0, "Echo Request", "Echo Request", "", "a ping: the request side of echo"),
    v6(129, 0, "Echo Reply", "Echo Reply", "", "the target answered a ping"),
    v6(133, 0, "Router Solicitation", "Router Solicitation", "", "a host asks for router advertisements (SLAAC)"),
    v6(134, 0, "Router Advertisement", "Router Advertisement", "", "a router announces itself and the prefixes of the link"),
    v6(135, 0, "Neighbor Solicitation", "Neighbor Solicitation", "", "IPv6's ARP: who has this address? Unanswered solicitations for the next hop end in EHOSTUNREACH / Address Unreachable"),
    v6(136, 0, "Neighbor Advertisement", "Neighbor Advertisement", "", "IPv6's ARP reply"),
    v6(137, 0, "Redirect", "Redirect", "", "a router says a better first hop exists"),
];

/// Looks up a type/code; unknown codes of known types fall back gracefully.
pub fn lookup(v6: bool, icmp_type: u8, code: u8) -> Option<&'static IcmpInfo> {
    ICMP_TABLE
        .iter()
        .find(|i| i.v6 == v6 && i.icmp_type == icmp_type && i.code.is_none_or(|c| c == code))
}

/// Every entry of one type (all its codes), for `netdx explain icmp 3`.
pub fn codes_of(v6: bool, icmp_type: u8) -> Vec<&'static IcmpInfo> {
    ICMP_TABLE
        .iter()
        .filter(|i| i.v6 == v6 && i.icmp_type == icmp_type)
        .collect()
}

/// What to check for an ICMP error, on the machine that sent it, named
/// (`from` is its address, or several joined):
/// `on 198.18.0.2, which sent the ICMP: find the reject rule there …`.
/// The entry's own advice when it has one, else its meaning.
pub fn check_sender(v6: bool, icmp_type: u8, code: u8, from: &str) -> String {
    let advice = match lookup(v6, icmp_type, code) {
        Some(i) if !i.check.is_empty() => i.check,
        Some(i) => i.meaning,
        None => "its firewall rules and routes for this destination",
    };
    format!("on {from}, which sent the ICMP: {advice}")
}

/// The text ping prints for an ICMP error.
pub fn ping_text(v6: bool, icmp_type: u8, code: u8) -> String {
    match lookup(v6, icmp_type, code) {
        Some(info) => info.ping_text.to_string(),
        None => format!("Bad ICMP type: {icmp_type}, code: {code}"),
    }
}

/// The traceroute annotation for an ICMP error (`!H`, `!N`, `!X`, `!<code>`).
pub fn trace_mark(v6: bool, icmp_type: u8, code: u8) -> String {
    match lookup(v6, icmp_type, code) {
        Some(info) => info.trace_mark.to_string(),
        None => format!("!<{code}>"),
    }
}

/// `Host Unreachable (ICMP 3/1, !H)`: the name, numbers and trace mark in
/// one phrase, so tcp's result lines and diagnoses say it the same way.
pub fn describe(v6: bool, icmp_type: u8, code: u8) -> String {
    let family = if v6 { "ICMPv6" } else { "ICMP" };
    let mark = trace_mark(v6, icmp_type, code);
    let mark = if mark.is_empty() {
        String::new()
    } else {
        format!(", {mark}")
    };
    match lookup(v6, icmp_type, code) {
        Some(i) => format!("{} ({family} {icmp_type}/{code}{mark})", i.name),
        None => format!("{family} {icmp_type}/{code}{mark}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_iputils_words() {
        assert_eq!(ping_text(false, 11, 0), "Time to live exceeded");
        assert_eq!(ping_text(false, 3, 1), "Destination Host Unreachable");
        assert_eq!(trace_mark(false, 3, 13), "!X");
        assert_eq!(trace_mark(true, 1, 3), "!H");
        assert_eq!(ping_text(false, 3, 99), "Bad ICMP type: 3, code: 99");
    }
}
