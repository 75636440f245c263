//! Round-trip statistics over a run of exchanges.

/// Min, median, 99th percentile and max of a set of round-trip times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RttStats {
    /// Fastest, in nanoseconds.
    pub min_ns: u64,
    /// Median (nearest rank), in nanoseconds.
    pub median_ns: u64,
    /// 99th percentile (nearest rank), in nanoseconds.
    pub p99_ns: u64,
    /// Slowest, in nanoseconds.
    pub max_ns: u64,
}

impl RttStats {
    /// Statistics of `samples` (nanoseconds); all zero when there are none.
    pub fn from_samples(mut samples: Vec<u64>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        Self {
            min_ns: samples[0],
            median_ns: nearest_rank(&samples, 50),
            p99_ns: nearest_rank(&samples, 99),
            max_ns: samples[samples.len() - 1],
        }
    }
}

/// Nearest-rank percentile of sorted, non-empty `sorted`.
fn nearest_rank(sorted: &[u64], percent: usize) -> u64 {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Throughput in MB/s (10^6 bytes per second) of `bytes` moved in `elapsed_ns`.
pub fn megabytes_per_second(bytes: u64, elapsed_ns: u64) -> f64 {
    if elapsed_ns == 0 {
        return 0.0;
    }
    bytes as f64 / (elapsed_ns as f64 / 1e9) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_zero() {
        assert_eq!(RttStats::from_samples(vec![]), RttStats::default());
    }

    #[test]
    fn single_sample_is_every_statistic() {
        let s = RttStats::from_samples(vec![7]);
        assert_eq!((s.min_ns, s.median_ns, s.p99_ns, s.max_ns), (7, 7, 7, 7));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let s = RttStats::from_samples((1..=100).rev().collect());
        assert_eq!(s.min_ns, 1);
        assert_eq!(s.median_ns, 50);
        assert_eq!(s.p99_ns, 99);
        assert_eq!(s.max_ns, 100);
    }

    #[test]
    fn throughput_in_megabytes() {
        assert_eq!(megabytes_per_second(2_000_000, 1_000_000_000), 2.0);
        assert_eq!(megabytes_per_second(1, 0), 0.0);
    }
}
