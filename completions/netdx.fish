# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_netdx_global_optspecs
    string join \n json jsonl 4 6 timeout= no-color h/help V/version
end

function __fish_netdx_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_netdx_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_netdx_using_subcommand
    set -l cmd (__fish_netdx_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c netdx -n "__fish_netdx_needs_command" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_needs_command" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_needs_command" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_needs_command" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_needs_command" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_needs_command" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_needs_command" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_needs_command" -s V -l version -d 'Print version'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "ping" -d 'ICMP echo with reply TTL, hop inference and a diagnosis (replaces ping)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "trace" -d 'Hop-by-hop path with ICMP, UDP or TCP probes (replaces traceroute)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "mtr" -d 'Repeated traces with per-hop loss and latency (replaces mtr, pathping)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "dns" -d 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "lookup" -d 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "tcp" -d 'TCP connect probes with errno diagnoses (replaces nc -z, tcping)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "sockets" -d 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "ss" -d 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "explain" -d 'Explains an errno, TCP state, ICMP type/code or TCP flag'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "check" -d 'Runs many checks from a file concurrently (replaces shell loops of the above)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "serve" -d 'Prometheus exporter: /probe runs icmp, tcp, dns and mtr probes with diagnoses as labels'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "watch" -d 'Packet capture with tcpdump filters, pcap in and out, per-connection diagnoses (replaces tcpdump)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "capture" -d 'Packet capture with tcpdump filters, pcap in and out, per-connection diagnoses (replaces tcpdump)'
complete -c netdx -n "__fish_netdx_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s c -l count -d 'Stop after sending this many probes' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s i -l interval -d 'Seconds between probes (below 0.2 needs root, like iputils)' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s s -l size -d 'ICMP payload bytes (default 56, i.e. 64 bytes of ICMP)' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s t -l ttl -d 'TTL / hop limit of the probes' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s W -l wait -d 'Seconds to wait for each reply' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s w -l deadline -d 'Deadline: stop after this many seconds whatever the count' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s I -l interface -d 'Source interface name or source address' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -l max-loss -d 'Loss percentage above which the exit status is 1 (default: 100, only total loss fails)' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s M -d 'Path MTU discovery, as iputils: do (DF, never fragment), want (DF while it fits), dont (fragment), probe (DF, learnt PMTU ignored)' -r -f -a "do\t''
want\t''
dont\t''
probe\t''"
complete -c netdx -n "__fish_netdx_using_subcommand ping" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s q -l quiet -d 'Quiet: only the summary and the diagnosis'
complete -c netdx -n "__fish_netdx_using_subcommand ping" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand ping" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand ping" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand ping" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s p -l port -d 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s f -l first -d 'TTL of the first hop probed' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s m -l max-hops -d 'Largest TTL probed (the hop limit of the trace)' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s w -l wait -d 'Seconds to wait for each probe\'s answer' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l asn-zone -d 'Zone the AS lookups ask under (default origin.asn.cymru.com, origin6.asn.cymru.com for IPv6); names are asked as AS<n> under it, less a leading origin/origin6 label' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l geoip -d 'Offline MaxMind / IPinfo database (.mmdb) giving each hop\'s AS number, AS name and country' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l asn-server -d 'DNS server for the AS lookups (default: the first in resolv.conf)' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l format -d 'Print the final report as a CSV or Markdown table instead of text (mtr: implies --report)' -r -f -a "csv\t'Comma-separated values, one header line (RFC 4180 quoting)'
markdown\t'A GitHub-flavoured Markdown table, then the diagnoses as a list'"
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s q -l queries -d 'Probes per hop' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s N -l sim-queries -d 'Probes in flight at once (by default every probe of every TTL goes out together, so a silent tail costs one wait)' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l flows -d 'Paris flows to run side by side (1-16, with --udp or --tcp): each keeps its own source port for every probe, so a load-balanced path shows each branch per hop' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s s -l source -d 'Source address the probes leave from (traceroute\'s -s); must be configured on this host' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s i -l interface -d 'Interface the probes leave through, SO_BINDTODEVICE (traceroute\'s -i)' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s I -l icmp -d 'ICMP echo probes (the default)'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s U -l udp -d 'UDP probes to port 33434 and up, as classic traceroute (no root needed)'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s T -l tcp -d 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s n -l numeric -d 'Numeric output: no reverse DNS names'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l asn -d 'Look up each hop\'s origin AS and the AS name over DNS TXT, as mtr -z does'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l mtu -d 'Discover the path MTU with DF echo probes and show it per hop (F=N), as traceroute --mtu / tracepath'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s F -l dont-fragment -d 'Set DF: a probe larger than a link is not fragmented, its router answers Frag Needed / Packet Too Big (traceroute\'s -F)'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand trace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s p -l port -d 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s f -l first -d 'TTL of the first hop probed' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s m -l max-hops -d 'Largest TTL probed (the hop limit of the trace)' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s w -l wait -d 'Seconds to wait for each probe\'s answer' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l asn-zone -d 'Zone the AS lookups ask under (default origin.asn.cymru.com, origin6.asn.cymru.com for IPv6); names are asked as AS<n> under it, less a leading origin/origin6 label' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l geoip -d 'Offline MaxMind / IPinfo database (.mmdb) giving each hop\'s AS number, AS name and country' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l asn-server -d 'DNS server for the AS lookups (default: the first in resolv.conf)' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l format -d 'Print the final report as a CSV or Markdown table instead of text (mtr: implies --report)' -r -f -a "csv\t'Comma-separated values, one header line (RFC 4180 quoting)'
markdown\t'A GitHub-flavoured Markdown table, then the diagnoses as a list'"
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s c -l count -d 'Rounds to send (default: 10 with --report/--pathping or off a terminal, else until Ctrl-C)' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s i -l interval -d 'Seconds between rounds (below 1 needs root, like mtr; at least 0.01)' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l max-loss -d 'Loss percentage at the destination above which the exit status is 1 (default: only total loss fails)' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s a -l address -l source -d 'Source address the probes leave from (mtr\'s -a); must be configured on this host' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l interface -d 'Interface the probes leave through, SO_BINDTODEVICE (mtr\'s -I; here -I is --icmp)' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l flows -d 'Paris flows per round (1-16, with --udp or --tcp): each hop lists every branch the flows met, and path.ecmp says where the path splits' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s I -l icmp -d 'ICMP echo probes (the default)'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s U -l udp -d 'UDP probes to port 33434 and up, as classic traceroute (no root needed)'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s T -l tcp -d 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s n -l numeric -d 'Numeric output: no reverse DNS names'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l asn -d 'Look up each hop\'s origin AS and the AS name over DNS TXT, as mtr -z does'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s r -l report -d 'Print only the final table, as `mtr -r`'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l pathping -d 'Print the Windows pathping layout: loss at each node and on each link (not with --report: one layout or the other)'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand mtr" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -s t -l type -d 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA' -r -f -a "A\t''
AAAA\t''
MX\t''
TXT\t''
NS\t''
SOA\t''
CNAME\t''
PTR\t''
SRV\t''
CAA\t''"
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l server -d 'Server to ask, `ADDR` or `ADDR:PORT` / `[V6]:PORT` (repeatable; tried in order)' -r
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l resolv-conf -d 'Read the system resolver settings from this file instead of /etc/resolv.conf' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand dns" -s f -l file -d 'Read names from this file, one per line (`#` starts a comment)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l concurrency -d 'How many questions may be in flight at once' -r
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l bufsize -d 'EDNS UDP buffer size to advertise (dig\'s +bufsize)' -r
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l ca-file -d 'Trust the CA certificates in this PEM file instead of the system\'s (--tls/--https)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l tls-name -d 'Check the server certificate against this name instead of the server\'s address or URL host' -r
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l trust-anchor -d 'DS or DNSKEY records in zone-file format to validate from instead of the root (implies --dnssec; a bad file exits 2)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l root-hints -d 'Root servers for --trace, named.root format (default: IANA\'s built-in list)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l all -d 'Ask for the common set: A, AAAA, CNAME, MX, NS, SOA, TXT, SRV, CAA'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l tcp -d 'Ask over TCP only (default: UDP, then TCP when the answer is truncated)'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l short -d 'Print only the answer data, like `dig +short`'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l compare -d 'Ask the system resolver and every given server, and report where they differ'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l no-edns -d 'Send no EDNS record (answers over 512 bytes then come back truncated)'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l no-search -d 'Do not apply the resolv.conf search domains (like `dig +nosearch`)'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l tls -d 'Ask over DNS over TLS (RFC 7858; port 853 unless @SERVER:PORT says otherwise)'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l https -d 'Ask over DNS over HTTPS (RFC 8484): `@SERVER` means https://SERVER/dns-query; `@https://HOST[:PORT]/PATH` gives the URL (and implies --https)'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l dnssec -d 'Validate the answers with DNSSEC from the root KSK (or --trust-anchor), showing the chain of trust; bogus exits 1'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l trace -d 'Resolve iteratively from the root servers, like `dig +trace`: each step\'s server, referral, glue and time, then every listed server of each zone checked'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand dns" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -s t -l type -d 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA' -r -f -a "A\t''
AAAA\t''
MX\t''
TXT\t''
NS\t''
SOA\t''
CNAME\t''
PTR\t''
SRV\t''
CAA\t''"
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l server -d 'Server to ask, `ADDR` or `ADDR:PORT` / `[V6]:PORT` (repeatable; tried in order)' -r
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l resolv-conf -d 'Read the system resolver settings from this file instead of /etc/resolv.conf' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -s f -l file -d 'Read names from this file, one per line (`#` starts a comment)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l concurrency -d 'How many questions may be in flight at once' -r
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l bufsize -d 'EDNS UDP buffer size to advertise (dig\'s +bufsize)' -r
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l ca-file -d 'Trust the CA certificates in this PEM file instead of the system\'s (--tls/--https)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l tls-name -d 'Check the server certificate against this name instead of the server\'s address or URL host' -r
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l trust-anchor -d 'DS or DNSKEY records in zone-file format to validate from instead of the root (implies --dnssec; a bad file exits 2)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l root-hints -d 'Root servers for --trace, named.root format (default: IANA\'s built-in list)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l all -d 'Ask for the common set: A, AAAA, CNAME, MX, NS, SOA, TXT, SRV, CAA'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l tcp -d 'Ask over TCP only (default: UDP, then TCP when the answer is truncated)'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l short -d 'Print only the answer data, like `dig +short`'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l compare -d 'Ask the system resolver and every given server, and report where they differ'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l no-edns -d 'Send no EDNS record (answers over 512 bytes then come back truncated)'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l no-search -d 'Do not apply the resolv.conf search domains (like `dig +nosearch`)'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l tls -d 'Ask over DNS over TLS (RFC 7858; port 853 unless @SERVER:PORT says otherwise)'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l https -d 'Ask over DNS over HTTPS (RFC 8484): `@SERVER` means https://SERVER/dns-query; `@https://HOST[:PORT]/PATH` gives the URL (and implies --https)'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l dnssec -d 'Validate the answers with DNSSEC from the root KSK (or --trust-anchor), showing the chain of trust; bogus exits 1'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l trace -d 'Resolve iteratively from the root servers, like `dig +trace`: each step\'s server, referral, glue and time, then every listed server of each zone checked'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand lookup" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s f -l file -d 'Read more targets from FILE (whitespace-separated, # comments; - is stdin)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s p -l ports -d 'Ports for targets given without one (80,443 or 8000-8100)' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s c -l count -d 'Connect attempts per target (tcping style), with connect-time statistics' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s i -l interval -d 'Seconds between the attempts to one target' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s W -l wait -d 'Seconds to wait for each connect (--timeout also sets it; default 2; in scans of more than 32 targets, from the round trips the host showed on other ports, 0.1 to 2, with a second try)' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l parallel -d 'Connects in flight at once, fixed (capped by the open-files limit); without it the window adapts: from 256, growing while answers come and halving on timeouts' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l expect -d 'What the targets must be for exit status 0 (closed: firewall audits)' -r -f -a "open\t'Every probe must connect'
closed\t'No probe may connect (refused, filtered or unreachable all pass)'"
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l keepalive -d 'With --hold: keepalive timing IDLE,INTVL,COUNT in seconds (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT)' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l user-timeout -d 'With --hold: TCP_USER_TIMEOUT in seconds (unacknowledged data or probes kill the connection after it)' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l send-every -d 'With --hold: send one byte of data every SECS (for peers and middleboxes that expect traffic)' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l duration -d 'With --hold: stop after SECS with exit 0 if the connection is still alive (default: hold until it dies or Ctrl-C)' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l banner -d 'After connecting, read and show what the server sends first (SSH, SMTP, FTP…)'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s a -l all -d 'List every target, also when many failed the same way'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l hold -d 'Connect to one target and hold the connection: show TCP_INFO while it waits and say how it ends (peer closed, reset, keepalive or user timeout)'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand tcp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l port -d 'Who owns this port (local or remote, like `lsof -i :PORT`): processes, listen queue, connections' -r
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l pid -d 'Only the sockets held by this process id' -r
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l process -d 'Only the sockets held by processes with this program name (/proc/PID/comm)' -r
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l source -d 'Where to read sockets: netlink sock_diag (as ss), /proc/net/tcp (as netstat), or auto (netlink, /proc if it fails)' -r -f -a "auto\t'Netlink, falling back to /proc when netlink fails'
netlink\t'NETLINK_SOCK_DIAG only'
proc\t'/proc/net/tcp and /proc/net/tcp6 only'"
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l watch -d 'Sample every SECS seconds (default 1) and show counts and counter rates changing' -r
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -s c -l count -d 'With --watch: stop after this many samples' -r
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l top -d 'Rows in the per-port and per-peer tables' -r
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -s p -l processes -d 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l all -d 'List every connection in the --port/--pid/--process view (default: the first 50)'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l timers -d 'List the connections with a timer pending, like `ss -o`: on (retransmit), keepalive, timewait or persist (zero-window probe), with the time left and the retransmissions or probes sent'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand sockets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l port -d 'Who owns this port (local or remote, like `lsof -i :PORT`): processes, listen queue, connections' -r
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l pid -d 'Only the sockets held by this process id' -r
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l process -d 'Only the sockets held by processes with this program name (/proc/PID/comm)' -r
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l source -d 'Where to read sockets: netlink sock_diag (as ss), /proc/net/tcp (as netstat), or auto (netlink, /proc if it fails)' -r -f -a "auto\t'Netlink, falling back to /proc when netlink fails'
netlink\t'NETLINK_SOCK_DIAG only'
proc\t'/proc/net/tcp and /proc/net/tcp6 only'"
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l watch -d 'Sample every SECS seconds (default 1) and show counts and counter rates changing' -r
complete -c netdx -n "__fish_netdx_using_subcommand ss" -s c -l count -d 'With --watch: stop after this many samples' -r
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l top -d 'Rows in the per-port and per-peer tables' -r
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand ss" -s p -l processes -d 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l all -d 'List every connection in the --port/--pid/--process view (default: the first 50)'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l timers -d 'List the connections with a timer pending, like `ss -o`: on (retransmit), keepalive, timewait or persist (zero-window probe), with the time left and the retransmissions or probes sent'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand ss" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netdx -n "__fish_netdx_using_subcommand explain" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand explain" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand explain" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand explain" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand explain" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand explain" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand explain" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand check" -l parallel -d 'How many checks run at once' -r
complete -c netdx -n "__fish_netdx_using_subcommand check" -l check-timeout -d 'Longest a single check may run; one still running then is killed and reported as failed' -r
complete -c netdx -n "__fish_netdx_using_subcommand check" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand check" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand check" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand check" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand check" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand check" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand check" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l listen -d 'Address and port to listen on (9469 is netdx\'s own; blackbox_exporter uses 9115)' -r
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l allow -d 'Networks /probe may reach (repeatable); a target resolving elsewhere gets 403. Without any, every target is allowed' -r
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l config -d 'TOML file naming modules and their options (`[modules.NAME] prober = "icmp" …`)' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l max-concurrent -d 'Most probes running at once; more wait for a slot until their timeout' -r
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l timeout-offset -d 'Seconds subtracted from Prometheus\'s scrape timeout to leave time for the reply' -r
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l checks -d 'A `netdx check` file run in the background; each line\'s last result is on /metrics' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l checks-interval -d 'Seconds between runs of the --checks file (each line is stopped after this long)' -r
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l web.config.file -d 'Web configuration file in the Prometheus exporters\' format (YAML): `basic_auth_users` (bcrypt hashes) and `tls_server_config`' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l config-check -d 'Check the config file (and the other flags), print what it defines, and exit'
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand serve" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand serve" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand serve" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand serve" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s i -l interface -d 'Interface to capture on (default: every interface, like `-i any`)' -r
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s w -l write -d 'Write the packets to this pcap file instead of showing them' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s r -l read -d 'Read packets from a pcap or pcapng file instead of the network' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s c -l count -d 'Stop after this many packets' -r
complete -c netdx -n "__fish_netdx_using_subcommand watch" -l duration -d 'Stop after this many seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s s -l snaplen -d 'Bytes kept of each packet (tcpdump\'s -s; 0 means the maximum, 262144)' -r
complete -c netdx -n "__fish_netdx_using_subcommand watch" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s v -l verbose -d 'Verbose packet lines: IP header fields too (TTL, id, length, flags)'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -l packets -d 'Print a line per packet like `tcpdump -n` (default: the per-connection view)'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand watch" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s i -l interface -d 'Interface to capture on (default: every interface, like `-i any`)' -r
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s w -l write -d 'Write the packets to this pcap file instead of showing them' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s r -l read -d 'Read packets from a pcap or pcapng file instead of the network' -r -F
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s c -l count -d 'Stop after this many packets' -r
complete -c netdx -n "__fish_netdx_using_subcommand capture" -l duration -d 'Stop after this many seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s s -l snaplen -d 'Bytes kept of each packet (tcpdump\'s -s; 0 means the maximum, 262144)' -r
complete -c netdx -n "__fish_netdx_using_subcommand capture" -l timeout -d 'Overall time limit per probe or query, in seconds' -r
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s v -l verbose -d 'Verbose packet lines: IP header fields too (TTL, id, length, flags)'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -l packets -d 'Print a line per packet like `tcpdump -n` (default: the per-connection view)'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -l json -d 'Print one JSON document when the command ends'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -l jsonl -d 'Print one JSON object per event as it happens'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s 4 -d 'Use IPv4 only'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s 6 -d 'Use IPv6 only'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -l no-color -d 'Never use ANSI colour (also honoured: NO_COLOR)'
complete -c netdx -n "__fish_netdx_using_subcommand capture" -s h -l help -d 'Print help'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "ping" -d 'ICMP echo with reply TTL, hop inference and a diagnosis (replaces ping)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "trace" -d 'Hop-by-hop path with ICMP, UDP or TCP probes (replaces traceroute)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "mtr" -d 'Repeated traces with per-hop loss and latency (replaces mtr, pathping)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "dns" -d 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "tcp" -d 'TCP connect probes with errno diagnoses (replaces nc -z, tcping)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "sockets" -d 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "explain" -d 'Explains an errno, TCP state, ICMP type/code or TCP flag'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "check" -d 'Runs many checks from a file concurrently (replaces shell loops of the above)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "serve" -d 'Prometheus exporter: /probe runs icmp, tcp, dns and mtr probes with diagnoses as labels'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "watch" -d 'Packet capture with tcpdump filters, pcap in and out, per-connection diagnoses (replaces tcpdump)'
complete -c netdx -n "__fish_netdx_using_subcommand help; and not __fish_seen_subcommand_from ping trace mtr dns tcp sockets explain check serve watch help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
