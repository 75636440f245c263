use super::*;

fn load(text: &str) -> Loaded {
    parse(text, Path::new("b.yml"))
}

fn lines(l: &Loaded) -> Vec<String> {
    l.problems
        .iter()
        .map(|p| format!("{} {}", p.severity.word(), l.line(p)))
        .collect()
}

#[test]
fn blackbox_defaults() {
    let l = load(
        "modules:\n  http_2xx:\n    prober: http\n  tcp_connect:\n    prober: tcp\n    timeout: 5s\n  dns_x:\n    prober: dns\n    dns:\n      query_name: h.test\n  ping:\n    prober: icmp\n",
    );
    assert!(l.ok(), "{:#?}", lines(&l));
    let [h, t, d, i] = &l.config.probes[..] else {
        panic!("{:?}", l.config.probes)
    };
    let hs = h.http.as_ref().unwrap();
    assert!(hs.follow_redirects && hs.valid_status_codes.is_empty() && hs.method == "GET");
    assert_eq!(h.preferred_ip_protocol, Some(crate::target::Family::V6));
    assert!(h.ip_protocol_fallback && h.open && h.module && !h.scheduled);
    assert_eq!(h.timeout, DEFAULT_TIMEOUT);
    assert_eq!((t.kind, t.timeout), (Kind::Tcp, Duration::from_secs(5)));
    assert_eq!(
        (d.query.as_str(), d.record_type.as_str()),
        ("h.test", "ANY")
    );
    assert_eq!(d.dns.as_ref().unwrap().valid_rcodes, ["NOERROR"]);
    assert_eq!(i.icmp.as_ref().unwrap().ttl, Some(64));
    // enable_http2's default is said as a note, and the file still loads.
    assert!(
        lines(&l)[0].starts_with(
            "note b.yml:3:13: module \"http_2xx\": modules.http_2xx.http.enable_http2"
        ),
        "{:#?}",
        lines(&l)
    );
}

#[test]
fn every_problem_in_one_pass_with_line_and_column() {
    let l = load(
        "modules:\n  a:\n    prober: http\n    http:\n      proxy_url: http://p:3128\n      colour: red\n      oauth2: {client_id: x}\n  b:\n    prober: grpc\n    grpc:\n      service: x\n  c:\n    prober: ftp\n  d:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ['(']\n      valid_status_codes: [200, x]\n",
    );
    assert!(!l.ok());
    let msgs = lines(&l);
    let want = [
        "unsupported b.yml:5:18: module \"a\": modules.a.http.proxy_url: proxies are not supported yet",
        "error b.yml:6:7: module \"a\": modules.a.http.colour: unknown key",
        "unsupported b.yml:7:7: module \"a\": modules.a.http.oauth2: OAuth2",
        "unsupported b.yml:9:13: module \"b\": modules.b.prober: the grpc prober is not supported yet",
        "error b.yml:13:13: module \"c\": modules.c.prober: prober 'ftp' is not valid",
        "error b.yml:17:37: module \"d\": modules.d.http.fail_if_body_matches_regexp:",
        "error b.yml:18:33: module \"d\": modules.d.http.valid_status_codes: \"x\" is not an integer",
    ];
    for w in want {
        assert!(msgs.iter().any(|m| m.starts_with(w)), "{w}\n{msgs:#?}");
    }
    let e = l.error().unwrap().0;
    assert_eq!(e.matches("\n  ").count(), 7, "{e}");
    let r = l.report();
    assert!(
        r.contains("  a: error\n") && r.contains("  b: unsupported\n"),
        "{r}"
    );
    assert!(r.ends_with("the config does not load\n"), "{r}");
}

#[test]
fn duplicate_keys_and_not_yaml() {
    let l = load("modules:\n  a:\n    prober: tcp\n    prober: http\n");
    assert_eq!(
        lines(&l),
        ["error b.yml:4:5: not YAML: mapping key \"prober\" already defined at line 3"]
    );
    assert!(!load("modules: [\n").ok());
}

#[test]
fn tcp_dialogs_tls_and_binary() {
    let l = load(concat!(
        "modules:\n",
        "  ssh:\n    prober: tcp\n    tcp:\n      query_response:\n      - expect: \"^SSH-2.0-\"\n",
        "  bin:\n    prober: tcp\n    tcp:\n      query_response:\n      - send: !!binary AAEC\n      - expect_bytes: !!binary AwQ=\n",
        "  tls:\n    prober: tcp\n    tcp:\n      tls: true\n      tls_config:\n        insecure_skip_verify: true\n",
        "  smtp:\n    prober: tcp\n    tcp:\n      query_response:\n      - expect: \"^220\"\n      - send: \"EHLO x\\r\\n\"\n      - expect: \"^250\"\n      - starttls: true\n",
    ));
    let msgs = lines(&l);
    assert!(msgs.is_empty(), "{msgs:#?}");
    let [ssh, bin, tls, smtp] = &l.config.probes[..] else {
        panic!()
    };
    let step = |p: &ProbeConfig, i: usize| p.dialog.as_ref().unwrap().steps[i].clone();
    assert_eq!(step(ssh, 0).expect.as_deref(), Some("^SSH-2.0-"));
    assert_eq!(step(bin, 0).send.as_deref(), Some(&[0u8, 1, 2][..]));
    assert_eq!(step(bin, 1).expect_bytes.as_deref(), Some(&[3u8, 4][..]));
    assert!(tls.kind == Kind::Tcp && tls.dialog.as_ref().unwrap().tls);
    assert!(tls.tls.as_ref().unwrap().insecure);
    assert!(step(smtp, 3).starttls && smtp.tls.is_some());
}

#[test]
fn deprecated_and_quirky_values_load_as_in_blackbox() {
    let l = load(
        "\"modules\":\n  \"a\":\n    \"prober\": \"http\"\n    \"http\":\n      \"no_follow_redirects\": true\n      \"valid_http_versions\": [\"HTTP/1.1\", \"HTTP/2\"]\n      \"preferred_ip_protocol\": \"ipv4\"\n      \"enable_http2\": false\n",
    );
    assert!(l.ok(), "{:#?}", lines(&l));
    let msgs = lines(&l);
    assert!(
        msgs[0].starts_with(
            "warning b.yml:5:30: module \"a\": modules.a.http.no_follow_redirects: deprecated"
        ),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("\"HTTP/2\" never equals")),
        "{msgs:#?}"
    );
    let a = &l.config.probes[0];
    assert!(!a.http.as_ref().unwrap().follow_redirects);
    assert_eq!(a.preferred_ip_protocol, Some(crate::target::Family::V4));
}

#[test]
fn dns_checks_and_netkit_keys() {
    let l = load(concat!(
        "modules:\n  d:\n    prober: dns\n    dns:\n      query_name: h.test\n      query_type: A\n",
        "      transport_protocol: tcp\n      valid_rcodes: [NOERROR, NXDOMAIN]\n",
        "      validate_answer_rrs:\n        fail_if_not_matches_regexp: [\"h.test.\\t.*\\tIN\\tA\\t192.0.2.10\"]\n",
        "      allow_targets: [\"127.0.0.0/8:*\"]\n",
        "  bad:\n    prober: dns\n    dns:\n      query_type: A\n",
    ));
    let msgs = lines(&l);
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert!(msgs[0].contains("query name must be set"), "{msgs:#?}");
    let d = &l.config.probes[0];
    let s = d.dns.as_ref().unwrap();
    assert!(s.tcp && s.valid_rcodes == ["NOERROR", "NXDOMAIN"] && s.answer.any());
    assert!(!d.open && d.allow_targets.len() == 1);
}

#[test]
fn scheduled_probes_and_netkit_probers() {
    let l = load(concat!(
        "modules:\n  ntp:\n    prober: sntp\n  web:\n    prober: http\n    timeout: 20s\n",
        "scheduled:\n  - module: ntp\n    target: 127.0.0.1:123\n    interval: 30s\n",
        "  - name: site\n    module: web\n    target: http://127.0.0.1:8080/\n    interval: 10s\n",
        "  - module: nope\n    target: h:1\n",
    ));
    let msgs = lines(&l);
    assert_eq!(
        msgs.iter().filter(|m| m.starts_with("error")).count(),
        1,
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("no module named \"nope\"")),
        "{msgs:#?}"
    );
    let names: Vec<&str> = l.config.probes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["ntp", "web", "ntp:127.0.0.1:123", "site"]);
    let site = &l.config.probes[3];
    assert!(site.scheduled && !site.module && !site.open);
    assert_eq!(
        (site.interval, site.timeout),
        (Duration::from_secs(10), Duration::from_secs(10))
    );
}
