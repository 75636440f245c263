//! Sans-IO pieces of the TCP and UDP probes, shared by the guests (their own
//! command line) and the host (`netkit tcp`, `netkit udp`): payloads given as
//! text or hex, what a reply must look like, the statistics of a run and the
//! text of every line.

mod expect;
mod hex;
mod report;
mod stats;
mod text;

pub use expect::{Expectation, Verdict};
pub use hex::{hex_dump, parse_hex};
pub use report::{AttemptView, attempt_text, report_json, split_target, summary_of};
pub use stats::Summary;
pub use text::{attempt_line, escape_controls, printable, summary_line};

/// The most a probe reads back from one reply.
pub const MAX_REPLY: usize = 64 * 1024;
