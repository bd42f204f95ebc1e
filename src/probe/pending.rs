//! The probes in flight, shared by every receive loop: an answer completes
//! the probe whose identity it carries and whose target it concerns; a
//! second echo reply to an answered probe is reported as a duplicate, as
//! iputils' `(DUP!)` does (a sign of a layer-2 loop or a bridging fault).

use super::packet::Identity;
use super::Response;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot};

/// How many answered probes are remembered to recognise duplicates.
const RECENT: usize = 4096;

/// What the receive side hands back to a waiting probe.
pub(super) struct Answer {
    pub(super) response: Response,
    pub(super) stamp: Option<SystemTime>,
}

/// A probe in flight, waiting for its answer.
pub(super) struct Pending {
    tx: oneshot::Sender<Answer>,
    /// Where the probe went: an answer about another address is not ours,
    /// even with the same identity (another netdx process may have chosen
    /// the same 16-bit identifier on this host's shared ICMP traffic).
    target: IpAddr,
    sent: SystemTime,
}

/// A second echo reply to a probe that was already answered.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    /// Wire sequence number of the probe.
    pub seq: u16,
    /// Who sent the copy.
    pub from: IpAddr,
    /// TTL of the copy.
    pub ttl: Option<u8>,
    /// ICMP bytes of the copy.
    pub bytes: usize,
    /// Time from the probe's send to this copy.
    pub rtt: Option<Duration>,
}

/// Probes waiting, probes recently answered, and who wants duplicates.
#[derive(Default)]
pub(super) struct Registry {
    waiting: HashMap<Identity, Pending>,
    answered: VecDeque<(Identity, IpAddr, SystemTime)>,
    /// Who wants duplicates, per probe target: runs sharing one engine
    /// (`check`, `serve`) each hear only about their own target.
    duplicates: Vec<(IpAddr, mpsc::UnboundedSender<Duplicate>)>,
}

/// The registry shared by the engine and its receive loops.
pub(super) type PendingMap = Arc<Mutex<Registry>>;

/// Locks, recovering from a poisoned lock: a panicked task must not stop
/// every other probe.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A probe's place in the registry; leaving it (answer, timeout, or the
/// caller dropping the future) frees the slot, so cancelled probes never leak.
pub(super) struct Registration {
    pending: PendingMap,
    key: Identity,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.pending).waiting.remove(&self.key);
    }
}

/// Puts a probe in the registry; its answer arrives on the receiver.
pub(super) fn register(
    pending: &PendingMap,
    key: Identity,
    target: IpAddr,
) -> (Registration, oneshot::Receiver<Answer>) {
    let (tx, rx) = oneshot::channel();
    let sent = SystemTime::now();
    lock(pending)
        .waiting
        .insert(key, Pending { tx, target, sent });
    (
        Registration {
            pending: pending.clone(),
            key,
        },
        rx,
    )
}

/// Starts reporting duplicates of replies to probes sent to `target` on
/// the returned receiver (subscribers that went away are dropped here).
pub(super) fn subscribe(
    pending: &PendingMap,
    target: IpAddr,
) -> mpsc::UnboundedReceiver<Duplicate> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut reg = lock(pending);
    reg.duplicates.retain(|(_, tx)| !tx.is_closed());
    reg.duplicates.push((target, tx));
    rx
}

/// What the registry made of an answer, so the receive path's decisions
/// can be checked without waiting on channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// It completed a waiting probe.
    Answered,
    /// A second echo reply, from its target, to a probe already answered.
    Duplicate,
    /// Nobody waits for it: another target's, another process's, or late.
    Stray,
}

/// Completes the probe waiting under `key` with `answer`, if `about` (the
/// address the answer concerns: the replier, or the destination quoted in
/// an error) is that probe's target. Broadcast and multicast targets accept
/// answers from anyone, as ping does.
pub(super) fn complete(
    pending: &PendingMap,
    key: &Identity,
    about: Option<IpAddr>,
    answer: Answer,
) -> Completion {
    let mut reg = lock(pending);
    let ours = match (reg.waiting.get(key), about) {
        (Some(p), Some(addr)) => p.target == addr || answers_from_anyone(p.target),
        (Some(_), None) => true,
        (None, _) => false,
    };
    if ours {
        if let Some(p) = reg.waiting.remove(key) {
            if reg.answered.len() >= RECENT {
                reg.answered.pop_front();
            }
            reg.answered.push_back((*key, p.target, p.sent));
            let _ = p.tx.send(answer);
        }
        return Completion::Answered;
    }
    report_duplicate(&reg, key, about, &answer)
}

/// An echo reply for a probe already answered, from its target: a copy,
/// sent to the subscriber if there is one.
fn report_duplicate(
    reg: &Registry,
    key: &Identity,
    about: Option<IpAddr>,
    answer: &Answer,
) -> Completion {
    let (Identity::Echo { seq, .. }, Some(addr)) = (key, about) else {
        return Completion::Stray;
    };
    let Response::Reply { from, ttl, bytes } = answer.response else {
        return Completion::Stray;
    };
    let Some(&(_, probe_target, sent)) = reg
        .answered
        .iter()
        .rev()
        .find(|(k, target, _)| k == key && (*target == addr || answers_from_anyone(*target)))
    else {
        return Completion::Stray;
    };
    let rtt = answer.stamp.and_then(|s| s.duration_since(sent).ok());
    for (_, tx) in reg.duplicates.iter().filter(|(t, _)| *t == probe_target) {
        let _ = tx.send(Duplicate {
            seq: *seq,
            from,
            ttl,
            bytes,
            rtt,
        });
    }
    Completion::Duplicate
}

/// Targets whose replies legitimately come from other addresses.
fn answers_from_anyone(target: IpAddr) -> bool {
    match target {
        IpAddr::V4(a) => a.is_broadcast() || a.is_multicast() || a.octets()[3] == 255,
        IpAddr::V6(a) => a.is_multicast(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(from: IpAddr) -> Answer {
        Answer {
            response: Response::Reply {
                from,
                ttl: Some(61),
                bytes: 64,
            },
            stamp: None,
        }
    }

    /// An answer with our identity but about another address is left for
    /// its real owner (another process that chose the same identifier).
    #[test]
    fn answers_about_other_addresses_do_not_complete_a_probe() {
        let pending: PendingMap = Arc::new(Mutex::new(Registry::default()));
        let key = Identity::Echo { id: 7, seq: 1 };
        let target = IpAddr::from([198, 18, 3, 2]);
        let (_registration, mut rx) = register(&pending, key, target);
        let stranger = IpAddr::from([198, 18, 9, 9]);
        complete(&pending, &key, Some(stranger), reply(stranger));
        assert!(
            rx.try_recv().is_err(),
            "a reply from {stranger} completed a probe to {target}"
        );
        complete(&pending, &key, Some(target), reply(target));
        assert!(rx.try_recv().is_ok());
        assert!(lock(&pending).waiting.is_empty());
    }

    #[test]
    fn a_second_reply_is_a_duplicate() {
        let pending: PendingMap = Arc::new(Mutex::new(Registry::default()));
        let key = Identity::Echo { id: 7, seq: 3 };
        let target = IpAddr::from([198, 18, 3, 2]);
        let mut dups = subscribe(&pending, target);
        let mut others = subscribe(&pending, IpAddr::from([198, 18, 4, 2]));
        let (_registration, _rx) = register(&pending, key, target);
        complete(&pending, &key, Some(target), reply(target));
        assert!(dups.try_recv().is_err());
        complete(&pending, &key, Some(target), reply(target));
        let dup = dups.try_recv().map(|d| (d.seq, d.from)).ok();
        assert_eq!(dup, Some((3, target)));
        assert!(
            others.try_recv().is_err(),
            "a run pinging another target on a shared engine hears nothing"
        );
        let stranger = IpAddr::from([198, 18, 9, 9]);
        complete(&pending, &key, Some(stranger), reply(stranger));
        assert!(
            dups.try_recv().is_err(),
            "a stranger's reply is not our duplicate"
        );
    }
}
