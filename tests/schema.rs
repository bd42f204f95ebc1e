//! The committed JSON Schemas in `schema/` must match the report types.

mod common;

#[test]
fn schemas_are_up_to_date() {
    common::fresh::assert_fresh(
        "schema",
        netdx::generate::write_schemas,
        &["schema"],
        "run `NETDX_REGENERATE=1 cargo test --test schema`",
    );
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
