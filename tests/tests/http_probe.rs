//! `netkit http` and the http-probe component against Debian's nginx (TLS with
//! test certificates, redirects, gzip, chunked, a large body), with curl as the
//! reference client, and against hostile servers written here.

use netkit_tests::nginx::{Nginx, Site, start_nginx};
use netkit_tests::pki::Pki;
use netkit_tests::{curl, netkit, text};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct World {
    dir: PathBuf,
    ca: PathBuf,
    nginx: Nginx,
}

const BIG: usize = 3 * 1024 * 1024 + 17;

/// Sites: 0 https (good chain), 1 plain http, 2 https with an expired leaf, 3 plain http (another port, never granted).
fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("netkit-http-probe-{}", std::process::id()));
        let pki = Pki::new(&dir);
        let good = pki.leaf("good", &["localhost", "127.0.0.1"], -1, 60);
        let expired = pki.leaf("expired", &["localhost", "127.0.0.1"], -90, -2);
        let root = dir.join("www");
        std::fs::create_dir_all(&root).unwrap();
        let big: Vec<u8> = (0..BIG).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(root.join("big.bin"), big).unwrap();
        std::fs::write(root.join("page.html"), "<html>".to_string() + &"netkit ".repeat(2000) + "</html>").unwrap();
        let common = format!(
            "    root {};\n    gzip on; gzip_types text/html text/plain; gzip_min_length 100;\n\
             location = / {{ return 200 \"hello from nginx\\n\"; }}\n\
             location = /same {{ return 302 /; }}\n\
             location = /loop {{ return 302 /loop; }}\n\
             location = /other {{ return 302 http://127.0.0.1:{{port3}}/; }}\n\
             location = /meta {{ return 302 http://169.254.169.254/latest/meta-data/; }}\n\
             location = /v4mapped {{ return 302 http://[::ffff:169.254.169.254]/; }}\n\
             location = /name {{ return 302 http://metadata.google.internal/; }}\n\
             location = /missing {{ return 404 \"no\\n\"; }}\n\
             location = /auth {{ if ($http_authorization != \"Bearer s3cret-token\") {{ return 401; }} return 200 \"welcome\\n\"; }}\n\
             location = /echo {{ return 200 \"$request_method $request_uri $http_x_probe\\n\"; }}\n",
            root.display()
        );
        let nginx = start_nginx(
            &dir.join("nginx"),
            &[
                Site::tls(&good, &common),
                Site::plain(&common),
                Site::tls(&expired, &common),
                Site::plain(&common),
            ],
        );
        World { ca: pki.ca.clone(), dir, nginx }
    })
}

fn https(path: &str) -> String {
    format!("https://localhost:{}{path}", world().nginx.addrs[0].port())
}

fn plain(path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", world().nginx.addrs[1].port())
}

fn ca() -> String {
    world().ca.display().to_string()
}

fn http_json(args: &[&str]) -> (i32, Value, String) {
    netkit_tests::netkit_json("http", args)
}

fn header<'a>(report: &'a Value, name: &str) -> Option<&'a str> {
    report["headers"].as_array()?.iter().find(|h| {
        h["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })?["value"]
        .as_str()
}

/// curl's status, headers (lower-cased names) and body for `url`.
fn curl_fetch(url: &str, extra: &[&str]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let dir = &world().dir;
    let (h, b) = (dir.join("curl.h"), dir.join("curl.b"));
    let out = Command::new(curl())
        .args(["-s", "--cacert", &ca(), "-D"])
        .arg(&h)
        .arg("-o")
        .arg(&b)
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl: {}", text(&out.stderr));
    let head = std::fs::read_to_string(&h).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, std::fs::read(&b).unwrap())
}

#[test]
fn status_headers_and_body_agree_with_curl_over_https_and_plain() {
    for url in [https("/"), plain("/"), https("/big.bin")] {
        let out_file = world().dir.join("netkit.body");
        let (code, j, stderr) = http_json(&[&url, "--ca", &ca(), "-o", out_file.to_str().unwrap()]);
        assert_eq!(code, 0, "{url}: {j}\n{stderr}");
        let r = &j["report"];
        // curl offering what netkit offers (gzip, deflate, br), so nginx answers both alike.
        let (status, headers, body) = curl_fetch(&url, &["--compressed"]);
        assert_eq!(r["status"], status);
        assert_eq!(std::fs::read(&out_file).unwrap(), body, "{url}: body bytes");
        for name in [
            "content-type",
            "content-length",
            "content-encoding",
            "transfer-encoding",
            "server",
            "etag",
            "last-modified",
        ] {
            let theirs = headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            if theirs.is_some() {
                assert_eq!(header(r, name), theirs, "{url}: {name}");
            }
        }
        assert_eq!(r["tls"], url.starts_with("https"));
        assert_eq!(r["version"], "HTTP/1.1");
    }
    let (_, j, _) = http_json(&[&https("/big.bin"), "--ca", &ca(), "--no-compression"]);
    assert_eq!(j["report"]["uncompressed_size"], BIG);
    assert_eq!(j["report"]["content_length"], BIG);
    assert!(j["report"]["last_modified"].as_i64().unwrap() > 1_700_000_000);
}

#[test]
fn gzip_is_decoded_chunked_is_read_and_the_sizes_say_so() {
    let url = plain("/page.html");
    let out_file = world().dir.join("netkit.page");
    let (code, j, _) = http_json(&[&url, "-o", out_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{j}");
    let r = &j["report"];
    assert_eq!(r["content_encoding"], "gzip");
    assert_eq!(
        header(r, "transfer-encoding"),
        Some("chunked"),
        "nginx chunks gzip output: {r}"
    );
    assert!(r["body_size"].as_u64().unwrap() < r["uncompressed_size"].as_u64().unwrap());
    let (_, _, body) = curl_fetch(&url, &["--compressed"]);
    assert_eq!(std::fs::read(&out_file).unwrap(), body);
    // Without compression: identity, the same bytes.
    let (_, j, _) = http_json(&[&url, "--no-compression"]);
    assert!(j["report"]["content_encoding"].is_null());
    assert_eq!(j["report"]["uncompressed_size"], body.len());
}

#[test]
fn timings_are_blackbox_phases() {
    let (_, j, _) = http_json(&[&https("/"), "--ca", &ca()]);
    let t = &j["report"]["timings"];
    for phase in ["connect_ns", "tls_ns", "processing_ns"] {
        assert!(t[phase].as_u64().unwrap() > 0, "{phase}: {t}");
    }
    let (_, j, _) = http_json(&[&plain("/")]);
    assert_eq!(j["report"]["timings"]["tls_ns"], 0);
}

#[test]
fn checks_status_body_and_headers() {
    let (code, j, _) = http_json(&[&plain("/missing")]);
    assert_eq!(code, 1);
    assert_eq!(j["report"]["status"], 404);
    assert!(
        j["report"]["failed"]["message"]
            .as_str()
            .unwrap()
            .contains("404"),
        "{j}"
    );
    let (code, _, _) = http_json(&[&plain("/missing"), "--expect-status", "200-299,404"]);
    assert_eq!(code, 0);
    let (code, _, _) = http_json(&[&plain("/"), "--expect-body", "hello from"]);
    assert_eq!(code, 0);
    let (code, j, _) = http_json(&[&plain("/"), "--fail-if-body", "nginx"]);
    assert_eq!(code, 1);
    assert_eq!(j["report"]["failed"]["regex"], true);
    let (code, _, _) = http_json(&[&plain("/"), "--expect-header", "server: ^nginx"]);
    assert_eq!(code, 0);
    let (code, _, _) = http_json(&[&plain("/"), "--fail-if-header", "content-type: text/plain"]);
    assert_eq!(code, 1);
    let out = Command::new(netkit())
        .args(["http", &plain("/"), "--expect-status", "abc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not an HTTP status"));
}

#[test]
fn method_headers_and_body_are_sent() {
    let (code, j, _) = http_json(&[
        &plain("/echo?x=1"),
        "-X",
        "POST",
        "-H",
        "X-Probe: yes",
        "-d",
        "payload",
    ]);
    assert_eq!(code, 0, "{j}");
    let (_, _, body) = curl_fetch(
        &plain("/echo?x=1"),
        &["-X", "POST", "-H", "X-Probe: yes", "-d", "payload"],
    );
    assert_eq!(text(&body), "POST /echo?x=1 yes\n");
    let out_file = world().dir.join("echo.body");
    http_json(&[
        &plain("/echo?x=1"),
        "-X",
        "POST",
        "-H",
        "X-Probe: yes",
        "-d",
        "payload",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&out_file).unwrap(), body);
}

#[test]
fn redirects_to_the_same_origin_are_followed_and_anywhere_else_is_denied_and_audited() {
    let (code, j, _) = http_json(&[&plain("/same")]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["report"]["redirects"].as_array().unwrap().len(), 1);
    assert_eq!(j["report"]["status"], 200);
    for (path, shown) in [
        ("/meta", "http://169.254.169.254/latest/meta-data/"),
        ("/v4mapped", "http://[::ffff:a9fe:a9fe]/"),
        ("/name", "http://metadata.google.internal/"),
    ] {
        let (code, j, stderr) = http_json(&[&plain(path)]);
        assert_eq!(code, 1);
        assert_eq!(j["error"]["kind"], "redirect-not-granted", "{j}");
        assert!(
            j["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("redirect to {shown} not granted")),
            "{j}\n{stderr}"
        );
        let audit = j["audit"].as_array().unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e["operation"] == "redirect" && e["result"] == "denied"),
            "{j}"
        );
        // Nothing but the target was connected to.
        assert!(
            audit
                .iter()
                .filter(|e| e["operation"] == "tcp-connect")
                .all(|e| e["address"] == world().nginx.addrs[1].to_string())
        );
    }
    let other = world().nginx.addrs[3];
    let (code, j, _) = http_json(&[&plain("/other")]);
    assert_eq!(code, 1);
    assert_eq!(j["error"]["kind"], "redirect-not-granted");
    // Granted: followed, and granted exactly that too.
    let (code, j, _) = http_json(&[
        &plain("/other"),
        "--allow-redirect",
        &format!("http://{other}"),
    ]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["report"]["target"], other.to_string());
    assert!(
        j["grants"]
            .as_array()
            .unwrap()
            .contains(&Value::from(format!("tcp-connect://{other}")))
    );
    // A loop ends at the cap.
    let (code, j, _) = http_json(&[&plain("/loop")]);
    assert_eq!(code, 1);
    assert_eq!(j["error"]["kind"], "too-many-redirects", "{j}");
    // Not following: the 302 is the answer.
    let (_, j, _) = http_json(&[
        &plain("/same"),
        "--max-redirects",
        "0",
        "--expect-status",
        "302",
    ]);
    assert_eq!(j["report"]["status"], 302);
}

#[test]
fn resolve_overrides_connect_where_told() {
    let port = world().nginx.addrs[0].port();
    let url = format!("https://netkit.test:{port}/");
    let (code, j, _) = http_json(&[
        &url,
        "--resolve",
        &format!("netkit.test:{port}:127.0.0.1"),
        "--ca",
        &ca(),
        "--sni",
        "localhost",
    ]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["report"]["target"], format!("127.0.0.1:{port}"));
}

#[test]
fn a_bad_certificate_stops_the_request_unless_insecure() {
    let url = format!("https://localhost:{}/", world().nginx.addrs[2].port());
    let (code, j, _) = http_json(&[&url, "--ca", &ca()]);
    assert_eq!(code, 1);
    assert_eq!(j["error"]["kind"], "tls");
    assert!(
        j["error"]["message"].as_str().unwrap().contains("expired"),
        "{j}"
    );
    assert_eq!(j["error"]["handshake"]["verification"]["error"], "expired");
    let (code, j, _) = http_json(&[&url, "--ca", &ca(), "--insecure"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["report"]["handshake"]["verification"]["error"], "expired");
}

#[test]
fn credentials_come_from_env_or_file_and_are_never_shown() {
    let secret = "s3cret-token";
    let out = Command::new(netkit())
        .args([
            "http",
            &plain("/auth"),
            "--bearer-token-env",
            "NETKIT_TEST_TOKEN",
            "-v",
            "--audit",
        ])
        .env("NETKIT_TEST_TOKEN", secret)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains(secret), "{all}");
    assert!(all.contains("Authorization: (redacted)"), "{all}");
    let file = world().dir.join("token");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let (code, j, stderr) = http_json(&[
        &plain("/auth"),
        "--bearer-token-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{j}");
    assert!(!j.to_string().contains(secret) && !stderr.contains(secret));
    let (code, _, _) = http_json(&[&plain("/auth")]);
    assert_eq!(code, 1, "without the token: 401");
}

#[test]
fn the_component_runs_under_the_stock_wasmtime_cli() {
    let w = world();
    let wasm = netkit_tests::components_dir().join("http-probe.wasm");
    let url = format!("https://127.0.0.1:{}/", w.nginx.addrs[0].port());
    let out = Command::new(netkit_tests::wasmtime())
        .args(["run", "-S", "inherit-network", "--dir"])
        .arg(format!("{}::/pki", w.dir.display()))
        .arg(&wasm)
        .args([&url, "--ca", "/pki/ca.pem", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["report"]["status"], 200, "{j}");
    // The same refusal of an ungranted redirect, with no netkit around it.
    let out = Command::new(netkit_tests::wasmtime())
        .args(["run", "-S", "inherit-network"])
        .arg(&wasm)
        .args([&plain("/meta"), "--json"])
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["error"]["kind"], "redirect-not-granted", "{j}");
}

/// A loopback server that answers every connection with `serve`.
fn hostile(serve: fn(std::net::TcpStream)) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    format!("http://{addr}/")
}

fn read_request(s: &mut std::net::TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.read(&mut buf);
}

#[test]
fn hostile_servers_end_with_a_clear_error_within_the_timeout() {
    let endless_headers = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        while s
            .write_all(b"X-Endless: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")
            .is_ok()
        {}
    });
    let ten_gb = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n");
        let chunk = vec![b'x'; 65536];
        while s.write_all(&chunk).is_ok() {}
    });
    let ten_gb_unframed = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
        let chunk = vec![b'x'; 65536];
        while s.write_all(&chunk).is_ok() {}
    });
    let drip = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        while s.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let silent = hostile(|mut s| {
        read_request(&mut s);
        std::thread::sleep(Duration::from_secs(30));
    });
    // Issue 31: interim responses without end kept the run past --timeout at full CPU.
    let continue_flood = hostile(|mut s| {
        read_request(&mut s);
        while s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_ok() {}
    });
    for (url, kind, words) in [
        (&endless_headers, "protocol", "head too large"),
        (&ten_gb, "protocol", "larger than the limit"),
        (&ten_gb_unframed, "protocol", "larger than the limit"),
        (&drip, "timeout", "response body"),
        (&silent, "timeout", "response headers"),
        (&continue_flood, "timeout", "response headers"),
    ] {
        let start = Instant::now();
        let (code, j, _) = http_json(&[url, "--timeout", "2s", "--max-body", "1MiB"]);
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "{url}: {:?}",
            start.elapsed()
        );
        assert_eq!(code, 1, "{url}: {j}");
        assert_eq!(j["error"]["kind"], kind, "{url}: {j}");
        assert!(
            j["error"]["message"].as_str().unwrap().contains(words),
            "{url}: {j}"
        );
    }
}

#[test]
fn a_tls_server_stalling_mid_handshake_times_out() {
    let stall = netkit_tests::tcp_holding();
    let start = Instant::now();
    let (code, j, _) = http_json(&[&format!("https://{stall}/"), "--timeout", "1s"]);
    assert_eq!(code, 1);
    assert_eq!(j["error"]["kind"], "timeout", "{j}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A server answering `reply` to every request on a fresh port, sending each request's head to the channel.
fn recording(reply: String) -> (String, std::sync::mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let n = s.read(&mut buf).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (addr.to_string(), rx)
}

#[test]
fn credentials_in_headers_do_not_follow_a_redirect_to_another_origin() {
    // Issue 31: Cookie and Proxy-Authorization went on to the other origin (curl's CVE-2022-27776).
    let (other, seen_there) =
        recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_string());
    let (first, seen_first) = recording(format!(
        "HTTP/1.1 302 Found\r\nLocation: http://{other}/b\r\nContent-Length: 0\r\n\r\n"
    ));
    let (code, j, _) = http_json(&[
        &format!("http://{first}/a"),
        "-H",
        "Cookie: session=s3cret",
        "-H",
        "Proxy-Authorization: Basic cHJveHk6cw==",
        "-H",
        "X-Trace: 7",
        "-H",
        "Authorization: Bearer t0ken",
        "--allow-redirect",
        &other,
    ]);
    assert_eq!(code, 0, "{j}");
    let first_head = seen_first.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(first_head.contains("session=s3cret"), "{first_head}");
    let there = seen_there.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(there.contains("X-Trace: 7"), "{there}");
    for secret in [
        "Cookie",
        "Proxy-Authorization",
        "Authorization",
        "s3cret",
        "t0ken",
    ] {
        assert!(!there.contains(secret), "{secret} reached {other}: {there}");
    }
}

#[test]
fn a_redirect_to_a_url_with_a_password_is_refused_and_the_password_not_shown() {
    // Issue 31: it was followed, and the password printed in text and JSON.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let (first, _seen) = recording(format!(
        "HTTP/1.1 302 Found\r\nLocation: http://bob:hunter2@{addr}/b\r\nContent-Length: 0\r\n\r\n"
    ));
    let (code, j, stderr) = http_json(&[&format!("http://{first}/a")]);
    assert_eq!(code, 1, "{j}");
    let all = format!("{j}{stderr}");
    assert!(all.contains("user information"), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn framing_headers_and_port_zero_are_refused_before_anything_runs() {
    // Issue 31: -H Content-Length with a shorter body hung to the timeout; port 0 was accepted.
    let out = Command::new(netkit())
        .args([
            "http",
            "http://127.0.0.1:9/",
            "-H",
            "Content-Length: 100",
            "--data",
            "hi",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("frames the body"));
    let out = Command::new(netkit())
        .args(["http", "http://127.0.0.1:0/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("port 0"),
        "{out:?}"
    );
}

#[test]
fn a_body_limit_beyond_the_sandbox_memory_is_refused_up_front() {
    // Issue 31: --max-body 1000GiB (and watch's body_size_limit = "1000MiB")
    // ended in a wasm backtrace once the body outgrew the memory budget.
    let out = Command::new(netkit())
        .args(["http", "http://127.0.0.1:9/", "--max-body", "1000GiB"])
        .output()
        .unwrap();
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("--max-body") && e.contains("memory budget"),
        "{e}"
    );
    assert!(!e.contains("backtrace"), "{e}");
    let dir = std::env::temp_dir().join(format!("netkit-body-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("watch.toml");
    std::fs::write(
        &config,
        "[[probe]]\nname = \"web\"\nkind = \"http\"\ntarget = \"http://127.0.0.1:9/\"\nbody_size_limit = \"1000MiB\"\n",
    )
    .unwrap();
    let out = Command::new(netkit())
        .args(["watch", "--config"])
        .arg(&config)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("body_size_limit") && e.contains("memory budget"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_a_user_names_are_read_bounded_and_devices_refused() {
    // Issue 31: --ca /dev/zero grew to 13.9 GB in 30 s; the token, body and
    // watch's credential files were read whole with no limit either.
    for args in [
        vec!["tls", "127.0.0.1:9", "--ca", "/dev/zero"],
        vec!["http", "https://127.0.0.1:9/", "--ca", "/dev/zero"],
        vec!["http", "http://127.0.0.1:9/", "--data-file", "/dev/zero"],
        vec![
            "http",
            "http://127.0.0.1:9/",
            "--bearer-token-file",
            "/dev/zero",
        ],
        vec!["http", "http://127.0.0.1:9/", "--bearer-token-file", "/"],
    ] {
        let start = Instant::now();
        let out = Command::new(netkit()).args(&args).output().unwrap();
        let e = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {e}");
        assert!(
            e.contains("not a regular file") || e.contains("is a directory"),
            "{args:?}: {e}"
        );
        assert!(start.elapsed() < Duration::from_secs(10), "{args:?}");
    }
    let big = std::env::temp_dir().join(format!("netkit-big-token-{}", std::process::id()));
    std::fs::write(&big, vec![b'a'; 1 << 20]).unwrap();
    let out = Command::new(netkit())
        .args(["http", "http://127.0.0.1:9/", "--bearer-token-file"])
        .arg(&big)
        .output()
        .unwrap();
    let e = text(&out.stderr);
    assert!(e.contains("larger than the 64 KiB"), "{e}");
    let _ = std::fs::remove_file(&big);
}
