//! MPLS label stacks (RFC 4950 in RFC 4884 ICMP extensions) per hop: r1 of
//! a chain plays a label-switching router (tests/fixtures/mpls_router.py
//! answers expiring probes with a Time Exceeded carrying label 16005, the
//! kernel's own is dropped), and trace shows the stack as `traceroute -e`
//! does on the same bed; mtr prints mtr -e's `[MPLS: …]` line under the hop
//! (mtr 0.95's own `-r -e` printed no label on this bed, so it is not
//! compared).

mod common;
use common::{can_build_namespaces, Lab};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mpls_router.py");
const LABEL: &str = "[MPLS: Lbl 16005 TC 0 S 1 TTL 1]";

/// client — r1 (LSR, label 16005) — r2 — server.
fn mpls_lab() -> Lab {
    let mut lab = Lab::chain(2);
    let r1 = lab.router(1).to_string();
    lab.nft(
        &r1,
        "table inet lsr {\n chain out {\n type filter hook output priority 0;\n \
         meta mark != 0x4950 icmp type time-exceeded drop\n }\n}\n",
    );
    lab.spawn(&r1, &["python3", SCRIPT, "west", "16005"]);
    // The script is up once a probe to r1 comes back with the label.
    for _ in 0..50 {
        let run = lab.netdx(
            lab.client(),
            &[
                "trace",
                "-n",
                "-m",
                "1",
                "-q",
                "1",
                "-w",
                "0.2",
                &lab.server_v4(),
            ],
        );
        if run.stdout.contains(LABEL) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    lab
}

#[test]
fn trace_shows_the_label_stack_per_hop_like_traceroute_e() {
    if !can_build_namespaces("trace_mpls") {
        return;
    }
    let lab = mpls_lab();
    let server = lab.server_v4();
    let run = lab.netdx(lab.client(), &["trace", "-n", "-q", "1", &server]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let hop1 = run
        .stdout
        .lines()
        .find(|l| l.starts_with(" 1 "))
        .unwrap_or_default();
    assert!(
        hop1.contains(&lab.router_v4(1)) && hop1.contains(LABEL),
        "{}",
        run.stdout
    );
    let hop2 = run
        .stdout
        .lines()
        .find(|l| l.starts_with(" 2 "))
        .unwrap_or_default();
    assert!(!hop2.contains("MPLS"), "{}", run.stdout);
    // traceroute -e on the same bed sees the same stack.
    let tr = lab.exec(
        lab.client(),
        &["traceroute", "-n", "-I", "-e", "-q", "1", &server],
    );
    assert!(
        tr.stdout.contains("<MPLS:L=16005,E=0,S=1,T=1>"),
        "{}",
        tr.stdout
    );

    let run = lab.netdx(lab.client(), &["--json", "trace", "-n", "-q", "1", &server]);
    let doc = run.json();
    let mpls = &doc["hops"][0]["probes"][0]["mpls"][0];
    assert_eq!(mpls["label"], 16005, "{doc}");
    assert_eq!(mpls["tc"], 0);
    assert_eq!(mpls["s"], true);
    assert_eq!(mpls["ttl"], 1);
    assert!(doc["hops"][1]["probes"][0].get("mpls").is_none(), "{doc}");
}

/// Without root the answers come through each probe socket's error queue:
/// with IP_RECVERR_RFC4884 the kernel says where the extension starts, so
/// unprivileged UDP traces show the label stack too (TCP connect() probes
/// do not yet: the connect prober keeps only type, code and MTU).
#[test]
fn unprivileged_traces_read_the_label_stack_from_the_error_queue() {
    if !can_build_namespaces("mpls_errqueue") {
        return;
    }
    let lab = mpls_lab();
    let server = lab.server_v4();
    let method = "--udp";
    let run = lab.netdx_as_nobody(
        lab.client(),
        &["--json", "trace", "-n", "-q", "1", method, &server],
    );
    assert_eq!(run.code, 0, "{method}: {}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_ne!(doc["socket"], "raw", "{doc}");
    let p = &doc["hops"][0]["probes"][0];
    assert_eq!(p["from"], lab.router_v4(1).as_str(), "{method}: {doc}");
    assert_eq!(p["mpls"][0]["label"], 16005, "{method}: {doc}");
    assert_eq!(p["mpls"][0]["s"], true, "{method}: {doc}");
    assert!(doc["hops"][1]["probes"][0].get("mpls").is_none(), "{doc}");
}

#[test]
fn mtr_report_and_json_carry_the_label_stack() {
    if !can_build_namespaces("mtr_mpls") {
        return;
    }
    let lab = mpls_lab();
    let server = lab.server_v4();
    let run = lab.netdx(
        lab.client(),
        &["mtr", "-r", "-n", "-c", "2", "-i", "0.2", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&lab.router_v4(1)))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(
        lines.get(at + 1).map(|l| l.trim()),
        Some(format!("|  {LABEL}").as_str()),
        "{}",
        run.stdout
    );
    let run = lab.netdx(
        lab.client(),
        &["--json", "mtr", "-r", "-n", "-c", "2", "-i", "0.2", &server],
    );
    let doc = run.json();
    assert_eq!(doc["hops"][0]["mpls"][0]["label"], 16005, "{doc}");
}

/// Prints the README's example runs (`NETDX_README=1`).
#[test]
fn readme_examples() {
    if std::env::var_os("NETDX_README").is_none() || !can_build_namespaces("mpls_readme") {
        return;
    }
    let lab = mpls_lab();
    let server = lab.server_v4();
    for args in [
        vec!["trace", "-n", &server],
        vec!["--json", "trace", "-n", "-q", "1", &server],
        vec!["mtr", "-r", "-n", "-c", "3", "-i", "0.2", &server],
    ] {
        let run = lab.netdx(lab.client(), &args);
        eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
    }
    let tr = lab.exec(lab.client(), &["traceroute", "-n", "-I", "-e", &server]);
    eprintln!("$ traceroute -n -I -e\n{}", tr.stdout);
}
