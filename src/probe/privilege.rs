//! Gives up the network privileges once the sockets that need them are open,
//! as iputils ping does: a bug or a hostile reply met later, while parsing
//! packets for minutes, then cannot open raw sockets, sniff, or reconfigure
//! the network. CAP_NET_RAW and CAP_NET_ADMIN leave the effective and the
//! permitted sets (so they cannot be raised again), and a setuid-root netdx
//! (real uid not 0) becomes its real user.
//!
//! Capabilities belong to threads: the drop applies to the calling thread,
//! which for the binary is the runtime's only worker (the main thread), and
//! to every thread started after it; `setuid` applies to all threads.
//!
//! When to drop is the binary's decision, never a command's: `check` runs
//! many commands in one process, and a ping that dropped the privilege would
//! leave a later trace without its raw sockets. The binary either drops at
//! once (commands that open no raw socket) or arms [`drop_once_prepared`],
//! and the engine calls [`sockets_prepared`] after opening a command's
//! sockets up front.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// `CAP_NET_ADMIN` (linux/capability.h).
const CAP_NET_ADMIN: u32 = 12;
/// `CAP_NET_RAW` (linux/capability.h).
const CAP_NET_RAW: u32 = 13;
/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets in two 32-bit words.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`: one 32-bit word of each set.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Set by the binary for a command whose sockets the engine prepares.
static ARMED: AtomicBool = AtomicBool::new(false);

/// Arms the drop for the next [`sockets_prepared`]: for ping, trace and mtr,
/// whose engine opens every privileged socket of the run in its prepare
/// step. Only the binary calls this, once, for a single-command run.
pub fn drop_once_prepared() {
    ARMED.store(true, Ordering::SeqCst);
}

/// Called by the engine when a command's sockets are open: drops the
/// privileges if the binary armed it (once); otherwise does nothing, so a
/// library caller (`check`) keeps them.
pub fn sockets_prepared() {
    if ARMED.swap(false, Ordering::SeqCst) {
        // Failing to drop leaves us as privileged as we started: nothing
        // to report to the user, and the run goes on.
        let _ = drop_raw_capability();
    }
}

/// Drops CAP_NET_RAW and CAP_NET_ADMIN from this thread's effective,
/// permitted and inheritable sets and, when running setuid-root (effective
/// uid 0, real uid not 0), sets every uid back to the real one.
pub fn drop_raw_capability() -> io::Result<()> {
    // SAFETY: getuid and geteuid have no preconditions and cannot fail.
    let (ruid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    if euid == 0 && ruid != 0 {
        // SAFETY: setuid has no memory preconditions; glibc applies it to
        // every thread of the process. From euid 0 it sets the real,
        // effective and saved uids, which clears the capability sets.
        if unsafe { libc::setuid(ruid) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: version 3 reads a header and writes two CapData words, both
    // live and of the layout the kernel expects.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mask = !((1u32 << CAP_NET_RAW) | (1u32 << CAP_NET_ADMIN));
    data[0].effective &= mask;
    data[0].permitted &= mask;
    data[0].inheritable &= mask;
    // SAFETY: as above; capset only reads the header and the two words.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether this thread holds CAP_NET_RAW in its effective set.
pub fn has_raw_capability() -> bool {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: as in drop_raw_capability.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    rc == 0 && data[0].effective & (1u32 << CAP_NET_RAW) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a thread of its own drops, so the other tests keep their
    /// privileges.
    #[test]
    fn dropping_clears_net_raw_on_this_thread_only() {
        let before = has_raw_capability();
        let after = std::thread::spawn(|| drop_raw_capability().map(|_| has_raw_capability()))
            .join()
            .unwrap_or_else(|_| panic!("thread panicked"));
        match after {
            Ok(raw) => assert!(!raw, "CAP_NET_RAW still effective after the drop"),
            Err(e) => panic!("drop failed: {e}"),
        }
        assert_eq!(has_raw_capability(), before);
    }
}
