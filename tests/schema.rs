//! The committed JSON Schemas in `schema/` must match the report types.

mod common;

use std::path::{Path, PathBuf};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    out
}

const HINT: &str = "run `NETDX_REGENERATE=1 cargo test --test schema`";

#[test]
fn schemas_are_up_to_date() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("NETDX_REGENERATE").is_some() {
        if let Err(e) = netdx::generate::write_schemas(repo) {
            panic!("cannot regenerate: {e}");
        }
    }
    let fresh = std::env::temp_dir().join(format!("netdx-schema-{}", std::process::id()));
    if let Err(e) = netdx::generate::write_schemas(&fresh) {
        panic!("cannot generate: {e}");
    }
    let want = files_under(&fresh.join("schema"));
    let have = files_under(&repo.join("schema"));
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect()
    };
    assert_eq!(names(&want), names(&have), "schema/ is out of date: {HINT}");
    for (w, h) in want.iter().zip(have.iter()) {
        let a = std::fs::read(w).unwrap_or_default();
        let b = std::fs::read(h).unwrap_or_default();
        assert!(a == b, "{} is out of date: {HINT}", h.display());
    }
    let _ = std::fs::remove_dir_all(&fresh);
}

#[test]
fn every_schema_requires_the_version() {
    for (name, schema) in netdx::generate::schemas() {
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        assert!(
            required.iter().any(|r| r == "schema_version"),
            "{name}: schema_version is not required"
        );
        assert_eq!(
            schema["properties"]["schema_version"]["type"], "integer",
            "{name}: schema_version is not an integer"
        );
    }
}

/// Subcommands whose report has no schema yet.
const NOT_YET: &[&str] = &[];
/// Subcommands with no JSON document at all: `serve` answers HTTP in the
/// Prometheus formats and refuses --json/--jsonl.
const NO_JSON: &[&str] = &["serve"];

#[test]
fn every_command_has_a_schema() {
    use clap::CommandFactory;
    let names: Vec<&str> = netdx::generate::schemas().iter().map(|(n, _)| *n).collect();
    for sub in netdx::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        if NO_JSON.contains(&name) {
            continue;
        }
        if NOT_YET.contains(&name) {
            assert!(
                !names.contains(&name),
                "{name} has a schema now: drop it from NOT_YET"
            );
            continue;
        }
        assert!(names.contains(&name), "`netdx {name} --json` has no schema");
    }
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let Some(ping) = common::schema::load("ping") else {
        panic!("schema/ping.json is missing");
    };
    let rejects = |doc: serde_json::Value| {
        let caught =
            std::panic::catch_unwind(|| common::schema::assert_valid(&ping, &doc, "test document"));
        assert!(caught.is_err(), "accepted: {doc}");
    };
    let good = serde_json::json!({
        "schema_version": 1,
        "host": "h", "address": "198.18.0.2", "socket": "raw", "payload_bytes": 56,
        "replies": [{"seq": 1, "from": "198.18.0.2", "bytes": 64, "ttl": null, "rtt_ms": 0.1}],
        "errors": [],
        "stats": {"transmitted": 1, "received": 1, "duplicates": 0, "errors": 0,
                  "loss_pct": 0.0, "time_ms": 3, "rtt": null},
        "inference": null,
        "diagnosis": [{"code": "ping.healthy", "severity": "ok", "summary": "s", "evidence": {}}]
    });
    common::schema::assert_valid(&ping, &good, "good document");
    let with = |pointer: &str, value: serde_json::Value| {
        let mut doc = good.clone();
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = value;
        }
        doc
    };
    rejects(with("/schema_version", serde_json::json!(2)));
    rejects(with("/address", serde_json::json!("not-an-ip")));
    rejects(with("/socket", serde_json::json!("tunnel")));
    rejects(with("/replies/0/seq", serde_json::json!(70000)));
    rejects(with("/replies/0/ttl", serde_json::json!("64")));
    rejects(with("/stats/loss_pct", serde_json::Value::Null));
    rejects(with("/diagnosis/0/severity", serde_json::json!("bad")));
    let mut missing = good.clone();
    if let Some(map) = missing.as_object_mut() {
        map.remove("stats");
    }
    rejects(missing);
}
