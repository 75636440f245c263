//! NTP timestamps: 32.32 fixed point seconds since 1900 (long), 16.16 (short).

/// Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch).
pub const UNIX_OFFSET: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp (era-relative: it wraps every 2^32 s, next in 2036).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NtpTimestamp(pub u64);

impl NtpTimestamp {
    /// The timestamp for Unix time `secs` + `nanos` (reduced modulo the NTP era).
    pub fn from_unix(secs: u64, nanos: u32) -> Self {
        let ntp_secs = secs.wrapping_add(UNIX_OFFSET) & 0xffff_ffff;
        let frac = ((u64::from(nanos) << 32) / 1_000_000_000) & 0xffff_ffff;
        Self((ntp_secs << 32) | frac)
    }

    /// Whole seconds field.
    pub fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Fraction field.
    pub fn fraction(self) -> u32 {
        self.0 as u32
    }

    /// Unix time (secs, nanos) of this timestamp, taking the era that puts it
    /// closest to `pivot_unix_secs` (e.g. the local clock), so that 2036 and
    /// later read correctly.
    pub fn to_unix(self, pivot_unix_secs: u64) -> (i64, u32) {
        let pivot = NtpTimestamp::from_unix(pivot_unix_secs, 0);
        // Era-safe: the signed difference stays right across the 2^32 s wrap.
        let diff_ns = self.diff_ns(pivot);
        let total_ns = i128::from(pivot_unix_secs) * 1_000_000_000 + i128::from(diff_ns);
        let secs = total_ns.div_euclid(1_000_000_000) as i64;
        let nanos = total_ns.rem_euclid(1_000_000_000) as u32;
        (secs, nanos)
    }

    /// `self - other` in nanoseconds, assuming they are less than 68 years apart.
    pub fn diff_ns(self, other: NtpTimestamp) -> i64 {
        // Two's complement on the 64-bit value handles the era rollover.
        let d = self.0.wrapping_sub(other.0) as i64;
        ((i128::from(d) * 1_000_000_000) >> 32) as i64
    }

    /// Whether this is the zero timestamp (meaning "unknown" on the wire).
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// A 32-bit NTP short format value: 16.16 fixed point seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NtpShort(pub u32);

impl NtpShort {
    /// Nanoseconds.
    pub fn as_nanos(self) -> u64 {
        (u64::from(self.0) * 1_000_000_000) >> 16
    }

    /// From nanoseconds (saturating at the format's maximum).
    pub fn from_nanos(ns: u64) -> Self {
        Self(((u128::from(ns) << 16) / 1_000_000_000).min(u128::from(u32::MAX)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_is_ntp_offset() {
        assert_eq!(NtpTimestamp::from_unix(0, 0).seconds(), UNIX_OFFSET as u32);
    }

    #[test]
    fn round_trips_through_unix() {
        let t = NtpTimestamp::from_unix(1_764_000_000, 500_000_000);
        assert_eq!(t.fraction(), 1 << 31);
        let (s, n) = t.to_unix(1_764_000_000);
        assert_eq!(s, 1_764_000_000);
        assert!(n.abs_diff(500_000_000) <= 1);
    }

    #[test]
    fn difference_across_the_2036_rollover() {
        // Era 0 ends at 2036-02-07T06:28:16Z, Unix 2_085_978_496.
        let rollover = 2_085_978_496u64;
        let before = NtpTimestamp::from_unix(rollover - 1, 0);
        let after = NtpTimestamp::from_unix(rollover + 1, 0);
        assert!(after.0 < before.0, "the wire value wraps");
        assert_eq!(after.diff_ns(before), 2_000_000_000);
        assert_eq!(before.diff_ns(after), -2_000_000_000);
    }

    #[test]
    fn unix_time_after_2036_uses_the_pivot_era() {
        let rollover = 2_085_978_496u64;
        let t = NtpTimestamp::from_unix(rollover + 100, 0);
        assert_eq!(t.to_unix(rollover + 90), ((rollover + 100) as i64, 0));
        let t = NtpTimestamp::from_unix(rollover - 100, 0);
        assert_eq!(t.to_unix(rollover + 90), ((rollover - 100) as i64, 0));
    }

    #[test]
    fn negative_differences() {
        let a = NtpTimestamp::from_unix(100, 0);
        let b = NtpTimestamp::from_unix(100, 250_000_000);
        assert_eq!(a.diff_ns(b), -250_000_000);
    }

    #[test]
    fn short_format_converts() {
        assert_eq!(NtpShort(1 << 16).as_nanos(), 1_000_000_000);
        assert_eq!(NtpShort::from_nanos(500_000_000), NtpShort(1 << 15));
        assert_eq!(NtpShort::from_nanos(u64::MAX), NtpShort(u32::MAX));
    }
}
