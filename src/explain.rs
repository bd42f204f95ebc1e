//! `netdx explain WHAT`: the errno, TCP state, ICMP and TCP flag tables of
//! `diagnose/` made queryable, so the words a person reads here are the
//! same words every diagnosis uses.

use crate::cli::{ExplainArgs, GlobalOpts};
use crate::diagnose::errno::{self, ErrnoInfo};
use crate::diagnose::icmp::{self, IcmpInfo};
use crate::diagnose::tcp_flags::{self, TcpFlagInfo};
use crate::diagnose::tcp_state::{self, TcpStateInfo};
use crate::diagnose::Diagnosis;
use crate::error::{AppError, AppResult, Exit};
use crate::output::{Report, Sink};
use serde::Serialize;
use serde_json::{json, Value};

/// One thing the user asked about, found in a table.
#[derive(Debug, Clone)]
enum Topic {
    /// An errno, by name or number.
    Errno(&'static ErrnoInfo),
    /// A number in Linux's errno range that Linux never assigned.
    Unassigned(i32),
    /// A TCP state.
    State(&'static TcpStateInfo),
    /// An ICMP type, optionally narrowed to one code.
    Icmp {
        v6: bool,
        icmp_type: u8,
        code: Option<u8>,
        entries: Vec<&'static IcmpInfo>,
    },
    /// One TCP flag or a combination (`SYN+ACK`).
    Flags(Vec<&'static TcpFlagInfo>),
    /// A diagnosis code no errno or state stands for.
    Code(&'static crate::diagnose::codes::CodeInfo),
}

/// What `netdx explain` found for each query, in the order asked.
/// Serialises as the `--json` document.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ExplainReport {
    /// One object per query (kind, name, number, meaning…).
    pub results: Vec<Value>,
    /// The table entries behind `results`, for the human text.
    #[serde(skip)]
    topics: Vec<Topic>,
}

impl Report for ExplainReport {
    fn diagnoses(&self) -> Vec<Diagnosis> {
        Vec::new()
    }

    fn exit(&self) -> Exit {
        Exit::Healthy
    }

    fn render_human(&self, sink: &Sink) {
        for (i, topic) in self.topics.iter().enumerate() {
            if i > 0 {
                sink.line("");
            }
            render(sink, topic);
        }
    }
}

/// Runs `netdx explain`: the report, then its text or document.
pub fn run(args: &ExplainArgs, global: &GlobalOpts, sink: &Sink) -> AppResult<Exit> {
    let report = explain(args, global, sink)?;
    Ok(crate::output::finish(sink, &report))
}

/// Looks every query up (an unknown word fails the whole run before any
/// output) and streams one `explain` event per query through `sink`.
pub fn explain(args: &ExplainArgs, _global: &GlobalOpts, sink: &Sink) -> AppResult<ExplainReport> {
    let queries = split_queries(&args.what)?;
    let mut topics = Vec::new();
    for q in &queries {
        topics.push((q.clone(), lookup(q)?));
    }
    let mut results = Vec::new();
    for (query, topic) in &topics {
        let doc = to_json(query, topic);
        sink.event("explain", &doc);
        results.push(doc);
    }
    Ok(ExplainReport {
        results,
        topics: topics.into_iter().map(|(_, t)| t).collect(),
    })
}

/// Splits the words into queries: `icmp 3/13` stays one query, other words
/// are one query each (`explain ECONNRESET EPIPE`).
fn split_queries(words: &[String]) -> AppResult<Vec<String>> {
    let tokens: Vec<&str> = words.iter().flat_map(|w| w.split_whitespace()).collect();
    let mut queries = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if icmp_family(t).is_some() {
            let Some(next) = tokens.get(i + 1) else {
                return Err(AppError::usage(format!(
                    "'{t}' needs a type and optionally a code, e.g. `netdx explain {t} 3/13`"
                )));
            };
            queries.push(format!("{t} {next}"));
            i += 2;
        } else {
            queries.push(t.to_string());
            i += 1;
        }
    }
    if queries.is_empty() {
        return Err(AppError::usage(
            "nothing to explain: give e.g. ECONNRESET, 104, CLOSE_WAIT, \"icmp 3/13\" or RST",
        ));
    }
    Ok(queries)
}

/// `Some(v6)` when the word names ICMP or ICMPv6.
fn icmp_family(word: &str) -> Option<bool> {
    match word.to_ascii_lowercase().as_str() {
        "icmp" | "icmp4" | "icmpv4" => Some(false),
        "icmp6" | "icmpv6" => Some(true),
        _ => None,
    }
}

/// Finds the topic for one query, or a usage error naming the closest matches.
fn lookup(query: &str) -> AppResult<Topic> {
    if let Some((family, rest)) = query.split_once(' ') {
        if let Some(v6) = icmp_family(family) {
            return icmp_topic(v6, rest);
        }
    }
    if let Ok(n) = query.parse::<i64>() {
        return errno_number(n);
    }
    if let Some(e) = errno::by_name(query) {
        return Ok(Topic::Errno(e));
    }
    if let Some(s) = tcp_state::by_name(query) {
        return Ok(Topic::State(s));
    }
    if let Some(flags) = flag_list(query) {
        return Ok(Topic::Flags(flags));
    }
    if query.contains('.') {
        if let Some(e) = errno::by_diagnosis(query) {
            return Ok(Topic::Errno(e));
        }
        if let Some(s) = tcp_state::TCP_STATES
            .iter()
            .find(|s| s.diagnosis == Some(query))
        {
            return Ok(Topic::State(s));
        }
        if let Some(c) = crate::diagnose::codes::by_code(query) {
            return Ok(Topic::Code(c));
        }
    }
    Err(unknown(query))
}

/// An errno by number, with words for the numbers Linux does not use.
fn errno_number(n: i64) -> AppResult<Topic> {
    let Ok(n32) = i32::try_from(n) else {
        return Err(AppError::usage(format!(
            "{n} is not an errno: Linux errnos run from 1 to 133"
        )));
    };
    if let Some(e) = errno::by_number(n32) {
        return Ok(Topic::Errno(e));
    }
    if errno::UNASSIGNED.contains(&n32) {
        return Ok(Topic::Unassigned(n32));
    }
    Err(AppError::usage(format!(
        "{n} is not an errno: Linux errnos run from 1 to 133 (try `netdx explain icmp {n}` for an ICMP type)"
    )))
}

/// Parses `3`, `3/13` or `3.13` after `icmp`.
fn icmp_topic(v6: bool, spec: &str) -> AppResult<Topic> {
    let bad = || {
        AppError::usage(format!(
            "'{spec}': give an ICMP type and optionally a code as numbers, e.g. `icmp 3/13` or `icmp6 1/4`"
        ))
    };
    let (t, c) = match spec.split_once(['/', '.', ':']) {
        Some((t, c)) => (t, Some(c)),
        None => (spec, None),
    };
    let icmp_type: u8 = t.trim().parse().map_err(|_| bad())?;
    let code: Option<u8> = match c {
        Some(c) => Some(c.trim().parse().map_err(|_| bad())?),
        None => None,
    };
    let entries: Vec<&'static IcmpInfo> = match code {
        Some(c) => icmp::lookup(v6, icmp_type, c).into_iter().collect(),
        None => icmp::codes_of(v6, icmp_type),
    };
    if entries.is_empty() {
        let family = if v6 { "ICMPv6" } else { "ICMP" };
        let known: Vec<String> = icmp::codes_of(v6, icmp_type)
            .iter()
            .filter_map(|i| i.code.map(|c| format!("{icmp_type}/{c}")))
            .collect();
        let hint = if known.is_empty() {
            String::new()
        } else {
            format!("; known codes of type {icmp_type}: {}", known.join(", "))
        };
        let other = if v6 { "icmp" } else { "icmp6" };
        return Err(AppError::usage(format!(
            "{family} {spec} is not in netdx's table{hint} (for the other family try `{other} {spec}`)"
        )));
    }
    Ok(Topic::Icmp {
        v6,
        icmp_type,
        code,
        entries,
    })
}

/// `RST`, `SYN+ACK`, `syn,ack`, `FIN/ACK` → the flags, if every part is one.
fn flag_list(query: &str) -> Option<Vec<&'static TcpFlagInfo>> {
    let mut flags = Vec::new();
    for part in query.split(['+', ',', '/', '|']) {
        flags.push(tcp_flags::by_name(part)?);
    }
    if flags.is_empty() {
        None
    } else {
        Some(flags)
    }
}

/// A usage error that names the closest known words.
fn unknown(query: &str) -> AppError {
    let near = closest(query, 4);
    let hint = if near.is_empty() {
        "try an errno (ECONNRESET, 104), a TCP state (CLOSE_WAIT), `icmp 3/13` or a TCP flag (RST)"
            .to_string()
    } else {
        format!("closest: {}", near.join(", "))
    };
    AppError::usage(format!("don't know '{query}'; {hint}"))
}

/// Every word explain understands by name.
fn vocabulary() -> Vec<&'static str> {
    let mut words = Vec::new();
    for e in errno::ERRNO_TABLE {
        words.push(e.name);
        words.extend(e.aliases.iter().copied());
    }
    for s in tcp_state::TCP_STATES {
        words.push(s.name);
        words.extend(s.aliases.iter().copied());
    }
    for f in tcp_flags::TCP_FLAGS {
        words.push(f.name);
    }
    words.extend(crate::diagnose::codes::all().map(|c| c.code));
    words
}

/// The `max` known words nearest to `query` by edit distance (and prefix).
pub fn closest(query: &str, max: usize) -> Vec<String> {
    let q = query.to_ascii_uppercase();
    let limit = (q.len() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = vocabulary()
        .into_iter()
        .filter_map(|w| {
            let w_up = w.to_ascii_uppercase();
            let d = levenshtein(&q, &w_up);
            let prefix = q.len() >= 3 && w_up.starts_with(q.as_str());
            if d <= limit || prefix {
                Some((if prefix { d.min(limit) } else { d }, w))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(max)
        .map(|(_, w)| w.to_string())
        .collect()
}

/// Classic edit distance over bytes (the vocabulary is ASCII).
fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Prints one topic as labelled lines.
fn render(sink: &Sink, topic: &Topic) {
    let field = |label: &str, text: &str| {
        if !text.is_empty() {
            sink.line(&format!("  {label:<9} {text}"));
        }
    };
    match topic {
        Topic::Code(c) => {
            sink.line(&format!("{} — diagnosis code", c.code));
            field("meaning", c.meaning);
            field("check", c.check);
        }
        Topic::Errno(e) => {
            let aka = if e.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also {})", e.aliases.join(", "))
            };
            sink.line(&format!(
                "{}{aka} — errno {}: {}",
                e.name, e.number, e.message
            ));
            if e.meaning.is_empty() {
                field("meaning", "a legacy or subsystem-specific code (STREAMS, XENIX, a.out libraries, old drivers); network programs do not meet it");
            } else {
                field("meaning", e.meaning);
            }
            field("client", e.client);
            field("server", e.server);
            field("check", e.check);
            if let Some(code) = e.diagnosis {
                field("netdx", &format!("reported as diagnosis {code}"));
            }
        }
        Topic::Unassigned(n) => {
            sink.line(&format!("errno {n}: unassigned on Linux"));
            field("meaning", "Linux leaves this number unused (41 and 58 are gaps in the table); a program reporting it has a bug or comes from another OS");
        }
        Topic::State(s) => {
            let aka = if s.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also {})", s.aliases.join(", "))
            };
            sink.line(&format!(
                "{}{aka} — TCP state {} in /proc/net/tcp",
                s.name, s.number
            ));
            field("who", s.who);
            field("meaning", s.meaning);
            field("a pile", s.pile);
            for (name, note) in s.sysctls {
                field("sysctl", &format!("{name}: {note}"));
            }
            if let Some(code) = s.diagnosis {
                field(
                    "netdx",
                    &format!("`netdx sockets` reports a pile as {code}"),
                );
            }
        }
        Topic::Icmp {
            v6,
            icmp_type,
            code,
            entries,
        } => {
            let family = if *v6 { "ICMPv6" } else { "ICMP" };
            match code {
                Some(c) => sink.line(&format!("{family} type {icmp_type} code {c}")),
                None => sink.line(&format!("{family} type {icmp_type} (all codes)")),
            }
            for i in entries {
                let c = i.code.map(|c| c.to_string()).unwrap_or_else(|| "*".into());
                let mark = if i.trace_mark.is_empty() {
                    String::new()
                } else {
                    format!(", traceroute shows {}", i.trace_mark)
                };
                sink.line(&format!(
                    "  {icmp_type}/{c} {} (ping: \"{}\"{mark})",
                    i.name, i.ping_text
                ));
                sink.line(&format!("      {}", i.meaning));
                if !i.check.is_empty() {
                    sink.line(&format!(
                        "      check, on the machine that sent it: {}",
                        i.check
                    ));
                }
            }
        }
        Topic::Flags(flags) => {
            let bits = flags.iter().fold(0u8, |acc, f| acc | f.bit);
            let names: Vec<&str> = flags.iter().map(|f| f.name).collect();
            sink.line(&format!(
                "TCP flag{} {} (0x{bits:02x})",
                if flags.len() > 1 { "s" } else { "" },
                names.join("+")
            ));
            for f in flags {
                field(
                    f.name,
                    &format!(
                        "{} (bit 0x{:02x}, tcpdump [{}]): {}",
                        f.long, f.bit, f.tcpdump, f.meaning
                    ),
                );
            }
            if flags.len() > 1 {
                if let Some(text) = tcp_flags::combination(bits) {
                    field("together", text);
                }
            }
        }
    }
}

/// The topic as one JSON object.
fn to_json(query: &str, topic: &Topic) -> Value {
    match topic {
        Topic::Code(c) => json!({
            "query": query, "kind": "diagnosis", "name": c.code,
            "meaning": c.meaning, "check": c.check,
        }),
        Topic::Errno(e) => json!({
            "query": query, "kind": "errno", "name": e.name, "number": e.number,
            "aliases": e.aliases, "message": e.message, "meaning": e.meaning,
            "client": e.client, "server": e.server, "check": e.check, "diagnosis": e.diagnosis,
        }),
        Topic::Unassigned(n) => json!({
            "query": query, "kind": "errno", "name": Value::Null, "number": n,
            "message": "unassigned on Linux",
        }),
        Topic::State(s) => json!({
            "query": query, "kind": "tcp_state", "name": s.name, "number": s.number,
            "aliases": s.aliases, "who": s.who, "meaning": s.meaning, "pile": s.pile,
            "sysctls": s.sysctls.iter().map(|(k, v)| json!({"name": k, "note": v})).collect::<Vec<_>>(),
            "diagnosis": s.diagnosis,
        }),
        Topic::Icmp {
            v6,
            icmp_type,
            code,
            entries,
        } => json!({
            "query": query, "kind": if *v6 { "icmpv6" } else { "icmp" }, "type": icmp_type, "code": code,
            "entries": entries.iter().map(|i| json!({
                "type": i.icmp_type, "code": i.code, "name": i.name, "ping_text": i.ping_text,
                "trace_mark": i.trace_mark, "meaning": i.meaning,
                "check": (!i.check.is_empty()).then_some(i.check),
            })).collect::<Vec<_>>(),
        }),
        Topic::Flags(flags) => {
            let bits = flags.iter().fold(0u8, |acc, f| acc | f.bit);
            json!({
                "query": query, "kind": "tcp_flags", "bits": bits,
                "flags": flags.iter().map(|f| json!({"name": f.name, "long": f.long, "bit": f.bit, "tcpdump": f.tcpdump, "meaning": f.meaning})).collect::<Vec<_>>(),
                "together": if flags.len() > 1 { tcp_flags::combination(bits) } else { None },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_near_matches() {
        let near = closest("ECONNRESTE", 3);
        assert_eq!(near.first().map(String::as_str), Some("ECONNRESET"));
        assert!(closest("CLOSE_WIAT", 3).iter().any(|w| w == "CLOSE_WAIT"));
    }

    /// Every `.rs` file under `dir`, recursively.
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }

    /// String literals in `src` shaped like a diagnosis code
    /// (`"family.word"`, word in `[a-z0-9_]`), file names excluded.
    fn code_literals(src: &str) -> Vec<String> {
        const FAMILIES: [&str; 10] = [
            "ping", "path", "trace", "mtr", "tcp", "dns", "sockets", "serve", "check", "watch",
        ];
        const FILE_EXTENSIONS: [&str; 5] = ["rs", "json", "toml", "md", "txt"];
        let mut found = Vec::new();
        for (start, _) in src.match_indices('"') {
            let rest = &src[start + 1..];
            let Some(end) = rest.find('"') else { continue };
            let literal = &rest[..end];
            let Some((family, word)) = literal.split_once('.') else {
                continue;
            };
            if FAMILIES.contains(&family)
                && !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !FILE_EXTENSIONS.contains(&word)
            {
                found.push(literal.to_string());
            }
        }
        found
    }

    /// DESIGN.md: `netdx explain CODE` knows every code. Every literal in
    /// src/ shaped like a diagnosis code (`Diagnosis::new("x.y"`, `const
    /// X_CODE: &str = "x.y"`, codes handed to helpers) must be found by the
    /// same lookup `netdx explain` runs.
    #[test]
    fn every_code_in_the_source_is_explained() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        files.sort();
        let mut seen = 0;
        let mut unknown = Vec::new();
        for file in &files {
            let text =
                std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for code in code_literals(&text) {
                seen += 1;
                if lookup(&code).is_err() {
                    let name = file.strip_prefix(&root).unwrap_or(file).display();
                    unknown.push(format!("{code} (src/{name})"));
                }
            }
        }
        unknown.sort();
        unknown.dedup();
        assert!(
            seen > 50,
            "the scan found only {seen} code literals in src/"
        );
        assert!(
            unknown.is_empty(),
            "unknown to `netdx explain`: {}",
            unknown.join(", ")
        );
    }

    /// Codes built at run time (`{prefix}.{no_route,send_failed}` by
    /// `path::local_end`) are explained too.
    #[test]
    fn composed_codes_are_explained() {
        let target: std::net::IpAddr = [198, 18, 0, 1].into();
        for prefix in ["trace", "path"] {
            for errno in [libc::ENETUNREACH, libc::EPERM, libc::EIO] {
                let d = crate::diagnose::path::local_end(prefix, errno, target);
                assert!(lookup(&d.code).is_ok(), "{} unexplained", d.code);
            }
        }
    }

    #[test]
    fn code_literals_skip_file_names_and_prose() {
        let src = r#"let a = "tcp.rs"; Diagnosis::new("ping.lossy", s, "x"); const C: &str = "dns.ok"; "tcp. x" "#;
        assert_eq!(code_literals(src), ["ping.lossy", "dns.ok"]);
    }

    #[test]
    fn icmp_words_stay_together() {
        let q = split_queries(&["icmp".into(), "3/13".into(), "RST".into()]).unwrap_or_default();
        assert_eq!(q, vec!["icmp 3/13".to_string(), "RST".to_string()]);
    }
}
