//! `http-probe.wasm URL` under `wasmtime run`: the same flags as `netkit http`.
//! Files (`--data-file`, `--ca`, credentials) are read from the directories
//! `wasmtime run --dir` gives; environment variables from `--env`.

use crate::Component;
use crate::exports::netkit::diag::http_probe::{Header, HttpError, HttpRequest, ResolveOverride};
use crate::netkit::diag::tls_types::{TlsOptions, TlsVersion, VerifyError};
use clap::Parser;
use cli_args::flags::{HttpFlags, TlsVersionArg};

/// Fetch a URL like blackbox_exporter's http prober: status, headers, every phase timed.
#[derive(Parser, Debug)]
#[command(name = "http-probe.wasm", version)]
struct Args {
    #[command(flatten)]
    f: HttpFlags,
}

const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn version(v: TlsVersionArg) -> TlsVersion {
    match v {
        TlsVersionArg::Tls12 => TlsVersion::Tls12,
        TlsVersionArg::Tls13 => TlsVersion::Tls13,
    }
}

fn request(f: &HttpFlags) -> Result<HttpRequest, String> {
    let mut headers = Vec::new();
    for h in &f.headers {
        let (name, value) = cli_args::flags::split_header(h)?;
        headers.push(Header { name, value });
    }
    if let Some(auth) = cli_args::flags::authorization(f)? {
        headers.push(Header {
            name: "Authorization".into(),
            value: auth,
        });
    }
    let body = match (&f.data, &f.data_file) {
        (Some(d), _) => Some(d.clone().into_bytes()),
        (None, Some(p)) => {
            Some(std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?)
        }
        _ => None,
    };
    let roots = match std::fs::read(
        f.tls
            .ca
            .as_deref()
            .unwrap_or(std::path::Path::new(SYSTEM_BUNDLE)),
    ) {
        Ok(pem) => tls_proto::pem::certificates(&pem)?,
        Err(_) if f.tls.ca.is_none() => Vec::new(),
        Err(e) => {
            return Err(format!(
                "cannot read the CA bundle: {e} (under wasmtime run, give its directory: --dir DIR)"
            ));
        }
    };
    let mut resolve = Vec::new();
    for r in &f.resolve {
        let (host, port, ip) = cli_args::flags::split_resolve(r)?;
        resolve.push(ResolveOverride { host, port, ip });
    }
    Ok(HttpRequest {
        url: f.url.clone(),
        method: f.method.clone(),
        headers,
        body,
        tls: TlsOptions {
            server_name: f.tls.sni.clone(),
            roots,
            insecure: f.tls.insecure,
            min_version: f.tls.min_version.map(version),
            max_version: f.tls.max_version.map(version),
            alpn: Vec::new(),
            client_certificate: tls_proto::pem::read_client_certificate(
                f.tls.cert.as_deref(),
                f.tls.key.as_deref(),
            )?
            .map(|c| crate::netkit::diag::tls_types::ClientCertificate {
                chain: c.chain,
                key_pem: c.key_pem,
            }),
        },
        timeout_ms: cli_args::ms_at_least_1(f.timeout),
        max_body: f.max_body,
        compression: !f.no_compression,
        max_redirects: f.max_redirects,
        allow_redirects: f.allow_redirect.clone(),
        resolve,
    })
}

/// The kind (WIT case) and message of an error.
pub fn error(e: &HttpError) -> (&'static str, String) {
    http_proto::http_error!(HttpError, e)
}

impl crate::exports::wasi::cli::run::Guest for Component {
    fn run() -> Result<(), ()> {
        let Args { f } = Args::try_parse().unwrap_or_else(|e| e.exit());
        let fail = |kind: &str, m: String| cli_args::fail("http-probe", f.json, kind, &m);
        let checks = match http_proto::expect::Checks::from_flags(
            f.expect_status.as_deref(),
            &f.expect_body,
            &f.fail_if_body,
            &f.expect_header,
            &f.fail_if_header,
        ) {
            Ok(c) => c,
            Err(e) => return fail("invalid-request", e),
        };
        let req = match request(&f) {
            Ok(r) => r,
            Err(e) => return fail("invalid-request", e),
        };
        match crate::fetch::probe(&req) {
            Ok(resp) => {
                let report = http_proto::report_from_wit!(VerifyError, &resp);
                let verdict = checks.check(
                    report.status,
                    &report.version,
                    report.tls,
                    &report.headers,
                    &report.body,
                );
                if f.json {
                    let mut j = serde_json::json!({"ok": verdict.is_ok(), "report": http_proto::text::report_json(&report)});
                    if let Err(v) = &verdict {
                        j["failed"] = serde_json::json!({"regex": v.regex, "message": v.message});
                    }
                    println!("{j}");
                } else {
                    if f.verbose {
                        print!("{}", http_proto::text::headers_text(&report));
                    }
                    println!("{}", http_proto::text::summary_line(&report));
                }
                if let Some(path) = &f.output
                    && let Err(e) = std::fs::write(path, &report.body)
                {
                    return fail(
                        "invalid-request",
                        format!("cannot write {}: {e}", path.display()),
                    );
                }
                match verdict {
                    Ok(()) => Ok(()),
                    Err(v) => {
                        if !f.json {
                            eprintln!("http-probe: {}", v.message);
                        }
                        Err(())
                    }
                }
            }
            Err(e) => {
                let (kind, m) = error(&e);
                fail(kind, m)
            }
        }
    }
}
