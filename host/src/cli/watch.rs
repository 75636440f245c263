//! `netkit watch --config FILE`: the probes of FILE on schedule, served as
//! Prometheus metrics on `/metrics`, one-off runs on `/probe` (like
//! blackbox_exporter), `/-/healthy`, and (with `--web.enable-lifecycle`)
//! `POST /-/reload`, or SIGHUP, to reload.

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use netkit::cache::CompileCache;
use netkit::watch::reload::Reloader;
use netkit::watch::server::{ServerOptions, Web};
use netkit::watch::{Limits, OnceError, Watcher, limits, web_config};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

/// Probe on schedule and serve Prometheus metrics; every run sandboxed, granted only its target.
#[derive(clap::Args, Debug)]
#[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    tool: Option<Tool>,
    /// The config: blackbox_exporter's blackbox.yml (modules, and netkit's scheduled probes), or netkit's older TOML.
    #[arg(
        long = "config.file",
        visible_alias = "config",
        short = 'c',
        value_name = "FILE",
        required = true
    )]
    config: Option<PathBuf>,
    /// Check the config and exit: per module `ok` or what netkit lacks (the migration report); 0 if it all loads, 1 if not.
    #[arg(long = "config.check")]
    config_check: bool,
    /// Where to serve /metrics, /probe, /-/healthy and /-/reload (repeat it for several addresses, as blackbox's flag).
    #[arg(
        long,
        visible_alias = "web.listen-address",
        value_name = "ADDR",
        default_value = "127.0.0.1:9115",
        action = clap::ArgAction::Append
    )]
    listen: Vec<SocketAddr>,
    /// Prometheus web config (YAML, exporter-toolkit's keys): TLS, client certificates, basic auth.
    #[arg(long = "web.config.file", value_name = "FILE")]
    web_config: Option<PathBuf>,
    /// Serve POST/PUT /-/reload (SIGHUP always reloads).
    #[arg(long = "web.enable-lifecycle")]
    enable_lifecycle: bool,
    /// HTTP connections open at once; at the cap, the one waiting longest for a request head is closed to make room.
    #[arg(long = "web.max-connections", value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// HTTP connections open at once from one source address (an IPv6 /64); past it, that source's longest-waiting one is closed to make room (or the new one, if none waits).
    #[arg(long = "web.max-connections-per-source", value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections_per_source: u32,
    /// Time a client has to send a request's headers (or finish a TLS handshake).
    #[arg(long = "web.header-read-timeout", value_name = "DURATION", default_value = "10s", value_parser = cli_args::units::positive_secs)]
    header_read_timeout: Duration,
    /// Time to answer one request (a /probe run included).
    #[arg(long = "web.request-timeout", value_name = "DURATION", default_value = "60s", value_parser = cli_args::units::positive_secs)]
    request_timeout: Duration,
    /// On SIGTERM or Ctrl-C, time open requests get before netkit exits anyway.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = cli_args::units::positive_secs)]
    shutdown_timeout: Duration,
    /// Scheduled runs at once: instances and sockets reserved for the schedule, which /probe cannot take.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    scheduled_concurrency: u32,
    /// /probe runs at once over all modules; past it /probe answers 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    probe_concurrency: u32,
    /// Subtracted from a scrape's X-Prometheus-Scrape-Timeout-Seconds to give a /probe run's timeout (capped by the module's).
    #[arg(long = "timeout-offset", value_name = "DURATION", default_value = "0.5s", value_parser = cli_args::units::positive_secs)]
    timeout_offset: Duration,
    /// Recent /probe runs kept for the index page and /logs.
    #[arg(long = "history.limit", value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    history_limit: u32,
    /// Log level: debug, info, warn or error.
    #[arg(long = "log.level", value_name = "LEVEL", default_value = "info", value_parser = ["debug", "info", "warn", "error"])]
    log_level: String,
    /// Log level for each /probe run's outcome (a failure is an error, a success debug), apart from --log.level.
    #[arg(long = "log.prober", value_name = "LEVEL", default_value = "info", value_parser = ["debug", "info", "warn", "error"])]
    log_prober: String,
    /// The URL netkit watch is reached at from outside (behind a reverse proxy); its path, if any, prefixes every endpoint.
    #[arg(long = "web.external-url", value_name = "URL")]
    external_url: Option<String>,
    /// Prefix of every endpoint [default: the path of --web.external-url, else /].
    #[arg(long = "web.route-prefix", value_name = "PATH")]
    route_prefix: Option<String>,
    /// Log format: logfmt (netkit's key=value lines) or json.
    #[arg(long = "log.format", value_name = "FORMAT", default_value = "logfmt", value_parser = ["logfmt", "json"])]
    log_format: String,
    /// /probe runs of one module at once (a probe's probe_concurrency overrides it).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    module_concurrency: u32,
}

/// Tools for the config.
#[derive(clap::Subcommand, Debug)]
enum Tool {
    /// Write netkit's older TOML config as blackbox's YAML (to stdout): each [[probe]] a module and a scheduled probe of the same name.
    Convert {
        /// The TOML config.
        #[arg(value_name = "WATCH.TOML")]
        file: PathBuf,
    },
}

/// `netkit watch convert FILE`.
fn convert(file: &std::path::Path) -> ExitCode {
    let text = match cli_args::files::read_text(file, cli_args::files::Kind::Config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("netkit: watch convert: {e}");
            return ExitCode::from(2);
        }
    };
    match netkit::watch::modules::convert::toml_to_yaml(&text) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("netkit: watch convert: {}: {e}", file.display());
            ExitCode::from(1)
        }
    }
}

struct App {
    reloader: Reloader,
    web: Web,
    web_path: Option<PathBuf>,
    history: netkit::watch::history::History,
    timeout_offset: Duration,
    /// The config file's text as last loaded (for /config).
    config_text: std::sync::Mutex<String>,
    config_path: PathBuf,
    /// The route prefix without its trailing slash (`""` at the root), for links.
    links: String,
}

impl App {
    fn watcher(&self) -> &Watcher {
        self.reloader.watcher()
    }

    /// Reload the probes (coalesced, off the async threads) and the web config.
    async fn reload(&self) -> Result<netkit::watch::Changes, String> {
        if let Some(path) = &self.web_path {
            let path = path.clone();
            let web = tokio::task::spawn_blocking(move || web_config::load(&path))
                .await
                .map_err(|e| e.to_string())??;
            self.web.replace(web);
        }
        let changes = self.reloader.reload().await?;
        self.remember_config();
        Ok(changes)
    }

    /// Keep the config file's text for /config.
    fn remember_config(&self) {
        if let Ok(t) = cli_args::files::read_text(&self.config_path, cli_args::files::Kind::Config)
        {
            *self.config_text.lock().unwrap_or_else(|p| p.into_inner()) = t;
        }
    }
}

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let text = app.watcher().metrics_text();
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], text).into_response()
}

/// The run's timeout from the scrape's: X-Prometheus-Scrape-Timeout-Seconds less --timeout-offset.
fn scrape_timeout(headers: &axum::http::HeaderMap, offset: Duration) -> Option<Duration> {
    let secs: f64 = headers
        .get("x-prometheus-scrape-timeout-seconds")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let t = Duration::try_from_secs_f64(secs).ok()?;
    Some(t.saturating_sub(offset).max(Duration::from_millis(1)))
}

async fn index(State(app): State<Arc<App>>) -> Response {
    let open = app.watcher().open_modules();
    let modules: Vec<(String, bool)> = app
        .watcher()
        .module_names()
        .into_iter()
        .map(|m| {
            let o = open.contains(&m);
            (m, o)
        })
        .collect();
    crate::cli::watch_pages::index(&app.history, &modules, &app.links)
}

async fn logs(State(app): State<Arc<App>>, Query(q): Query<HashMap<String, String>>) -> Response {
    crate::cli::watch_pages::logs(&app.history, &q)
}

async fn show_config(State(app): State<Arc<App>>) -> Response {
    let text = app
        .config_text
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    crate::cli::watch_pages::config(&text, netkit::watch::modules::is_yaml(&app.config_path))
}

async fn probe(
    State(app): State<Arc<App>>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(module) = q.get("module") else {
        return (
            StatusCode::BAD_REQUEST,
            "module parameter is missing: /probe?module=NAME[&target=HOST:PORT]\n",
        )
            .into_response();
    };
    let debug = q.get("debug").is_some_and(|d| d == "true");
    let timeout = scrape_timeout(&headers, app.timeout_offset);
    let target = q.get("target").map(String::as_str);
    let hostname = q
        .get("hostname")
        .map(String::as_str)
        .filter(|h| !h.is_empty());
    // With the audit when anyone will read it: this answer, or /logs
    // (--history.limit 0 keeps no history, and its runs skip the rendering).
    let keep = app.history.keeps();
    let result = app
        .watcher()
        .probe_once(module, target, debug || keep, timeout, hostname)
        .await;
    if let Ok(r) = &result {
        log_run(module, target, r);
    }
    if let Ok(r) = &result
        && keep
    {
        app.history.add(
            module,
            target.unwrap_or(""),
            r.success,
            debug_text(module, target, r),
        );
    }
    match result {
        Ok(r) if debug => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            debug_text(module, q.get("target").map(String::as_str), &r),
        )
            .into_response(),
        Ok(r) => (
            [(header::CONTENT_TYPE, TEXT_FORMAT)],
            netkit::watch::metrics::single_run_text(&r),
        )
            .into_response(),
        Err(OnceError::UnknownModule(m)) => (
            StatusCode::BAD_REQUEST,
            format!("Unknown module {m:?}: the config's modules (and, in a TOML config, its probes) are the modules\n"),
        )
            .into_response(),
        Err(OnceError::Forbidden(m)) => (StatusCode::FORBIDDEN, format!("{m}\n")).into_response(),
        Err(OnceError::BadTarget(m)) => (StatusCode::BAD_REQUEST, format!("{m}\n")).into_response(),
        Err(OnceError::Busy(m)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
            format!("{m}\n"),
        )
            .into_response(),
    }
}

/// One /probe run's outcome on stderr (filtered by --log.prober), as
/// blackbox's probe logger: a failure at error, a success at debug.
fn log_run(module: &str, target: Option<&str>, r: &netkit::watch::run::RunResult) {
    let target = target.unwrap_or("(its own)");
    let secs = r.duration.as_secs_f64();
    match &r.reason {
        None => {
            tracing::debug!(target: PROBE_LOG, module, target, duration_seconds = secs, "Probe succeeded")
        }
        Some(reason) => {
            let first = r.detail.lines().next().unwrap_or("");
            tracing::error!(
                target: PROBE_LOG,
                module,
                target,
                duration_seconds = secs,
                reason = %reason,
                "Probe failed: {}",
                probe_proto::escape_controls(first)
            )
        }
    }
}

/// `/probe?debug=true`: like blackbox_exporter's debug output (the run's log
/// and its metrics), plus the sandbox's audit: what the probe tried.
fn debug_text(module: &str, target: Option<&str>, r: &netkit::watch::run::RunResult) -> String {
    let outcome = match &r.reason {
        None => format!("succeeded in {:.6} s", r.duration.as_secs_f64()),
        Some(reason) => format!("failed ({reason}) after {:.6} s", r.duration.as_secs_f64()),
    };
    format!(
        "Logs for the probe:\nmodule={module:?} target={:?} probe {outcome}\n{}\n\nMetrics that would have been returned:\n{}\nAudit of the sandbox (what the probe tried):\n{}",
        target.unwrap_or("(its own)"),
        r.detail,
        netkit::watch::metrics::single_run_text(r),
        r.audit_table.as_deref().unwrap_or("")
    )
}

fn log_changes(c: &netkit::watch::Changes, how: &str) {
    tracing::info!(
        added = c.added.len(),
        changed = c.changed.len(),
        removed = c.removed.len(),
        unchanged = c.unchanged,
        "config reloaded ({how})"
    );
}

async fn reload(State(app): State<Arc<App>>) -> Response {
    match app.reload().await {
        Ok(c) => {
            log_changes(&c, "/-/reload");
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
            tracing::error!("reload refused, the old config stays in force: {e}");
            (
                StatusCode::BAD_REQUEST,
                format!("reload refused, the old config stays in force: {e}\n"),
            )
                .into_response()
        }
    }
}

async fn lifecycle_off() -> Response {
    (
        StatusCode::FORBIDDEN,
        "Lifecycle API is not enabled: start netkit watch with --web.enable-lifecycle (SIGHUP always reloads)\n",
    )
        .into_response()
}

async fn reload_needs_post() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, HeaderValue::from_static("POST, PUT"))],
        "Only POST or PUT requests allowed\n",
    )
        .into_response()
}

/// `--config.check`: the report, and 0 if the config loads, 1 if not.
fn check(path: &std::path::Path) -> ExitCode {
    if netkit::watch::modules::is_yaml(path) {
        match netkit::watch::modules::read(path) {
            Ok(l) => {
                print!("{}", l.report());
                ExitCode::from(u8::from(!l.ok()))
            }
            Err(e) => {
                eprintln!("netkit: watch: {e}");
                ExitCode::from(1)
            }
        }
    } else {
        match netkit::watch::load_config(path) {
            Ok(c) => {
                println!(
                    "{}: {} probes, the config loads",
                    path.display(),
                    c.probes.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("netkit: watch: {e}");
                ExitCode::from(1)
            }
        }
    }
}

/// The target of each /probe run's log line (filtered by --log.prober).
const PROBE_LOG: &str = "netkit::probe";

/// stderr logs: --log.level for netkit's own lines, --log.prober for the
/// runs', in logfmt-like text or JSON.
fn init_logs(a: &Args) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level: tracing::Level = a.log_level.parse().unwrap_or(tracing::Level::INFO);
    let prober: tracing::Level = a.log_prober.parse().unwrap_or(tracing::Level::INFO);
    let filter = tracing_subscriber::filter::filter_fn(move |m| {
        *m.level()
            <= if m.target() == PROBE_LOG {
                prober
            } else {
                level
            }
    });
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let layer = if a.log_format == "json" {
        fmt.json().with_filter(filter).boxed()
    } else {
        fmt.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_filter(filter)
            .boxed()
    };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// blackbox's route prefix: from --web.route-prefix, else the path of
/// --web.external-url, else `/`; always `/` or `/PATH/`.
fn route_prefix(a: &Args) -> Result<String, String> {
    let from_url = match &a.external_url {
        None => String::new(),
        Some(u) => {
            if u.starts_with(['"', '\'']) || u.ends_with(['"', '\'']) {
                return Err("--web.external-url: the URL must not begin or end with quotes".into());
            }
            let url = url::Url::parse(u).map_err(|e| {
                format!(
                    "--web.external-url {u:?} is not a URL ({e}): give http://HOST[:PORT]/[PATH]"
                )
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("--web.external-url {u:?}: use http:// or https://"));
            }
            url.path().to_string()
        }
    };
    let p = a.route_prefix.clone().unwrap_or(from_url);
    let p = p.trim_matches('/');
    if p.chars()
        .any(|c| c.is_control() || c == ' ' || c == '?' || c == '#' || c == '{' || c == '}')
    {
        return Err(format!("--web.route-prefix {p:?} is not a URL path"));
    }
    Ok(if p.is_empty() {
        "/".into()
    } else {
        format!("/{p}/")
    })
}

/// Run until SIGINT or SIGTERM.
pub async fn main(a: Args) -> Result<ExitCode> {
    init_logs(&a);
    let prefix = match route_prefix(&a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("netkit: watch: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(Tool::Convert { file }) = &a.tool {
        return Ok(convert(file));
    }
    let Some(config_path) = a.config.clone() else {
        eprintln!("netkit: watch: give --config.file FILE (blackbox.yml)");
        return Ok(ExitCode::from(2));
    };
    if a.config_check {
        return Ok(check(&config_path));
    }
    let initial = match netkit::watch::load_config(&config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("netkit: watch: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let web = match &a.web_config {
        Some(p) => match web_config::load(p) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("netkit: watch: --web.config.file {e}");
                return Ok(ExitCode::from(2));
            }
        },
        None => web_config::WebConfig::default(),
    };
    let lim = Limits {
        scheduled_runs: a.scheduled_concurrency as usize,
        probe_runs: a.probe_concurrency as usize,
        module_runs: a.module_concurrency as usize,
        connections: a.max_connections as usize,
    };
    let fds = limits::raise_fd_limit();
    if let Err(e) = lim.check_fds(fds) {
        eprintln!("netkit: watch: {e}");
        return Ok(ExitCode::from(2));
    }
    let host = lim.host(CompileCache::from_env())?;
    let watcher = Arc::new(Watcher::new(host, lim.clone()));
    let count = initial.probes.len();
    {
        let w = watcher.clone();
        tokio::task::spawn_blocking(move || w.apply(initial))
            .await?
            .context("cannot start the probes")?;
    }
    let tls = web.tls.is_some();
    let auth = !web.users.is_empty();
    let client_auth = web.client_auth;
    let app = Arc::new(App {
        reloader: Reloader::new(watcher.clone(), config_path.clone()),
        web: Web::new(web),
        web_path: a.web_config.clone(),
        history: netkit::watch::history::History::new(a.history_limit as usize),
        timeout_offset: a.timeout_offset,
        config_text: std::sync::Mutex::new(String::new()),
        config_path: config_path.clone(),
        links: prefix.trim_end_matches('/').to_string(),
    });
    app.remember_config();
    let reload_route = if a.enable_lifecycle {
        post(reload).put(reload).get(reload_needs_post)
    } else {
        get(lifecycle_off).post(lifecycle_off).put(lifecycle_off)
    };
    let at = |path: &str| format!("{prefix}{path}");
    let mut router = Router::new()
        .route(&prefix, get(index))
        .route(&at("logs"), get(logs))
        .route(&at("config"), get(show_config))
        .route(&at("metrics"), get(metrics))
        .route(&at("probe"), get(probe))
        .route(&at("-/healthy"), get(|| async { "Healthy\n" }))
        .route(&at("-/reload"), reload_route);
    if prefix != "/" {
        // As blackbox (and Prometheus): the root sends a browser to the prefix.
        let to = a.external_url.clone().unwrap_or_else(|| prefix.clone());
        router = router
            .route(
                "/",
                get(move || async move {
                    (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response()
                }),
            )
            .route(
                prefix.trim_end_matches('/'),
                get({
                    let p = prefix.clone();
                    move || async move { axum::response::Redirect::permanent(&p) }
                }),
            );
    }
    let router = router.with_state(app.clone());
    let mut listeners = Vec::new();
    for addr in &a.listen {
        listeners.push(netkit::watch::server::listen(*addr).with_context(|| {
            format!("cannot listen on {addr} (pick another with --web.listen-address)")
        })?);
    }
    watcher.set_listening(&a.listen);
    let open = watcher.open_modules();
    if !open.is_empty() {
        tracing::warn!(
            "modules open to any target on /probe (as blackbox_exporter's; link-local addresses and netkit's own address refused): {}; give them allow_targets to close them",
            open.join(", ")
        );
    }
    tracing::info!(
        listen = %a.listen.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(","), probes = count, config = %config_path.display(), tls, basic_auth = auth, client_auth,
        lifecycle = a.enable_lifecycle, fd_limit = fds, "netkit watch started"
    );
    let mut hup = signal(SignalKind::hangup()).context("cannot watch for SIGHUP")?;
    let hup_app = app.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match hup_app.reload().await {
                Ok(c) => log_changes(&c, "SIGHUP"),
                Err(e) => tracing::error!("reload refused, the old config stays in force: {e}"),
            }
        }
    });
    tokio::spawn(async {
        let mut every = tokio::time::interval(Duration::from_secs(10));
        loop {
            every.tick().await;
            let _ = tokio::task::spawn_blocking(limits::release_free_memory).await;
        }
    });
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let options = ServerOptions {
        max_connections: lim.connections,
        max_connections_per_source: a.max_connections_per_source as usize,
        header_read_timeout: a.header_read_timeout,
        request_timeout: a.request_timeout,
        shutdown_timeout: a.shutdown_timeout,
    };
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    netkit::watch::server::serve(
        listeners,
        router,
        app.web.clone(),
        options,
        watcher.metrics_shared(),
        stop,
    )
    .await;
    watcher.stop();
    tracing::info!("netkit watch stopped");
    Ok(ExitCode::SUCCESS)
}
