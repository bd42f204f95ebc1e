//! `netdx check FILE` runs every line as its own netdx command, concurrently.

mod common;
use common::{can_build_namespaces, Lab};

#[test]
fn a_file_of_checks_reports_each_and_fails_if_one_fails() {
    if !can_build_namespaces("check_file") {
        return;
    }
    let lab = Lab::chain(1);
    lab.nft(
        lab.server(),
        "table inet d {
           chain input {
             type filter hook input priority 0;
             ip daddr 198.18.1.2 meta l4proto icmp drop
           }
         }",
    );
    let dir = std::env::temp_dir().join(format!("netdx-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("tempdir: {e}"));
    let file = dir.join("checks.txt");
    let checks = format!(
        "# reachability of the test bed\nping -i 0.05 {}\nping -i 0.05 {}\n\nping -i 0.05 -W 0.5 {}\n",
        lab.router_v4(1),
        lab.server_v6(),
        lab.server_v4()
    );
    std::fs::write(&file, checks).unwrap_or_else(|e| panic!("write: {e}"));
    let path = file.to_string_lossy().into_owned();

    let run = lab.netdx(lab.client(), &["--jsonl", "check", &path]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect();
    let checks: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "check").collect();
    assert_eq!(checks.len(), 3);
    let by_line = |n: u64| checks.iter().find(|c| c["line"] == n).copied();
    assert_eq!(
        by_line(2).map(|c| c["passed"].clone()),
        Some(serde_json::json!(true))
    );
    assert_eq!(
        by_line(3).map(|c| c["diagnosis"][0]["code"].clone()),
        Some("ping.healthy".into())
    );
    let failed = by_line(5).unwrap_or_else(|| panic!("line 5 missing: {}", run.stdout));
    assert_eq!(failed["exit"], 1);
    assert_eq!(failed["diagnosis"][0]["code"], "ping.silent");

    let human = lab.netdx(lab.client(), &["check", &path]);
    assert!(
        human.stdout.contains("3 checks, 2 passed, 1 failed"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("FAIL line   5"), "{}", human.stdout);

    std::fs::write(&file, "ping 198.18.0.2\nfrobnicate now\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let bad = lab.netdx(lab.client(), &["check", &path]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("line 2: 'frobnicate' is not a check"),
        "{}",
        bad.stderr
    );

    // Other subcommands run the same way: a closed port fails with its diagnosis.
    std::fs::write(
        &file,
        format!("explain ECONNRESET\ntcp {}:1\n", lab.router_v4(1)),
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let mixed = lab.netdx(lab.client(), &["--json", "check", &path]);
    assert_eq!(mixed.code, 1, "{}{}", mixed.stdout, mixed.stderr);
    let doc = mixed.json();
    assert_eq!(doc["checks"][0]["passed"], true);
    assert_eq!(doc["checks"][1]["exit"], 1);
    let codes = doc["checks"][1]["diagnosis"].to_string();
    assert!(codes.contains("tcp.refused"), "{codes}");
    std::fs::write(&file, "ping 198.18.0.2\nfrobnicate now\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let bad = lab.netdx(lab.client(), &["check", &path]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("line 2: 'frobnicate' is not a check"),
        "{}",
        bad.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
