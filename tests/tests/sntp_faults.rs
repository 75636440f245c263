//! The SNTP client component against a scripted misbehaving server on loopback:
//! one case per check, each must give its named result.

use netkit::components::Builtin;
use netkit::runtime::{Host, Sandbox};
use netkit::sntp::{self, Family, QueryOptions, Report, SntpError};
use sntp_proto::{LeapIndicator, Mode, NtpShort, NtpTimestamp, Packet, ServerParams, respond};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TIMEOUT_MS: u64 = 1_000;

/// One case at a time: the timeout case measures wall time, and compiling the
/// component in a neighbouring test must not steal its CPU.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn now() -> NtpTimestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    NtpTimestamp::from_unix(d.as_secs(), d.subsec_nanos())
}

/// A genuine reply to `request`.
fn genuine(request: &[u8]) -> Packet {
    let params = ServerParams {
        stratum: 2,
        reference_id: [192, 0, 2, 1],
        precision: -20,
        root_dispersion: NtpShort(0),
        reference_ts: now(),
    };
    Packet::parse(&respond(request, now(), now(), &params).expect("a client request")).unwrap()
}

/// Serve one request on a fresh loopback socket with `script`, which gets the
/// socket, the client's address and the request, and sends whatever it likes.
fn scripted(script: impl FnOnce(&UdpSocket, SocketAddr, &[u8]) + Send + 'static) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            script(&sock, from, &buf[..n]);
        }
    });
    addr
}

/// Reply with `edit` applied to a genuine reply.
fn edited(edit: impl FnOnce(&mut Packet) + Send + 'static) -> SocketAddr {
    scripted(move |sock, from, req| {
        let mut p = genuine(req);
        edit(&mut p);
        sock.send_to(&p.encode(), from).unwrap();
    })
}

async fn query(addr: SocketAddr) -> (Result<Report, SntpError>, Duration) {
    let rt = Host::new().unwrap();
    let component = rt.compile(Builtin::SntpClient.bytes()).unwrap();
    let sandbox = Sandbox::new("sntp", sntp::client_policy(addr));
    let options = QueryOptions {
        timeout_ms: TIMEOUT_MS,
        tries: 1,
        samples: 1,
        burst: true,
        family: Family::Any,
    };
    let start = Instant::now();
    let r = sntp::query(&rt, &component, &sandbox, addr, &options)
        .await
        .unwrap();
    (r, start.elapsed())
}

fn bad_reply_containing(r: Result<Report, SntpError>, needle: &str) {
    match r {
        Err(SntpError::BadReply(m)) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected bad-reply({needle}), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn short_packet_is_a_bad_reply() {
    let _serial = SERIAL.lock().await;
    let addr = scripted(|sock, from, _| {
        sock.send_to(&[0x24; 20], from).unwrap();
    });
    bad_reply_containing(query(addr).await.0, "20 bytes");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_mode_is_a_bad_reply() {
    let _serial = SERIAL.lock().await;
    bad_reply_containing(
        query(edited(|p| p.mode = Mode::Broadcast)).await.0,
        "mode 5",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn version_5_is_a_bad_reply() {
    let _serial = SERIAL.lock().await;
    bad_reply_containing(query(edited(|p| p.version = 5)).await.0, "version 5");
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_transmit_timestamp_is_a_bad_reply() {
    let _serial = SERIAL.lock().await;
    bad_reply_containing(
        query(edited(|p| p.transmit_ts = NtpTimestamp(0))).await.0,
        "transmit timestamp is zero",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn origin_mismatch_is_ignored_and_the_genuine_reply_wins() {
    let _serial = SERIAL.lock().await;
    let addr = scripted(|sock, from, req| {
        let mut stale = genuine(req);
        stale.origin_ts = NtpTimestamp(stale.origin_ts.0 ^ 1);
        stale.stratum = 0;
        stale.reference_id = *b"DENY";
        sock.send_to(&stale.encode(), from).unwrap();
        sock.send_to(&genuine(req).encode(), from).unwrap();
    });
    let r = query(addr).await.0.expect("the genuine reply");
    assert_eq!(r.stratum, 2);
    assert_eq!(r.reference_id, "192.0.2.1");
}

#[tokio::test(flavor = "multi_thread")]
async fn reply_from_another_port_is_ignored() {
    let _serial = SERIAL.lock().await;
    let addr = scripted(|sock, from, req| {
        let other = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut kod = genuine(req);
        kod.stratum = 0;
        kod.reference_id = *b"DENY";
        other.send_to(&kod.encode(), from).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        sock.send_to(&genuine(req).encode(), from).unwrap();
    });
    let r = query(addr)
        .await
        .0
        .expect("the reply from the server's own port");
    assert_eq!(r.stratum, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn kiss_of_death_codes_are_named() {
    let _serial = SERIAL.lock().await;
    for code in [*b"RATE", *b"DENY", *b"RSTR"] {
        let addr = edited(move |p| {
            p.stratum = 0;
            p.leap = LeapIndicator::Unsynchronized;
            p.reference_id = code;
        });
        let want = String::from_utf8(code.to_vec()).unwrap();
        match query(addr).await.0 {
            Err(SntpError::KissOfDeath(c)) => assert_eq!(c, want),
            other => panic!("expected kiss-of-death({want}), got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn leap_3_is_unsynchronized() {
    let _serial = SERIAL.lock().await;
    let r = query(edited(|p| p.leap = LeapIndicator::Unsynchronized))
        .await
        .0;
    assert!(matches!(r, Err(SntpError::Unsynchronized(_))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn silence_times_out_within_timeout_plus_100_ms() {
    let _serial = SERIAL.lock().await;
    let addr = scripted(|_, _, _| {});
    let (r, elapsed) = query(addr).await;
    assert!(matches!(r, Err(SntpError::Timeout(_))), "{r:?}");
    let timeout = Duration::from_millis(TIMEOUT_MS);
    assert!(elapsed >= timeout, "gave up early: {elapsed:?}");
    assert!(
        elapsed <= timeout + Duration::from_millis(100),
        "took {elapsed:?}"
    );
}
