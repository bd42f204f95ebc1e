//! `netdx check FILE` runs every line as its own netdx command, concurrently.

mod common;
use common::{can_build_namespaces, netdx_here, Lab};

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
    let events: Vec<serde_json::Value> = run.jsonl();
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

/// Writes `text` to a fresh check file and returns its path.
fn check_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("netdx-check-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("tempdir: {e}"));
    let file = dir.join("checks.txt");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("write: {e}"));
    file
}

#[test]
fn counts_and_deadlines_in_attached_and_equals_forms_run_once() {
    if !can_build_namespaces("check_flag_forms") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    let file = check_file(
        "forms",
        &format!(
            "ping -c1 {server}\nping --count=2 -i 0.05 {server}\nping -w1 -i 0.05 {server}\n\
             ping --deadline=1 -i 0.05 {server}\nmtr -c2 -i 0.1 {server}\nmtr --count=2 -i 0.1 {server}\n"
        ),
    );
    let path = file.to_string_lossy().into_owned();
    let run = lab.netdx(lab.client(), &["--json", "check", &path]);
    let _ = std::fs::remove_dir_all(file.parent().unwrap_or(&file));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    let checks = doc["checks"].as_array().cloned().unwrap_or_default();
    assert_eq!(checks.len(), 6, "{doc}");
    for c in &checks {
        assert_eq!(c["passed"], true, "{c}");
        assert!(!c.to_string().contains("multiple times"), "{c}");
    }
    // The count given is the count used: one probe, then two.
    let first = |line: u64| {
        checks
            .iter()
            .find(|c| c["line"] == line)
            .map(|c| c["diagnosis"][0].clone())
            .unwrap_or_default()
    };
    for (line, sent) in [(1, 1), (2, 2)] {
        let d = first(line);
        assert_eq!(d["code"], "ping.healthy", "{d}");
        assert_eq!(d["evidence"]["transmitted"], sent, "{d}");
    }
    for line in [5, 6] {
        let d = first(line);
        assert!(
            d["summary"]
                .as_str()
                .unwrap_or("")
                .contains("answers 2/2 probes"),
            "{d}"
        );
    }
}

#[test]
fn a_watching_sockets_line_is_a_usage_error_naming_the_line() {
    let file = check_file("watch", "explain ECONNRESET\nsockets --watch\n");
    let run = netdx_here(&["check", &file.to_string_lossy()]);
    let _ = std::fs::remove_dir_all(file.parent().unwrap_or(&file));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("netdx: line 2: '--watch' samples until stopped"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn a_check_over_its_time_limit_is_killed_and_fails() {
    if !can_build_namespaces("check_timeout") {
        return;
    }
    let lab = Lab::chain(1);
    let server = lab.server_v4();
    let file = check_file(
        "timeout",
        &format!("ping -c 1000 -i 0.05 {server}\nexplain ECONNRESET\n"),
    );
    let path = file.to_string_lossy().into_owned();
    let start = std::time::Instant::now();
    let run = lab.netdx(
        lab.client(),
        &["--json", "check", "--check-timeout", "1", &path],
    );
    let took = start.elapsed();
    let _ = std::fs::remove_dir_all(file.parent().unwrap_or(&file));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    let doc = run.json();
    let slow = &doc["checks"][0];
    assert_eq!(slow["line"], 1, "{doc}");
    assert_eq!(slow["passed"], false, "{slow}");
    assert_eq!(slow["exit"], 1, "{slow}");
    assert_eq!(
        slow["error"], "timed out: still running after 1 s (--check-timeout), stopped",
        "{slow}"
    );
    let ms = slow["elapsed_ms"].as_u64().unwrap_or(0);
    assert!((1000..5000).contains(&ms), "{slow}");
    assert_eq!(doc["checks"][1]["passed"], true, "{doc}");
}

#[test]
fn bad_check_options_and_unreadable_files_exit_2() {
    for (args, words) in [
        (
            vec!["check", "/nonexistent/checks.txt"],
            "cannot read /nonexistent/checks.txt",
        ),
        (
            vec!["check", "--check-timeout", "0", "/dev/null"],
            "--check-timeout 0: give a number of seconds greater than 0 and at most 86400",
        ),
        (
            vec!["check", "--check-timeout", "-5", "/dev/null"],
            "--check-timeout -5",
        ),
    ] {
        let run = netdx_here(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
    }
}

/// Checks run in-process share one probe engine: twelve concurrent pings
/// use one raw ICMP socket, not twelve, and each still gets its own
/// replies.
#[test]
fn concurrent_ping_checks_share_one_raw_socket() {
    if !can_build_namespaces("check_shared_engine") {
        return;
    }
    let lab = Lab::chain(1);
    let targets = [lab.router_v4(1), lab.server_v4()];
    let text: String = (0..12)
        .map(|i| format!("ping -c 6 -i 0.2 {}\n", targets[i % 2]))
        .collect();
    let file = check_file("shared", &text);
    let path = file.to_string_lossy().into_owned();
    let child = std::process::Command::new("ip")
        .args(["netns", "exec", lab.client(), env!("CARGO_BIN_EXE_netdx")])
        .args(["--json", "check", &path])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start netdx check: {e}"));
    // Mid-run (pings take about 1 s), count the namespace's raw ICMP sockets.
    std::thread::sleep(std::time::Duration::from_millis(600));
    let raw = lab.exec(lab.client(), &["cat", "/proc/net/raw"]);
    let icmp_sockets = raw
        .stdout
        .lines()
        .skip(1)
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(":0001"))
        })
        .count();
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("netdx check: {e}"));
    let _ = std::fs::remove_dir_all(file.parent().unwrap_or(&file));
    let run = common::Run::from(out).of_netdx(&["--json", "check", &path]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(icmp_sockets, 1, "raw ICMP sockets mid-run:\n{}", raw.stdout);
    let doc = run.json();
    let checks = doc["checks"].as_array().cloned().unwrap_or_default();
    assert_eq!(checks.len(), 12, "{doc}");
    for c in checks {
        assert_eq!(c["diagnosis"][0]["code"], "ping.healthy", "{c}");
        assert_eq!(c["diagnosis"][0]["evidence"]["received"], 6, "{c}");
    }
}
