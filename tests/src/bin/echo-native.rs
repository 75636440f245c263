//! The native floor for `netkit echo-client`: one TCP echo exchange (connect,
//! send, read back, verify with echo-proto's streaming `Verifier`, close) over std
//! sockets, with nothing else: no sandbox, no WebAssembly, no async runtime.
//!
//! `echo-native 127.0.0.1:PORT [MESSAGE]`.

use echo_proto::{DEFAULT_MESSAGE, EchoCheck, PayloadStream, Verifier};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn fail(what: String) -> ! {
    eprintln!("echo-native: {what}");
    std::process::exit(1);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(addr) = args.next().and_then(|a| a.parse::<SocketAddr>().ok()) else {
        eprintln!("usage: echo-native IP:PORT [MESSAGE]");
        std::process::exit(2);
    };
    let message = args.next().unwrap_or_else(|| DEFAULT_MESSAGE.into());
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .unwrap_or_else(|e| fail(format!("connect to {addr}: {e}")));
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    s.write_all(message.as_bytes())
        .unwrap_or_else(|e| fail(format!("send to {addr}: {e}")));
    let mut verifier = Verifier::new(PayloadStream::message(message.as_bytes()));
    let mut buf = [0u8; 4096];
    while !verifier.is_complete() {
        let n = s
            .read(&mut buf)
            .unwrap_or_else(|e| fail(format!("read from {addr}: {e}")));
        if n == 0 {
            fail(format!("{addr} closed after {} bytes", verifier.received()));
        }
        if let EchoCheck::Wrong { at } = verifier.feed(&buf[..n]) {
            fail(format!("{addr} echoed a wrong byte at offset {at}"));
        }
    }
    let _ = s.shutdown(Shutdown::Both);
    println!(
        "{addr}: {} bytes echoed and verified in {:.3} ms",
        message.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
}
