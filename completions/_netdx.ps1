
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'netdx' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'netdx'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'netdx' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'ICMP echo with reply TTL, hop inference and a diagnosis (replaces ping)')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Hop-by-hop path with ICMP, UDP or TCP probes (replaces traceroute)')
            [CompletionResult]::new('mtr', 'mtr', [CompletionResultType]::ParameterValue, 'Repeated traces with per-hop loss and latency (replaces mtr, pathping)')
            [CompletionResult]::new('dns', 'dns', [CompletionResultType]::ParameterValue, 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)')
            [CompletionResult]::new('lookup', 'lookup', [CompletionResultType]::ParameterValue, 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)')
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'TCP connect probes with errno diagnoses (replaces nc -z, tcping)')
            [CompletionResult]::new('sockets', 'sockets', [CompletionResultType]::ParameterValue, 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)')
            [CompletionResult]::new('ss', 'ss', [CompletionResultType]::ParameterValue, 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explains an errno, TCP state, ICMP type/code or TCP flag')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Runs many checks from a file concurrently (replaces shell loops of the above)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Prometheus exporter: /probe runs icmp, tcp, dns and mtr probes with diagnoses as labels')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Packet capture with tcpdump filters, pcap in and out, per-connection diagnoses (replaces tcpdump)')
            [CompletionResult]::new('capture', 'capture', [CompletionResultType]::ParameterValue, 'Packet capture with tcpdump filters, pcap in and out, per-connection diagnoses (replaces tcpdump)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'netdx;ping' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Stop after sending this many probes')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after sending this many probes')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Seconds between probes (below 0.2 needs root, like iputils)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Seconds between probes (below 0.2 needs root, like iputils)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'ICMP payload bytes (default 56, i.e. 64 bytes of ICMP)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'ICMP payload bytes (default 56, i.e. 64 bytes of ICMP)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'TTL / hop limit of the probes')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'TTL / hop limit of the probes')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Seconds to wait for each reply')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Seconds to wait for each reply')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Deadline: stop after this many seconds whatever the count')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'Deadline: stop after this many seconds whatever the count')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Source interface name or source address')
            [CompletionResult]::new('--interface', '--interface', [CompletionResultType]::ParameterName, 'Source interface name or source address')
            [CompletionResult]::new('--max-loss', '--max-loss', [CompletionResultType]::ParameterName, 'Loss percentage above which the exit status is 1 (default: 100, only total loss fails)')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Path MTU discovery, as iputils: do (DF, never fragment), want (DF while it fits), dont (fragment), probe (DF, learnt PMTU ignored)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quiet: only the summary and the diagnosis')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Quiet: only the summary and the diagnosis')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;trace' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'TTL of the first hop probed')
            [CompletionResult]::new('--first', '--first', [CompletionResultType]::ParameterName, 'TTL of the first hop probed')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Largest TTL probed (the hop limit of the trace)')
            [CompletionResult]::new('--max-hops', '--max-hops', [CompletionResultType]::ParameterName, 'Largest TTL probed (the hop limit of the trace)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Seconds to wait for each probe''s answer')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Seconds to wait for each probe''s answer')
            [CompletionResult]::new('--asn-zone', '--asn-zone', [CompletionResultType]::ParameterName, 'Zone the AS lookups ask under (default origin.asn.cymru.com, origin6.asn.cymru.com for IPv6); names are asked as AS<n> under it, less a leading origin/origin6 label')
            [CompletionResult]::new('--geoip', '--geoip', [CompletionResultType]::ParameterName, 'Offline MaxMind / IPinfo database (.mmdb) giving each hop''s AS number, AS name and country')
            [CompletionResult]::new('--asn-server', '--asn-server', [CompletionResultType]::ParameterName, 'DNS server for the AS lookups (default: the first in resolv.conf)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Print the final report as a CSV or Markdown table instead of text (mtr: implies --report)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Probes per hop')
            [CompletionResult]::new('--queries', '--queries', [CompletionResultType]::ParameterName, 'Probes per hop')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Probes in flight at once (by default every probe of every TTL goes out together, so a silent tail costs one wait)')
            [CompletionResult]::new('--sim-queries', '--sim-queries', [CompletionResultType]::ParameterName, 'Probes in flight at once (by default every probe of every TTL goes out together, so a silent tail costs one wait)')
            [CompletionResult]::new('--flows', '--flows', [CompletionResultType]::ParameterName, 'Paris flows to run side by side (1-16, with --udp or --tcp): each keeps its own source port for every probe, so a load-balanced path shows each branch per hop')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Source address the probes leave from (traceroute''s -s); must be configured on this host')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Source address the probes leave from (traceroute''s -s); must be configured on this host')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Interface the probes leave through, SO_BINDTODEVICE (traceroute''s -i)')
            [CompletionResult]::new('--interface', '--interface', [CompletionResultType]::ParameterName, 'Interface the probes leave through, SO_BINDTODEVICE (traceroute''s -i)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'ICMP echo probes (the default)')
            [CompletionResult]::new('--icmp', '--icmp', [CompletionResultType]::ParameterName, 'ICMP echo probes (the default)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'UDP probes to port 33434 and up, as classic traceroute (no root needed)')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP probes to port 33434 and up, as classic traceroute (no root needed)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric output: no reverse DNS names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric output: no reverse DNS names')
            [CompletionResult]::new('--asn', '--asn', [CompletionResultType]::ParameterName, 'Look up each hop''s origin AS and the AS name over DNS TXT, as mtr -z does')
            [CompletionResult]::new('--mtu', '--mtu', [CompletionResultType]::ParameterName, 'Discover the path MTU with DF echo probes and show it per hop (F=N), as traceroute --mtu / tracepath')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Set DF: a probe larger than a link is not fragmented, its router answers Frag Needed / Packet Too Big (traceroute''s -F)')
            [CompletionResult]::new('--dont-fragment', '--dont-fragment', [CompletionResultType]::ParameterName, 'Set DF: a probe larger than a link is not fragmented, its router answers Frag Needed / Packet Too Big (traceroute''s -F)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netdx;mtr' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'TTL of the first hop probed')
            [CompletionResult]::new('--first', '--first', [CompletionResultType]::ParameterName, 'TTL of the first hop probed')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Largest TTL probed (the hop limit of the trace)')
            [CompletionResult]::new('--max-hops', '--max-hops', [CompletionResultType]::ParameterName, 'Largest TTL probed (the hop limit of the trace)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Seconds to wait for each probe''s answer')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Seconds to wait for each probe''s answer')
            [CompletionResult]::new('--asn-zone', '--asn-zone', [CompletionResultType]::ParameterName, 'Zone the AS lookups ask under (default origin.asn.cymru.com, origin6.asn.cymru.com for IPv6); names are asked as AS<n> under it, less a leading origin/origin6 label')
            [CompletionResult]::new('--geoip', '--geoip', [CompletionResultType]::ParameterName, 'Offline MaxMind / IPinfo database (.mmdb) giving each hop''s AS number, AS name and country')
            [CompletionResult]::new('--asn-server', '--asn-server', [CompletionResultType]::ParameterName, 'DNS server for the AS lookups (default: the first in resolv.conf)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Print the final report as a CSV or Markdown table instead of text (mtr: implies --report)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Rounds to send (default: 10 with --report/--pathping or off a terminal, else until Ctrl-C)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Rounds to send (default: 10 with --report/--pathping or off a terminal, else until Ctrl-C)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Seconds between rounds (below 1 needs root, like mtr; at least 0.01)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Seconds between rounds (below 1 needs root, like mtr; at least 0.01)')
            [CompletionResult]::new('--max-loss', '--max-loss', [CompletionResultType]::ParameterName, 'Loss percentage at the destination above which the exit status is 1 (default: only total loss fails)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Source address the probes leave from (mtr''s -a); must be configured on this host')
            [CompletionResult]::new('--address', '--address', [CompletionResultType]::ParameterName, 'Source address the probes leave from (mtr''s -a); must be configured on this host')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Source address the probes leave from (mtr''s -a); must be configured on this host')
            [CompletionResult]::new('--interface', '--interface', [CompletionResultType]::ParameterName, 'Interface the probes leave through, SO_BINDTODEVICE (mtr''s -I; here -I is --icmp)')
            [CompletionResult]::new('--flows', '--flows', [CompletionResultType]::ParameterName, 'Paris flows per round (1-16, with --udp or --tcp): each hop lists every branch the flows met, and path.ecmp says where the path splits')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'ICMP echo probes (the default)')
            [CompletionResult]::new('--icmp', '--icmp', [CompletionResultType]::ParameterName, 'ICMP echo probes (the default)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'UDP probes to port 33434 and up, as classic traceroute (no root needed)')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP probes to port 33434 and up, as classic traceroute (no root needed)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric output: no reverse DNS names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric output: no reverse DNS names')
            [CompletionResult]::new('--asn', '--asn', [CompletionResultType]::ParameterName, 'Look up each hop''s origin AS and the AS name over DNS TXT, as mtr -z does')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Print only the final table, as `mtr -r`')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Print only the final table, as `mtr -r`')
            [CompletionResult]::new('--pathping', '--pathping', [CompletionResultType]::ParameterName, 'Print the Windows pathping layout: loss at each node and on each link (not with --report: one layout or the other)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netdx;dns' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server to ask, `ADDR` or `ADDR:PORT` / `[V6]:PORT` (repeatable; tried in order)')
            [CompletionResult]::new('--resolv-conf', '--resolv-conf', [CompletionResultType]::ParameterName, 'Read the system resolver settings from this file instead of /etc/resolv.conf')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read names from this file, one per line (`#` starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read names from this file, one per line (`#` starts a comment)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many questions may be in flight at once')
            [CompletionResult]::new('--bufsize', '--bufsize', [CompletionResultType]::ParameterName, 'EDNS UDP buffer size to advertise (dig''s +bufsize)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file instead of the system''s (--tls/--https)')
            [CompletionResult]::new('--tls-name', '--tls-name', [CompletionResultType]::ParameterName, 'Check the server certificate against this name instead of the server''s address or URL host')
            [CompletionResult]::new('--trust-anchor', '--trust-anchor', [CompletionResultType]::ParameterName, 'DS or DNSKEY records in zone-file format to validate from instead of the root (implies --dnssec; a bad file exits 2)')
            [CompletionResult]::new('--root-hints', '--root-hints', [CompletionResultType]::ParameterName, 'Root servers for --trace, named.root format (default: IANA''s built-in list)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Ask for the common set: A, AAAA, CNAME, MX, NS, SOA, TXT, SRV, CAA')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'Ask over TCP only (default: UDP, then TCP when the answer is truncated)')
            [CompletionResult]::new('--short', '--short', [CompletionResultType]::ParameterName, 'Print only the answer data, like `dig +short`')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Ask the system resolver and every given server, and report where they differ')
            [CompletionResult]::new('--no-edns', '--no-edns', [CompletionResultType]::ParameterName, 'Send no EDNS record (answers over 512 bytes then come back truncated)')
            [CompletionResult]::new('--no-search', '--no-search', [CompletionResultType]::ParameterName, 'Do not apply the resolv.conf search domains (like `dig +nosearch`)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Ask over DNS over TLS (RFC 7858; port 853 unless @SERVER:PORT says otherwise)')
            [CompletionResult]::new('--https', '--https', [CompletionResultType]::ParameterName, 'Ask over DNS over HTTPS (RFC 8484): `@SERVER` means https://SERVER/dns-query; `@https://HOST[:PORT]/PATH` gives the URL (and implies --https)')
            [CompletionResult]::new('--dnssec', '--dnssec', [CompletionResultType]::ParameterName, 'Validate the answers with DNSSEC from the root KSK (or --trust-anchor), showing the chain of trust; bogus exits 1')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Resolve iteratively from the root servers, like `dig +trace`: each step''s server, referral, glue and time, then every listed server of each zone checked')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;lookup' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server to ask, `ADDR` or `ADDR:PORT` / `[V6]:PORT` (repeatable; tried in order)')
            [CompletionResult]::new('--resolv-conf', '--resolv-conf', [CompletionResultType]::ParameterName, 'Read the system resolver settings from this file instead of /etc/resolv.conf')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read names from this file, one per line (`#` starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read names from this file, one per line (`#` starts a comment)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many questions may be in flight at once')
            [CompletionResult]::new('--bufsize', '--bufsize', [CompletionResultType]::ParameterName, 'EDNS UDP buffer size to advertise (dig''s +bufsize)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust the CA certificates in this PEM file instead of the system''s (--tls/--https)')
            [CompletionResult]::new('--tls-name', '--tls-name', [CompletionResultType]::ParameterName, 'Check the server certificate against this name instead of the server''s address or URL host')
            [CompletionResult]::new('--trust-anchor', '--trust-anchor', [CompletionResultType]::ParameterName, 'DS or DNSKEY records in zone-file format to validate from instead of the root (implies --dnssec; a bad file exits 2)')
            [CompletionResult]::new('--root-hints', '--root-hints', [CompletionResultType]::ParameterName, 'Root servers for --trace, named.root format (default: IANA''s built-in list)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Ask for the common set: A, AAAA, CNAME, MX, NS, SOA, TXT, SRV, CAA')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'Ask over TCP only (default: UDP, then TCP when the answer is truncated)')
            [CompletionResult]::new('--short', '--short', [CompletionResultType]::ParameterName, 'Print only the answer data, like `dig +short`')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Ask the system resolver and every given server, and report where they differ')
            [CompletionResult]::new('--no-edns', '--no-edns', [CompletionResultType]::ParameterName, 'Send no EDNS record (answers over 512 bytes then come back truncated)')
            [CompletionResult]::new('--no-search', '--no-search', [CompletionResultType]::ParameterName, 'Do not apply the resolv.conf search domains (like `dig +nosearch`)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Ask over DNS over TLS (RFC 7858; port 853 unless @SERVER:PORT says otherwise)')
            [CompletionResult]::new('--https', '--https', [CompletionResultType]::ParameterName, 'Ask over DNS over HTTPS (RFC 8484): `@SERVER` means https://SERVER/dns-query; `@https://HOST[:PORT]/PATH` gives the URL (and implies --https)')
            [CompletionResult]::new('--dnssec', '--dnssec', [CompletionResultType]::ParameterName, 'Validate the answers with DNSSEC from the root KSK (or --trust-anchor), showing the chain of trust; bogus exits 1')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Resolve iteratively from the root servers, like `dig +trace`: each step''s server, referral, glue and time, then every listed server of each zone checked')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;tcp' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read more targets from FILE (whitespace-separated, # comments; - is stdin)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read more targets from FILE (whitespace-separated, # comments; - is stdin)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Ports for targets given without one (80,443 or 8000-8100)')
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'Ports for targets given without one (80,443 or 8000-8100)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Connect attempts per target (tcping style), with connect-time statistics')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Connect attempts per target (tcping style), with connect-time statistics')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Seconds between the attempts to one target')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Seconds between the attempts to one target')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Seconds to wait for each connect (--timeout also sets it; default 2; in scans of more than 32 targets, from the round trips the host showed on other ports, 0.1 to 2, with a second try)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Seconds to wait for each connect (--timeout also sets it; default 2; in scans of more than 32 targets, from the round trips the host showed on other ports, 0.1 to 2, with a second try)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Connects in flight at once, fixed (capped by the open-files limit); without it the window adapts: from 256, growing while answers come and halving on timeouts')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'What the targets must be for exit status 0 (closed: firewall audits)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'With --hold: keepalive timing IDLE,INTVL,COUNT in seconds (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT)')
            [CompletionResult]::new('--user-timeout', '--user-timeout', [CompletionResultType]::ParameterName, 'With --hold: TCP_USER_TIMEOUT in seconds (unacknowledged data or probes kill the connection after it)')
            [CompletionResult]::new('--send-every', '--send-every', [CompletionResultType]::ParameterName, 'With --hold: send one byte of data every SECS (for peers and middleboxes that expect traffic)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'With --hold: stop after SECS with exit 0 if the connection is still alive (default: hold until it dies or Ctrl-C)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('--banner', '--banner', [CompletionResultType]::ParameterName, 'After connecting, read and show what the server sends first (SSH, SMTP, FTP…)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'List every target, also when many failed the same way')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List every target, also when many failed the same way')
            [CompletionResult]::new('--hold', '--hold', [CompletionResultType]::ParameterName, 'Connect to one target and hold the connection: show TCP_INFO while it waits and say how it ends (peer closed, reset, keepalive or user timeout)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netdx;sockets' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Who owns this port (local or remote, like `lsof -i :PORT`): processes, listen queue, connections')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Only the sockets held by this process id')
            [CompletionResult]::new('--process', '--process', [CompletionResultType]::ParameterName, 'Only the sockets held by processes with this program name (/proc/PID/comm)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Where to read sockets: netlink sock_diag (as ss), /proc/net/tcp (as netstat), or auto (netlink, /proc if it fails)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Sample every SECS seconds (default 1) and show counts and counter rates changing')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'With --watch: stop after this many samples')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'With --watch: stop after this many samples')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Rows in the per-port and per-peer tables')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)')
            [CompletionResult]::new('--processes', '--processes', [CompletionResultType]::ParameterName, 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List every connection in the --port/--pid/--process view (default: the first 50)')
            [CompletionResult]::new('--timers', '--timers', [CompletionResultType]::ParameterName, 'List the connections with a timer pending, like `ss -o`: on (retransmit), keepalive, timewait or persist (zero-window probe), with the time left and the retransmissions or probes sent')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netdx;ss' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Who owns this port (local or remote, like `lsof -i :PORT`): processes, listen queue, connections')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Only the sockets held by this process id')
            [CompletionResult]::new('--process', '--process', [CompletionResultType]::ParameterName, 'Only the sockets held by processes with this program name (/proc/PID/comm)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Where to read sockets: netlink sock_diag (as ss), /proc/net/tcp (as netstat), or auto (netlink, /proc if it fails)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Sample every SECS seconds (default 1) and show counts and counter rates changing')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'With --watch: stop after this many samples')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'With --watch: stop after this many samples')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Rows in the per-port and per-peer tables')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)')
            [CompletionResult]::new('--processes', '--processes', [CompletionResultType]::ParameterName, 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List every connection in the --port/--pid/--process view (default: the first 50)')
            [CompletionResult]::new('--timers', '--timers', [CompletionResultType]::ParameterName, 'List the connections with a timer pending, like `ss -o`: on (retransmit), keepalive, timewait or persist (zero-window probe), with the time left and the retransmissions or probes sent')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'netdx;explain' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;check' {
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'How many checks run at once')
            [CompletionResult]::new('--check-timeout', '--check-timeout', [CompletionResultType]::ParameterName, 'Longest a single check may run; one still running then is killed and reported as failed')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address and port to listen on (9469 is netdx''s own; blackbox_exporter uses 9115)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Networks /probe may reach (repeatable); a target resolving elsewhere gets 403. Without any, every target is allowed')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'TOML file naming modules and their options (`[modules.NAME] prober = "icmp" …`)')
            [CompletionResult]::new('--max-concurrent', '--max-concurrent', [CompletionResultType]::ParameterName, 'Most probes running at once; more wait for a slot until their timeout')
            [CompletionResult]::new('--timeout-offset', '--timeout-offset', [CompletionResultType]::ParameterName, 'Seconds subtracted from Prometheus''s scrape timeout to leave time for the reply')
            [CompletionResult]::new('--checks', '--checks', [CompletionResultType]::ParameterName, 'A `netdx check` file run in the background; each line''s last result is on /metrics')
            [CompletionResult]::new('--checks-interval', '--checks-interval', [CompletionResultType]::ParameterName, 'Seconds between runs of the --checks file (each line is stopped after this long)')
            [CompletionResult]::new('--web.config.file', '--web.config.file', [CompletionResultType]::ParameterName, 'Web configuration file in the Prometheus exporters'' format (YAML): `basic_auth_users` (bcrypt hashes) and `tls_server_config`')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('--config-check', '--config-check', [CompletionResultType]::ParameterName, 'Check the config file (and the other flags), print what it defines, and exit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;watch' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Interface to capture on (default: every interface, like `-i any`)')
            [CompletionResult]::new('--interface', '--interface', [CompletionResultType]::ParameterName, 'Interface to capture on (default: every interface, like `-i any`)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Write the packets to this pcap file instead of showing them')
            [CompletionResult]::new('--write', '--write', [CompletionResultType]::ParameterName, 'Write the packets to this pcap file instead of showing them')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Read packets from a pcap or pcapng file instead of the network')
            [CompletionResult]::new('--read', '--read', [CompletionResultType]::ParameterName, 'Read packets from a pcap or pcapng file instead of the network')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Stop after this many packets')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many packets')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this many seconds')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Bytes kept of each packet (tcpdump''s -s; 0 means the maximum, 262144)')
            [CompletionResult]::new('--snaplen', '--snaplen', [CompletionResultType]::ParameterName, 'Bytes kept of each packet (tcpdump''s -s; 0 means the maximum, 262144)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Verbose packet lines: IP header fields too (TTL, id, length, flags)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Verbose packet lines: IP header fields too (TTL, id, length, flags)')
            [CompletionResult]::new('--packets', '--packets', [CompletionResultType]::ParameterName, 'Print a line per packet like `tcpdump -n` (default: the per-connection view)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;capture' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Interface to capture on (default: every interface, like `-i any`)')
            [CompletionResult]::new('--interface', '--interface', [CompletionResultType]::ParameterName, 'Interface to capture on (default: every interface, like `-i any`)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Write the packets to this pcap file instead of showing them')
            [CompletionResult]::new('--write', '--write', [CompletionResultType]::ParameterName, 'Write the packets to this pcap file instead of showing them')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Read packets from a pcap or pcapng file instead of the network')
            [CompletionResult]::new('--read', '--read', [CompletionResultType]::ParameterName, 'Read packets from a pcap or pcapng file instead of the network')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Stop after this many packets')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many packets')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this many seconds')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Bytes kept of each packet (tcpdump''s -s; 0 means the maximum, 262144)')
            [CompletionResult]::new('--snaplen', '--snaplen', [CompletionResultType]::ParameterName, 'Bytes kept of each packet (tcpdump''s -s; 0 means the maximum, 262144)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time limit per probe or query, in seconds')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Verbose packet lines: IP header fields too (TTL, id, length, flags)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Verbose packet lines: IP header fields too (TTL, id, length, flags)')
            [CompletionResult]::new('--packets', '--packets', [CompletionResultType]::ParameterName, 'Print a line per packet like `tcpdump -n` (default: the per-connection view)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document when the command ends')
            [CompletionResult]::new('--jsonl', '--jsonl', [CompletionResultType]::ParameterName, 'Print one JSON object per event as it happens')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Never use ANSI colour (also honoured: NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'netdx;help' {
            [CompletionResult]::new('ping', 'ping', [CompletionResultType]::ParameterValue, 'ICMP echo with reply TTL, hop inference and a diagnosis (replaces ping)')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Hop-by-hop path with ICMP, UDP or TCP probes (replaces traceroute)')
            [CompletionResult]::new('mtr', 'mtr', [CompletionResultType]::ParameterValue, 'Repeated traces with per-hop loss and latency (replaces mtr, pathping)')
            [CompletionResult]::new('dns', 'dns', [CompletionResultType]::ParameterValue, 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)')
            [CompletionResult]::new('tcp', 'tcp', [CompletionResultType]::ParameterValue, 'TCP connect probes with errno diagnoses (replaces nc -z, tcping)')
            [CompletionResult]::new('sockets', 'sockets', [CompletionResultType]::ParameterValue, 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explains an errno, TCP state, ICMP type/code or TCP flag')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Runs many checks from a file concurrently (replaces shell loops of the above)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Prometheus exporter: /probe runs icmp, tcp, dns and mtr probes with diagnoses as labels')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Packet capture with tcpdump filters, pcap in and out, per-connection diagnoses (replaces tcpdump)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'netdx;help;ping' {
            break
        }
        'netdx;help;trace' {
            break
        }
        'netdx;help;mtr' {
            break
        }
        'netdx;help;dns' {
            break
        }
        'netdx;help;tcp' {
            break
        }
        'netdx;help;sockets' {
            break
        }
        'netdx;help;explain' {
            break
        }
        'netdx;help;check' {
            break
        }
        'netdx;help;serve' {
            break
        }
        'netdx;help;watch' {
            break
        }
        'netdx;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
