use super::*;
use tls_proto::{Recv, Transport, TransportError};

/// A transport replaying `chunks`, then closing.
struct Script(Vec<Vec<u8>>, u64);

impl Transport for Script {
    fn recv(&mut self, _max: usize, _deadline: u64) -> Result<Recv, TransportError> {
        self.1 += 1;
        Ok(if self.0.is_empty() {
            Recv::Closed
        } else {
            Recv::Data(self.0.remove(0))
        })
    }
    fn send(&mut self, _buf: &[u8], _deadline: u64) -> Result<bool, TransportError> {
        Ok(true)
    }
    fn shutdown_send(&mut self) {}
    fn now_ns(&self) -> u64 {
        self.1
    }
}

fn read(chunks: &[&[u8]], limits: response::Limits) -> Result<Response, ResponseError> {
    let mut t = Script(chunks.iter().map(|c| c.to_vec()).collect(), 0);
    response::read_response(&mut t, false, &limits, u64::MAX)
}

#[test]
fn content_length_chunked_and_until_close_bodies() {
    let r = read(
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", b"lo"],
        Default::default(),
    )
    .unwrap();
    assert_eq!((r.head.status, r.body.as_slice()), (200, &b"hello"[..]));
    let r = read(
        &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\nX-T: 1\r\n\r\n"],
        Default::default(),
    )
    .unwrap();
    assert_eq!(r.body, b"hello");
    let r = read(
        &[b"HTTP/1.0 200 OK\r\n\r\nall ", b"of it"],
        Default::default(),
    )
    .unwrap();
    assert_eq!(
        (r.head.version.as_str(), r.body.as_slice()),
        ("HTTP/1.0", &b"all of it"[..])
    );
    // 100 Continue is skipped.
    let r = read(
        &[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"],
        Default::default(),
    )
    .unwrap();
    assert_eq!(r.head.status, 204);
}

#[test]
fn limits_hold_against_endless_heads_and_huge_bodies() {
    let limits = response::Limits {
        max_head: 100,
        max_headers: 4,
        max_body: 10,
    };
    let endless: Vec<&[u8]> =
        std::iter::repeat_n(&b"X-A: aaaaaaaaaaaaaaaaaaaaaaaaa\r\n"[..], 50).collect();
    let mut chunks = vec![&b"HTTP/1.1 200 OK\r\n"[..]];
    chunks.extend(endless);
    assert!(matches!(
        read(&chunks, limits),
        Err(ResponseError::HeadTooLarge(_))
    ));
    let e = read(
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n"],
        limits,
    )
    .unwrap_err();
    assert_eq!(e, ResponseError::BodyTooLarge(10));
    let e = read(&[b"HTTP/1.1 200 OK\r\n\r\n0123456789abc"], limits).unwrap_err();
    assert_eq!(e, ResponseError::BodyTooLarge(10));
    let e = read(
        &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n"],
        limits,
    )
    .unwrap_err();
    assert_eq!(e, ResponseError::BodyTooLarge(10));
    let e = read(&[b"SSH-2.0-OpenSSH\r\n"], limits).unwrap_err();
    assert!(matches!(e, ResponseError::Malformed(_)), "{e:?}");
    let e = read(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"], limits).unwrap_err();
    assert!(e.to_string().contains("after 2 of 5 body bytes"), "{e}");
}

#[test]
fn encodings_decode_and_bombs_stop_at_the_limit() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&[b'a'; 100_000]).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(
        decode::decode(Some("gzip"), &gz, 1 << 20).unwrap().len(),
        100_000
    );
    assert!(
        decode::decode(Some("gzip"), &gz, 1000)
            .unwrap_err()
            .contains("larger than the limit")
    );
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(b"deflated").unwrap();
    assert_eq!(
        decode::decode(Some("deflate"), &z.finish().unwrap(), 100).unwrap(),
        b"deflated"
    );
    // Python's brotli.compress(b"netkit " * 1000): 23 bytes for 7,000.
    let br: &[u8] = &[
        27, 87, 27, 248, 141, 84, 181, 191, 164, 115, 43, 75, 144, 180, 181, 184, 45, 18, 184, 48,
        1, 112, 14,
    ];
    assert_eq!(
        decode::decode(Some("br"), br, 1 << 20).unwrap(),
        b"netkit ".repeat(1000)
    );
    assert!(
        decode::decode(Some("br"), br, 6999)
            .unwrap_err()
            .contains("larger than the limit")
    );
    assert!(
        decode::decode(Some("zstd"), b"", 1)
            .unwrap_err()
            .contains("unsupported")
    );
    assert!(decode::decode(Some("gzip"), b"not gzip", 100).is_err());
}

#[test]
fn status_specs_and_checks() {
    let s = expect::StatusSpec::parse("200-299,301").unwrap();
    assert!(s.accepts(204) && s.accepts(301) && !s.accepts(302));
    assert!(
        expect::StatusSpec::default().accepts(200) && !expect::StatusSpec::default().accepts(301)
    );
    assert!(expect::StatusSpec::parse("4xx").unwrap().accepts(404));
    assert!(expect::StatusSpec::parse("299-200").is_err());
    assert!(
        expect::StatusSpec::parse("abc")
            .unwrap_err()
            .contains("not an HTTP status")
    );
    let checks = expect::Checks {
        body_not_matches: vec![expect::regex("--expect-body", "hel+o").unwrap()],
        header_matches: vec![expect::HeaderRule {
            header: "Server".into(),
            regexp: expect::regex("x", "^bad").unwrap(),
            allow_missing: true,
        }],
        ..Default::default()
    };
    let h = vec![("server".to_string(), "nginx".to_string())];
    assert!(checks.check(200, "HTTP/1.1", false, &h, b"hello").is_ok());
    let f = checks
        .check(200, "HTTP/1.1", false, &h, b"bye")
        .unwrap_err();
    assert!(f.regex && f.message.contains("does not match"));
    assert!(
        !checks
            .check(500, "HTTP/1.1", false, &h, b"hello")
            .unwrap_err()
            .regex
    );
}

#[test]
fn redirects_resolve_and_only_granted_origins_pass() {
    let from = url::Url::parse("https://a.test:8443/x/y").unwrap();
    let to = redirect::resolve(&from, "../z?q=1").unwrap();
    assert_eq!(to.as_str(), "https://a.test:8443/z?q=1");
    assert!(redirect::Origin::of(&from).covers(&to));
    let meta = redirect::resolve(&from, "http://169.254.169.254/latest/meta-data").unwrap();
    assert!(!redirect::Origin::of(&from).covers(&meta));
    let any_scheme = redirect::Origin::parse("a.test:8443").unwrap();
    assert!(any_scheme.covers(&url::Url::parse("http://A.test:8443/").unwrap()));
    assert!(
        redirect::resolve(&from, "file:///etc/passwd")
            .unwrap_err()
            .contains("not http")
    );
    assert_eq!(redirect::method_after(303, "POST"), "GET");
    assert_eq!(redirect::method_after(307, "POST"), "POST");
}

#[test]
fn requests_are_well_formed_and_credentials_are_redacted() {
    let req = request::Request {
        method: "GET".into(),
        url: url::Url::parse("http://[::1]:8080/p?q=1").unwrap(),
        headers: vec![("Authorization".into(), "Bearer s3cret".into())],
        body: Some(b"{}".to_vec()),
        compression: true,
    };
    let wire = String::from_utf8(req.encode()).unwrap();
    assert!(
        wire.starts_with("GET /p?q=1 HTTP/1.1\r\nHost: [::1]:8080\r\n"),
        "{wire}"
    );
    assert!(wire.contains("Content-Length: 2\r\n") && wire.ends_with("\r\n\r\n{}"));
    assert!(req.shown().iter().all(|l| !l.contains("s3cret")));
    assert!(request::check_header("X-A", "b\r\nEvil: 1").is_err());
    assert!(request::check_method("GE T").is_err());
}

#[test]
fn http_dates() {
    assert_eq!(
        text::http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(text::http_date("garbage"), None);
}

#[test]
fn pseudo_random_responses_never_panic_and_hold_the_limits() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let pieces: [&[u8]; 8] = [
        b"HTTP/1.1 200 OK\r\n",
        b"Content-Length: 5\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"\r\n",
        b"5\r\nhello\r\n",
        b"0\r\n\r\n",
        b"X: y\r\n",
        b"\x1f\x8b\x08\x00garbage",
    ];
    let limits = response::Limits {
        max_head: 512,
        max_headers: 8,
        max_body: 1024,
    };
    for _ in 0..20_000 {
        let mut data = Vec::new();
        for _ in 0..(next() % 12) {
            if next().is_multiple_of(4) {
                data.push(next() as u8);
            } else {
                data.extend_from_slice(pieces[(next() % 8) as usize]);
            }
        }
        let split = (next() % 7 + 1) as usize;
        let chunks: Vec<&[u8]> = data.chunks(split).collect();
        if let Ok(r) = read(&chunks, limits) {
            assert!(r.body.len() as u64 <= limits.max_body);
            let _ = decode::decode(Some("gzip"), &r.body, 1024);
        }
    }
}

#[test]
fn credentials_stay_with_their_origin_on_a_redirect() {
    // Issue 31: Cookie and Proxy-Authorization went on to another origin
    // (only Authorization was dropped): curl's CVE-2022-27776 class.
    let from = url::Url::parse("http://127.0.0.1:8080/a").unwrap();
    let same = url::Url::parse("http://127.0.0.1:8080/b").unwrap();
    let other = url::Url::parse("http://127.0.0.1:9090/b").unwrap();
    let headers: Vec<(String, String)> = [
        ("Authorization", "Bearer t"),
        ("cookie", "s=1"),
        ("Proxy-Authorization", "Basic x"),
        ("X-Trace", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(redirect::headers_after(&from, &same, &headers), headers);
    let kept = redirect::headers_after(&from, &other, &headers);
    assert_eq!(kept, vec![("X-Trace".to_string(), "1".to_string())]);
}

#[test]
fn redirects_to_userinfo_or_port_zero_are_refused() {
    // Issue 31: a same-origin redirect to http://bob:hunter2@… was followed
    // and the password printed.
    let from = url::Url::parse("http://127.0.0.1:8080/a").unwrap();
    let e = redirect::resolve(&from, "http://bob:hunter2@127.0.0.1:8080/b").unwrap_err();
    assert!(
        e.contains("user information") && !e.contains("hunter2"),
        "{e}"
    );
    assert!(redirect::resolve(&from, "http://bob@127.0.0.1:8080/b").is_err());
    assert!(
        redirect::resolve(&from, "http://127.0.0.1:0/b")
            .unwrap_err()
            .contains("port 0")
    );
}

#[test]
fn lenient_framing_is_refused() {
    // Issue 31: these were read as if valid, and skewed the body's figures.
    for (reply, says) in [
        (
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\nhi\r\n0\r\n\r\nextra-bytes"[..],
            "Transfer-Encoding",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
            "only chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "only chunked",
        ),
        (b"HTTP/1.1 099 Odd\r\n\r\n", "status 099"),
        (b"HTTP/1.1 600 Odd\r\n\r\n", "status 600"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nhi",
            "Content-Length \"+2\"",
        ),
    ] {
        match read(&[reply], Default::default()) {
            Err(ResponseError::Malformed(m)) => assert!(m.contains(says), "{m}"),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(reply)),
        }
    }
}

#[test]
fn a_flood_of_interim_responses_ends_at_the_deadline() {
    // Issue 31: 100 Continue without end kept netkit http past -t at full CPU.
    let chunks: Vec<Vec<u8>> = (0..10_000)
        .map(|_| b"HTTP/1.1 100 Continue\r\n\r\n".to_vec())
        .collect();
    let mut t = Script(chunks, 0);
    let r = response::read_response(&mut t, false, &Default::default(), 50);
    assert!(matches!(r, Err(ResponseError::Timeout(_))), "{r:?}");
    assert!(t.1 <= 51, "read {} times past the deadline", t.1);
}

#[test]
fn framing_headers_are_netkits_own() {
    // Issue 31: -H 'Content-Length: 100' with a 2-byte body left the server waiting.
    assert!(
        request::check_header("Content-Length", "100")
            .unwrap_err()
            .contains("frames the body")
    );
    assert!(request::check_header("transfer-encoding", "chunked").is_err());
    let req = request::Request {
        method: "POST".into(),
        url: url::Url::parse("http://127.0.0.1:1/").unwrap(),
        headers: vec![("Content-Length".into(), "100".into())],
        body: Some(b"hi".to_vec()),
        compression: false,
    };
    let wire = String::from_utf8(req.encode()).unwrap();
    assert_eq!(wire.matches("Content-Length").count(), 1, "{wire}");
    assert!(wire.contains("Content-Length: 2\r\n"), "{wire}");
}
