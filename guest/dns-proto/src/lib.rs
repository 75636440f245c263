//! Sans-IO DNS for the dns probe: the query to send, the reply's checks, its
//! records in presentation format, TCP framing and the dig-style text. The wire
//! codec is hickory-proto's; everything here is pure and unit-tested, and the
//! decoder is fuzzed (`guest/dns-proto/fuzz`) and fed random bytes in `cargo test`.

mod query;
mod reply;
mod tcp;
mod text;
mod wit;

pub use query::{Question, TYPES, build_query, parse_server, parse_type, query_of, reverse_name};
pub use reply::{Reply, ReplyError, Rr, check_reply, rcode_name, rcode_number};
pub use tcp::{TcpFrames, tcp_frame};
pub use text::{HeaderText, RecordText, dig_text, rcode_meaning};

/// The UDP payload size netkit advertises with EDNS(0): the DNS flag day 2020
/// value, below which no path fragments. Longer answers come truncated and are
/// asked again over TCP.
pub const EDNS_PAYLOAD: u16 = 1232;
