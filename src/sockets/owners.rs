//! Who holds a socket: walks /proc/*/fd for `socket:[INODE]` links (what
//! lsof and `ss -p` do). Needs root to see other users' processes; without
//! it, the sockets of those processes simply have no owner.

pub use crate::diagnose::sockets::owners::{Owners, Proc};
use std::collections::{HashMap, HashSet};

/// Which sockets and processes a scan should keep.
pub struct ScanFilter<'a> {
    /// Keep only these inodes (None: every socket inode).
    pub inodes: Option<&'a HashSet<u64>>,
    /// Keep only this pid.
    pub pid: Option<u32>,
    /// Keep only processes with this program name.
    pub program: Option<&'a str>,
}

/// Scans /proc once. Processes that vanish or deny access are skipped, and
/// so are processes of another network namespace: sock_diag lists only this
/// namespace's sockets, so a process elsewhere holds none of them (a
/// `--process` match there would name a program that owns nothing shown).
pub fn scan(filter: &ScanFilter<'_>) -> Owners {
    let mut owners = Owners::default();
    let users = passwd();
    let own_netns = std::fs::read_link("/proc/self/ns/net").ok();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return owners;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if filter.pid.is_some_and(|want| want != pid) {
            continue;
        }
        let program = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default();
        if filter.program.is_some_and(|want| want != program) {
            continue;
        }
        if !same_netns(pid, own_netns.as_deref()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let mut index = None;
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = socket_inode(target.as_os_str().as_encoded_bytes()) else {
                continue;
            };
            if filter.inodes.is_some_and(|set| !set.contains(&inode)) {
                continue;
            }
            let i = *index.get_or_insert_with(|| {
                let uid = real_uid(pid).unwrap_or(u32::MAX);
                owners.add_proc(Proc {
                    pid,
                    program: program.clone(),
                    uid,
                    user: users.get(&uid).cloned().unwrap_or_else(|| uid.to_string()),
                })
            });
            owners.holds(inode, i);
        }
    }
    owners
}

/// True when `pid` lives in the network namespace `own` (our
/// `/proc/self/ns/net` link, `net:[inode]`); a process whose link cannot be
/// read (gone, or not root) is kept, as before, since its sockets may still
/// match by inode.
fn same_netns(pid: u32, own: Option<&std::path::Path>) -> bool {
    let Some(own) = own else { return true };
    match std::fs::read_link(format!("/proc/{pid}/ns/net")) {
        Ok(theirs) => theirs == own,
        Err(_) => true,
    }
}

/// `socket:[12345]` → 12345.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let rest = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(rest).ok()?.parse().ok()
}

fn real_uid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// uid → name from /etc/passwd (no NSS: enough for local accounts).
fn passwd() -> HashMap<u32, String> {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// The soft limit on open files of a process, to weigh a descriptor leak.
pub fn nofile_limit(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_socket_links_only() {
        assert_eq!(socket_inode(b"socket:[4242]"), Some(4242));
        assert_eq!(socket_inode(b"pipe:[4242]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
    }

    #[test]
    fn finds_its_own_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0");
        let Ok(_listener) = listener else { return };
        let me = std::process::id();
        let owners = scan(&ScanFilter {
            inodes: None,
            pid: Some(me),
            program: None,
        });
        assert!(owners.procs.iter().any(|p| p.pid == me));
        assert!(!owners.inodes().is_empty());
    }
}
