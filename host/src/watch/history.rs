//! The recent `/probe` runs, as blackbox_exporter keeps them for its index
//! page and `/logs`: a bounded ring (`--history.limit`), each run with an id,
//! its module and target, its verdict and its log.

use std::collections::VecDeque;
use std::sync::Mutex;

/// One run remembered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its id (`/logs?id=`), counting from 0 since start.
    pub id: u64,
    /// The module.
    pub module: String,
    /// The target as asked.
    pub target: String,
    /// Whether it succeeded.
    pub success: bool,
    /// When it ended (Unix seconds).
    pub at: u64,
    /// Its log: what `/probe?debug=true` shows.
    pub log: String,
}

/// The ring.
#[derive(Debug)]
pub struct History {
    limit: usize,
    inner: Mutex<(u64, VecDeque<Entry>)>,
}

impl History {
    /// A ring of at most `limit` runs (0 keeps none).
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            inner: Mutex::new((0, VecDeque::new())),
        }
    }

    /// Whether it keeps any run (`--history.limit` above 0).
    pub fn keeps(&self) -> bool {
        self.limit > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, VecDeque<Entry>)> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remember a run; its id.
    pub fn add(&self, module: &str, target: &str, success: bool, log: String) -> u64 {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut g = self.lock();
        let id = g.0;
        g.0 += 1;
        if self.limit > 0 {
            while g.1.len() >= self.limit {
                g.1.pop_front();
            }
            g.1.push_back(Entry {
                id,
                module: module.into(),
                target: target.into(),
                success,
                at,
                log,
            });
        }
        id
    }

    /// The runs kept, newest first.
    pub fn recent(&self) -> Vec<Entry> {
        self.lock().1.iter().rev().cloned().collect()
    }

    /// The run of `id`, if still kept.
    pub fn by_id(&self, id: u64) -> Option<Entry> {
        self.lock().1.iter().find(|e| e.id == id).cloned()
    }

    /// The newest run against `target` (of `module`, if given), if kept.
    pub fn by_target(&self, target: &str, module: Option<&str>) -> Option<Entry> {
        self.lock()
            .1
            .iter()
            .rev()
            .find(|e| e.target == target && module.is_none_or(|m| e.module == m))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_ring_newest_first() {
        let h = History::new(2);
        assert_eq!(h.add("a", "t1", true, "one".into()), 0);
        h.add("a", "t2", false, "two".into());
        h.add("b", "t1", true, "three".into());
        let r = h.recent();
        assert_eq!(r.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 1]);
        assert!(h.by_id(0).is_none(), "the oldest was dropped");
        assert_eq!(h.by_target("t1", None).unwrap().log, "three");
        assert!(h.by_target("t1", Some("a")).is_none());
        assert!(History::new(0).recent().is_empty());
    }
}
