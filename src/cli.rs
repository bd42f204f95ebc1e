//! The command line, declared once with clap derive; it also feeds the
//! generated shell completions and man pages, so they never drift.

use clap::{Args, Parser, Subcommand};

/// The exit-code contract, shown in every help text and man page.
pub const EXIT_CODES: &str = "Exit codes: 0 healthy · 1 a target failed (no reply, refused, NXDOMAIN, loss over --max-loss) · 2 usage error · 3 could not run (privileges, no such interface, no resolver configuration)";

/// Network diagnosis in one binary: measures, then says what it means.
#[derive(Debug, Parser)]
#[command(
    name = "netdx",
    version,
    about = "Network diagnosis in one binary: ping, trace, mtr, dns, tcp, sockets — with plain-language diagnoses",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// The diagnosis to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand (output shape, address family, timeout).
/// Listed under their own heading so `<sub> --help` shows the
/// subcommand's own options apart from these.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// Print one JSON document when the command ends.
    #[arg(long, global = true, conflicts_with = "jsonl")]
    pub json: bool,
    /// Print one JSON object per event as it happens.
    #[arg(long, global = true)]
    pub jsonl: bool,
    /// Use IPv4 only.
    #[arg(short = '4', global = true, conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only.
    #[arg(short = '6', global = true)]
    pub ipv6: bool,
    /// Overall time limit per probe or query, in seconds.
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Never use ANSI colour (also honoured: NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// ICMP echo with reply TTL, hop inference and a diagnosis (replaces ping).
    #[command(after_help = EXIT_CODES)]
    Ping(PingArgs),
    /// Hop-by-hop path with ICMP, UDP or TCP probes (replaces traceroute).
    #[command(after_help = EXIT_CODES)]
    Trace(TraceArgs),
    /// Repeated traces with per-hop loss and latency (replaces mtr, pathping).
    #[command(after_help = EXIT_CODES)]
    Mtr(MtrArgs),
    /// DNS lookups with answer details and resolver checks (replaces nslookup, dig).
    #[command(visible_alias = "lookup", after_help = EXIT_CODES)]
    Dns(DnsArgs),
    /// TCP connect probes with errno diagnoses (replaces nc -z, tcping).
    #[command(after_help = EXIT_CODES)]
    Tcp(TcpArgs),
    /// TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i).
    #[command(visible_alias = "ss", after_help = EXIT_CODES)]
    Sockets(SocketsArgs),
    /// Explains an errno, TCP state, ICMP type/code or TCP flag.
    #[command(after_help = EXIT_CODES)]
    Explain(ExplainArgs),
    /// Runs many checks from a file concurrently (replaces shell loops of the above).
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Prometheus exporter: /probe runs icmp, tcp, dns and mtr probes with diagnoses as labels.
    Serve(ServeArgs),
    /// Packet capture with tcpdump filters, pcap in and out, per-connection diagnoses (replaces tcpdump).
    #[command(visible_alias = "capture", after_help = EXIT_CODES)]
    Watch(WatchArgs),
}

/// `netdx watch` flags, in tcpdump's habits.
#[derive(Debug, Args, Clone)]
pub struct WatchArgs {
    /// Filter in tcpdump syntax (`tcp port 80 and host 198.18.0.2`); the words are joined as tcpdump joins them.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Interface to capture on (default: every interface, like `-i any`).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// Write the packets to this pcap file instead of showing them.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<std::path::PathBuf>,
    /// Read packets from a pcap or pcapng file instead of the network.
    #[arg(
        short = 'r',
        long = "read",
        value_name = "FILE",
        conflicts_with = "interface"
    )]
    pub read: Option<std::path::PathBuf>,
    /// Stop after this many packets.
    #[arg(short = 'c', long = "count", value_name = "COUNT", allow_negative_numbers = true, value_parser = parse_count)]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long = "duration", value_name = "SECS", allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Bytes kept of each packet (tcpdump's -s; 0 means the maximum, 262144).
    #[arg(short = 's', long = "snaplen", value_name = "BYTES", default_value_t = 262144, allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub snaplen: u32,
    /// Verbose packet lines: IP header fields too (TTL, id, length, flags).
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Print a line per packet like `tcpdump -n` (default: the per-connection view).
    #[arg(long = "packets")]
    pub packets: bool,
}

/// `netdx ping` flags, in iputils' habits.
#[derive(Debug, Args, Clone)]
pub struct PingArgs {
    /// Host name or address to ping.
    pub host: String,
    /// Stop after sending this many probes.
    #[arg(short = 'c', long = "count", value_name = "COUNT", allow_negative_numbers = true, value_parser = parse_count)]
    pub count: Option<u64>,
    /// Seconds between probes (below 0.2 needs root, like iputils).
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECS",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub interval: f64,
    /// ICMP payload bytes (default 56, i.e. 64 bytes of ICMP).
    #[arg(short = 's', long = "size", value_name = "BYTES", default_value_t = 56, allow_negative_numbers = true, value_parser = parse_unsigned::<usize>)]
    pub size: usize,
    /// TTL / hop limit of the probes.
    #[arg(short = 't', long = "ttl", value_name = "TTL", allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub ttl: Option<u32>,
    /// Seconds to wait for each reply.
    #[arg(
        short = 'W',
        long = "wait",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub wait: Option<f64>,
    /// Deadline: stop after this many seconds whatever the count.
    #[arg(
        short = 'w',
        long = "deadline",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub deadline: Option<f64>,
    /// Source interface name or source address.
    #[arg(short = 'I', long = "interface", value_name = "IFACE|ADDR")]
    pub interface: Option<String>,
    /// Quiet: only the summary and the diagnosis.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Loss percentage above which the exit status is 1 (default: 100, only total loss fails).
    #[arg(long = "max-loss", value_name = "PCT")]
    pub max_loss: Option<f64>,
    /// Path MTU discovery, as iputils: do (DF, never fragment), want (DF while it fits), dont (fragment), probe (DF, learnt PMTU ignored).
    #[arg(short = 'M', value_name = "do|want|dont|probe", value_parser = ["do", "want", "dont", "probe"])]
    pub pmtudisc: Option<String>,
}

/// Probe method and path flags shared by `trace` and `mtr`, in
/// traceroute's habits.
#[derive(Debug, Args, Clone)]
pub struct PathOpts {
    /// Host name or address to trace to.
    pub host: String,
    /// ICMP echo probes (the default).
    #[arg(short = 'I', long = "icmp", conflicts_with_all = ["udp", "tcp"])]
    pub icmp: bool,
    /// UDP probes to port 33434 and up, as classic traceroute (no root needed).
    #[arg(short = 'U', long = "udp", conflicts_with = "tcp")]
    pub udp: bool,
    /// TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes.
    #[arg(short = 'T', long = "tcp")]
    pub tcp: bool,
    /// Port: destination port for --tcp (default 80), first port for --udp (default 33434).
    #[arg(short = 'p', long = "port", value_name = "PORT", allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub port: Option<u32>,
    /// TTL of the first hop probed.
    #[arg(short = 'f', long = "first", value_name = "TTL", default_value_t = 1, allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub first: u32,
    /// Largest TTL probed (the hop limit of the trace).
    #[arg(
        short = 'm',
        long = "max-hops",
        value_name = "TTL",
        default_value_t = 30,
        allow_negative_numbers = true,
        value_parser = parse_unsigned::<u32>
    )]
    pub max_hops: u32,
    /// Seconds to wait for each probe's answer.
    #[arg(
        short = 'w',
        long = "wait",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub wait: Option<f64>,
    /// Numeric output: no reverse DNS names.
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
    /// Look up each hop's origin AS and the AS name over DNS TXT, as mtr -z does
    #[arg(long = "asn")]
    pub asn: bool,
    /// Zone the AS lookups ask under (default origin.asn.cymru.com, origin6.asn.cymru.com for IPv6); names are asked as AS<n> under it, less a leading origin/origin6 label
    #[arg(long = "asn-zone", value_name = "ZONE", requires = "asn")]
    pub asn_zone: Option<String>,
    /// Offline MaxMind / IPinfo database (.mmdb) giving each hop's AS number, AS name and country
    #[arg(long = "geoip", value_name = "FILE")]
    pub geoip: Option<std::path::PathBuf>,
    /// DNS server for the AS lookups (default: the first in resolv.conf)
    #[arg(long = "asn-server", value_name = "ADDR", requires = "asn")]
    pub asn_server: Option<String>,
    /// Print the final report as a CSV or Markdown table instead of text (mtr: implies --report)
    #[arg(long = "format", value_name = "FORMAT", value_enum)]
    pub format: Option<TableFormat>,
}

/// The table layouts `--format` offers for trace and mtr reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Comma-separated values, one header line (RFC 4180 quoting).
    Csv,
    /// A GitHub-flavoured Markdown table, then the diagnoses as a list.
    Markdown,
}

/// `netdx trace` flags, in traceroute's habits.
#[derive(Debug, Args, Clone)]
pub struct TraceArgs {
    /// Target and probe method.
    #[command(flatten)]
    pub path: PathOpts,
    /// Probes per hop.
    #[arg(short = 'q', long = "queries", value_name = "N", default_value_t = 3, allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub queries: u32,
    /// Probes in flight at once (by default every probe of every TTL goes out together, so a silent tail costs one wait).
    #[arg(
        short = 'N',
        long = "sim-queries",
        value_name = "N",
        default_value_t = 1024,
        allow_negative_numbers = true,
        value_parser = parse_unsigned::<u32>
    )]
    pub sim_queries: u32,
    /// Paris flows to run side by side (1-16, with --udp or --tcp): each keeps its own source port for every probe, so a load-balanced path shows each branch per hop.
    #[arg(long = "flows", value_name = "N", default_value_t = 1, allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub flows: u32,
    /// Discover the path MTU with DF echo probes and show it per hop (F=N), as traceroute --mtu / tracepath.
    #[arg(long = "mtu")]
    pub mtu: bool,
    /// Source address the probes leave from (traceroute's -s); must be configured on this host.
    #[arg(short = 's', long = "source", value_name = "ADDR")]
    pub source: Option<String>,
    /// Interface the probes leave through, SO_BINDTODEVICE (traceroute's -i).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// Whole probe packet in bytes, IP header included, as `traceroute host 1400` (may be fragmented unless -F).
    #[arg(value_name = "PACKETLEN", allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub packetlen: Option<u32>,
    /// Set DF: a probe larger than a link is not fragmented, its router answers Frag Needed / Packet Too Big (traceroute's -F).
    #[arg(short = 'F', long = "dont-fragment")]
    pub dont_fragment: bool,
}

/// `netdx mtr` flags, in mtr's habits.
#[derive(Debug, Args, Clone)]
pub struct MtrArgs {
    /// Target and probe method.
    #[command(flatten)]
    pub path: PathOpts,
    /// Rounds to send (default: 10 with --report/--pathping or off a terminal, else until Ctrl-C).
    #[arg(short = 'c', long = "count", value_name = "ROUNDS", allow_negative_numbers = true, value_parser = parse_count)]
    pub count: Option<u64>,
    /// Seconds between rounds (below 1 needs root, like mtr; at least 0.01).
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECS",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub interval: f64,
    /// Print only the final table, as `mtr -r`.
    #[arg(short = 'r', long = "report")]
    pub report: bool,
    /// Print the Windows pathping layout: loss at each node and on each link (not with --report: one layout or the other).
    #[arg(long = "pathping", conflicts_with_all = ["report", "format"])]
    pub pathping: bool,
    /// Loss percentage at the destination above which the exit status is 1 (default: only total loss fails).
    #[arg(long = "max-loss", value_name = "PCT")]
    pub max_loss: Option<f64>,
    /// Source address the probes leave from (mtr's -a); must be configured on this host.
    #[arg(
        short = 'a',
        long = "address",
        visible_alias = "source",
        value_name = "ADDR"
    )]
    pub source: Option<String>,
    /// Interface the probes leave through, SO_BINDTODEVICE (mtr's -I; here -I is --icmp).
    #[arg(long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// Paris flows per round (1-16, with --udp or --tcp): each hop lists every branch the flows met, and path.ecmp says where the path splits.
    #[arg(long = "flows", value_name = "N", default_value_t = 1, allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub flows: u32,
}

/// `netdx dns` flags, in nslookup/dig habits.
#[derive(Debug, Args, Clone)]
#[command(
    after_help = "Examples:\n  netdx dns www.example.test @198.18.1.2\n  netdx dns -t MX -t TXT example.test --server 198.18.1.2:5353\n  netdx dns 198.18.1.10            (reverse lookup, PTR)\n  netdx dns --compare intranet.example.test @198.18.1.2\n\nWithout a server, the servers, search domains and ndots of /etc/resolv.conf\n(or --resolv-conf FILE) are used. --timeout is the limit per question and server."
)]
pub struct DnsArgs {
    /// Names (or addresses for reverse lookups) to resolve; `@SERVER[:PORT]` picks a server.
    #[arg(value_name = "NAME|@SERVER")]
    pub names: Vec<String>,
    /// Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA.
    #[arg(
        short = 't',
        long = "type",
        value_name = "TYPE",
        value_parser = RecordTypeArg,
        hide_possible_values = true
    )]
    pub types: Vec<String>,
    /// Ask for the common set: A, AAAA, CNAME, MX, NS, SOA, TXT, SRV, CAA.
    #[arg(long, conflicts_with = "types")]
    pub all: bool,
    /// Server to ask, `ADDR` or `ADDR:PORT` / `[V6]:PORT` (repeatable; tried in order).
    #[arg(long = "server", value_name = "ADDR[:PORT]")]
    pub servers: Vec<String>,
    /// Read the system resolver settings from this file instead of /etc/resolv.conf.
    #[arg(long = "resolv-conf", value_name = "FILE")]
    pub resolv_conf: Option<std::path::PathBuf>,
    /// Ask over TCP only (default: UDP, then TCP when the answer is truncated).
    #[arg(long)]
    pub tcp: bool,
    /// Print only the answer data, like `dig +short`.
    #[arg(long)]
    pub short: bool,
    /// Ask the system resolver and every given server, and report where they differ.
    #[arg(long)]
    pub compare: bool,
    /// Read names from this file, one per line (`#` starts a comment).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
    /// How many questions may be in flight at once.
    #[arg(long, value_name = "N", default_value_t = 100, allow_negative_numbers = true, value_parser = parse_unsigned::<usize>)]
    pub concurrency: usize,
    /// EDNS UDP buffer size to advertise (dig's +bufsize).
    #[arg(long, value_name = "BYTES", default_value_t = 1232, allow_negative_numbers = true, value_parser = parse_unsigned::<u16>)]
    pub bufsize: u16,
    /// Send no EDNS record (answers over 512 bytes then come back truncated).
    #[arg(long)]
    pub no_edns: bool,
    /// Do not apply the resolv.conf search domains (like `dig +nosearch`).
    #[arg(long)]
    pub no_search: bool,
    /// Ask over DNS over TLS (RFC 7858; port 853 unless @SERVER:PORT says otherwise).
    #[arg(long, conflicts_with_all = ["tcp", "https"])]
    pub tls: bool,
    /// Ask over DNS over HTTPS (RFC 8484): `@SERVER` means https://SERVER/dns-query;
    /// `@https://HOST[:PORT]/PATH` gives the URL (and implies --https).
    #[arg(long, conflicts_with = "tcp")]
    pub https: bool,
    /// Trust the CA certificates in this PEM file instead of the system's (--tls/--https).
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Check the server certificate against this name instead of the server's address or URL host.
    #[arg(long = "tls-name", value_name = "NAME")]
    pub tls_name: Option<String>,
    /// Validate the answers with DNSSEC from the root KSK (or --trust-anchor), showing the chain of trust; bogus exits 1.
    #[arg(long)]
    pub dnssec: bool,
    /// DS or DNSKEY records in zone-file format to validate from instead of the root (implies --dnssec; a bad file exits 2).
    #[arg(long = "trust-anchor", value_name = "FILE")]
    pub trust_anchor: Option<std::path::PathBuf>,
    /// Resolve iteratively from the root servers, like `dig +trace`: each step's server, referral, glue and time, then every listed server of each zone checked.
    #[arg(long, conflicts_with_all = ["compare", "file", "servers", "all"])]
    pub trace: bool,
    /// Root servers for --trace, named.root format (default: IANA's built-in list).
    #[arg(long = "root-hints", value_name = "FILE", requires = "trace")]
    pub root_hints: Option<std::path::PathBuf>,
}

/// `netdx tcp` flags, in nc -z / tcping habits.
#[derive(Debug, Args, Clone)]
#[command(
    after_help = "Exit status: 0 every probe connected (with --expect closed: none did) · 1 a target failed or did not resolve · 2 usage error · 3 could not run"
)]
pub struct TcpArgs {
    /// Targets: host:port, host:80,443, host:8000-8100, [2001:db8::1]:443.
    #[allow(rustdoc::broken_intra_doc_links)]
    pub targets: Vec<String>,
    /// Read more targets from FILE (whitespace-separated, # comments; - is stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
    /// Ports for targets given without one (80,443 or 8000-8100).
    #[arg(short = 'p', long = "ports", value_name = "PORTS")]
    pub ports: Option<String>,
    /// Connect attempts per target (tcping style), with connect-time statistics.
    #[arg(short = 'c', long = "count", value_name = "COUNT", default_value_t = 1, allow_negative_numbers = true, value_parser = parse_count)]
    pub count: u64,
    /// Seconds between the attempts to one target.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECS",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub interval: f64,
    /// Seconds to wait for each connect (--timeout also sets it; default 2; in scans of more than 32 targets, from the round trips the host showed on other ports, 0.1 to 2, with a second try).
    #[arg(
        short = 'W',
        long = "wait",
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub wait: Option<f64>,
    /// Connects in flight at once, fixed (capped by the open-files limit);
    /// without it the window adapts: from 256, growing while answers come
    /// and halving on timeouts.
    #[arg(long = "parallel", value_name = "N", allow_negative_numbers = true, value_parser = parse_unsigned::<usize>)]
    pub parallel: Option<usize>,
    /// After connecting, read and show what the server sends first (SSH, SMTP, FTP…).
    #[arg(long)]
    pub banner: bool,
    /// What the targets must be for exit status 0 (closed: firewall audits).
    #[arg(long, value_enum, value_name = "STATE", default_value_t = Expect::Open)]
    pub expect: Expect,
    /// List every target, also when many failed the same way.
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Connect to one target and hold the connection: show TCP_INFO while it
    /// waits and say how it ends (peer closed, reset, keepalive or user timeout).
    #[arg(long)]
    pub hold: bool,
    /// With --hold: keepalive timing IDLE,INTVL,COUNT in seconds (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
    #[arg(long, value_name = "IDLE,INTVL,COUNT", requires = "hold")]
    pub keepalive: Option<String>,
    /// With --hold: TCP_USER_TIMEOUT in seconds (unacknowledged data or probes kill the connection after it).
    #[arg(
        long = "user-timeout",
        value_name = "SECS",
        requires = "hold",
        allow_negative_numbers = true
    )]
    pub user_timeout: Option<f64>,
    /// With --hold: send one byte of data every SECS (for peers and middleboxes that expect traffic).
    #[arg(
        long = "send-every",
        value_name = "SECS",
        requires = "hold",
        allow_negative_numbers = true
    )]
    pub send_every: Option<f64>,
    /// With --hold: stop after SECS with exit 0 if the connection is still alive (default: hold until it dies or Ctrl-C).
    #[arg(
        long,
        value_name = "SECS",
        requires = "hold",
        allow_negative_numbers = true
    )]
    pub duration: Option<f64>,
}

/// What `netdx tcp --expect` checks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Expect {
    /// Every probe must connect.
    Open,
    /// No probe may connect (refused, filtered or unreachable all pass).
    Closed,
}

/// `netdx sockets` flags, in netstat/ss/lsof habits.
#[derive(Debug, Args, Clone)]
pub struct SocketsArgs {
    /// Who owns this port (local or remote, like `lsof -i :PORT`): processes, listen queue, connections.
    #[arg(long, value_name = "PORT", allow_negative_numbers = true, value_parser = parse_port)]
    pub port: Option<u16>,
    /// Only the sockets held by this process id.
    #[arg(long, value_name = "PID", conflicts_with = "port", allow_negative_numbers = true, value_parser = parse_unsigned::<u32>)]
    pub pid: Option<u32>,
    /// Only the sockets held by processes with this program name (/proc/PID/comm).
    #[arg(long, value_name = "NAME", conflicts_with = "port")]
    pub process: Option<String>,
    /// Where to read sockets: netlink sock_diag (as ss), /proc/net/tcp (as netstat), or auto (netlink, /proc if it fails).
    #[arg(long, value_enum, default_value_t = SocketSource::Auto)]
    pub source: SocketSource,
    /// Sample every SECS seconds (default 1) and show counts and counter rates changing.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "1")]
    pub watch: Option<f64>,
    /// With --watch: stop after this many samples.
    #[arg(short = 'c', long = "count", value_name = "N", requires = "watch", allow_negative_numbers = true, value_parser = parse_count)]
    pub count: Option<u64>,
    /// Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files).
    #[arg(short = 'p', long)]
    pub processes: bool,
    /// Rows in the per-port and per-peer tables.
    #[arg(long, value_name = "N", default_value_t = 10, allow_negative_numbers = true, value_parser = parse_unsigned::<usize>)]
    pub top: usize,
    /// List every connection in the --port/--pid/--process view (default: the first 50).
    #[arg(long)]
    pub all: bool,
    /// List the connections with a timer pending, like `ss -o`: on (retransmit), keepalive, timewait or persist (zero-window probe), with the time left and the retransmissions or probes sent.
    #[arg(long)]
    pub timers: bool,
}

/// The socket readers `netdx sockets --source` can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SocketSource {
    /// Netlink, falling back to /proc when netlink fails.
    Auto,
    /// NETLINK_SOCK_DIAG only.
    Netlink,
    /// /proc/net/tcp and /proc/net/tcp6 only.
    Proc,
}

/// `netdx explain` argument.
#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// What to explain: ECONNRESET, 104, CLOSE_WAIT, "icmp 3/13", RST.
    #[arg(required = true, num_args = 1..)]
    pub what: Vec<String>,
}

/// `netdx check` flags.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// File with one check per line (`ping HOST`, `tcp HOST:PORT`, `dns NAME`…); `-` reads stdin.
    pub file: std::path::PathBuf,
    /// How many checks run at once.
    #[arg(long, value_name = "N", default_value_t = 16, allow_negative_numbers = true, value_parser = parse_unsigned::<usize>)]
    pub parallel: usize,
    /// Longest a single check may run; one still running then is killed and reported as failed.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 120.0,
        allow_negative_numbers = true
    )]
    pub check_timeout: f64,
}

/// `netdx serve` flags.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on (9469 is netdx's own; blackbox_exporter uses 9115).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9469")]
    pub listen: String,
    /// Networks /probe may reach (repeatable); a target resolving elsewhere gets 403. Without any, every target is allowed.
    #[arg(long = "allow", value_name = "CIDR")]
    pub allow: Vec<String>,
    /// TOML file naming modules and their options (`[modules.NAME] prober = "icmp" …`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Check the config file (and the other flags), print what it defines, and exit.
    #[arg(long)]
    pub config_check: bool,
    /// Most probes running at once; more wait for a slot until their timeout.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = parse_unsigned::<usize>)]
    pub max_concurrent: usize,
    /// Seconds subtracted from Prometheus's scrape timeout to leave time for the reply.
    #[arg(long, value_name = "SECS", default_value_t = 0.5)]
    pub timeout_offset: f64,
    /// A `netdx check` file run in the background; each line's last result is on /metrics.
    #[arg(long, value_name = "FILE")]
    pub checks: Option<std::path::PathBuf>,
    /// Seconds between runs of the --checks file (each line is stopped after this long).
    #[arg(long, value_name = "SECS", default_value_t = 30.0, requires = "checks")]
    pub checks_interval: f64,
    /// Web configuration file in the Prometheus exporters' format (YAML): `basic_auth_users` (bcrypt hashes) and `tls_server_config`.
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config_file: Option<std::path::PathBuf>,
}

/// Counts (`-c`): a negative number gets the same words as zero does in
/// the commands ("at least 1") instead of clap's "unexpected argument".
fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if n < 0 => Err("the count must be at least 1".into()),
        Ok(n) => u64::try_from(n).map_err(|_| format!("the count must be at most {}", u64::MAX)),
        Err(_) => Err("give a whole number".into()),
    }
}

/// Whole numbers that cannot be negative, with a plain message for
/// negative, fractional or oversized input.
fn parse_unsigned<T: TryFrom<i128> + Copy + std::fmt::Display + Bounded>(
    text: &str,
) -> Result<T, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if n < 0 => Err("must be 0 or more (negative numbers make no sense here)".into()),
        Ok(n) => T::try_from(n).map_err(|_| format!("must be at most {}", T::MAX_VALUE)),
        Err(_) => Err("give a whole number".into()),
    }
}

/// A TCP/UDP port, 1–65535.
fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        Ok(_) => Err("a port is a number from 1 to 65535".into()),
        Err(_) => Err("give a port number from 1 to 65535".into()),
    }
}

/// The largest value of an integer type, for [`parse_unsigned`]'s message.
trait Bounded {
    /// The type's maximum, as printed in messages.
    const MAX_VALUE: u64;
}

impl Bounded for u16 {
    const MAX_VALUE: u64 = u16::MAX as u64;
}

impl Bounded for u32 {
    const MAX_VALUE: u64 = u32::MAX as u64;
}

impl Bounded for usize {
    const MAX_VALUE: u64 = usize::MAX as u64;
}

impl Bounded for u64 {
    const MAX_VALUE: u64 = u64::MAX;
}

/// `dns -t`: offers the common record types to shell completion while
/// still taking any type (checked, with a list, when the lookup starts).
#[derive(Debug, Clone, Copy)]
struct RecordTypeArg;

/// The record types completion offers for `dns -t`.
const COMMON_RECORD_TYPES: &[&str] = &[
    "A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "PTR", "SRV", "CAA",
];

impl clap::builder::TypedValueParser for RecordTypeArg {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            COMMON_RECORD_TYPES
                .iter()
                .map(|t| clap::builder::PossibleValue::new(*t)),
        ))
    }
}
