//! `netkit watch --config FILE`: the probes of FILE on schedule, served as
//! Prometheus metrics on `/metrics`, one-off runs on `/probe` (like
//! blackbox_exporter), `/-/healthy`, and `/-/reload` or SIGHUP to reload.

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use netkit::cache::CompileCache;
use netkit::runtime::Host;
use netkit::watch::config;
use netkit::watch::{OnceError, Watcher};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};

/// Probe on schedule and serve Prometheus metrics; every run sandboxed, granted only its target.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The probes (TOML; see the README's `netkit watch` section).
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// Where to serve /metrics, /probe, /-/healthy and /-/reload.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9115")]
    listen: SocketAddr,
}

struct App {
    watcher: Watcher,
    config: PathBuf,
}

impl App {
    /// Load the config again and put it in force; a bad one changes nothing.
    fn reload(&self) -> Result<netkit::watch::Changes> {
        let c = config::load(&self.config)?;
        self.watcher.apply(c)
    }
}

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, TEXT_FORMAT)],
        app.watcher.metrics().text(),
    )
        .into_response()
}

async fn probe(State(app): State<Arc<App>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(module) = q.get("module") else {
        return (
            StatusCode::BAD_REQUEST,
            "module parameter is missing: /probe?module=NAME[&target=HOST:PORT]\n",
        )
            .into_response();
    };
    match app
        .watcher
        .probe_once(module, q.get("target").map(String::as_str))
        .await
    {
        Ok(r) => (
            [(header::CONTENT_TYPE, TEXT_FORMAT)],
            netkit::watch::metrics::single_run_text(&r),
        )
            .into_response(),
        Err(OnceError::UnknownModule(m)) => (
            StatusCode::BAD_REQUEST,
            format!("unknown module {m:?}: the probe names of the config are the modules\n"),
        )
            .into_response(),
        Err(OnceError::Forbidden(m)) => (StatusCode::FORBIDDEN, format!("{m}\n")).into_response(),
        Err(OnceError::BadTarget(m)) => (StatusCode::BAD_REQUEST, format!("{m}\n")).into_response(),
    }
}

async fn reload(State(app): State<Arc<App>>) -> Response {
    match app.reload() {
        Ok(c) => {
            tracing::info!(added = ?c.added, changed = ?c.changed, removed = ?c.removed, unchanged = c.unchanged, "config reloaded");
            (
                StatusCode::OK,
                format!(
                    "reloaded: {} added, {} changed, {} removed, {} unchanged\n",
                    c.added.len(),
                    c.changed.len(),
                    c.removed.len(),
                    c.unchanged
                ),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!("reload refused, the old config stays in force: {e:#}");
            (
                StatusCode::BAD_REQUEST,
                format!("reload refused, the old config stays in force: {e:#}\n"),
            )
                .into_response()
        }
    }
}

/// Run until SIGINT or SIGTERM.
pub async fn main(a: Args) -> Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let initial = match config::load(&a.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("netkit: watch: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let host = Host::with_options(CompileCache::from_env(), true)?;
    let watcher = Watcher::new(host);
    let count = initial.probes.len();
    watcher.apply(initial).context("cannot start the probes")?;
    let app = Arc::new(App {
        watcher,
        config: a.config.clone(),
    });
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/probe", get(probe))
        .route("/-/healthy", get(|| async { "Healthy\n" }))
        .route("/-/reload", get(reload).post(reload).put(reload))
        .with_state(app.clone());
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {} (pick another with --listen)", a.listen))?;
    tracing::info!(listen = %a.listen, probes = count, config = %a.config.display(), "netkit watch started");
    let mut hup = signal(SignalKind::hangup()).context("cannot watch for SIGHUP")?;
    let hup_app = app.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match hup_app.reload() {
                Ok(c) => {
                    tracing::info!(added = ?c.added, changed = ?c.changed, removed = ?c.removed, unchanged = c.unchanged, "config reloaded (SIGHUP)")
                }
                Err(e) => tracing::error!("reload refused, the old config stays in force: {e:#}"),
            }
        }
    });
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await
        .context("the HTTP server failed")?;
    app.watcher.stop();
    tracing::info!("netkit watch stopped");
    Ok(ExitCode::SUCCESS)
}
