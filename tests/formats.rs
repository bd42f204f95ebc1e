//! `--format csv|markdown` for trace and mtr reports on a two-router chain:
//! the table holds every hop with the addresses the text output shows, CSV
//! is a pure table (one header, one row per probe / hop), Markdown ends with
//! the diagnoses as a list.

mod common;
use common::{can_build_namespaces, Lab};

#[test]
fn trace_and_mtr_print_csv_and_markdown_tables() {
    if !can_build_namespaces("formats") {
        return;
    }
    let lab = Lab::chain(2);
    let server = lab.server_v4();
    let path = [lab.router_v4(1), lab.router_v4(2), lab.server_v4()];

    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "-q", "2", "--format", "csv", &server],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"hop,probe,address,name,asn,rtt_ms,answer,mpls"),
        "{}",
        run.stdout
    );
    assert_eq!(lines.len(), 1 + 3 * 2, "{}", run.stdout);
    for (i, row) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 8, "{row}");
        assert_eq!(cells[0], (i / 2 + 1).to_string(), "{row}");
        assert_eq!(cells[2], path[i / 2], "{row}");
        assert!(cells[5].parse::<f64>().is_ok(), "{row}");
    }
    assert!(lines[5].ends_with(",destination,"), "{}", run.stdout);

    let run = lab.netdx(
        lab.client(),
        &["trace", "-n", "-q", "1", "--format", "markdown", &server],
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"| hop | probe | address | name | asn | rtt_ms | answer | mpls |"),
        "{}",
        run.stdout
    );
    assert_eq!(lines.get(1), Some(&"|---|---|---|---|---|---|---|---|"));
    assert!(
        lines[4].starts_with(&format!("| 3 | 1 | {server} |")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("- **ok** `trace.reached`:"),
        "{}",
        run.stdout
    );

    let run = lab.netdx(
        lab.client(),
        &[
            "mtr", "-n", "-c", "2", "-i", "0.2", "--format", "csv", &server,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(
        lines[0].starts_with("hop,host,addresses,asn,loss_pct,sent,"),
        "{}",
        run.stdout
    );
    for (i, row) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 14, "{row}");
        assert_eq!(cells[1], path[i], "{row}");
        assert_eq!((cells[4], cells[5]), ("0.0", "2"), "{row}");
    }

    let run = lab.netdx(
        lab.client(),
        &[
            "mtr", "-n", "-c", "2", "-i", "0.2", "--format", "markdown", &server,
        ],
    );
    assert!(
        run.stdout.starts_with("| hop | host | addresses |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("| 2 | {} |", path[1])),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("`path.healthy`"), "{}", run.stdout);

    // One layout or the other.
    let run = lab.netdx(
        lab.client(),
        &["mtr", "--pathping", "--format", "csv", &server],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
}

/// Prints the README's example runs (`NETDX_README=1`).
#[test]
fn readme_examples() {
    if std::env::var_os("NETDX_README").is_none() || !can_build_namespaces("formats_readme") {
        return;
    }
    let lab = Lab::chain(2);
    let server = lab.server_v4();
    for args in [
        vec!["trace", "-n", "-q", "2", "--format", "csv", &server],
        vec![
            "mtr", "-n", "-c", "3", "-i", "0.2", "--format", "markdown", &server,
        ],
    ] {
        let run = lab.netdx(lab.client(), &args);
        eprintln!("$ netdx {}\n{}", args.join(" "), run.stdout);
    }
}
