
use builtin;
use str;

set edit:completion:arg-completer[netdx] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'netdx'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'netdx'= {
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand ping 'ICMP echo with reply TTL, hop inference and a diagnosis (replaces ping)'
            cand trace 'Hop-by-hop path with ICMP, UDP or TCP probes (replaces traceroute)'
            cand mtr 'Repeated traces with per-hop loss and latency (replaces mtr, pathping)'
            cand dns 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)'
            cand lookup 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)'
            cand tcp 'TCP connect probes with errno diagnoses (replaces nc -z, tcping)'
            cand sockets 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)'
            cand ss 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)'
            cand explain 'Explains an errno, TCP state, ICMP type/code or TCP flag'
            cand check 'Runs many checks from a file concurrently (replaces shell loops of the above)'
            cand serve 'Prometheus exporter: /probe runs icmp, tcp, dns and mtr probes with diagnoses as labels'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netdx;ping'= {
            cand -c 'Stop after sending this many probes'
            cand --count 'Stop after sending this many probes'
            cand -i 'Seconds between probes (below 0.2 needs root, like iputils)'
            cand --interval 'Seconds between probes (below 0.2 needs root, like iputils)'
            cand -s 'ICMP payload bytes (default 56, i.e. 64 bytes of ICMP)'
            cand --size 'ICMP payload bytes (default 56, i.e. 64 bytes of ICMP)'
            cand -t 'TTL / hop limit of the probes'
            cand --ttl 'TTL / hop limit of the probes'
            cand -W 'Seconds to wait for each reply'
            cand --wait 'Seconds to wait for each reply'
            cand -w 'Deadline: stop after this many seconds whatever the count'
            cand --deadline 'Deadline: stop after this many seconds whatever the count'
            cand -I 'Source interface name or source address'
            cand --interface 'Source interface name or source address'
            cand --max-loss 'Loss percentage above which the exit status is 1 (default: 100, only total loss fails)'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand -q 'Quiet: only the summary and the diagnosis'
            cand --quiet 'Quiet: only the summary and the diagnosis'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;trace'= {
            cand -p 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)'
            cand --port 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)'
            cand -f 'TTL of the first hop probed'
            cand --first 'TTL of the first hop probed'
            cand -m 'Largest TTL probed (the hop limit of the trace)'
            cand --max-hops 'Largest TTL probed (the hop limit of the trace)'
            cand -w 'Seconds to wait for each probe''s answer'
            cand --wait 'Seconds to wait for each probe''s answer'
            cand -q 'Probes per hop'
            cand --queries 'Probes per hop'
            cand -N 'Probes in flight at once (all TTLs go out together up to this bound)'
            cand --sim-queries 'Probes in flight at once (all TTLs go out together up to this bound)'
            cand -s 'Source address the probes leave from (traceroute''s -s); must be configured on this host'
            cand --source 'Source address the probes leave from (traceroute''s -s); must be configured on this host'
            cand -i 'Interface the probes leave through, SO_BINDTODEVICE (traceroute''s -i)'
            cand --interface 'Interface the probes leave through, SO_BINDTODEVICE (traceroute''s -i)'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand -I 'ICMP echo probes (the default)'
            cand --icmp 'ICMP echo probes (the default)'
            cand -U 'UDP probes to port 33434 and up, as classic traceroute (no root needed)'
            cand --udp 'UDP probes to port 33434 and up, as classic traceroute (no root needed)'
            cand -T 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes'
            cand --tcp 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes'
            cand -n 'Numeric output: no reverse DNS names'
            cand --numeric 'Numeric output: no reverse DNS names'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;mtr'= {
            cand -p 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)'
            cand --port 'Port: destination port for --tcp (default 80), first port for --udp (default 33434)'
            cand -f 'TTL of the first hop probed'
            cand --first 'TTL of the first hop probed'
            cand -m 'Largest TTL probed (the hop limit of the trace)'
            cand --max-hops 'Largest TTL probed (the hop limit of the trace)'
            cand -w 'Seconds to wait for each probe''s answer'
            cand --wait 'Seconds to wait for each probe''s answer'
            cand -c 'Rounds to send (default: 10 with --report/--pathping or off a terminal, else until Ctrl-C)'
            cand --count 'Rounds to send (default: 10 with --report/--pathping or off a terminal, else until Ctrl-C)'
            cand -i 'Seconds between rounds (below 1 needs root, like mtr; at least 0.01)'
            cand --interval 'Seconds between rounds (below 1 needs root, like mtr; at least 0.01)'
            cand --max-loss 'Loss percentage at the destination above which the exit status is 1 (default: only total loss fails)'
            cand -a 'Source address the probes leave from (mtr''s -a); must be configured on this host'
            cand --address 'Source address the probes leave from (mtr''s -a); must be configured on this host'
            cand --source 'Source address the probes leave from (mtr''s -a); must be configured on this host'
            cand --interface 'Interface the probes leave through, SO_BINDTODEVICE (mtr''s -I; here -I is --icmp)'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand -I 'ICMP echo probes (the default)'
            cand --icmp 'ICMP echo probes (the default)'
            cand -U 'UDP probes to port 33434 and up, as classic traceroute (no root needed)'
            cand --udp 'UDP probes to port 33434 and up, as classic traceroute (no root needed)'
            cand -T 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes'
            cand --tcp 'TCP SYN probes (tcptraceroute); SYN-ACK or RST from the target = reached. Raw SYNs as root, else kernel connect() probes'
            cand -n 'Numeric output: no reverse DNS names'
            cand --numeric 'Numeric output: no reverse DNS names'
            cand -r 'Print only the final table, as `mtr -r`'
            cand --report 'Print only the final table, as `mtr -r`'
            cand --pathping 'Print the Windows pathping layout: loss at each node and on each link'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;dns'= {
            cand -t 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA'
            cand --type 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA'
            cand --server 'Server to ask, `ADDR` or `ADDR:PORT` / `[V6]:PORT` (repeatable; tried in order)'
            cand --resolv-conf 'Read the system resolver settings from this file instead of /etc/resolv.conf'
            cand -f 'Read names from this file, one per line (`#` starts a comment)'
            cand --file 'Read names from this file, one per line (`#` starts a comment)'
            cand --concurrency 'How many questions may be in flight at once'
            cand --bufsize 'EDNS UDP buffer size to advertise (dig''s +bufsize)'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand --all 'Ask for the common set: A, AAAA, CNAME, MX, NS, SOA, TXT, SRV, CAA'
            cand --tcp 'Ask over TCP only (default: UDP, then TCP when the answer is truncated)'
            cand --short 'Print only the answer data, like `dig +short`'
            cand --compare 'Ask the system resolver and every given server, and report where they differ'
            cand --no-edns 'Send no EDNS record (answers over 512 bytes then come back truncated)'
            cand --no-search 'Do not apply the resolv.conf search domains (like `dig +nosearch`)'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;lookup'= {
            cand -t 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA'
            cand --type 'Record type to ask for (repeatable): A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA'
            cand --server 'Server to ask, `ADDR` or `ADDR:PORT` / `[V6]:PORT` (repeatable; tried in order)'
            cand --resolv-conf 'Read the system resolver settings from this file instead of /etc/resolv.conf'
            cand -f 'Read names from this file, one per line (`#` starts a comment)'
            cand --file 'Read names from this file, one per line (`#` starts a comment)'
            cand --concurrency 'How many questions may be in flight at once'
            cand --bufsize 'EDNS UDP buffer size to advertise (dig''s +bufsize)'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand --all 'Ask for the common set: A, AAAA, CNAME, MX, NS, SOA, TXT, SRV, CAA'
            cand --tcp 'Ask over TCP only (default: UDP, then TCP when the answer is truncated)'
            cand --short 'Print only the answer data, like `dig +short`'
            cand --compare 'Ask the system resolver and every given server, and report where they differ'
            cand --no-edns 'Send no EDNS record (answers over 512 bytes then come back truncated)'
            cand --no-search 'Do not apply the resolv.conf search domains (like `dig +nosearch`)'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;tcp'= {
            cand -f 'Read more targets from FILE (whitespace-separated, # comments; - is stdin)'
            cand --file 'Read more targets from FILE (whitespace-separated, # comments; - is stdin)'
            cand -p 'Ports for targets given without one (80,443 or 8000-8100)'
            cand --ports 'Ports for targets given without one (80,443 or 8000-8100)'
            cand -c 'Connect attempts per target (tcping style), with connect-time statistics'
            cand --count 'Connect attempts per target (tcping style), with connect-time statistics'
            cand -i 'Seconds between the attempts to one target'
            cand --interval 'Seconds between the attempts to one target'
            cand -W 'Seconds to wait for each connect (default 2; --timeout also sets it)'
            cand --wait 'Seconds to wait for each connect (default 2; --timeout also sets it)'
            cand --parallel 'Connects in flight at once (capped by the open-files limit)'
            cand --expect 'What the targets must be for exit status 0 (closed: firewall audits)'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand --banner 'After connecting, read and show what the server sends first (SSH, SMTP, FTP…)'
            cand -a 'List every target, also when many failed the same way'
            cand --all 'List every target, also when many failed the same way'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'netdx;sockets'= {
            cand --port 'Who owns this port (local or remote, like `lsof -i :PORT`): processes, listen queue, connections'
            cand --pid 'Only the sockets held by this process id'
            cand --process 'Only the sockets held by processes with this program name (/proc/PID/comm)'
            cand --source 'Where to read sockets: netlink sock_diag (as ss), /proc/net/tcp (as netstat), or auto (netlink, /proc if it fails)'
            cand --watch 'Sample every SECS seconds (default 1) and show counts and counter rates changing'
            cand -c 'With --watch: stop after this many samples'
            cand --count 'With --watch: stop after this many samples'
            cand --top 'Rows in the per-port and per-peer tables'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand -p 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)'
            cand --processes 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)'
            cand --all 'List every connection in the --port/--pid/--process view (default: the first 50)'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'netdx;ss'= {
            cand --port 'Who owns this port (local or remote, like `lsof -i :PORT`): processes, listen queue, connections'
            cand --pid 'Only the sockets held by this process id'
            cand --process 'Only the sockets held by processes with this program name (/proc/PID/comm)'
            cand --source 'Where to read sockets: netlink sock_diag (as ss), /proc/net/tcp (as netstat), or auto (netlink, /proc if it fails)'
            cand --watch 'Sample every SECS seconds (default 1) and show counts and counter rates changing'
            cand -c 'With --watch: stop after this many samples'
            cand --count 'With --watch: stop after this many samples'
            cand --top 'Rows in the per-port and per-peer tables'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand -p 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)'
            cand --processes 'Name the program behind every listener (walks /proc/*/fd like `ss -p`; slow with many open files)'
            cand --all 'List every connection in the --port/--pid/--process view (default: the first 50)'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'netdx;explain'= {
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;check'= {
            cand --parallel 'How many checks run at once'
            cand --check-timeout 'Longest a single check may run; one still running then is killed and reported as failed'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;serve'= {
            cand --listen 'Address and port to listen on (9469 is netdx''s own; blackbox_exporter uses 9115)'
            cand --allow 'Networks /probe may reach (repeatable); a target resolving elsewhere gets 403. Without any, every target is allowed'
            cand --config 'TOML file naming modules and their options (`[modules.NAME] prober = "icmp" …`)'
            cand --max-concurrent 'Most probes running at once; more wait for a slot until their timeout'
            cand --timeout-offset 'Seconds subtracted from Prometheus''s scrape timeout to leave time for the reply'
            cand --timeout 'Overall time limit per probe or query, in seconds'
            cand --config-check 'Check the config file (and the other flags), print what it defines, and exit'
            cand --json 'Print one JSON document when the command ends'
            cand --jsonl 'Print one JSON object per event as it happens'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand --no-color 'Never use ANSI colour (also honoured: NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'netdx;help'= {
            cand ping 'ICMP echo with reply TTL, hop inference and a diagnosis (replaces ping)'
            cand trace 'Hop-by-hop path with ICMP, UDP or TCP probes (replaces traceroute)'
            cand mtr 'Repeated traces with per-hop loss and latency (replaces mtr, pathping)'
            cand dns 'DNS lookups with answer details and resolver checks (replaces nslookup, dig)'
            cand tcp 'TCP connect probes with errno diagnoses (replaces nc -z, tcping)'
            cand sockets 'TCP socket census by state, port and process (replaces netstat -nat, ss, lsof -i)'
            cand explain 'Explains an errno, TCP state, ICMP type/code or TCP flag'
            cand check 'Runs many checks from a file concurrently (replaces shell loops of the above)'
            cand serve 'Prometheus exporter: /probe runs icmp, tcp, dns and mtr probes with diagnoses as labels'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'netdx;help;ping'= {
        }
        &'netdx;help;trace'= {
        }
        &'netdx;help;mtr'= {
        }
        &'netdx;help;dns'= {
        }
        &'netdx;help;tcp'= {
        }
        &'netdx;help;sockets'= {
        }
        &'netdx;help;explain'= {
        }
        &'netdx;help;check'= {
        }
        &'netdx;help;serve'= {
        }
        &'netdx;help;help'= {
        }
    ]
    $completions[$command]
}
