//! A scripted NTS server for the paths chronyd never takes: a key exchange
//! over TLS 1.3 (rustls) whose records can be wrong in chosen ways, and an
//! NTP responder that forges, misnumbers, replays or NAKs. Cookies are random
//! handles to the keys in memory. Loopback only (127.0.0.1, ephemeral ports).

use nts_proto::ke::{self, ALPN, EXPORTER_LABEL};
use nts_proto::{AEAD_AES_SIV_CMAC_256, Aead, protect};
use sntp_proto::{NtpShort, NtpTimestamp, ServerParams};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the key exchange answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ke {
    /// NTPv4, AES-SIV, eight cookies, the NTP port.
    Good,
    /// No AEAD Algorithm Negotiation record.
    NoAead,
    /// No cookies.
    NoCookies,
    /// A critical record of an unknown type.
    UnknownCritical,
    /// An Error record (Internal Server Error).
    ServerError,
    /// Closes without End of Message.
    Truncated,
    /// Names this NTP server (and port) instead of itself.
    Names(String, u16),
}

/// What the NTP side answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ntp {
    /// A genuine authenticated reply.
    Good,
    /// The authenticator sealed with a key the client does not have.
    ForgedAuthenticator,
    /// Another request's unique identifier.
    WrongUniqueId,
    /// The first request gets a genuine reply; every later one gets that same reply again.
    ReplayFirst,
    /// Kiss-o'-Death NTSN.
    Nak,
}

/// A running scripted server.
pub struct HostileNts {
    /// The key exchange's address.
    pub ke: SocketAddr,
    /// The NTP address.
    pub ntp: SocketAddr,
    key_exchanges: Arc<AtomicU32>,
}

impl HostileNts {
    /// Key exchanges served so far.
    pub fn key_exchanges(&self) -> u32 {
        self.key_exchanges.load(Ordering::SeqCst)
    }
}

type Keys = Arc<Mutex<HashMap<Vec<u8>, (Aead, Aead)>>>;

/// Pseudo-random bytes (distinct across calls and processes; not for secrets).
fn random(n: usize) -> Vec<u8> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
    );
    let mut out = Vec::new();
    let mut h = blake3::Hasher::new();
    h.update(seed.as_bytes());
    h.finalize_xof().fill({
        out.resize(n, 0);
        &mut out
    });
    out
}

/// Start a server with certificate `chain` and `key` (PEM files).
pub fn start(
    chain: &std::path::Path,
    key: &std::path::Path,
    ke_mode: Ke,
    ntp_mode: Ntp,
) -> HostileNts {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(chain)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = vec![ALPN.as_bytes().to_vec()];
    let config = Arc::new(config);
    let keys: Keys = Arc::default();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let ntp = udp.local_addr().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ke_addr = listener.local_addr().unwrap();
    let key_exchanges = Arc::new(AtomicU32::new(0));
    {
        let (keys, count) = (keys.clone(), key_exchanges.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let _ = serve_ke(tcp, &config, &keys, &ke_mode, ntp.port());
            }
        });
    }
    std::thread::spawn(move || serve_ntp(udp, &keys, ntp_mode));
    HostileNts {
        ke: ke_addr,
        ntp,
        key_exchanges,
    }
}

fn serve_ke(
    tcp: std::net::TcpStream,
    config: &Arc<rustls::ServerConfig>,
    keys: &Keys,
    mode: &Ke,
    ntp_port: u16,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let conn = rustls::ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // The client's request ends with End of Message (critical, empty).
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.ends_with(&[0x80, 0, 0, 0]) {
        let n = tls.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let export = |s2c: bool| {
        let k = tls
            .conn
            .export_keying_material(
                [0u8; 32],
                EXPORTER_LABEL,
                Some(&ke::exporter_context(AEAD_AES_SIV_CMAC_256, s2c)),
            )
            .unwrap();
        Aead::new(&k).unwrap()
    };
    let (c2s, s2c) = (export(false), export(true));
    let mut out = Vec::new();
    ke::push(&mut out, true, ke::NEXT_PROTOCOL, &ke::NTPV4.to_be_bytes());
    if *mode == Ke::ServerError {
        out.clear();
        ke::push(&mut out, true, ke::ERROR, &2u16.to_be_bytes());
    }
    if *mode != Ke::NoAead {
        ke::push(
            &mut out,
            true,
            ke::AEAD_ALGORITHM,
            &AEAD_AES_SIV_CMAC_256.to_be_bytes(),
        );
    }
    if *mode != Ke::NoCookies {
        for _ in 0..8 {
            let cookie = random(64);
            keys.lock()
                .unwrap()
                .insert(cookie.clone(), (c2s.clone(), s2c.clone()));
            ke::push(&mut out, false, ke::NEW_COOKIE, &cookie);
        }
    }
    match mode {
        Ke::Names(host, port) => {
            ke::push(&mut out, true, ke::NTP_SERVER, host.as_bytes());
            ke::push(&mut out, true, ke::NTP_PORT_RECORD, &port.to_be_bytes());
        }
        _ => ke::push(&mut out, true, ke::NTP_PORT_RECORD, &ntp_port.to_be_bytes()),
    }
    if *mode == Ke::UnknownCritical {
        ke::push(&mut out, true, 0x4321, &[1, 2]);
    }
    if *mode != Ke::Truncated {
        ke::push(&mut out, true, ke::END_OF_MESSAGE, &[]);
    }
    tls.write_all(&out)?;
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

fn serve_ntp(udp: UdpSocket, keys: &Keys, mode: Ntp) {
    let params = ServerParams {
        stratum: 3,
        reference_id: [127, 0, 0, 1],
        precision: -20,
        root_dispersion: NtpShort(0),
        reference_ts: NtpTimestamp(0),
    };
    let mut first: Option<Vec<u8>> = None;
    let mut buf = [0u8; 4096];
    loop {
        let Ok((n, from)) = udp.recv_from(&mut buf) else {
            return;
        };
        let bytes = &buf[..n];
        let Ok(req) = protect::read_request(bytes) else {
            continue;
        };
        if mode == Ntp::Nak {
            // Whatever the cookie: NTSN, echoing the identifier (RFC 8915 §5.7).
            let mut r = sntp_proto::kiss_of_death(bytes, *b"NTSN").unwrap().to_vec();
            nts_proto::ef::push(&mut r, nts_proto::ef::UNIQUE_IDENTIFIER, req.unique_id);
            let _ = udp.send_to(&r, from);
            continue;
        }
        let Some((c2s, s2c)) = keys.lock().unwrap().get(req.cookie).cloned() else {
            continue;
        };
        if !protect::request_verifies(bytes, &req, &c2s) {
            continue;
        }
        let now = now();
        let header = sntp_proto::respond(bytes, now, now, &params).unwrap();
        let fresh: Vec<Vec<u8>> = (0..=req.placeholders)
            .map(|_| {
                let c = random(64);
                keys.lock()
                    .unwrap()
                    .insert(c.clone(), (c2s.clone(), s2c.clone()));
                c
            })
            .collect();
        let (uid, key) = match mode {
            Ntp::WrongUniqueId => (random(32), s2c.clone()),
            Ntp::ForgedAuthenticator => (req.unique_id.to_vec(), Aead::new(&[0x5a; 32]).unwrap()),
            _ => (req.unique_id.to_vec(), s2c.clone()),
        };
        let genuine = protect::reply(&header, &uid, &fresh, &key, &random(16));
        let reply = match (mode, &first) {
            (Ntp::ReplayFirst, Some(kept)) => kept.clone(),
            (Ntp::ReplayFirst, None) => {
                first = Some(genuine.clone());
                genuine
            }
            _ => genuine,
        };
        let _ = udp.send_to(&reply, from);
    }
}

fn now() -> NtpTimestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    NtpTimestamp::from_unix(d.as_secs(), d.subsec_nanos())
}
