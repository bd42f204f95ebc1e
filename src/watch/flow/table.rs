//! The flows being followed, keyed by their two endpoints in either
//! direction, with a cap so a flood of new flows cannot grow memory
//! without bound, and the sweep that ends idle and closed flows.

use super::conn::Connection;
use std::collections::HashMap;
use std::net::SocketAddr;

/// Both endpoints of a flow, lower first, so both directions share a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct FlowKey(SocketAddr, SocketAddr);

impl FlowKey {
    /// The key of the flow between `a` and `b`, whichever sent.
    pub fn of(a: SocketAddr, b: SocketAddr) -> FlowKey {
        if a <= b {
            FlowKey(a, b)
        } else {
            FlowKey(b, a)
        }
    }
}

/// Why a flow left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gone {
    /// Closed (FINs or RST) and lingered long enough for stray segments.
    Closed,
    /// Nothing seen for the idle timeout.
    Idle,
}

/// The followed flows.
#[derive(Debug)]
pub(super) struct FlowTable {
    flows: HashMap<FlowKey, Connection>,
    max: usize,
}

impl FlowTable {
    /// A table that follows at most `max` flows at once.
    pub fn new(max: usize) -> FlowTable {
        FlowTable {
            flows: HashMap::new(),
            max,
        }
    }

    /// Flows followed now.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// The table's limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The flow under `key`, if followed.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut Connection> {
        self.flows.get_mut(key)
    }

    /// Stops following `key`, handing its connection back.
    pub fn remove(&mut self, key: &FlowKey) -> Option<Connection> {
        self.flows.remove(key)
    }

    /// Follows a new flow; gives the connection back when the table is full.
    pub fn insert(&mut self, key: FlowKey, conn: Connection) -> Result<(), Box<Connection>> {
        if self.flows.len() >= self.max && !self.flows.contains_key(&key) {
            return Err(Box::new(conn));
        }
        self.flows.insert(key, conn);
        Ok(())
    }

    /// Removes the flows that are over at `now_us`: closed ones after
    /// `linger_us`, any after `idle_us` of silence.
    pub fn sweep(&mut self, now_us: u64, linger_us: u64, idle_us: u64) -> Vec<(Connection, Gone)> {
        let mut over = Vec::new();
        for (key, conn) in &self.flows {
            let quiet = now_us.saturating_sub(conn.last_us);
            if conn.closed_us.is_some() && quiet >= linger_us {
                over.push((*key, Gone::Closed));
            } else if quiet >= idle_us {
                over.push((*key, Gone::Idle));
            }
        }
        over.into_iter()
            .filter_map(|(key, why)| self.flows.remove(&key).map(|c| (c, why)))
            .collect()
    }

    /// Empties the table (end of capture).
    pub fn drain(&mut self) -> impl Iterator<Item = Connection> + '_ {
        self.flows.drain().map(|(_, c)| c)
    }
}
