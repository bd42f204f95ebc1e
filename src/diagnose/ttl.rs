//! Hop inference from a reply's TTL: senders start at 64, 128 or 255, so
//! the distance and a guess of the remote OS family follow from what is left.

use serde::Serialize;

/// What a reply TTL suggests about the replier.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct HopInference {
    /// TTL / hop limit as received.
    pub reply_ttl: u8,
    /// The nearest common initial TTL at or above it.
    pub initial_ttl: u16,
    /// Routers between us and the replier.
    pub hops: u16,
    /// A guess, stated as one, of the replier's OS family.
    pub os_guess: &'static str,
}

/// Infers the initial TTL, hop count and OS family from a reply TTL.
pub fn infer(reply_ttl: u8) -> HopInference {
    let (initial, os_guess) = match reply_ttl {
        0..=64 => (64u16, "Linux, BSD, macOS or another Unix-like system"),
        65..=128 => (128, "Windows"),
        _ => (255, "a network device (router, switch) or Solaris/AIX"),
    };
    HopInference {
        reply_ttl,
        initial_ttl: initial,
        hops: initial - u16::from(reply_ttl),
        os_guess,
    }
}

#[cfg(test)]
mod tests {
    use super::infer;

    #[test]
    fn ttl_56_is_8_hops_from_a_unix_host() {
        let h = infer(56);
        assert_eq!((h.initial_ttl, h.hops), (64, 8));
        assert_eq!(infer(64).hops, 0);
        assert_eq!(infer(117).initial_ttl, 128);
        assert_eq!(infer(250).hops, 5);
    }
}
