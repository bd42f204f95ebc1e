//! Generated files kept in the repository (completions, man pages, JSON
//! Schemas) must match what the code generates now.

use std::path::{Path, PathBuf};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    out
}

/// Generates into a temporary folder with `write(out_dir)` and compares
/// each of `subdirs` with the repository's copy, byte for byte; under
/// `NETDX_REGENERATE` it first rewrites the repository's copy. `hint` says
/// how to regenerate.
pub fn assert_fresh<E: std::fmt::Display>(
    tag: &str,
    write: impl Fn(&Path) -> Result<(), E>,
    subdirs: &[&str],
    hint: &str,
) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("NETDX_REGENERATE").is_some() {
        if let Err(e) = write(repo) {
            panic!("cannot regenerate: {e}");
        }
    }
    let fresh = std::env::temp_dir().join(format!("netdx-{tag}-{}", std::process::id()));
    if let Err(e) = write(&fresh) {
        panic!("cannot generate: {e}");
    }
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect()
    };
    for sub in subdirs {
        let want = files_under(&fresh.join(sub));
        let have = files_under(&repo.join(sub));
        assert_eq!(names(&want), names(&have), "{sub}/ is out of date: {hint}");
        for (w, h) in want.iter().zip(have.iter()) {
            let a = std::fs::read(w).unwrap_or_default();
            let b = std::fs::read(h).unwrap_or_default();
            assert!(a == b, "{} is out of date: {hint}", h.display());
        }
    }
    let _ = std::fs::remove_dir_all(&fresh);
}
