//! Sans-IO ping, shared by the ping component and netkit: what to send when
//! ([`Session`]), what the replies mean (duplicates, reordering, loss), and
//! iputils `ping`'s statistics, lines and exit codes ([`text`]). No sockets and
//! no clock: the caller passes monotonic nanoseconds in.

mod options;
mod session;
mod stats;
pub mod text;

pub use options::{DEFAULT_PAYLOAD, MIN_USER_INTERVAL_NS, Options, payload};
pub use session::{Action, Event, IcmpError, IcmpKind, Reply, Session, Shown};
pub use stats::Statistics;
