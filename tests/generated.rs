//! The committed shell completions and man pages must match the CLI.

use std::path::{Path, PathBuf};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    out
}

#[test]
fn completions_and_man_pages_are_up_to_date() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("NETDX_REGENERATE").is_some() {
        if let Err(e) = netdx::generate::write_all(repo) {
            panic!("cannot regenerate: {e}");
        }
    }
    let fresh = std::env::temp_dir().join(format!("netdx-generate-{}", std::process::id()));
    if let Err(e) = netdx::generate::write_all(&fresh) {
        panic!("cannot generate: {e}");
    }
    for sub in ["completions", "man"] {
        let want = files_under(&fresh.join(sub));
        let have = files_under(&repo.join(sub));
        let names = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect()
        };
        assert_eq!(
            names(&want),
            names(&have),
            "{sub}/ is out of date: run `NETDX_REGENERATE=1 cargo test --test generated`"
        );
        for (w, h) in want.iter().zip(have.iter()) {
            let a = std::fs::read(w).unwrap_or_default();
            let b = std::fs::read(h).unwrap_or_default();
            assert!(
                a == b,
                "{} is out of date: run `NETDX_REGENERATE=1 cargo test --test generated`",
                h.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&fresh);
}
