//! The number of connects in flight, adapted as nmap's congestion control
//! does: it grows by one for every probe that got an answer (doubling per
//! round, like TCP slow start) and halves when probes time out, at most
//! once per wait, so a path or host that starts dropping SYNs under load is
//! given less. It never falls below where it started nor rises above the
//! descriptor budget. `--parallel N` fixes it at N.

use std::time::{Duration, Instant};

/// Where the window starts without `--parallel`.
pub const START: usize = 256;
/// Most connects in flight without `--parallel`, within the descriptor
/// budget: enough for thousands of silent ports at once, few enough to keep
/// the socket memory small.
pub const CEILING: usize = 2048;

/// How long a probe may be in flight before it counts as holding its slot
/// for a silent target: longer than the reset watch after a handshake
/// ([`crate::probe::connect::RESET_GRACE_MAX`]).
pub const STALL: Duration = Duration::from_millis(300);

/// The current window and its bounds.
#[derive(Debug, Clone)]
pub struct Window {
    size: usize,
    floor: usize,
    ceiling: usize,
    last_cut: Option<Instant>,
}

impl Window {
    /// A window that never moves.
    pub fn fixed(size: usize) -> Self {
        let size = size.max(1);
        Window {
            size,
            floor: size,
            ceiling: size,
            last_cut: None,
        }
    }

    /// A window starting at `start`, free to grow up to `ceiling`.
    pub fn adaptive(start: usize, ceiling: usize) -> Self {
        let start = start.max(1);
        Window {
            size: start,
            floor: start,
            ceiling: ceiling.max(start),
            last_cut: None,
        }
    }

    /// Connects allowed in flight now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Doubles the window (up to the ceiling), as slow start does, when the
    /// oldest probe in flight has stalled: silent targets hold the slots.
    pub fn stalled(&mut self) {
        self.size = (self.size * 2).min(self.ceiling);
    }

    /// Takes one finished probe into account: `answered` when the target
    /// answered (open, RST, ICMP), false when it timed out. A cut waits a
    /// full `wait` after the previous one: the timeouts of one round all
    /// stem from the same load.
    /// `stalled` says whether the oldest probe in flight has waited longer
    /// than [`STALL`]: only then are slots held by silent targets, and only
    /// then does a larger window help (more sockets for targets that answer
    /// at once only cost CPU).
    pub fn record(&mut self, answered: bool, stalled: bool, now: Instant, wait: Duration) {
        if answered {
            if stalled {
                self.size = (self.size + 1).min(self.ceiling);
            }
            return;
        }
        if self.last_cut.is_some_and(|t| now.duration_since(t) < wait) {
            return;
        }
        self.last_cut = Some(now);
        self.size = (self.size / 2).max(self.floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_on_answers_and_halves_once_per_wait_on_timeouts() {
        let wait = Duration::from_secs(1);
        let t0 = Instant::now();
        let mut w = Window::adaptive(4, 100);
        for _ in 0..200 {
            w.record(true, true, t0, wait);
        }
        assert_eq!(w.size(), 100);
        let mut quick = Window::adaptive(4, 100);
        quick.record(true, false, t0, wait);
        assert_eq!(quick.size(), 4, "no growth while nothing stalls");
        w.record(false, true, t0, wait);
        assert_eq!(w.size(), 50);
        w.record(false, true, t0 + Duration::from_millis(10), wait);
        assert_eq!(w.size(), 50, "one cut per wait");
        w.record(false, true, t0 + Duration::from_secs(2), wait);
        assert_eq!(w.size(), 25);
        for _ in 0..10 {
            w.record(false, true, t0 + Duration::from_secs(10), wait);
        }
        w.record(false, true, t0 + Duration::from_secs(20), wait);
        assert_eq!(w.size(), 6);
        w.record(false, true, t0 + Duration::from_secs(30), wait);
        assert_eq!(w.size(), 4, "never below the start");
        let mut s = Window::adaptive(4, 10);
        s.stalled();
        s.stalled();
        assert_eq!(s.size(), 10);
        let mut f = Window::fixed(8);
        f.stalled();
        f.record(true, true, t0, wait);
        assert_eq!(f.size(), 8);
    }
}
