//! Checks netdx's JSON output against the committed schemas in `schema/`.
//! A compact validator for the JSON Schema subset schemars emits (type,
//! properties, required, additionalProperties, items, enum, const,
//! oneOf/anyOf/allOf, `$ref` into `$defs`, minimum/maximum, format `ip`);
//! a keyword outside that subset fails loudly rather than passing unseen.

use serde_json::Value;
use std::path::Path;

/// Keywords that only annotate: they never reject a value.
const ANNOTATIONS: &[&str] = &["$schema", "$defs", "title", "description", "examples"];

/// Formats that only annotate (the integer ranges are checked by
/// minimum/maximum, which schemars emits beside them).
const LOOSE_FORMATS: &[&str] = &[
    "double", "float", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32",
    "uint64", "uint128",
];

/// The committed schema `schema/<name>.json`, or None if there is none.
pub fn load(name: &str) -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).ok()?;
    Some(
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display())),
    )
}

/// Panics with every violation when `value` does not match `schema`
/// (whose `$ref`s point into its own `$defs`); `what` names the output.
pub fn assert_valid(schema: &Value, value: &Value, what: &str) {
    let mut errors = Vec::new();
    check(schema, schema, value, "", &mut errors);
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n  {}\n{}",
        errors.join("\n  "),
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Validates `value` at JSON pointer `at` against `schema`, collecting
/// violations into `errors`.
fn check(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let map = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            errors.push(format!("{at}: no value is allowed here"));
            return;
        }
        Value::Object(map) => map,
        other => panic!("not a schema: {other}"),
    };
    for (key, rule) in map {
        match key.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => {
                let target = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|p| root.pointer(p))
                    .unwrap_or_else(|| panic!("unresolved $ref {rule}"));
                check(root, target, value, at, errors);
            }
            "type" => {
                let allowed: Vec<&str> = match rule {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                    other => panic!("bad type {other}"),
                };
                if !allowed.iter().any(|t| has_type(value, t)) {
                    errors.push(format!("{at}: {value} is not of type {allowed:?}"));
                }
            }
            "properties" => {
                if let (Some(props), Some(obj)) = (rule.as_object(), value.as_object()) {
                    for (name, sub) in props {
                        if let Some(v) = obj.get(name) {
                            check(root, sub, v, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "required" => {
                if let (Some(names), Some(obj)) = (rule.as_array(), value.as_object()) {
                    for name in names.iter().filter_map(Value::as_str) {
                        if !obj.contains_key(name) {
                            errors.push(format!("{at}: required field `{name}` is missing"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let known = map.get("properties").and_then(Value::as_object);
                    for (name, v) in obj {
                        if !known.is_some_and(|k| k.contains_key(name)) {
                            check(root, rule, v, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "items" => {
                if let Some(list) = value.as_array() {
                    for (i, v) in list.iter().enumerate() {
                        check(root, rule, v, &format!("{at}/{i}"), errors);
                    }
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|l| l.contains(value)) {
                    errors.push(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "const" => {
                if rule != value {
                    errors.push(format!("{at}: {value} is not {rule}"));
                }
            }
            "minimum" | "maximum" => {
                if let (Some(limit), Some(n)) = (rule.as_f64(), value.as_f64()) {
                    let ok = if key == "minimum" {
                        n >= limit
                    } else {
                        n <= limit
                    };
                    if !ok {
                        errors.push(format!("{at}: {value} is out of range ({key} {rule})"));
                    }
                }
            }
            "format" => match rule.as_str() {
                Some("ip") => {
                    if let Some(s) = value.as_str() {
                        if s.parse::<std::net::IpAddr>().is_err() {
                            errors.push(format!("{at}: {s:?} is not an IP address"));
                        }
                    }
                }
                Some(f) if LOOSE_FORMATS.contains(&f) => {}
                other => panic!("format {other:?} is not checked: add it to the validator"),
            },
            "allOf" | "anyOf" | "oneOf" => {
                let subs = rule.as_array().cloned().unwrap_or_default();
                let passing = subs
                    .iter()
                    .filter(|s| {
                        let mut e = Vec::new();
                        check(root, s, value, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                let ok = match key.as_str() {
                    "allOf" => passing == subs.len(),
                    "anyOf" => passing >= 1,
                    _ => passing == 1,
                };
                if !ok {
                    errors.push(format!(
                        "{at}: {value} matches {passing} of the {} `{key}` alternatives",
                        subs.len()
                    ));
                }
            }
            other => panic!("schema keyword `{other}` is not checked: add it to the validator"),
        }
    }
}

/// Whether `value` is of JSON Schema type `name`.
fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("unknown type {other}"),
    }
}
