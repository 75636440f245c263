//! NTS (RFC 8915): the key exchange over TLS 1.3 (tls-proto over netio's
//! TCP), then the authenticated exchange (nts-proto) over the same loop as
//! plain SNTP. Which NTP server the key exchange may lead to is the caller's
//! to decide between the two steps (`nts_proto::server::check`).

use crate::query::{self, Drive};
use netio::TcpStream;
use netio::wasip2::clocks::monotonic_clock;
use netio::wasip2::random::random::get_random_bytes;
use nts_proto::ke::{self, Response};
use nts_proto::{Aead, CookieJar, NtsError, NtsExchange, NtsOutcome, ef};
use sntp_proto::{Action, NtpTimestamp};
use sntp_types::{
    Family, NtsInfo, NtsOptions, NtsQueryResult, NtsSession, QueryOptions, SntpError,
};
use std::net::{IpAddr, SocketAddr};
use tls_proto::{NetioTransport, Recv, TlsError, TlsOptions, TlsStream, TlsVersion};

impl Drive for NtsExchange {
    type Done = NtsOutcome;
    type Error = NtsError;
    fn next(&mut self, now: u64) -> Action<NtsOutcome, NtsError> {
        NtsExchange::next(self, now)
    }
    fn request(&mut self, nonce: NtpTimestamp, t1: NtpTimestamp, now: u64) -> Vec<u8> {
        let mut uid = [0u8; ef::UNIQUE_ID_LEN];
        uid.copy_from_slice(&get_random_bytes(ef::UNIQUE_ID_LEN as u64));
        let mut auth = [0u8; ef::NONCE_LEN];
        auth.copy_from_slice(&get_random_bytes(ef::NONCE_LEN as u64));
        NtsExchange::request(self, nonce, t1, now, uid, auth)
    }
    fn receive(&mut self, bytes: &[u8], from_server: bool, t4: NtpTimestamp, secs: u64, now: u64) {
        NtsExchange::receive(self, bytes, from_server, t4, secs, now)
    }
}

/// Key exchange with `server` on `port` (at `connect_to` when given).
pub fn key_exchange(
    server: &str,
    port: u16,
    connect_to: Option<&str>,
    o: &NtsOptions,
    family: Family,
) -> Result<NtsSession, SntpError> {
    if o.timeout_ms == 0 {
        return Err(SntpError::InvalidRequest(
            "the key exchange's timeout must be more than 0".into(),
        ));
    }
    let start = monotonic_clock::now();
    let deadline = start.saturating_add(o.timeout_ms.saturating_mul(1_000_000));
    let ip = match connect_to {
        Some(ip) => ip.parse::<IpAddr>().map_err(|_| {
            SntpError::InvalidRequest(format!("connect-to {ip:?} is not an IP address"))
        })?,
        None => query::resolve(server, family)?,
    };
    let addr = SocketAddr::new(ip, port);
    let name = o.server_name.clone().unwrap_or_else(|| {
        server
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    });
    let timeout = || {
        SntpError::Timeout(format!(
            "the NTS key exchange with {addr} did not finish within {} ms",
            o.timeout_ms
        ))
    };
    let ke_error =
        |why: String| SntpError::KeyExchange(format!("NTS key exchange with {addr}: {why}"));
    let tcp = match TcpStream::connect_until(addr, deadline) {
        Ok(Some(s)) => s,
        Ok(None) => return Err(timeout()),
        Err(e) => return Err(sntp_types::from_net(e)),
    };
    let options = TlsOptions {
        server_name: name.clone(),
        roots: o.roots.clone(),
        // RFC 8915 §3: TLS 1.3, nothing older.
        min_version: Some(TlsVersion::Tls13),
        max_version: Some(TlsVersion::Tls13),
        alpn: vec![ke::ALPN.to_string()],
        client_certificate: None,
    };
    // The request goes out with the client's Finished (no wait on a delayed ACK).
    let (mut tls, handshake) =
        match TlsStream::connect_sending(NetioTransport(tcp), &options, deadline, &ke::request()) {
            Ok(t) => t,
            Err(TlsError::Invalid(why)) => return Err(SntpError::InvalidRequest(why)),
            Err(TlsError::Timeout(_)) => return Err(timeout()),
            Err(e) => return Err(ke_error(tls_failure(&e, &name))),
        };
    if !handshake.verification.verified() {
        // The verifier records rather than refuses (tls-proto): NTS has no insecure mode.
        return Err(ke_error(format!(
            "the certificate does not verify for {name}: {}",
            handshake.verification.detail
        )));
    }
    if handshake.alpn.as_deref() != Some(ke::ALPN) {
        return Err(ke_error(format!(
            "the server did not agree to ALPN {} (RFC 8915 §4)",
            ke::ALPN
        )));
    }
    let mut response = Response::new();
    let negotiated = loop {
        match tls
            .recv(16 * 1024, deadline)
            .map_err(|e| ke_error(e.to_string()))?
        {
            Recv::Data(d) => {
                if let Some(done) = response.feed(&d) {
                    break done;
                }
            }
            Recv::Closed => break response.closed(),
            Recv::Timeout => return Err(timeout()),
        }
    }
    .map_err(|e| ke_error(e.to_string()))?;
    let key = |s2c: bool| {
        tls.export_keying_material(
            nts_proto::KEY_LEN,
            ke::EXPORTER_LABEL,
            Some(&ke::exporter_context(negotiated.aead, s2c)),
        )
        .map_err(|e| ke_error(format!("TLS exporter: {e}")))
    };
    let (c2s, s2c) = (key(false)?, key(true)?);
    tls.close(deadline);
    let (ntp_server, ntp_port) =
        nts_proto::server::negotiated(ip, negotiated.server.as_deref(), negotiated.port);
    Ok(NtsSession {
        ke_server: addr.to_string(),
        ntp_server,
        ntp_port,
        aead: negotiated.aead,
        c2s_key: c2s,
        s2c_key: s2c,
        cookies: negotiated.cookies,
        ke_ns: monotonic_clock::now().saturating_sub(start),
    })
}

/// The handshake's failure in words, with the name when a certificate is at issue.
fn tls_failure(e: &TlsError, name: &str) -> String {
    match e.handshake() {
        Some(h) if !h.verification.verified() && !h.chain.is_empty() => format!(
            "{e}; the certificate does not verify for {name}: {}",
            h.verification.detail
        ),
        _ => e.to_string(),
    }
}

/// An authenticated query with `session`; the cookies left come back either way.
pub fn query(session: &NtsSession, options: &QueryOptions) -> NtsQueryResult {
    let mut jar = CookieJar::new(session.cookies.clone());
    let (outcome, nts) = match authenticated(session, options, &mut jar) {
        Ok((report, info)) => (Ok(report), Some(info)),
        Err(e) => (Err(e), None),
    };
    NtsQueryResult {
        outcome,
        nts,
        cookies: jar.to_vec(),
    }
}

fn authenticated(
    session: &NtsSession,
    options: &QueryOptions,
    jar: &mut CookieJar,
) -> Result<(sntp_types::Report, NtsInfo), SntpError> {
    if session.aead != nts_proto::AEAD_AES_SIV_CMAC_256 {
        return Err(SntpError::InvalidRequest(format!(
            "the session's AEAD {} is not AEAD_AES_SIV_CMAC_256",
            nts_proto::aead_name(session.aead)
        )));
    }
    let c2s = Aead::new(&session.c2s_key).map_err(SntpError::InvalidRequest)?;
    let s2c = Aead::new(&session.s2c_key).map_err(SntpError::InvalidRequest)?;
    let ip = query::resolve(&session.ntp_server, options.family)?;
    let addr = SocketAddr::new(ip, session.ntp_port);
    let mut exchange = NtsExchange::new(query::config(options)?, c2s, s2c, jar.clone());
    let done = query::drive(&mut exchange, addr);
    *jar = exchange.cookies().clone();
    match done? {
        Ok(o) => Ok((
            query::report(addr, &o.outcome),
            NtsInfo {
                ke_server: session.ke_server.clone(),
                ntp_server: addr.to_string(),
                aead: nts_proto::aead_name(session.aead),
                cookies_left: jar.len() as u32,
                ke_ns: session.ke_ns,
            },
        )),
        Err(NtsError::Exchange(e)) => Err(query::exchange_error(addr, e)),
        Err(e @ NtsError::Rejected(_)) => Err(SntpError::BadReply(e.message(&addr.to_string()))),
        Err(e @ NtsError::NoCookies) => Err(SntpError::KeyExchange(e.message(&addr.to_string()))),
    }
}
