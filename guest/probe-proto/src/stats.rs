//! The statistics of a run, like ping's last lines.

/// Counts and round-trip statistics over a run's attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Attempts made.
    pub sent: u32,
    /// Attempts that succeeded.
    pub ok: u32,
    /// Smallest, mean, largest and mean deviation of the successful attempts'
    /// times, in nanoseconds (`None` when none succeeded).
    pub rtt_ns: Option<[u64; 4]>,
}

impl Summary {
    /// The summary of attempts given as (succeeded, time in ns if measured).
    pub fn of(attempts: impl IntoIterator<Item = (bool, Option<u64>)>) -> Self {
        let mut sent = 0;
        let mut ok = 0;
        let mut times = Vec::new();
        for (good, rtt) in attempts {
            sent += 1;
            if good {
                ok += 1;
                if let Some(t) = rtt {
                    times.push(t);
                }
            }
        }
        let rtt_ns = (!times.is_empty()).then(|| {
            let n = times.len() as u128;
            let sum: u128 = times.iter().map(|&t| t as u128).sum();
            let avg = (sum / n) as u64;
            let mdev = (times.iter().map(|&t| t.abs_diff(avg) as u128).sum::<u128>() / n) as u64;
            [
                *times.iter().min().unwrap_or(&0),
                avg,
                *times.iter().max().unwrap_or(&0),
                mdev,
            ]
        });
        Self { sent, ok, rtt_ns }
    }

    /// Percentage of attempts that failed.
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        f64::from(self.sent - self.ok) * 100.0 / f64::from(self.sent)
    }

    /// Whether every attempt succeeded (and there was at least one).
    pub fn all_ok(&self) -> bool {
        self.sent > 0 && self.ok == self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_avg_max_mdev_and_loss() {
        let s = Summary::of([
            (true, Some(1_000_000)),
            (true, Some(3_000_000)),
            (false, None),
            (false, Some(9_000_000)),
        ]);
        assert_eq!(s.sent, 4);
        assert_eq!(s.ok, 2);
        assert_eq!(s.rtt_ns, Some([1_000_000, 2_000_000, 3_000_000, 1_000_000]));
        assert_eq!(s.loss_percent(), 50.0);
        assert!(!s.all_ok());
    }

    #[test]
    fn nothing_succeeded() {
        let s = Summary::of([(false, None)]);
        assert_eq!(s.rtt_ns, None);
        assert_eq!(s.loss_percent(), 100.0);
        assert!(!Summary::of([]).all_ok());
    }
}
