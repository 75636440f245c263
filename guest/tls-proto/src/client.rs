//! A TLS client connection over a [`Transport`]: the handshake bounded by one
//! deadline, its facts, then application data both ways.

use crate::transport::{Recv, Transport, TransportError};
use crate::verify::{Recording, Seen, Verification};
use crate::{CertInfo, TlsVersion};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use serde::Serialize;
use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};

/// Largest read asked of the transport at once (one TLS record and its header).
const RECV_CHUNK: usize = 16 * 1024 + 512;

/// How to connect.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// The name for SNI and for verification (an IP address: no SNI, verified against IP SANs).
    pub server_name: String,
    /// Trust anchors, DER.
    pub roots: Vec<Vec<u8>>,
    /// Lowest version to offer (default TLS 1.2).
    pub min_version: Option<TlsVersion>,
    /// Highest version to offer (default TLS 1.3).
    pub max_version: Option<TlsVersion>,
    /// ALPN protocols to offer, in order.
    pub alpn: Vec<String>,
    /// A certificate to present when the server asks for one (mTLS).
    pub client_certificate: Option<crate::pem::ClientCertificate>,
}

/// What the handshake established (or, when it failed, how far it got).
#[derive(Debug, Clone, Serialize)]
pub struct Handshake {
    /// `TLS 1.3` or `TLS 1.2` (empty when the handshake failed before agreeing).
    pub version: String,
    /// The cipher suite, IANA name (`TLS_AES_128_GCM_SHA256`).
    pub cipher: String,
    /// The ALPN protocol the server chose.
    pub alpn: Option<String>,
    /// The key exchange group (`X25519`, `secp256r1`, ...).
    pub group: Option<String>,
    /// From the first byte sent to the handshake's end, nanoseconds.
    pub handshake_ns: u64,
    /// The chain as the server sent it, leaf first.
    pub chain: Vec<CertInfo>,
    /// Whether the chain verified for the name, and why not.
    pub verification: Verification,
}

/// Why a TLS connection did not come up.
#[derive(Debug, Clone)]
pub enum TlsError {
    /// The options cannot be used (bad name, versions).
    Invalid(String),
    /// The deadline passed during the handshake.
    Timeout(Box<Handshake>),
    /// The handshake failed: the server's alert, a protocol error, a closed connection.
    Failed(String, Box<Handshake>),
    /// The connection failed.
    Transport(TransportError, Box<Handshake>),
}

impl TlsError {
    /// What was learnt before it failed (the chain, when the server sent one).
    pub fn handshake(&self) -> Option<&Handshake> {
        match self {
            TlsError::Invalid(_) => None,
            TlsError::Timeout(h) | TlsError::Failed(_, h) | TlsError::Transport(_, h) => Some(h),
        }
    }
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Invalid(why) => f.write_str(why),
            TlsError::Timeout(_) => f.write_str("TLS handshake not finished before the timeout"),
            TlsError::Failed(why, _) => write!(f, "TLS handshake failed: {why}"),
            TlsError::Transport(e, _) => write!(f, "TLS handshake failed: {e}"),
        }
    }
}

/// An established TLS connection.
pub struct TlsStream<T: Transport> {
    transport: T,
    conn: ClientConnection,
    eof: bool,
}

/// Build the client configuration; the second value receives what the verifier saw.
pub fn client_config(
    options: &TlsOptions,
) -> Result<(Arc<ClientConfig>, Arc<Mutex<Seen>>), TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (verifier, _rejected) = Recording::new(&provider, &options.roots, seen.clone());
    let min = options.min_version.unwrap_or(TlsVersion::Tls12);
    let max = options.max_version.unwrap_or(TlsVersion::Tls13);
    if min > max {
        return Err(TlsError::Invalid(format!(
            "the minimum version {} is above the maximum {}",
            min.name(),
            max.name()
        )));
    }
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [TlsVersion::Tls12, TlsVersion::Tls13]
            .into_iter()
            .filter(|v| *v >= min && *v <= max)
            .map(TlsVersion::rustls)
            .collect();
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| TlsError::Invalid(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match &options.client_certificate {
        None => config.with_no_client_auth(),
        Some(c) => {
            let (chain, key) = c.parts().map_err(TlsError::Invalid)?;
            config
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::Invalid(format!("the client certificate: {e}")))?
        }
    };
    for p in &options.alpn {
        check_alpn(p).map_err(TlsError::Invalid)?;
    }
    config.alpn_protocols = options.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    // A probe measures one handshake: no resumption from an earlier one.
    config.resumption = rustls::client::Resumption::disabled();
    Ok((Arc::new(config), seen))
}

/// An ALPN protocol name as the handshake can carry it: 1 to 255 bytes (RFC
/// 7301 §3.1). Refused here, before anything is sent: rustls would fail the
/// handshake as if the server had.
pub fn check_alpn(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 255 {
        return Err(format!(
            "ALPN protocol {:?} is {} bytes: a protocol name is 1 to 255 bytes (e.g. h2, http/1.1)",
            crate::text::clip(p, 40),
            p.len()
        ));
    }
    Ok(())
}

impl<T: Transport> TlsStream<T> {
    /// Run the handshake over `transport` before `deadline_ns`. The verdict on
    /// the chain is in the [`Handshake`]; a chain that failed verification does
    /// not fail this call.
    pub fn connect(
        transport: T,
        options: &TlsOptions,
        deadline_ns: u64,
    ) -> Result<(TlsStream<T>, Handshake), TlsError> {
        Self::connect_sending(transport, options, deadline_ns, &[])
    }

    /// [`TlsStream::connect`], with `first` (application data) sent in the
    /// same write as the client's Finished rather than after it: a request
    /// written after the handshake waits for the server's ACK of Finished
    /// under Nagle's algorithm (40 ms of delayed ACK on Linux when the server
    /// has nothing to send first, as chronyd's NTS-KE server does), and
    /// wasi:sockets has no TCP_NODELAY. Only sent once the server is
    /// authenticated as far as the handshake goes (never as 0-RTT data).
    pub fn connect_sending(
        transport: T,
        options: &TlsOptions,
        deadline_ns: u64,
        first: &[u8],
    ) -> Result<(TlsStream<T>, Handshake), TlsError> {
        let name = ServerName::try_from(options.server_name.clone()).map_err(|e| {
            TlsError::Invalid(format!(
                "{:?} is not a server name: {e}",
                options.server_name
            ))
        })?;
        let (config, seen) = client_config(options)?;
        let mut conn = ClientConnection::new(config, name)
            .map_err(|e| TlsError::Invalid(format!("TLS: {e}")))?;
        if !first.is_empty() {
            // Buffered by rustls until the handshake is done, then queued behind Finished.
            conn.writer()
                .write_all(first)
                .map_err(|e| TlsError::Invalid(format!("TLS: {e}")))?;
        }
        let start = transport.now_ns();
        let mut stream = TlsStream {
            transport,
            conn,
            eof: false,
        };
        let result = stream.drive_handshake(deadline_ns);
        let facts = stream.facts(start, &seen);
        match result {
            Ok(()) => Ok((stream, facts)),
            Err(Stop::Timeout) => Err(TlsError::Timeout(Box::new(facts))),
            Err(Stop::Tls(why)) => Err(TlsError::Failed(why, Box::new(facts))),
            Err(Stop::Transport(e)) => Err(TlsError::Transport(e, Box::new(facts))),
        }
    }

    fn facts(&self, start: u64, seen: &Mutex<Seen>) -> Handshake {
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        let handshaking = self.conn.is_handshaking();
        Handshake {
            version: match self.conn.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".into(),
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".into(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            },
            cipher: self
                .conn
                .negotiated_cipher_suite()
                .map(|s| crate::text::cipher_name(s.suite()))
                .unwrap_or_default(),
            alpn: self
                .conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            group: self
                .conn
                .negotiated_key_exchange_group()
                .map(|g| crate::text::group_name(g.name())),
            handshake_ns: if handshaking {
                0
            } else {
                self.transport.now_ns().saturating_sub(start)
            },
            chain: seen.chain.iter().map(|d| CertInfo::from_der(d)).collect(),
            verification: seen.verdict.clone().unwrap_or_else(|| Verification {
                error: None,
                detail: "the server sent no certificate".into(),
            }),
        }
    }

    fn drive_handshake(&mut self, deadline: u64) -> Result<(), Stop> {
        while self.conn.is_handshaking() {
            self.flush(deadline)?;
            if !self.conn.is_handshaking() {
                break;
            }
            if self.conn.wants_read() {
                self.fill(deadline)?;
            }
        }
        // TLS 1.3: the client's Finished is still to be sent.
        self.flush(deadline)
    }

    /// Send whatever TLS records are waiting.
    fn flush(&mut self, deadline: u64) -> Result<(), Stop> {
        while self.conn.wants_write() {
            let mut out = Vec::new();
            self.conn
                .write_tls(&mut out)
                .map_err(|e| Stop::Tls(e.to_string()))?;
            if !self
                .transport
                .send(&out, deadline)
                .map_err(Stop::Transport)?
            {
                return Err(Stop::Timeout);
            }
        }
        Ok(())
    }

    /// Read one batch of TLS bytes and process it.
    fn fill(&mut self, deadline: u64) -> Result<(), Stop> {
        match self
            .transport
            .recv(RECV_CHUNK, deadline)
            .map_err(Stop::Transport)?
        {
            Recv::Data(d) => {
                let mut rest = &d[..];
                while !rest.is_empty() {
                    self.conn
                        .read_tls(&mut rest)
                        .map_err(|e| Stop::Tls(e.to_string()))?;
                    if let Err(e) = self.conn.process_new_packets() {
                        // Tell the server why (an alert), best effort.
                        let _ = self.flush(deadline);
                        return Err(Stop::Tls(e.to_string()));
                    }
                }
                Ok(())
            }
            Recv::Closed => {
                self.eof = true;
                let _ = self.conn.read_tls(&mut &[][..]);
                if self.conn.is_handshaking() {
                    Err(Stop::Tls(
                        "the server closed the connection during the handshake".into(),
                    ))
                } else {
                    Ok(())
                }
            }
            Recv::Timeout => Err(Stop::Timeout),
        }
    }

    /// Send all of `buf` (encrypted) before `deadline_ns`.
    pub fn send(&mut self, mut buf: &[u8], deadline_ns: u64) -> Result<bool, TransportError> {
        while !buf.is_empty() {
            let n = self
                .conn
                .writer()
                .write(buf)
                .map_err(|e| TransportError(format!("TLS: {e}")))?;
            buf = &buf[n..];
            match self.flush(deadline_ns) {
                Ok(()) => {}
                Err(Stop::Timeout) => return Ok(false),
                Err(Stop::Tls(e)) => return Err(TransportError(format!("TLS: {e}"))),
                Err(Stop::Transport(e)) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Decrypted bytes (at most `max`) before `deadline_ns`.
    pub fn recv(&mut self, max: usize, deadline_ns: u64) -> Result<Recv, TransportError> {
        let mut buf = vec![0u8; max.clamp(1, RECV_CHUNK)];
        loop {
            match self.conn.reader().read(&mut buf) {
                Ok(0) => return Ok(Recv::Closed),
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(Recv::Data(buf));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // Closed without close_notify: the body's framing decides whether that lost anything.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(Recv::Closed),
                Err(e) => return Err(TransportError(format!("TLS: {e}"))),
            }
            if self.eof {
                return Ok(Recv::Closed);
            }
            match self.fill(deadline_ns) {
                Ok(()) => {}
                Err(Stop::Timeout) => return Ok(Recv::Timeout),
                Err(Stop::Tls(e)) => return Err(TransportError(format!("TLS: {e}"))),
                Err(Stop::Transport(e)) => return Err(e),
            }
            // Post-handshake messages (key updates) may want an answer.
            let _ = self.flush(deadline_ns);
        }
    }

    /// RFC 5705 / RFC 8446 7.5 exported keying material (NTS-KE, RFC 8915 4.3).
    pub fn export_keying_material(
        &self,
        len: usize,
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<Vec<u8>, String> {
        self.conn
            .export_keying_material(vec![0u8; len], label, context)
            .map_err(|e| e.to_string())
    }

    /// Send close_notify and half-close, best effort.
    pub fn close(&mut self, deadline_ns: u64) {
        self.conn.send_close_notify();
        let _ = self.flush(deadline_ns);
        self.transport.shutdown_send();
    }

    /// The transport underneath.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

enum Stop {
    Timeout,
    Tls(String),
    Transport(TransportError),
}

impl<T: Transport> Transport for TlsStream<T> {
    fn recv(&mut self, max: usize, deadline_ns: u64) -> Result<Recv, TransportError> {
        TlsStream::recv(self, max, deadline_ns)
    }

    fn send(&mut self, buf: &[u8], deadline_ns: u64) -> Result<bool, TransportError> {
        TlsStream::send(self, buf, deadline_ns)
    }

    fn shutdown_send(&mut self) {
        // close_notify then FIN; the deadline is the transport's clock now (best effort, no wait).
        let now = self.transport.now_ns();
        self.close(now);
    }

    fn now_ns(&self) -> u64 {
        self.transport.now_ns()
    }
}
