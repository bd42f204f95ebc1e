//! Streaming round-trip statistics: constant memory however long a ping or
//! mtr runs (no stored samples).

use serde::Serialize;
use std::time::Duration;

/// Running min/avg/max/mdev/jitter over RTT samples.
#[derive(Debug, Clone, Default)]
pub struct RttStats {
    count: u64,
    sum: f64,
    sum_sq: f64,
    min: f64,
    max: f64,
    last: Option<f64>,
    jitter_sum: f64,
    jitter_count: u64,
    jitter_last: f64,
}

/// A snapshot of [`RttStats`] in milliseconds, ready to print or serialise.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, schemars::JsonSchema)]
pub struct RttSummary {
    /// Fastest round trip.
    pub min_ms: f64,
    /// Mean round trip.
    pub avg_ms: f64,
    /// Slowest round trip.
    pub max_ms: f64,
    /// Standard deviation, as ping's mdev.
    pub mdev_ms: f64,
    /// Mean absolute difference between consecutive round trips.
    pub jitter_ms: f64,
    /// Most recent round trip.
    pub last_ms: f64,
}

impl RttStats {
    /// Adds one sample.
    pub fn add(&mut self, rtt: Duration) {
        let ms = rtt.as_secs_f64() * 1000.0;
        if self.count == 0 || ms < self.min {
            self.min = ms;
        }
        if self.count == 0 || ms > self.max {
            self.max = ms;
        }
        self.count += 1;
        self.sum += ms;
        self.sum_sq += ms * ms;
        if let Some(prev) = self.last {
            self.jitter_last = (ms - prev).abs();
            self.jitter_sum += self.jitter_last;
            self.jitter_count += 1;
        }
        self.last = Some(ms);
    }

    /// The current jitter, |last − previous| (mtr's `Jttr`); 0 before the
    /// second sample. The mean of these is [`RttSummary::jitter_ms`].
    pub fn jitter_last_ms(&self) -> f64 {
        self.jitter_last
    }

    /// The figures so far, or None before the first sample.
    pub fn summary(&self) -> Option<RttSummary> {
        if self.count == 0 {
            return None;
        }
        let n = self.count as f64;
        let avg = self.sum / n;
        let var = (self.sum_sq / n - avg * avg).max(0.0);
        Some(RttSummary {
            min_ms: self.min,
            avg_ms: avg,
            max_ms: self.max,
            mdev_ms: var.sqrt(),
            jitter_ms: if self.jitter_count == 0 {
                0.0
            } else {
                self.jitter_sum / self.jitter_count as f64
            },
            last_ms: self.last.unwrap_or(0.0),
        })
    }
}

/// Loss in percent of `sent`, 0 when nothing was sent.
pub fn loss_pct(sent: u64, received: u64) -> f64 {
    if sent == 0 {
        0.0
    } else {
        (sent.saturating_sub(received)) as f64 * 100.0 / sent as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdev_and_jitter_match_hand_calculation() {
        let mut s = RttStats::default();
        for ms in [1u64, 3, 2] {
            s.add(Duration::from_millis(ms));
        }
        let sum = s.summary().unwrap_or(RttSummary {
            min_ms: 0.0,
            avg_ms: 0.0,
            max_ms: 0.0,
            mdev_ms: 0.0,
            jitter_ms: 0.0,
            last_ms: 0.0,
        });
        assert!((sum.avg_ms - 2.0).abs() < 1e-9);
        assert!((sum.mdev_ms - (2.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert!((sum.jitter_ms - 1.5).abs() < 1e-9);
        // The current jitter is the last difference only: |2 − 3|.
        assert!((s.jitter_last_ms() - 1.0).abs() < 1e-9);
        assert_eq!((sum.min_ms, sum.max_ms), (1.0, 3.0));
        assert_eq!(loss_pct(3, 2), 100.0 / 3.0);
    }
}
