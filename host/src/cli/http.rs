//! `netkit http URL`: blackbox_exporter's http prober as a command, granted
//! only `tcp-connect://IP:PORT` of the URL and of each `--allow-redirect`.
//! netkit resolves every name, reads every file (body, CA bundle,
//! credentials) and hands the component data.

use super::args::ComponentFlag;
use super::job::{self, Format, Setup};
use super::output::Outcome;
use super::resolve::{self, Family, Target};
use anyhow::{Context, Result};
use cli_args::flags::HttpFlags;
use http_proto::redirect::Origin;
use netkit::http::{self, Header, HttpError, HttpProber, HttpRequest, ResolveOverride};
use netkit::tls::{self, TlsOptions};
use serde_json::json;
use std::net::SocketAddr;
use std::process::ExitCode;
use url::Url;

/// Fetch a URL: status, headers, blackbox's five phases, checks; redirects only where granted.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    f: HttpFlags,
    #[command(flatten)]
    c: ComponentFlag,
}

fn url_host(url: &Url) -> String {
    match url.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

/// Where `host:port` connects: a `--resolve` entry, else netkit's lookup.
fn locate(host: &str, port: u16, overrides: &[ResolveOverride], family: Family) -> Result<Target> {
    if let Some(o) = overrides
        .iter()
        .find(|o| o.host.eq_ignore_ascii_case(host) && o.port == port)
    {
        let ip = o.ip.parse().context("--resolve IP")?;
        return Ok(Target {
            addr: SocketAddr::new(ip, port),
            name: Some(host.to_string()),
        });
    }
    resolve::target(host, port, family)
}

/// Run the probe: exit 0 when the final response passes every check.
pub async fn main(Args { f, c }: Args, audit: bool) -> Result<ExitCode> {
    let usage = |e: String| -> ! { super::usage_error(e) };
    let url =
        Url::parse(&f.url).unwrap_or_else(|e| usage(format!("{:?} is not a URL: {e}", f.url)));
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        usage(format!(
            "{:?}: give an http:// or https:// URL with a host",
            f.url
        ));
    }
    http::check_max_body(f.max_body, netkit::runtime::DEFAULT_MAX_MEMORY)
        .unwrap_or_else(|e| usage(format!("--max-body {e}")));
    if url.port() == Some(0) {
        usage(format!("{:?}: port 0 is no port to connect to", f.url));
    }
    let checks = http_proto::expect::Checks::from_flags(
        f.expect_status.as_deref(),
        &f.expect_body,
        &f.fail_if_body,
        &f.expect_header,
        &f.fail_if_header,
    )
    .unwrap_or_else(|e| usage(e));
    let mut resolve_list = Vec::new();
    for r in &f.resolve {
        let (host, port, ip) = cli_args::flags::split_resolve(r).unwrap_or_else(|e| usage(e));
        resolve_list.push(ResolveOverride { host, port, ip });
    }
    let family = Family::of(f.family);
    let host_name = url_host(&url);
    let port = url.port_or_known_default().unwrap_or(80);
    let main_target = locate(&host_name, port, &resolve_list, family)?;
    // Each granted redirect origin, resolved now; names become overrides.
    let mut extra: Vec<SocketAddr> = Vec::new();
    let mut https = url.scheme() == "https";
    for a in &f.allow_redirect {
        let o = Origin::parse(a).unwrap_or_else(|e| usage(e));
        https |= o.scheme.as_deref() != Some("http");
        let t = locate(&o.host, o.port, &resolve_list, family)?;
        if t.name.is_some()
            && !resolve_list
                .iter()
                .any(|r| r.host.eq_ignore_ascii_case(&o.host) && r.port == o.port)
        {
            resolve_list.push(ResolveOverride {
                host: o.host.clone(),
                port: o.port,
                ip: t.addr.ip().to_string(),
            });
        }
        extra.push(t.addr);
    }
    if main_target.name.is_some()
        && !resolve_list
            .iter()
            .any(|r| r.host.eq_ignore_ascii_case(&host_name) && r.port == port)
    {
        resolve_list.push(ResolveOverride {
            host: host_name.clone(),
            port,
            ip: main_target.addr.ip().to_string(),
        });
    }
    let roots = if https {
        tls::roots(f.tls.ca.as_deref())?
    } else {
        Vec::new()
    };
    let mut headers = Vec::new();
    for h in &f.headers {
        let (name, value) = cli_args::flags::split_header(h).unwrap_or_else(|e| usage(e));
        http_proto::request::check_header(&name, &value).unwrap_or_else(|e| usage(e));
        headers.push(Header { name, value });
    }
    if let Some(auth) = cli_args::flags::authorization(&f).map_err(anyhow::Error::msg)? {
        headers.push(Header {
            name: "Authorization".into(),
            value: auth,
        });
    }
    let body = match (&f.data, &f.data_file) {
        (Some(d), _) => Some(d.clone().into_bytes()),
        (None, Some(p)) => Some(
            cli_args::files::read(p, cli_args::files::Kind::Body)
                .map_err(|e| anyhow::anyhow!("--data-file: {e}"))?,
        ),
        _ => None,
    };
    let method = f.method.to_ascii_uppercase();
    http_proto::request::check_method(&method).unwrap_or_else(|e| usage(e));
    let request = HttpRequest {
        url: url.to_string(),
        method: method.clone(),
        headers,
        body,
        tls: TlsOptions {
            server_name: f.tls.sni.clone(),
            roots,
            insecure: f.tls.insecure,
            min_version: f.tls.min_version.map(tls::version),
            max_version: f.tls.max_version.map(tls::version),
            alpn: Vec::new(),
            client_certificate: tls::client_certificate(
                f.tls.cert.as_deref(),
                f.tls.key.as_deref(),
            )?
            .as_ref()
            .map(tls::client_certificate_wit),
        },
        timeout_ms: cli_args::ms_at_least_1(f.timeout),
        max_body: f.max_body,
        compression: !f.no_compression,
        max_redirects: f.max_redirects,
        allow_redirects: f.allow_redirect.clone(),
        resolve: resolve_list,
    };
    let Setup {
        host,
        component,
        mut job,
        ..
    } = job::setup(
        "http",
        netkit::components::Builtin::HttpProbe,
        main_target,
        &c,
        Format::new(f.json, audit),
        |addr| {
            let mut all = vec![addr];
            all.extend(extra.iter().copied().filter(|a| *a != addr));
            http::client_policy(&all)
        },
    )
    .await?;
    // The guest keeps the timeout; the sandbox stops it shortly after, whatever the peer does.
    job.sandbox_mut()
        .set_deadline(Some(netkit::runtime::Sandbox::deadline_after(f.timeout)));
    if f.verbose && !f.json {
        let shown = http_proto::request::Request {
            method,
            url: url.clone(),
            headers: request
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
            body: request.body.clone(),
            compression: request.compression,
        };
        for line in shown.shown() {
            eprintln!("> {line}");
        }
    }
    let prober = HttpProber::from_component(&host, &component)?;
    let outcome = match prober.probe_in(job.sandbox(), &request).await? {
        Ok(resp) => {
            let report = http::report(&resp);
            if let Some(path) = &f.output {
                std::fs::write(path, &report.body)
                    .with_context(|| format!("cannot write --output {}", path.display()))?;
            }
            let verdict = checks.check(
                report.status,
                &report.version,
                report.tls,
                &report.headers,
                &report.body,
            );
            let mut value = http_proto::text::report_json(&report);
            let mut text = String::new();
            if f.verbose {
                text.push_str(&http_proto::text::headers_text(&report));
            }
            text.push_str(&http_proto::text::summary_line(&report));
            if let Err(v) = &verdict {
                value["failed"] = json!({"regex": v.regex, "message": v.message});
            }
            let outcome = Outcome::verdict(verdict.is_ok(), "report", value, Some(text));
            match verdict {
                Ok(()) => outcome,
                Err(v) => outcome.note(v.message),
            }
        }
        Err(e) => failure(&e),
    };
    Ok(job.finish(outcome))
}

fn failure(e: &HttpError) -> Outcome {
    let (kind, message) = http::error(e);
    let h = match e {
        HttpError::Tls((_, h)) => h.as_ref(),
        _ => None,
    };
    super::tls::with_handshake(Outcome::failure(kind, message), h)
}
