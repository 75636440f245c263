//! One `wasi:io/poll` call over a loop's pollables, with an optional deadline.

use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::{Pollable, poll};

/// What one [`wait`] found ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// Indices into the list passed to [`wait`] that are ready.
    pub indices: Vec<u32>,
    /// The deadline passed.
    pub deadline: bool,
}

/// A deadline on the monotonic clock, subscribed once for a whole operation
/// and passed to every [`wait`] of it.
///
/// Made once, not per wait: a timer subscribed after its deadline first yields
/// to the host's executor and only then reports ready, and `poll` returns as
/// soon as anything is ready. Beside a pollable that keeps waking up with
/// nothing to read, a fresh timer per wait would never be reported and the
/// loop would never end; this one, subscribed while the deadline still lay
/// ahead, is reported as soon as it passes.
pub struct Deadline(Pollable);

impl Deadline {
    /// At `deadline_ns` on the monotonic clock.
    pub fn at(deadline_ns: u64) -> Deadline {
        Deadline(monotonic_clock::subscribe_instant(deadline_ns))
    }
}

/// Block until one of `list` is ready or `deadline` passes.
pub fn wait(list: &[&Pollable], deadline: Option<&Deadline>) -> Ready {
    let mut all: Vec<&Pollable> = Vec::with_capacity(list.len() + 1);
    all.extend_from_slice(list);
    if let Some(Deadline(t)) = deadline {
        all.push(t);
    }
    let mut indices = poll(&all);
    let timer_index = list.len() as u32;
    let passed = deadline.is_some() && indices.contains(&timer_index);
    indices.retain(|&i| i != timer_index);
    Ready {
        indices,
        deadline: passed,
    }
}
