//! `--asn`: origin AS numbers per hop over DNS TXT, as `mtr -z` asks them,
//! answered by unbound in the lab from a local zone `asn.lab.test` (never
//! the real cymru zone): trace shows `[AS…]` per hop and in JSON, mtr in
//! its host column; a server that never answers costs a bounded wait.

mod common;
use common::{can_build_namespaces, Lab};
use std::time::{Duration, Instant};

const ZONE: &str = "asn.lab.test";

/// `2.0.18.198.asn.lab.test.` / the reversed nibbles of an IPv6 address.
fn owner(addr: &str) -> String {
    let ip: std::net::IpAddr = addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}"));
    let labels: Vec<String> = match ip {
        std::net::IpAddr::V4(a) => a.octets().iter().rev().map(u8::to_string).collect(),
        std::net::IpAddr::V6(a) => a
            .octets()
            .iter()
            .rev()
            .flat_map(|b| [b & 0x0f, b >> 4])
            .map(|n| format!("{n:x}"))
            .collect(),
    };
    format!("{}.{ZONE}.", labels.join("."))
}

/// client — r1 (AS64500) — r2 (AS64501) — server (AS64502, runs unbound).
fn asn_lab() -> (Lab, common::tempdir::TempDir) {
    let mut lab = Lab::chain(2);
    let hosts = [
        (lab.router_v4(1), lab.router_v6(1), 64500),
        (lab.router_v4(2), lab.router_v6(2), 64501),
        (lab.server_v4(), lab.server_v6(), 64502),
    ];
    let mut data = String::new();
    for (v4, v6, asn) in &hosts {
        for addr in [v4, v6] {
            data.push_str(&format!(
                "  local-data: '{} TXT \"{asn} | 198.18.0.0/15 | ZZ | test | 2024-01-01\"'\n",
                owner(addr)
            ));
        }
    }
    // AS names (`AS<n>.ZONE` TXT, as asn.cymru.com answers them); AS64501
    // has none, so its hops show the number alone.
    data.push_str(&format!(
        "  local-data: 'AS64500.{ZONE}. TXT \"64500 | ZZ | test | 2024-01-01 | LAB-R1 Example Net, ZZ\"'\n"
    ));
    data.push_str(&format!(
        "  local-data: 'AS64502.{ZONE}. TXT \"64502 | ZZ | test | 2024-01-01 | LAB-SERVER\"'\n"
    ));
    let dir = common::tempdir::TempDir::new("asn");
    let conf = format!(
        "server:\n  interface: {v4}\n  interface: {v6}\n  chroot: \"\"\n  username: \"\"\n  \
         directory: \"{d}\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  \
         do-daemonize: no\n  num-threads: 1\n  access-control: 0.0.0.0/0 allow\n  \
         access-control: ::/0 allow\n  module-config: \"iterator\"\n  local-zone: \".\" static\n  \
         local-zone: \"{ZONE}.\" static\n{data}remote-control:\n  control-enable: no\n",
        v4 = lab.server_v4(),
        v6 = lab.server_v6(),
        d = dir.path(),
    );
    let path = dir.write("unbound.conf", &conf);
    let check = lab.exec(lab.server(), &["unbound-checkconf", &path]);
    assert_eq!(check.code, 0, "{}{}\n{conf}", check.stdout, check.stderr);
    let server = lab.server().to_string();
    lab.spawn(&server, &["unbound", "-d", "-c", &path]);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let at = format!("@{}", lab.server_v4());
        let dig = lab.exec(
            lab.client(),
            &[
                "dig",
                &at,
                "+short",
                "+time=1",
                "+tries=1",
                "TXT",
                &owner(&lab.router_v4(1)),
            ],
        );
        if dig.stdout.contains("64500") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "unbound did not come up: {}{}",
            dig.stdout,
            dig.stderr
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (lab, dir)
}

#[test]
fn trace_asn_shows_the_origin_as_per_hop_v4_and_v6() {
    if !can_build_namespaces("trace_asn") {
        return;
    }
    let (lab, _dir) = asn_lab();
    let server = lab.server_v4();
    let args = [
        "trace",
        "-n",
        "-q",
        "1",
        "--asn",
        "--asn-zone",
        ZONE,
        "--asn-server",
        &server,
    ];
    let mut cmd = args.to_vec();
    cmd.push(&server);
    let run = lab.netdx(lab.client(), &cmd);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for (ttl, addr, asn) in [
        (1, lab.router_v4(1), "64500 LAB-R1 Example Net, ZZ"),
        (2, lab.router_v4(2), "64501"),
        (3, lab.server_v4(), "64502 LAB-SERVER"),
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{ttl:2} ")))
            .unwrap_or_default();
        assert!(
            line.contains(&format!("{addr} [AS{asn}]")),
            "{}",
            run.stdout
        );
    }
    let mut cmd = vec!["--json"];
    cmd.extend(args);
    cmd.push(&server);
    let doc = lab.netdx(lab.client(), &cmd).json();
    assert_eq!(doc["hops"][0]["probes"][0]["asn"], 64500, "{doc}");
    assert_eq!(
        doc["hops"][0]["probes"][0]["as_name"], "LAB-R1 Example Net, ZZ",
        "{doc}"
    );
    assert!(
        doc["hops"][1]["probes"][0].get("as_name").is_none(),
        "{doc}"
    );
    assert_eq!(doc["hops"][2]["probes"][0]["asn"], 64502, "{doc}");
    assert_eq!(
        doc["hops"][2]["probes"][0]["as_name"], "LAB-SERVER",
        "{doc}"
    );

    // IPv6: the nibble names under the same zone.
    let server6 = lab.server_v6();
    let run = lab.netdx(
        lab.client(),
        &[
            "trace",
            "-n",
            "-q",
            "1",
            "--asn",
            "--asn-zone",
            ZONE,
            "--asn-server",
            &server,
            &server6,
        ],
    );
    assert!(
        run.stdout.contains(&format!(
            "{} [AS64500 LAB-R1 Example Net, ZZ]",
            lab.router_v6(1)
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn mtr_asn_shows_the_origin_as_in_the_host_column() {
    if !can_build_namespaces("mtr_asn") {
        return;
    }
    let (lab, _dir) = asn_lab();
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &[
            "mtr",
            "-r",
            "-n",
            "-c",
            "2",
            "-i",
            "0.2",
            "--asn",
            "--asn-zone",
            ZONE,
            "--asn-server",
            &server,
            &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("AS64501  {}", lab.router_v4(2))),
        "{}",
        run.stdout
    );
    // Names get the room the address leaves in the table, whole in JSON.
    assert!(
        run.stdout
            .contains(&format!("AS64500 LAB-R1  {}", lab.router_v4(1))),
        "{}",
        run.stdout
    );
    let doc = lab
        .netdx(
            lab.client(),
            &[
                "--json",
                "mtr",
                "-r",
                "-n",
                "-c",
                "1",
                "-i",
                "0.2",
                "--asn",
                "--asn-zone",
                ZONE,
                "--asn-server",
                &server,
                &server,
            ],
        )
        .json();
    let hops = doc["hops"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = hops
        .iter()
        .filter_map(|h| h["addresses"][0]["as_name"].as_str())
        .collect();
    assert_eq!(names, ["LAB-R1 Example Net, ZZ", "LAB-SERVER"], "{doc}");
    // --format csv gains an as_name column after asn (quoted: a comma).
    let run = lab.netdx(
        lab.client(),
        &[
            "mtr",
            "-n",
            "-c",
            "1",
            "-i",
            "0.2",
            "--format",
            "csv",
            "--asn",
            "--asn-zone",
            ZONE,
            "--asn-server",
            &server,
            &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("hop,host,addresses,asn,as_name,loss_pct,"),
        "{}",
        run.stdout
    );
    let r1 = lab.router_v4(1);
    let want = format!("1,{r1},{r1},AS64500,\"LAB-R1 Example Net, ZZ\",0.0,");
    assert!(lines[1].starts_with(&want), "{}", run.stdout);
}

#[test]
fn an_invalid_asn_zone_is_refused_before_anything_is_sent() {
    let long = format!("{}.test", "x".repeat(64));
    for zone in [
        "..",
        "",
        ".",
        "a..b",
        "lab test",
        "lab/test",
        "é.test",
        long.as_str(),
    ] {
        for cmd in ["trace", "mtr"] {
            let start = Instant::now();
            let run = common::netdx_here(&[cmd, "-n", "--asn", "--asn-zone", zone, "127.0.0.1"]);
            assert_eq!(run.code, 2, "{cmd} {zone:?}: {}{}", run.stdout, run.stderr);
            assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
            assert!(run.stderr.contains("--asn-zone"), "{}", run.stderr);
            assert!(run.stdout.is_empty(), "{}", run.stdout);
            assert!(start.elapsed() < Duration::from_secs(2));
        }
    }
}

#[test]
fn a_silent_asn_server_costs_a_bounded_wait() {
    if !can_build_namespaces("asn_silent") {
        return;
    }
    let lab = Lab::chain(2);
    // Nothing answers DNS at the server: queries are dropped.
    lab.nft(
        lab.server(),
        "table inet t {\n chain in {\n type filter hook input priority 0;\n udp dport 53 drop\n tcp dport 53 drop\n }\n}\n",
    );
    let server = lab.server_v4();
    let start = Instant::now();
    let run = lab.netdx(
        lab.client(),
        &[
            "trace",
            "-n",
            "--asn",
            "--asn-zone",
            ZONE,
            "--asn-server",
            &server,
            &server,
        ],
    );
    let took = start.elapsed();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("[AS"), "{}", run.stdout);
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

/// Prints the README's example runs (`NETDX_README=1`).
#[test]
fn readme_examples() {
    if std::env::var_os("NETDX_README").is_none() || !can_build_namespaces("asn_readme") {
        return;
    }
    let (lab, _dir) = asn_lab();
    let server = lab.server_v4();
    let asn = ["--asn", "--asn-zone", ZONE, "--asn-server", &server];
    for head in [
        vec!["trace", "-n"],
        vec!["mtr", "-r", "-n", "-c", "3", "-i", "0.2"],
    ] {
        let mut args = head.clone();
        args.extend(asn);
        args.push(&server);
        let run = lab.netdx(lab.client(), &args);
        eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
    }
    let geo = common::tempdir::TempDir::new("geoip_readme");
    let script = geo.write("writer.pl", MMDB_WRITER);
    let db = format!("{}/lab.mmdb", geo.path());
    let entries = [
        format!("{}/32,64510,GEO-R1 Transit,DE", lab.router_v4(1)),
        format!("{}/32,64511,GEO-R2 Backbone,FR", lab.router_v4(2)),
        format!("{}/32,64512,GEO-SERVER Hosting,JP", lab.server_v4()),
    ];
    let mut cmd = vec!["perl", script.as_str(), db.as_str()];
    cmd.extend(entries.iter().map(String::as_str));
    common::must(&cmd);
    for head in [
        vec!["trace", "-n"],
        vec!["mtr", "-r", "-n", "-c", "3", "-i", "0.2"],
        vec!["trace", "-n", "-q", "1", "--format", "csv"],
    ] {
        let mut args = head.clone();
        args.extend(["--geoip", "lab.mmdb"]);
        args.push(&server);
        let real: Vec<&str> = args
            .iter()
            .map(|a| if *a == "lab.mmdb" { db.as_str() } else { a })
            .collect();
        let run = lab.netdx(lab.client(), &real);
        eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
    }
}

/// Writes a MaxMind DB with libmaxmind-db-writer-perl (Debian's
/// MaxMind::DB::Writer): `entries` are `network,asn,org,country`.
const MMDB_WRITER: &str = r#"use strict; use warnings;
use MaxMind::DB::Writer::Tree;
my ($out, @entries) = @ARGV;
my %types = (autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string',
             country => 'map', iso_code => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6, record_size => 24, database_type => 'netdx-test',
    languages => ['en'], description => { en => 'netdx test' },
    map_key_type_callback => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
);
for my $e (@entries) {
    my ($net, $asn, $org, $cc) = split /,/, $e;
    $tree->insert_network($net, { autonomous_system_number => $asn,
        autonomous_system_organization => $org, country => { iso_code => $cc } });
}
open my $fh, '>:raw', $out or die "$out: $!";
$tree->write_tree($fh);
close $fh;
"#;

#[test]
fn geoip_reads_as_and_country_per_hop_from_an_mmdb_file() {
    if !can_build_namespaces("trace_geoip") {
        return;
    }
    let lab = Lab::chain(2);
    let dir = common::tempdir::TempDir::new("geoip");
    let script = dir.write("writer.pl", MMDB_WRITER);
    let db = format!("{}/lab.mmdb", dir.path());
    let entries = [
        format!("{}/32,64510,GEO-R1 Transit,DE", lab.router_v4(1)),
        format!("{}/32,64511,GEO-R2 Backbone,FR", lab.router_v4(2)),
        format!("{}/32,64512,GEO-SERVER Hosting,JP", lab.server_v4()),
        format!("{}/128,64510,GEO-R1 Transit,DE", lab.router_v6(1)),
    ];
    let mut cmd = vec!["perl", script.as_str(), db.as_str()];
    cmd.extend(entries.iter().map(String::as_str));
    let made = common::must(&cmd);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "-q", "1", "--geoip", &db, &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for (addr, tag) in [
        (lab.router_v4(1), "[AS64510 GEO-R1 Transit] [DE]"),
        (lab.router_v4(2), "[AS64511 GEO-R2 Backbone] [FR]"),
        (server.clone(), "[AS64512 GEO-SERVER Hosting] [JP]"),
    ] {
        assert!(
            run.stdout.contains(&format!("{addr} {tag}")),
            "{addr} {tag}:\n{}",
            run.stdout
        );
    }
    let doc = lab
        .netdx(
            lab.client(),
            &["--json", "trace", "-n", "-q", "1", "--geoip", &db, &server],
        )
        .json();
    let p = &doc["hops"][1]["probes"][0];
    assert_eq!(p["asn"], 64511, "{doc}");
    assert_eq!(p["as_name"], "GEO-R2 Backbone", "{doc}");
    assert_eq!(p["country"], "FR", "{doc}");
    // IPv6 through the same file.
    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "-q", "1", "--geoip", &db, &lab.server_v6()],
    );
    assert!(
        run.stdout.contains(&format!(
            "{} [AS64510 GEO-R1 Transit] [DE]",
            lab.router_v6(1)
        )),
        "{}",
        run.stdout
    );
    // --format csv: as_name and country columns after asn.
    let run = lab.netdx(
        lab.client(),
        &[
            "trace", "-n", "-q", "1", "--geoip", &db, "--format", "csv", &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"hop,probe,address,name,asn,as_name,country,rtt_ms,answer,mpls"),
        "{}",
        run.stdout
    );
    let want = format!("2,1,{},,AS64511,GEO-R2 Backbone,FR,", lab.router_v4(2));
    assert!(lines[2].starts_with(&want), "{}", run.stdout);
    // mtr's table shows the country after the host; markdown has columns.
    let run = lab.netdx(
        lab.client(),
        &[
            "mtr", "-r", "-n", "-c", "1", "-i", "0.2", "--geoip", &db, &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("AS64511  {} [FR]", lab.router_v4(2))),
        "{}",
        run.stdout
    );
    let run = lab.netdx(
        lab.client(),
        &[
            "mtr", "-n", "-c", "1", "-i", "0.2", "--geoip", &db, "--format", "markdown", &server,
        ],
    );
    assert!(
        run.stdout
            .starts_with("| hop | host | addresses | asn | as_name | country | loss_pct |"),
        "{}",
        run.stdout
    );
    let want = format!("| 3 | {server} | {server} | AS64512 | GEO-SERVER Hosting | JP | 0.0 |");
    assert!(run.stdout.contains(&want), "{}", run.stdout);
    // mtr: AS in the host column, country in JSON.
    let doc = lab
        .netdx(
            lab.client(),
            &[
                "--json", "mtr", "-r", "-n", "-c", "1", "-i", "0.2", "--geoip", &db, &server,
            ],
        )
        .json();
    let first = &doc["hops"][0]["addresses"][0];
    assert_eq!(first["asn"], 64510, "{doc}");
    assert_eq!(first["country"], "DE", "{doc}");

    // Garbage, empty, truncated, missing: one line, exit 3, at once.
    let junk = dir.write("junk.mmdb", "this is not a database\n");
    let empty = dir.write("empty.mmdb", "");
    let whole = std::fs::read(&db).unwrap_or_default();
    let cut = format!("{}/cut.mmdb", dir.path());
    let _ = std::fs::write(&cut, &whole[..whole.len() / 2]);
    let missing = format!("{}/missing.mmdb", dir.path());
    for bad in [&junk, &empty, &cut, &missing] {
        for cmd in ["trace", "mtr"] {
            let start = Instant::now();
            let run = lab.netdx(lab.client(), &[cmd, "-n", "--geoip", bad, &server]);
            assert_eq!(run.code, 3, "{cmd} {bad}: {}{}", run.stdout, run.stderr);
            assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
            assert!(run.stderr.contains("--geoip"), "{}", run.stderr);
            assert!(run.stdout.is_empty(), "{}", run.stdout);
            assert!(start.elapsed() < Duration::from_secs(2), "{cmd} {bad}");
        }
    }
}
