//! Who holds a socket, as the rules name the process at fault.
//! `sockets::owners` fills it from /proc/*/fd.

use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A process that holds at least one socket of interest.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Proc {
    /// Process id.
    pub pid: u32,
    /// Program name (/proc/PID/comm).
    pub program: String,
    /// Real uid of the process.
    pub uid: u32,
    /// User name from /etc/passwd, or the uid as text.
    pub user: String,
}

/// Socket inode → processes holding it (a socket can be shared after fork).
#[derive(Debug, Default)]
pub struct Owners {
    /// Processes found, indexed by the lists in `by_inode`.
    pub procs: Vec<Proc>,
    by_inode: HashMap<u64, Vec<usize>>,
}

impl Owners {
    /// Processes holding `inode` (empty when unknown or not visible).
    pub fn of(&self, inode: u64) -> Vec<&Proc> {
        self.by_inode
            .get(&inode)
            .map(|v| v.iter().filter_map(|&i| self.procs.get(i)).collect())
            .unwrap_or_default()
    }

    /// Every socket inode the scan kept.
    pub fn inodes(&self) -> HashSet<u64> {
        self.by_inode.keys().copied().collect()
    }

    /// Adds a process and returns its index for [`Owners::holds`].
    pub fn add_proc(&mut self, proc: Proc) -> usize {
        self.procs.push(proc);
        self.procs.len() - 1
    }

    /// Records that the process at `index` holds `inode`.
    pub fn holds(&mut self, inode: u64, index: usize) {
        let list = self.by_inode.entry(inode).or_default();
        if !list.contains(&index) {
            list.push(index);
        }
    }
}
