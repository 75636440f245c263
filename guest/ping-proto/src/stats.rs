//! iputils' statistics: counts, loss, and min/avg/max/mdev of the round trips.

/// The statistics block of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statistics {
    pub transmitted: u32,
    /// Distinct requests answered.
    pub received: u32,
    pub duplicates: u32,
    /// ICMP errors about requests.
    pub errors: u32,
    /// Nanoseconds from the first request to the end.
    pub time_ns: u64,
    /// Round trips (duplicates included, as iputils counts them).
    pub rtt_min_ns: Option<u64>,
    pub rtt_avg_ns: Option<u64>,
    pub rtt_max_ns: Option<u64>,
    pub rtt_mdev_ns: Option<u64>,
}

/// Round trips summed as iputils sums them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rtts {
    n: u64,
    sum: f64,
    sum2: f64,
    min: Option<u64>,
    max: Option<u64>,
}

impl Rtts {
    pub(crate) fn add(&mut self, ns: u64) {
        self.n += 1;
        self.sum += ns as f64;
        self.sum2 += (ns as f64) * (ns as f64);
        self.min = Some(self.min.map_or(ns, |m| m.min(ns)));
        self.max = Some(self.max.map_or(ns, |m| m.max(ns)));
    }

    /// (min, avg, max, mdev): mdev = sqrt(mean of squares - square of mean).
    pub(crate) fn summary(&self) -> Option<(u64, u64, u64, u64)> {
        let (min, max) = (self.min?, self.max?);
        let n = self.n as f64;
        let avg = self.sum / n;
        let mdev = (self.sum2 / n - avg * avg).max(0.0).sqrt();
        Some((min, avg.round() as u64, max, mdev.round() as u64))
    }
}

impl Statistics {
    /// Percent of requests unanswered, as iputils computes it.
    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 0.0;
        }
        f64::from(self.transmitted.saturating_sub(self.received)) * 100.0
            / f64::from(self.transmitted)
    }

    /// iputils' exit status: 0 when a reply came (and, with both a count and
    /// a deadline, as many as the count), 1 otherwise.
    pub fn exit_code(&self, count: Option<u32>, deadline: bool) -> u8 {
        if self.received == 0 {
            return 1;
        }
        match count {
            Some(c) if deadline && self.received < c => 1,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdev_is_the_standard_deviation() {
        let mut r = Rtts::default();
        assert_eq!(r.summary(), None);
        for ns in [49_000, 87_000] {
            r.add(ns);
        }
        // iputils printed min/avg/max/mdev = 0.049/0.068/0.087/0.019 for these.
        assert_eq!(r.summary(), Some((49_000, 68_000, 87_000, 19_000)));
    }

    #[test]
    fn loss_and_exit_codes() {
        let s = Statistics {
            transmitted: 3,
            received: 1,
            ..Default::default()
        };
        assert!((s.loss_percent() - 66.666_666).abs() < 0.001);
        assert_eq!(s.exit_code(Some(3), false), 0);
        assert_eq!(s.exit_code(Some(3), true), 1);
        assert_eq!(
            Statistics {
                transmitted: 3,
                ..Default::default()
            }
            .exit_code(None, false),
            1
        );
        assert_eq!(Statistics::default().loss_percent(), 0.0);
    }
}
