//! The JSON contract: the version every `--json` document and `--jsonl`
//! event carries, and the JSON Schema of a document derived from the type
//! that serialises it, so the schema cannot drift from the output. The
//! list of documents lives in [`crate::generate`], above the commands.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

/// The version of the JSON output's shape, as `schema_version` in every
/// document and event. Within one version fields are only ever added;
/// renaming, removing or retyping a field bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// The key under which [`SCHEMA_VERSION`] appears at the top level.
pub const VERSION_KEY: &str = "schema_version";

/// The JSON Schema (draft 2020-12) of the `--json` document serialised from
/// `T`, with the `schema_version` property added (the printer adds it, not
/// the type).
pub fn document_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut root = generator.into_root_schema_for::<T>().to_value();
    if let Value::Object(map) = &mut root {
        inline_root_ref(map);
        add_version(map);
    }
    root
}

/// The loose schema of `--jsonl` lines: each is an object naming its
/// `event` and carrying `schema_version`; the other fields depend on the
/// command and event.
pub fn events_schema() -> Value {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Event",
        "description": "One `--jsonl` line: an object naming its event (`start`, `reply`, `hop`, `round`, `summary`, `error`, …); the other fields depend on the command and the event.",
        "type": "object",
        "properties": {
            "event": { "type": "string" }
        },
        "required": ["event"]
    });
    if let Value::Object(map) = &mut root {
        add_version(map);
    }
    root
}

/// A transparent wrapper's root is only a `$ref` to the wrapped type:
/// moves that definition into the root, so every document's schema is an
/// object schema a reader (or a code generator) takes in at a glance. The
/// root's own title and description stay. A definition that something
/// else refers to as well is left as it is.
fn inline_root_ref(root: &mut Map<String, Value>) {
    let Some(Value::String(reference)) = root.get("$ref").cloned() else {
        return;
    };
    let Some(name) = reference.strip_prefix("#/$defs/") else {
        return;
    };
    let text = serde_json::to_string(root).unwrap_or_default();
    if text.matches(&format!("\"{reference}\"")).count() != 1 {
        return;
    }
    let Some(Value::Object(defs)) = root.get_mut("$defs") else {
        return;
    };
    let Some(Value::Object(target)) = defs.remove(name) else {
        return;
    };
    if defs.is_empty() {
        root.remove("$defs");
    }
    root.remove("$ref");
    for (key, value) in target {
        root.entry(key).or_insert(value);
    }
}

/// Adds `schema_version` as a required integer property of the root
/// object schema.
fn add_version(root: &mut Map<String, Value>) {
    let version = json!({
        "description": "Version of the JSON contract; bumped only by a breaking change.",
        "type": "integer",
        "const": SCHEMA_VERSION
    });
    let properties = root
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(p) = properties {
        p.insert(VERSION_KEY.into(), version);
    }
    let required = root
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = required {
        let key = Value::String(VERSION_KEY.into());
        if !list.contains(&key) {
            list.insert(0, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, JsonSchema)]
    struct Doc {
        /// A field.
        a: u8,
    }

    #[test]
    fn the_version_is_a_required_integer() {
        let s = document_schema::<Doc>();
        assert_eq!(s["properties"][VERSION_KEY]["const"], json!(SCHEMA_VERSION));
        assert_eq!(s["required"][0], json!(VERSION_KEY));
        assert!(s["properties"]["a"].is_object());
        let e = events_schema();
        assert_eq!(e["required"], json!([VERSION_KEY, "event"]));
    }

    #[derive(serde::Serialize, JsonSchema)]
    #[serde(transparent)]
    struct Wrapper(Doc);

    #[test]
    fn a_transparent_root_is_inlined() {
        let s = document_schema::<Wrapper>();
        assert!(s.get("$ref").is_none());
        assert!(s.get("$defs").is_none());
        assert_eq!(s["type"], json!("object"));
        assert_eq!(s["required"], json!([VERSION_KEY, "a"]));
    }
}
