//! File descriptor budget: every probe in flight holds a socket, so the soft
//! RLIMIT_NOFILE is raised to the hard limit before probing and the
//! parallelism is kept below what remains.

/// Descriptors kept free for stdio, the runtime and resolver.
const RESERVE: u64 = 64;

/// Raises the soft open-files limit to the hard one (or the kernel's
/// nr_open when the hard limit is unlimited) and returns the soft limit now
/// in force.
pub fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    if lim.rlim_cur < lim.rlim_max {
        let target = if lim.rlim_max == libc::RLIM_INFINITY {
            nr_open().unwrap_or(lim.rlim_cur)
        } else {
            lim.rlim_max
        };
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = target;
        }
    }
    lim.rlim_cur
}

/// The most sockets that may be in flight under a soft limit of `nofile`.
pub fn max_parallel(nofile: u64) -> usize {
    usize::try_from(nofile.saturating_sub(RESERVE).max(1)).unwrap_or(usize::MAX)
}

/// The kernel's ceiling for RLIMIT_NOFILE.
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}
