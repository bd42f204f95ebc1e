//! The architecture as a test: top-level modules form no import cycle, the
//! layers below the commands never import a command or the CLI, and only
//! the probe core opens sockets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that are commands (or the CLI that feeds them).
const COMMANDS: &[&str] = &[
    "check", "cli", "dns", "explain", "hops", "mtr", "ping", "serve", "sockets", "tcp", "trace",
];
/// Modules below the commands.
const BELOW: &[&str] = &["diagnose", "error", "output", "probe", "resolve", "stats"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/dns/wire.rs` → dns).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// Code without `//` comments, so doc text naming a module is not an import.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `crate::x` references per top-level module.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let from = module_of(&src, &file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = code_of(&std::fs::read_to_string(&file).unwrap_or_default());
        let deps = graph.entry(from.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let is_module = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
            if is_module && name != from {
                deps.insert(name);
            }
        }
    }
    graph
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = graph();
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(pos) = path.iter().position(|n| n == node) {
            panic!("import cycle: {} -> {node}", path[pos..].join(" -> "));
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    assert!(graph.contains_key("diagnose") && graph.contains_key("probe"));
}

#[test]
fn layers_below_the_commands_import_no_command() {
    for (module, deps) in graph() {
        if !BELOW.contains(&module.as_str()) {
            continue;
        }
        for dep in deps {
            assert!(
                !COMMANDS.contains(&dep.as_str()),
                "{module} imports the command module {dep}"
            );
        }
    }
}

#[test]
fn only_the_probe_core_opens_sockets() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let openers = [
        "Socket::new",
        "libc::socket(",
        "TcpStream::connect",
        "UdpSocket::bind",
        "TcpListener::bind",
        "TcpSocket::new",
    ];
    for file in files {
        if module_of(&src, &file) == "probe" {
            continue;
        }
        let text = code_of(&std::fs::read_to_string(&file).unwrap_or_default());
        // Unit tests may open a listener to have something to look at.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for opener in openers {
            assert!(
                !text.contains(opener),
                "{} opens a socket ({opener}) outside src/probe",
                file.display()
            );
        }
    }
}
