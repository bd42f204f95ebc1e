//! Engines shared by every run in one process: `check` and `serve` run many
//! commands at once, and each would otherwise open its own raw ICMP
//! sockets (one per family) and its own receive loop. With sharing on,
//! runs with the same binding get the same engine for as long as any of
//! them holds it; the engine's identifier and sequence numbers then belong
//! to all of them, so a run's `icmp_seq` need not start at 1.
//!
//! Off by default: a single command owns its engine, and engines never
//! cross runtimes (their receive loops are tasks of the runtime that
//! opened them), which a process-wide pool could not promise to tests
//! that start a runtime each.

use super::{Binding, Engine};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Whether runs share engines.
static SHARING: AtomicBool = AtomicBool::new(false);

/// A binding as a map key: source address, interface, PMTU discovery.
type BindingKey = (
    Option<std::net::IpAddr>,
    Option<String>,
    Option<super::socket::PmtuDisc>,
);

/// The live shared engines, by binding.
type Pool = Mutex<HashMap<BindingKey, Weak<Engine>>>;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Turns sharing on for the rest of the process; called by the binary for
/// `check` (one runtime for the whole run).
pub fn share_engines() {
    SHARING.store(true, Ordering::Relaxed);
}

/// The engine a run should use: the shared one for `binding` when sharing
/// is on (opened on first use), else a new one of its own.
pub fn engine_for(binding: Binding) -> Arc<Engine> {
    if !SHARING.load(Ordering::Relaxed) {
        return Engine::new(binding);
    }
    let key = (binding.source, binding.device.clone(), binding.pmtu);
    let mut map = pool().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(engine) = map.get(&key).and_then(Weak::upgrade) {
        return engine;
    }
    map.retain(|_, weak| weak.strong_count() > 0);
    let engine = Engine::new(binding);
    map.insert(key, Arc::downgrade(&engine));
    engine
}
