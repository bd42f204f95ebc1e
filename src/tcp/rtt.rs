//! The wait for a silent port, adapted per address from the round trips
//! its other ports showed, as nmap does: srtt + 4 × rttvar (RFC 6298),
//! never below [`MIN_WAIT`] nor above the configured wait. A probe that
//! times out on the short wait is tried once more with twice the wait, so
//! one lost SYN does not make an open port look filtered. Used only for
//! scans (more than 32 targets) at default settings; `-W` fixes the wait.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

/// Shortest wait for a silent port (nmap's `--min-rtt-timeout` default).
pub const MIN_WAIT: Duration = Duration::from_millis(100);

/// Smoothed round trip and its variation for one address, in seconds.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    srtt: f64,
    rttvar: f64,
}

/// Round-trip estimates per address, and the bounds of the wait.
#[derive(Debug, Clone)]
pub struct Waits {
    by_addr: HashMap<IpAddr, Estimate>,
    max: Duration,
}

impl Waits {
    /// No estimate yet: every address starts at `max` (the configured wait).
    pub fn new(max: Duration) -> Self {
        Waits {
            by_addr: HashMap::new(),
            max,
        }
    }

    /// Takes one answer's round trip (SYN-ACK or RST) from `addr` in.
    pub fn sample(&mut self, addr: IpAddr, rtt: Duration) {
        let r = rtt.as_secs_f64();
        self.by_addr
            .entry(addr)
            .and_modify(|e| {
                e.rttvar = 0.75 * e.rttvar + 0.25 * (e.srtt - r).abs();
                e.srtt = 0.875 * e.srtt + 0.125 * r;
            })
            .or_insert(Estimate {
                srtt: r,
                rttvar: r / 2.0,
            });
    }

    /// The wait for a first attempt at `addr`.
    pub fn first(&self, addr: IpAddr) -> Duration {
        match self.by_addr.get(&addr) {
            Some(e) => Duration::from_secs_f64(e.srtt + 4.0 * e.rttvar)
                .clamp(MIN_WAIT.min(self.max), self.max),
            None => self.max,
        }
    }

    /// The wait for the second attempt after `first` ran out; None when
    /// the first already waited the configured wait (no retry then).
    pub fn retry(&self, first: Duration) -> Option<Duration> {
        (first < self.max).then(|| (first * 2).min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_the_answers_within_bounds() {
        let a = IpAddr::from([198, 18, 1, 2]);
        let b = IpAddr::from([198, 18, 1, 3]);
        let mut w = Waits::new(Duration::from_secs(2));
        assert_eq!(w.first(a), Duration::from_secs(2), "no estimate yet");
        for _ in 0..50 {
            w.sample(a, Duration::from_micros(50));
        }
        assert_eq!(w.first(a), MIN_WAIT, "fast host: the floor");
        assert_eq!(w.retry(MIN_WAIT), Some(MIN_WAIT * 2));
        assert_eq!(w.retry(Duration::from_secs(2)), None);
        for _ in 0..50 {
            w.sample(b, Duration::from_millis(300));
        }
        let slow = w.first(b);
        assert!(slow >= Duration::from_millis(300) && slow < Duration::from_millis(400));
        w.sample(b, Duration::from_secs(5));
        assert!(w.first(b) <= Duration::from_secs(2), "capped at the wait");
    }
}
