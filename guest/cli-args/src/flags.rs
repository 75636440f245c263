//! The flags of each diagnostic, defined once and flattened (`#[command(flatten)]`)
//! into netkit's commands and into the components' own command lines.

use crate::units::{bytes, millis, positive_secs, secs};
use clap::Args;
use std::time::Duration;

/// `-4` / `-6`: which address family a host name may resolve to.
#[derive(Args, Debug, Clone, Copy)]
pub struct FamilyFlags {
    /// Use IPv4 only (for a host name).
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only (for a host name).
    #[arg(short = '6')]
    pub ipv6: bool,
}

/// Flags of the echo client.
#[derive(Args, Debug, Clone)]
pub struct EchoClientFlags {
    /// Server: IP address or host name.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, short)]
    pub port: u16,
    /// Text to send [default: "This is a test message"].
    #[arg(long, short, conflicts_with = "size")]
    pub message: Option<String>,
    /// Send this many bytes of generated data instead, different for every exchange
    /// (e.g. 4096, 64KiB, 1GiB; at most 65507 bytes with --udp).
    #[arg(long, value_parser = bytes)]
    pub size: Option<u64>,
    /// Number of exchanges (connect, send, read back, verify, close), 1 or more.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Exchanges running at once (1-10000).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: u32,
    /// Give up after this long without progress (e.g. 500ms, 10s; a plain number is seconds).
    #[arg(long, short, default_value = "10s", value_parser = positive_secs)]
    pub timeout: Duration,
    /// Echo over UDP (one datagram per exchange) instead of TCP.
    #[arg(long)]
    pub udp: bool,
    /// Print one JSON object (the report or the error) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub family: FamilyFlags,
}

/// Flags of the SNTP client.
#[derive(Args, Debug, Clone)]
pub struct SntpFlags {
    /// Server: HOST, HOST:PORT, IP or [IPv6]:PORT (default port 123; with --nts
    /// the NTS-KE server, default port 4460).
    pub server: String,
    /// Authenticate the time with NTS (RFC 8915): key exchange over TLS 1.3
    /// with SERVER, then NTS-protected NTP with the server it names (by
    /// default the same host, port 123).
    #[arg(long)]
    pub nts: bool,
    /// With --nts: trust these CA certificates (a PEM bundle) for the key
    /// exchange instead of the system's (/etc/ssl/certs/ca-certificates.crt).
    #[arg(long, value_name = "FILE", requires = "nts")]
    pub ca: Option<std::path::PathBuf>,
    /// With --nts: let the key exchange name this NTP server on another host
    /// (HOST[:PORT], default port 123; repeatable). Without it only the KE
    /// host is queried, at whatever port it names.
    #[arg(long, value_name = "HOST[:PORT]", requires = "nts")]
    pub allow_ntp_server: Vec<String>,
    /// How long to wait for a valid reply, per sample (e.g. 500ms, 2s; a plain number is seconds).
    #[arg(long, short, default_value = "5s", value_parser = positive_secs)]
    pub timeout: Duration,
    /// Requests sent per sample, spread over the timeout (1-100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub tries: u32,
    /// Samples to take (1 s apart unless --burst); the one with the lowest delay is reported (1-100).
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub samples: u32,
    /// Take the samples back to back.
    #[arg(long)]
    pub burst: bool,
    /// Print one JSON object (the report or the error) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub family: FamilyFlags,
}

/// Flags of the echo server.
#[derive(Args, Debug, Clone)]
pub struct EchoServerFlags {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to serve on (0 picks a free one).
    #[arg(long, short)]
    pub port: u16,
    /// Serve UDP echo (RFC 862) instead of TCP.
    #[arg(long)]
    pub udp: bool,
    /// Most TCP connections served at once (1-100000); more are closed at once and counted.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,
    /// Close a TCP connection idle this long (e.g. 30s, 5m; a plain number is seconds; 0 = never).
    #[arg(long, default_value = "300s", value_parser = secs)]
    pub idle_timeout: Duration,
    /// UDP: echo at most this many datagrams per second (bursts up to as many;
    /// 0 = no limit); the rest are dropped and counted as rejected.
    #[arg(long, default_value_t = 10_000)]
    pub max_rate: u32,
    /// On a stop request, stop accepting and keep serving open connections this
    /// long before stopping (e.g. 1s, 500ms; a plain number is seconds; 0 = at once).
    #[arg(long, default_value = "1s", value_parser = secs)]
    pub drain_timeout: Duration,
    /// Do not log every connection (nor, under netkit, every denial; both are still counted).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of the SNTP server.
#[derive(Args, Debug, Clone)]
pub struct SntpServerFlags {
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// UDP port to serve on.
    #[arg(long, short)]
    pub port: u16,
    /// Stratum to announce (1-15).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=15))]
    pub stratum: u8,
    /// Reference id: up to 4 characters for stratum 1 (e.g. GPS), an IPv4 address above
    /// [default: LOCL at stratum 1, else 127.127.1.1].
    #[arg(long)]
    pub refid: Option<String>,
    /// Answer each client at most once per this long, RATE kiss-o'-death in between
    /// (e.g. 2s, 500ms; a plain number is milliseconds; 0 = no limit).
    #[arg(long, visible_alias = "rate-limit-ms", default_value = "0", value_parser = millis)]
    pub rate_limit: Duration,
    /// Do not log every request (nor, under netkit, every denial; both are still counted).
    #[arg(long, short)]
    pub quiet: bool,
}

impl SntpServerFlags {
    /// The reference id to announce: the one given, or what a local clock
    /// announces (chronyd's `local` directive): LOCL at stratum 1, else 127.127.1.1.
    pub fn reference_id(&self) -> String {
        self.refid.clone().unwrap_or_else(|| {
            if self.stratum <= 1 {
                "LOCL"
            } else {
                "127.127.1.1"
            }
            .into()
        })
    }
}

/// Flags only a server component has under the stock CLI (netkit sets them itself).
#[derive(Args, Debug, Clone)]
pub struct GuestServerFlags {
    /// Stop after serving this many connections, datagrams or requests.
    #[arg(long)]
    pub stop_after: Option<u64>,
    /// Stop cleanly when standard input reaches end-of-file.
    #[arg(long)]
    pub stop_on_eof: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Echo {
        #[command(flatten)]
        f: EchoClientFlags,
    }

    #[test]
    fn one_meaning_per_flag() {
        let e = Echo::try_parse_from(["x", "-p", "7", "--size", "2KiB", "-t", "500ms", "-c", "3"])
            .unwrap();
        assert_eq!((e.f.port, e.f.size, e.f.count), (7, Some(2048), 3));
        assert_eq!(e.f.timeout, Duration::from_millis(500));
        assert!(Echo::try_parse_from(["x", "-p", "7", "--count", "0"]).is_err());
        assert!(Echo::try_parse_from(["x", "-p", "7", "-4", "-6"]).is_err());
    }

    #[test]
    fn refid_defaults_follow_the_stratum() {
        #[derive(Parser)]
        struct S {
            #[command(flatten)]
            f: SntpServerFlags,
        }
        let one = S::try_parse_from(["x", "-p", "1", "--stratum", "1"]).unwrap();
        assert_eq!(one.f.reference_id(), "LOCL");
        let ten = S::try_parse_from(["x", "-p", "1"]).unwrap();
        assert_eq!(ten.f.reference_id(), "127.127.1.1");
    }
}

/// Flags of the TCP and UDP probes.
#[derive(Args, Debug, Clone)]
pub struct ProbeFlags {
    /// Target: HOST:PORT, IP:PORT or [IPv6]:PORT.
    pub target: String,
    /// Attempts to make (1 or more).
    #[arg(long, short, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Pause between the starts of two attempts (e.g. 1s, 200ms; a plain number is seconds).
    #[arg(long, short, default_value = "1s", value_parser = secs)]
    pub interval: Duration,
    /// Give up on one attempt after this long (e.g. 2s, 500ms; a plain number is seconds).
    #[arg(long, short, default_value = "2s", value_parser = positive_secs)]
    pub timeout: Duration,
    /// Send this text (with \n, \r, \t and \\ escapes) once connected, or as the datagram.
    #[arg(long, conflicts_with = "send_hex")]
    pub send: Option<String>,
    /// Send these bytes, given in hex (e.g. 'de ad be ef').
    #[arg(long)]
    pub send_hex: Option<String>,
    /// The reply must match this regular expression.
    #[arg(long)]
    pub expect: Option<String>,
    /// The reply must contain these bytes, given in hex.
    #[arg(long)]
    pub expect_hex: Option<String>,
    /// Print one JSON object (the report or the error) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub family: FamilyFlags,
}

impl ProbeFlags {
    /// The bytes to send, from `--send` (escapes applied) or `--send-hex`.
    pub fn payload(&self) -> Result<Option<Vec<u8>>, String> {
        match (&self.send, &self.send_hex) {
            (Some(t), _) => Ok(Some(unescape(t))),
            (None, Some(h)) => probe_proto::parse_hex(h)
                .map(Some)
                .map_err(|e| format!("--send-hex: {e}")),
            (None, None) => Ok(None),
        }
    }

    /// The bytes the reply must contain, from `--expect-hex`.
    pub fn expect_bytes(&self) -> Result<Option<Vec<u8>>, String> {
        self.expect_hex
            .as_deref()
            .map(|h| probe_proto::parse_hex(h).map_err(|e| format!("--expect-hex: {e}")))
            .transpose()
    }
}

/// `\n`, `\r`, `\t`, `\0` and `\\` in `--send` text; anything else is literal.
pub fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some(other) => {
                out.push(b'\\');
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    out
}

/// Flags of the DNS probe.
#[derive(Args, Debug, Clone)]
pub struct DnsFlags {
    /// The name to look up (or, with -x, an IP address).
    #[arg(required_unless_present = "reverse")]
    pub name: Option<String>,
    /// Record type: A, AAAA, CNAME, MX, NS, TXT, SOA, SRV, PTR, CAA or ANY.
    #[arg(long = "type", short = 't', default_value = "A", value_parser = record_type)]
    pub record_type: String,
    /// Reverse lookup: the PTR record of this IP address.
    #[arg(
        short = 'x',
        long = "reverse",
        value_name = "IP",
        conflicts_with = "name"
    )]
    pub reverse: Option<std::net::IpAddr>,
    /// The server: IP or IP:PORT ([IPv6]:PORT); default: the first nameserver in /etc/resolv.conf.
    #[arg(long, short = 's')]
    pub server: Option<String>,
    /// Ask over TCP from the start (otherwise UDP, and TCP when the answer is truncated).
    #[arg(long)]
    pub tcp: bool,
    /// Do not ask the server to recurse (RD off), as dig +norecurse.
    #[arg(long)]
    pub norecurse: bool,
    /// Give up on each exchange after this long (e.g. 2s, 500ms; a plain number is seconds).
    #[arg(long, default_value = "3s", value_parser = positive_secs)]
    pub timeout: Duration,
    /// Print one JSON object (the answer or the error) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The record types the DNS probe asks for (dns-proto parses them).
pub const RECORD_TYPES: [&str; 11] = [
    "A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "SRV", "PTR", "CAA", "ANY",
];

fn record_type(text: &str) -> Result<String, String> {
    let upper = text.to_ascii_uppercase();
    if RECORD_TYPES.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(format!("one of {}", RECORD_TYPES.join(", ")))
    }
}

/// A TLS version on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersionArg {
    /// TLS 1.2.
    #[value(name = "1.2", alias = "TLS12", alias = "tls12")]
    Tls12,
    /// TLS 1.3.
    #[value(name = "1.3", alias = "TLS13", alias = "tls13")]
    Tls13,
}

/// How to make and check a TLS connection (`netkit tls`, `netkit http`).
#[derive(Args, Debug, Clone)]
pub struct TlsClientFlags {
    /// The name to send as SNI and to verify the certificate against [default: the host].
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Trust these CA certificates (a PEM bundle) instead of the system's
    /// (/etc/ssl/certs/ca-certificates.crt). netkit reads the file; the component gets the certificates.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// Go on when the certificate does not verify (the verdict and every fact are still reported).
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Present this client certificate (PEM, the leaf first) when the server asks for one (mTLS).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<std::path::PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<std::path::PathBuf>,
    /// Lowest TLS version to offer.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub min_version: Option<TlsVersionArg>,
    /// Highest TLS version to offer.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub max_version: Option<TlsVersionArg>,
}

/// STARTTLS protocols.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StarttlsArg {
    /// SMTP (RFC 3207): EHLO, STARTTLS, then the handshake.
    Smtp,
}

/// Flags of the TLS probe.
#[derive(Args, Debug, Clone)]
pub struct TlsFlags {
    /// Server: HOST:PORT, IP:PORT or [IPv6]:PORT (HOST alone: port 443).
    pub target: String,
    #[command(flatten)]
    pub tls: TlsClientFlags,
    /// Offer these ALPN protocols (e.g. h2,http/1.1; each 1 to 255 bytes).
    #[arg(long, value_delimiter = ',', value_name = "PROTO", value_parser = alpn_protocol)]
    pub alpn: Vec<String>,
    /// Exit 1 when the leaf or any certificate of the chain expires within this many days.
    #[arg(long, value_name = "DAYS")]
    pub warn_days: Option<u32>,
    /// Speak this protocol's STARTTLS before the handshake.
    #[arg(long, value_enum)]
    pub starttls: Option<StarttlsArg>,
    /// Give up after this long: connect, STARTTLS and handshake together (e.g. 5s, 500ms).
    #[arg(long, short, default_value = "10s", value_parser = positive_secs)]
    pub timeout: Duration,
    /// Print one JSON object (the report or the error) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub family: FamilyFlags,
}

/// Flags of the HTTP probe.
#[derive(Args, Debug, Clone)]
pub struct HttpFlags {
    /// The URL: http:// or https://.
    pub url: String,
    /// The request method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A request header, 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    pub headers: Vec<String>,
    /// The request body.
    #[arg(long, short = 'd', conflicts_with = "data_file")]
    pub data: Option<String>,
    /// The request body from a file (netkit reads it; the component gets the bytes).
    #[arg(long, value_name = "FILE")]
    pub data_file: Option<std::path::PathBuf>,
    /// Accepted status codes, e.g. 200-299,301 or 2xx,3xx [default: 2xx].
    #[arg(long, value_name = "CODES")]
    pub expect_status: Option<String>,
    /// The body must match this regular expression (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub expect_body: Vec<String>,
    /// Fail when the body matches this regular expression (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub fail_if_body: Vec<String>,
    /// A response header must match: 'Name: REGEX' (repeatable).
    #[arg(long, value_name = "NAME: REGEX")]
    pub expect_header: Vec<String>,
    /// Fail when a response header matches: 'Name: REGEX' (repeatable).
    #[arg(long, value_name = "NAME: REGEX")]
    pub fail_if_header: Vec<String>,
    /// The most body bytes to accept, as sent and decoded (e.g. 64KiB, 10MiB).
    #[arg(long, default_value = "10MiB", value_parser = bytes)]
    pub max_body: u64,
    /// Do not offer gzip, deflate and br.
    #[arg(long)]
    pub no_compression: bool,
    /// Follow at most this many redirects (0: do not follow).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub max_redirects: u32,
    /// Redirects may also lead here: a URL (scheme, host, port) or HOST:PORT (repeatable).
    /// The URL's own scheme, host and port are always allowed; anything else ends the probe.
    #[arg(long, value_name = "URL|HOST:PORT")]
    pub allow_redirect: Vec<String>,
    /// Connect to IP for HOST:PORT, like curl's --resolve (repeatable).
    #[arg(long, value_name = "HOST:PORT:IP")]
    pub resolve: Vec<String>,
    /// Basic auth credentials, 'user:password', from this file (never shown).
    #[arg(long, value_name = "FILE")]
    pub basic_auth_file: Option<std::path::PathBuf>,
    /// Basic auth credentials, 'user:password', from this environment variable (never shown).
    #[arg(long, value_name = "VAR")]
    pub basic_auth_env: Option<String>,
    /// A bearer token from this file (never shown).
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<std::path::PathBuf>,
    /// A bearer token from this environment variable (never shown).
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,
    #[command(flatten)]
    pub tls: TlsClientFlags,
    /// Give up after this long, redirects included (e.g. 5s, 500ms).
    #[arg(long, short, default_value = "10s", value_parser = positive_secs)]
    pub timeout: Duration,
    /// Show the request and response headers.
    #[arg(long, short)]
    pub verbose: bool,
    /// Write the (decoded) body to this file.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Print one JSON object (the report or the error) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub family: FamilyFlags,
}

/// An ALPN protocol name: 1 to 255 bytes (RFC 7301).
fn alpn_protocol(p: &str) -> Result<String, String> {
    if p.is_empty() || p.len() > 255 {
        return Err(format!(
            "a protocol name is 1 to 255 bytes, this one is {} (e.g. h2,http/1.1)",
            p.len()
        ));
    }
    Ok(p.to_string())
}

/// `Name: value` into its parts.
pub fn split_header(h: &str) -> Result<(String, String), String> {
    let (k, v) = h
        .split_once(':')
        .ok_or_else(|| format!("{h:?} is not a header: write 'Name: value'"))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// `HOST:PORT:IP` (curl's `--resolve`) into its parts; IPv6 in brackets.
pub fn split_resolve(s: &str) -> Result<(String, u16, String), String> {
    let bad = || format!("--resolve {s:?}: write HOST:PORT:IP, e.g. example.com:443:127.0.0.1");
    let (host, rest) = s.split_once(':').ok_or_else(bad)?;
    let (port, ip) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    ip.parse::<std::net::IpAddr>().map_err(|_| bad())?;
    Ok((host.to_ascii_lowercase(), port, ip.to_string()))
}

/// The Authorization header value from the credential flags (file or environment), if any.
pub fn authorization(f: &HttpFlags) -> Result<Option<String>, String> {
    let read_file = |p: &std::path::Path| {
        crate::files::read_text(p, crate::files::Kind::Secret)
            .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
    };
    let read_env =
        |v: &str| std::env::var(v).map_err(|_| format!("environment variable {v} is not set"));
    let basic = match (&f.basic_auth_file, &f.basic_auth_env) {
        (Some(p), _) => Some(read_file(p)?),
        (None, Some(v)) => Some(read_env(v)?),
        _ => None,
    };
    let bearer = match (&f.bearer_token_file, &f.bearer_token_env) {
        (Some(p), _) => Some(read_file(p)?),
        (None, Some(v)) => Some(read_env(v)?),
        _ => None,
    };
    match (basic, bearer) {
        (Some(_), Some(_)) => Err("give basic auth or a bearer token, not both".into()),
        (Some(b), None) => {
            if !b.contains(':') {
                return Err("basic auth credentials must be 'user:password'".into());
            }
            Ok(Some(format!("Basic {}", base64(b.as_bytes()))))
        }
        (None, Some(t)) => Ok(Some(format!("Bearer {}", t.trim()))),
        (None, None) => Ok(None),
    }
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `-M`: path MTU discovery, as iputils names its modes.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmtuArg {
    /// Set don't-fragment (IPv4): a request too large for the path fails.
    Do,
    /// The system's default.
    Want,
}

/// Flags of ping, iputils' names and meanings.
#[derive(Args, Debug, Clone)]
pub struct PingFlags {
    /// Host to ping: an IP address or a name.
    pub host: String,
    /// Stop after sending this many echo requests (and waiting for their replies).
    #[arg(short = 'c', long = "count", value_parser = clap::value_parser!(u32).range(1..))]
    pub count: Option<u32>,
    /// Wait this long between two requests (seconds, or e.g. 200ms); below 0.2 s only for root.
    #[arg(short = 'i', long = "interval", default_value = "1", value_parser = positive_secs)]
    pub interval: Duration,
    /// Wait this long for each reply (seconds, or e.g. 500ms).
    #[arg(short = 'W', long = "timeout", default_value = "10", value_parser = positive_secs)]
    pub timeout: Duration,
    /// Stop after this long, however many requests were sent or answered (seconds).
    #[arg(short = 'w', long = "deadline", value_parser = positive_secs)]
    pub deadline: Option<Duration>,
    /// Payload bytes after the 8-byte ICMP header.
    #[arg(short = 's', long = "size", default_value_t = 56)]
    pub size: u32,
    /// IPv4 TTL / IPv6 hop limit of the requests (1 to 255).
    #[arg(short = 't', long = "ttl", value_parser = clap::value_parser!(u8).range(1..))]
    pub ttl: Option<u8>,
    /// Path MTU discovery: "do" sets don't-fragment (IPv4).
    #[arg(short = 'M', long = "pmtudisc", value_enum)]
    pub pmtu: Option<PmtuArg>,
    /// Quiet: print only the first line and the statistics.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Print one JSON object (the report or the error) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub family: FamilyFlags,
}

impl PingFlags {
    /// The run these flags ask for.
    pub fn options(&self) -> ping_proto::Options {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
        ping_proto::Options {
            count: self.count,
            interval_ns: ns(self.interval),
            timeout_ns: ns(self.timeout),
            deadline_ns: self.deadline.map(ns),
            payload_size: self.size,
            hop_limit: self.ttl,
            dont_fragment: self.pmtu == Some(PmtuArg::Do),
        }
    }
}
