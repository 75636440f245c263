//! Sans-IO SNTP (RFC 4330, RFC 5905 §8).
//!
//! No sockets, clocks, randomness or async: callers pass timestamps, nonces and
//! bytes in and get bytes, reports or named errors out. Builds natively (tests,
//! fuzzing) and for `wasm32-wasip2` (the components).

mod civil;
mod client;
mod display;
mod exchange;
mod packet;
mod refid;
mod server;
mod time;
mod wit;

pub use civil::format_utc;
pub use client::{Reply, ReplyError, Sample, client_request, validate_reply};
pub use display::{
    ReportLine, arrival_time, duration_text, error_bound_ns, split_server, summary_line,
};
pub use exchange::{
    Action, Exchange, ExchangeConfig, ExchangeError, Outcome, SAMPLE_SPACING_NS,
    kiss_of_death_message,
};
pub use packet::{LeapIndicator, Mode, PACKET_LEN, Packet, ParseError};
pub use refid::RefId;
pub use server::{RateLimiter, ServerParams, kiss_of_death, respond};
pub use time::{NtpShort, NtpTimestamp};
