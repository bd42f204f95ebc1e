//! The committed JSON Schemas in `schema/` must match the report types.

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
