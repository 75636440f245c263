//! One `wasi:io/poll` call over a server loop's pollables, with an optional deadline.

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

/// Block until one of `list` is ready or `deadline_ns` (monotonic clock) passes.
pub fn wait(list: &[&Pollable], deadline_ns: Option<u64>) -> Ready {
    let timer = deadline_ns.map(monotonic_clock::subscribe_instant);
    let mut all: Vec<&Pollable> = Vec::with_capacity(list.len() + 1);
    all.extend_from_slice(list);
    if let Some(t) = &timer {
        all.push(t);
    }
    let mut indices = poll(&all);
    let timer_index = list.len() as u32;
    let deadline = timer.is_some() && indices.contains(&timer_index);
    indices.retain(|&i| i != timer_index);
    Ready { indices, deadline }
}
