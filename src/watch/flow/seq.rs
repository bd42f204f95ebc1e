//! TCP sequence arithmetic modulo 2^32 (RFC 793 / RFC 1982): a sequence
//! number is "after" another when it lies less than 2^31 ahead, so a
//! connection that wraps past 4 GiB keeps counting right.

/// `a` comes strictly after `b` in sequence space.
pub fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The later of two sequence numbers.
pub fn max(a: u32, b: u32) -> u32 {
    if after(b, a) {
        b
    } else {
        a
    }
}

/// How far `a` lies ahead of `b` (0 when it does not).
pub fn ahead(a: u32, b: u32) -> u32 {
    if after(a, b) {
        a.wrapping_sub(b)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_four_gib() {
        assert!(after(5, u32::MAX - 5));
        assert!(!after(u32::MAX - 5, 5));
        assert_eq!(ahead(5, u32::MAX - 5), 11);
        assert_eq!(max(u32::MAX, 3), 3);
        assert_eq!(max(3, u32::MAX), 3);
        assert!(!after(7, 7));
        assert_eq!(ahead(7, 9), 0);
    }
}
