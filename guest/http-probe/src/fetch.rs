//! One probe: hop by hop (at most `max-redirects` redirects, each to a granted
//! origin), every phase timed as blackbox_exporter times it.

use crate::exports::netkit::diag::http_probe::{
    Header, HttpError, HttpRequest, HttpResponse, Timings,
};
use crate::netkit::diag::tls_types::{Certificate, Handshake, VerifyError};
use http_proto::redirect::{self, Origin};
use http_proto::request::{self, Request};
use http_proto::response::{self, Limits};
use http_proto::{Response, ResponseError};
use netio::TcpStream;
use std::net::{IpAddr, SocketAddr};
use tls_proto::{NetioTransport, TlsStream, Transport};
use url::Url;

fn now() -> u64 {
    netio::wasip2::clocks::monotonic_clock::now()
}

struct Hop {
    response: Response,
    target: SocketAddr,
    handshake: Option<tls_proto::Handshake>,
    timings: Timings,
}

fn add(a: &mut Timings, b: &Timings) {
    a.resolve_ns += b.resolve_ns;
    a.connect_ns += b.connect_ns;
    a.tls_ns += b.tls_ns;
    a.processing_ns += b.processing_ns;
    a.transfer_ns += b.transfer_ns;
}

fn zero() -> Timings {
    Timings {
        resolve_ns: 0,
        connect_ns: 0,
        tls_ns: 0,
        processing_ns: 0,
        transfer_ns: 0,
    }
}

fn parse_url(s: &str) -> Result<Url, HttpError> {
    let url =
        Url::parse(s).map_err(|e| HttpError::InvalidRequest(format!("{s:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HttpError::InvalidRequest(format!(
            "{s:?}: only http:// and https:// URLs"
        )));
    }
    if url.host().is_none() {
        return Err(HttpError::InvalidRequest(format!("{s:?} has no host")));
    }
    if url.port() == Some(0) {
        return Err(HttpError::InvalidRequest(format!(
            "{s:?}: port 0 is no port to connect to"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HttpError::InvalidRequest(
            "credentials in the URL would be shown in every report: use --basic-auth-file or --basic-auth-env".into(),
        ));
    }
    Ok(url)
}

fn host_of(url: &Url) -> String {
    match url.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

/// Where the URL's host connects: the caller's override, an IP literal, or a lookup.
fn address(req: &HttpRequest, url: &Url, t: &mut Timings) -> Result<SocketAddr, HttpError> {
    let host = host_of(url);
    let port = url.port_or_known_default().unwrap_or(80);
    if let Some(o) = req
        .resolve
        .iter()
        .find(|o| o.host.eq_ignore_ascii_case(&host) && o.port == port)
    {
        let ip: IpAddr = o.ip.parse().map_err(|_| {
            HttpError::InvalidRequest(format!("resolve override {:?} is not an IP", o.ip))
        })?;
        return Ok(SocketAddr::new(ip, port));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let start = now();
    let all = wstd::runtime::block_on(netio::resolve(&host)).map_err(HttpError::NameNotFound)?;
    t.resolve_ns = now() - start;
    all.first()
        .map(|ip| SocketAddr::new(*ip, port))
        .ok_or_else(|| HttpError::NameNotFound(format!("{host:?} has no address")))
}

fn response_error(e: ResponseError) -> HttpError {
    match e {
        ResponseError::Timeout(what) => HttpError::Timeout(format!("timed out waiting for {what}")),
        ResponseError::Transport(why) => HttpError::Protocol(why),
        other => HttpError::Protocol(other.to_string()),
    }
}

fn exchange<T: Transport>(
    t: &mut T,
    req: &Request,
    limits: &Limits,
    deadline: u64,
    timings: &mut Timings,
) -> Result<Response, HttpError> {
    match t.send(&req.encode(), deadline) {
        Ok(true) => {}
        Ok(false) => return Err(HttpError::Timeout("timed out sending the request".into())),
        Err(e) => return Err(HttpError::Protocol(format!("sending the request: {e}"))),
    }
    let sent = t.now_ns();
    let r = response::read_response(t, req.method == "HEAD", limits, deadline)
        .map_err(response_error)?;
    timings.processing_ns = r.first_byte_ns.saturating_sub(sent);
    timings.transfer_ns = r.done_ns.saturating_sub(r.first_byte_ns);
    Ok(r)
}

fn wit_handshake(h: &tls_proto::Handshake) -> Handshake {
    tls_proto::handshake_to_wit!(Handshake, Certificate, VerifyError, h)
}

fn hop(
    req: &HttpRequest,
    url: &Url,
    r: &Request,
    first_host: &str,
    deadline: u64,
) -> Result<Hop, HttpError> {
    let mut t = zero();
    let addr = address(req, url, &mut t)?;
    let start = now();
    let tcp = match TcpStream::connect_until(addr, deadline) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(HttpError::Timeout(format!(
                "no TCP connection to {addr} before the timeout"
            )));
        }
        Err(e) => return Err(HttpError::Connect(e.to_string())),
    };
    t.connect_ns = now() - start;
    let limits = Limits {
        max_body: req.max_body,
        ..Limits::default()
    };
    let transport = NetioTransport(tcp);
    if url.scheme() != "https" {
        let mut transport = transport;
        let response = exchange(&mut transport, r, &limits, deadline, &mut t)?;
        return Ok(Hop {
            response,
            target: addr,
            handshake: None,
            timings: t,
        });
    }
    let host = host_of(url);
    let server_name = match &req.tls.server_name {
        Some(n) if host.eq_ignore_ascii_case(first_host) => n.clone(),
        _ => host.clone(),
    };
    let options = tls_proto::TlsOptions {
        server_name,
        roots: req.tls.roots.clone(),
        min_version: req.tls.min_version.map(|v| match v {
            crate::netkit::diag::tls_types::TlsVersion::Tls12 => tls_proto::TlsVersion::Tls12,
            crate::netkit::diag::tls_types::TlsVersion::Tls13 => tls_proto::TlsVersion::Tls13,
        }),
        max_version: req.tls.max_version.map(|v| match v {
            crate::netkit::diag::tls_types::TlsVersion::Tls12 => tls_proto::TlsVersion::Tls12,
            crate::netkit::diag::tls_types::TlsVersion::Tls13 => tls_proto::TlsVersion::Tls13,
        }),
        alpn: vec!["http/1.1".into()],
        client_certificate: req.tls.client_certificate.as_ref().map(|c| {
            tls_proto::pem::ClientCertificate {
                chain: c.chain.clone(),
                key_pem: c.key_pem.clone(),
            }
        }),
    };
    let start = now();
    let (mut stream, h) = match TlsStream::connect(transport, &options, deadline) {
        Ok(ok) => ok,
        Err(tls_proto::TlsError::Invalid(why)) => return Err(HttpError::InvalidRequest(why)),
        Err(tls_proto::TlsError::Timeout(_)) => {
            return Err(HttpError::Timeout(
                "TLS handshake not finished before the timeout".into(),
            ));
        }
        Err(e) => {
            return Err(HttpError::Tls((
                e.to_string(),
                e.handshake().map(wit_handshake),
            )));
        }
    };
    t.tls_ns = now() - start;
    if let Some(reason) = h.verification.error
        && !req.tls.insecure
    {
        {
            // Nothing, not even the request line, goes over an unverified connection.
            return Err(HttpError::Tls((
                format!(
                    "the certificate of {} does not verify: {} ({}); --insecure / insecure_skip_verify goes on",
                    options.server_name,
                    reason.as_str(),
                    h.verification.detail
                ),
                Some(wit_handshake(&h)),
            )));
        }
    }
    let response = exchange(&mut stream, r, &limits, deadline, &mut t)?;
    Ok(Hop {
        response,
        target: addr,
        handshake: Some(h),
        timings: t,
    })
}

/// The whole probe.
pub fn probe(req: &HttpRequest) -> Result<HttpResponse, HttpError> {
    if req.timeout_ms == 0 {
        return Err(HttpError::InvalidRequest(
            "timeout must be more than 0".into(),
        ));
    }
    let deadline = now().saturating_add(req.timeout_ms.saturating_mul(1_000_000));
    let mut url = parse_url(&req.url)?;
    request::check_method(&req.method).map_err(HttpError::InvalidRequest)?;
    for h in &req.headers {
        request::check_header(&h.name, &h.value).map_err(HttpError::InvalidRequest)?;
    }
    let first_host = host_of(&url);
    let mut allowed = vec![Origin::of(&url)];
    for a in &req.allow_redirects {
        allowed.push(Origin::parse(a).map_err(HttpError::InvalidRequest)?);
    }
    let mut r = Request {
        method: req.method.to_ascii_uppercase(),
        url: url.clone(),
        headers: req
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        body: req.body.clone(),
        compression: req.compression,
    };
    let mut timings = zero();
    let mut redirects: Vec<String> = Vec::new();
    loop {
        let h = hop(req, &url, &r, &first_host, deadline)?;
        add(&mut timings, &h.timings);
        let status = h.response.head.status;
        if redirect::is_redirect(status)
            && req.max_redirects > 0
            && let Some(location) = h.response.head.header("location")
        {
            {
                let next = redirect::resolve(&url, location).map_err(HttpError::Protocol)?;
                if redirects.len() as u32 >= req.max_redirects {
                    return Err(HttpError::TooManyRedirects(format!(
                        "more than {} redirects (the last to {next})",
                        req.max_redirects
                    )));
                }
                if !allowed.iter().any(|o| o.covers(&next)) {
                    return Err(HttpError::RedirectNotGranted(next.to_string()));
                }
                // Credentials are for the origin they were given for, as curl does.
                r.headers = redirect::headers_after(&url, &next, &r.headers);
                let method = redirect::method_after(status, &r.method);
                if method != r.method {
                    r.body = None;
                }
                r.method = method;
                r.url = next.clone();
                redirects.push(next.to_string());
                url = next;
                continue;
            }
        }
        return finish(h, url, redirects, timings, req);
    }
}

fn finish(
    h: Hop,
    url: Url,
    redirects: Vec<String>,
    timings: Timings,
    req: &HttpRequest,
) -> Result<HttpResponse, HttpError> {
    let head = &h.response.head;
    let encoding = head.header("content-encoding").map(str::to_string);
    let (body, encoding) = if req.compression {
        let b = http_proto::decode::decode(encoding.as_deref(), &h.response.body, req.max_body)
            .map_err(HttpError::Protocol)?;
        (b, encoding)
    } else {
        (h.response.body.clone(), encoding)
    };
    Ok(HttpResponse {
        url: url.to_string(),
        target: h.target.to_string(),
        status: head.status,
        reason: head.reason.clone(),
        version: head.version.clone(),
        headers: head
            .headers
            .iter()
            .map(|(k, v)| Header {
                name: k.clone(),
                value: v.clone(),
            })
            .collect(),
        content_length: head
            .header("content-length")
            .and_then(|v| v.trim().parse().ok()),
        body_size: h.response.body.len() as u64,
        uncompressed_size: body.len() as u64,
        content_encoding: encoding,
        body,
        redirects,
        timings,
        tls: h.handshake.is_some(),
        handshake: h.handshake.as_ref().map(wit_handshake),
        last_modified: head
            .header("last-modified")
            .and_then(http_proto::text::http_date),
        now: netio::wasip2::clocks::wall_clock::now().seconds as i64,
    })
}
