//! Any bytes, in any split, as a server's response: never a panic, never more
//! than the limits held, and then the body decoders on what came.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls_proto::{Recv, Transport, TransportError};

struct Script<'a>(&'a [u8], usize);

impl Transport for Script<'_> {
    fn recv(&mut self, _max: usize, _deadline: u64) -> Result<Recv, TransportError> {
        if self.0.is_empty() {
            return Ok(Recv::Closed);
        }
        let n = self.1.clamp(1, self.0.len());
        let (now, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(Recv::Data(now.to_vec()))
    }
    fn send(&mut self, _b: &[u8], _d: u64) -> Result<bool, TransportError> {
        Ok(true)
    }
    fn shutdown_send(&mut self) {}
    fn now_ns(&self) -> u64 {
        0
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let limits = http_proto::response::Limits { max_head: 4096, max_headers: 32, max_body: 65536 };
    let mut t = Script(rest, usize::from(split) + 1);
    if let Ok(r) = http_proto::response::read_response(&mut t, false, &limits, u64::MAX) {
        assert!(r.body.len() as u64 <= limits.max_body);
        for enc in ["gzip", "deflate", "br"] {
            let _ = http_proto::decode::decode(Some(enc), &r.body, 65536);
        }
    }
});
