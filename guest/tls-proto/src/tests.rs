use super::*;

#[test]
fn versions_parse_in_every_spelling_and_old_ones_are_refused_by_name() {
    for s in ["1.2", "TLS12", "TLS 1.2", "tls1.2", "TLSv1.2"] {
        assert_eq!(TlsVersion::parse(s), Ok(TlsVersion::Tls12), "{s}");
    }
    assert_eq!(TlsVersion::parse("TLS13"), Ok(TlsVersion::Tls13));
    assert!(
        TlsVersion::parse("TLS11")
            .unwrap_err()
            .contains("not supported")
    );
    assert!(
        TlsVersion::parse("ssl3")
            .unwrap_err()
            .contains("not a TLS version")
    );
}

#[test]
fn utc_dates_are_civil() {
    assert_eq!(text::utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(text::utc(1_709_251_199), "2024-02-29 23:59:59 UTC");
    assert_eq!(text::utc(-1), "1969-12-31 23:59:59 UTC");
    assert_eq!(text::days_until(0, 86_399), 0);
    assert_eq!(text::days_until(0, -1), -1);
}

#[test]
fn certificate_facts_come_from_the_der() {
    let mut params =
        rcgen::CertificateParams::new(vec!["leaf.test".into(), "127.0.0.1".into()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "netkit, tests");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "leaf.test");
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x00, 0x0a, 0xbc]));
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let info = CertInfo::from_der(cert.der());
    assert_eq!(info.subject, "CN=leaf.test,O=netkit\\, tests");
    assert_eq!(info.common_name(), "leaf.test");
    assert_eq!(info.sans, vec!["leaf.test", "127.0.0.1"]);
    assert_eq!(info.serial, "abc");
    assert_eq!((info.key_type.as_str(), info.key_bits), ("EC", 256));
    assert!(info.self_signed);
    assert!(info.parse_error.is_none());
    assert_eq!(info.fingerprint_sha256.len(), 64);
}

#[test]
fn control_characters_in_certificate_names_are_escaped() {
    // Issue 31: a CN with "\nVerification: OK" forged a line in netkit tls;
    // a SAN's ESC sequences cleared the screen; a SAN with a newline split
    // watch's log line.
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "evil\nVerification: OK");
    params.subject_alt_names = vec![rcgen::SanType::DnsName(
        "x\u{1b}[2Jy.test".to_string().try_into().unwrap(),
    )];
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let info = CertInfo::from_der(params.self_signed(&key).unwrap().der());
    assert_eq!(info.subject, "CN=evil\\nVerification: OK");
    assert_eq!(info.sans, vec!["x\\u{1b}[2Jy.test"]);
    let shown = text::chain_table(&[info]);
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(!shown.contains("\nVerification"), "{shown}");
}

#[test]
fn a_malformed_certificate_is_reported_not_fatal() {
    let info = CertInfo::from_der(b"\x30\x03\x02\x01");
    assert!(
        info.parse_error
            .unwrap()
            .starts_with("malformed certificate")
    );
    assert_eq!(info.fingerprint_sha256.len(), 64);
}

#[test]
fn pem_bundles_become_der_lists_and_garbage_is_named() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["a".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let two = format!("{}{}", cert.pem(), cert.pem());
    assert_eq!(pem::certificates(two.as_bytes()).unwrap().len(), 2);
    assert!(
        pem::certificates(b"hello")
            .unwrap_err()
            .contains("no PEM certificate")
    );
}

#[test]
fn cipher_names_are_iana() {
    assert_eq!(
        text::cipher_name(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
        "TLS_AES_128_GCM_SHA256"
    );
    assert_eq!(
        text::cipher_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    );
}

#[test]
fn pseudo_random_certificates_and_bundles_never_panic() {
    let key = rcgen::KeyPair::generate().unwrap();
    let der = rcgen::CertificateParams::new(vec!["a.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .der()
        .to_vec();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut d = der.clone();
        // Flip a few bytes, or cut it short.
        for k in 0..(x % 4) {
            let i = ((x >> (8 * k)) as usize) % d.len();
            d[i] ^= (x >> 40) as u8 | 1;
        }
        if x.is_multiple_of(5) {
            d.truncate((x as usize >> 3) % d.len());
        }
        let info = CertInfo::from_der(&d);
        assert_eq!(info.fingerprint_sha256.len(), 64);
        let _ = starttls::parse_reply(&d);
    }
}

#[test]
fn alpn_names_are_one_to_255_bytes() {
    assert!(client::check_alpn("h2").is_ok());
    assert!(client::check_alpn(&"a".repeat(255)).is_ok());
    for bad in [String::new(), "a".repeat(256)] {
        assert!(
            client::check_alpn(&bad)
                .unwrap_err()
                .contains("1 to 255 bytes")
        );
    }
}
