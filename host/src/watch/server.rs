//! `netkit watch`'s HTTP server, hardened like an exporter people expose:
//! connections capped, and at the cap the one that has waited longest for a
//! request head is closed to make room (`connections.rs`), so a slowloris
//! cannot keep Prometheus out; a per-source cap beside it; headers read
//! within a timeout (slowloris connections are closed, idle keep-alives too),
//! each request answered within a timeout, HTTP/1.1 only (no h2c), TLS and
//! basic auth from the web config, and a shutdown bounded in time whatever the
//! clients do.

use super::connections::{Connections, Rejected, Source};
use super::metrics::Metrics;
use super::web_config::WebConfig;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections from one source address (an IPv6 /64) at most.
    pub max_connections_per_source: usize,
    /// Time a client has to send a request's headers (and a TLS handshake).
    pub header_read_timeout: Duration,
    /// Time to answer one request.
    pub request_timeout: Duration,
    /// Time open connections get to finish after a stop signal.
    pub shutdown_timeout: Duration,
}

/// The web config in force, replaced on reload.
#[derive(Clone, Default)]
pub struct Web(Arc<RwLock<Arc<WebConfig>>>);

impl Web {
    /// A handle on `config`.
    pub fn new(config: WebConfig) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The config in force.
    pub fn current(&self) -> Arc<WebConfig> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Put `config` in force for new connections.
    pub fn replace(&self, config: WebConfig) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }
}

/// Largest request head read (hyper's minimum buffer).
const MAX_HEAD: usize = 16 << 10;
/// Successful basic-auth checks remembered (bcrypt is slow on purpose).
const AUTH_CACHE: usize = 1024;
/// bcrypt verifications at once: a flood of wrong passwords costs at most this many cores.
const AUTH_WORKERS: usize = 2;

/// Pending connections the kernel queues for `accept` (Linux caps it at
/// `net.core.somaxconn`, 4096 by default): a deep queue lets a prompt client
/// in while a flood of connects keeps arriving.
pub const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `addr` with [`LISTEN_BACKLOG`].
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Accepted connections of every listener, into one queue (each listener
/// keeps accepting on its own task, so one busy address never holds up another).
type Accepted = tokio::sync::mpsc::Receiver<(tokio::net::TcpStream, std::net::SocketAddr)>;

/// The queue, and the accepting tasks (aborted to close the listeners).
fn accept_all(listeners: Vec<TcpListener>) -> (Accepted, Vec<tokio::task::JoinHandle<()>>) {
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let mut tasks = Vec::new();
    for listener in listeners {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok(c) => {
                        if tx.send(c).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        // Out of file descriptors, or a connection reset before
                        // accept: wait a moment instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }
    (rx, tasks)
}

/// Serve `router` on `listeners` (blackbox's repeatable
/// `--web.listen-address`) until `stop` resolves, then give open connections
/// `shutdown_timeout` to finish and return. Connections the policy closes
/// are counted in `metrics`; the connection limits hold over all listeners.
pub async fn serve(
    listeners: Vec<TcpListener>,
    router: Router,
    web: Web,
    options: ServerOptions,
    metrics: Arc<Metrics>,
    stop: impl Future<Output = ()>,
) {
    let table = Connections::new(options.max_connections, options.max_connections_per_source);
    let auth = Arc::new(Auth {
        workers: Some(Semaphore::new(AUTH_WORKERS)),
        ..Auth::default()
    });
    let graceful = GracefulShutdown::new();
    let refused = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pending = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::pin!(stop);
    let (mut accepted, accepting) = accept_all(listeners);
    loop {
        let (stream, peer) = tokio::select! {
            r = accepted.recv() => match r {
                Some(c) => c,
                None => break,
            },
            _ = &mut stop => break,
        };
        // Admitted at once, or (every slot new or busy) by a task that waits
        // for room: the accept loop itself never waits, so the kernel's queue
        // keeps draining and a prompt client's connect is not dropped there.
        let now = table.admit(Source::of(peer.ip()), std::time::Instant::now());
        let now = match now {
            Ok(a) => Some(a),
            Err(Rejected::MaxConnections | Rejected::PerSource)
                if pending.load(std::sync::atomic::Ordering::Relaxed) < MAX_PENDING =>
            {
                None
            }
            Err(why) => {
                refuse(&metrics, &refused, &options, peer.ip(), why);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let config = web.current();
        let watcher = graceful.watcher();
        let (router, auth, options) = (router.clone(), auth.clone(), options.clone());
        let (table, pending, metrics, refused) = (
            table.clone(),
            pending.clone(),
            metrics.clone(),
            refused.clone(),
        );
        tokio::spawn(async move {
            let admitted = match now {
                Some(a) => a,
                None => {
                    pending.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let r = admit(&table, peer.ip()).await;
                    pending.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    match r {
                        Ok(a) => a,
                        Err(why) => return refuse(&metrics, &refused, &options, peer.ip(), why),
                    }
                }
            };
            if let Some(why) = admitted.evicted {
                metrics.connection_rejected(why.as_str());
            }
            let ticket = Arc::new(admitted.ticket);
            let tls = config.tls.clone();
            let timeout = options.header_read_timeout;
            let held = ticket.clone();
            let request_timeout = options.request_timeout;
            let service = hyper::service::service_fn(move |req| {
                let (router, config, auth, ticket) =
                    (router.clone(), config.clone(), auth.clone(), held.clone());
                async move {
                    ticket.serving();
                    let r = handle(req, router, config, auth, request_timeout).await;
                    ticket.answered(std::time::Instant::now());
                    r
                }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .max_buf_size(MAX_HEAD);
            // Reads that find nothing more tell the table the connection waits.
            let stream = Watched {
                inner: stream,
                ticket: ticket.clone(),
            };
            let served = async {
                match tls {
                    None => {
                        let conn = http.serve_connection(TokioIo::new(stream), service);
                        let _ = watcher.watch(conn).await;
                    }
                    Some(tls) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                        // The handshake counts against the header-read timeout.
                        let Ok(Ok(stream)) =
                            tokio::time::timeout(timeout, acceptor.accept(stream)).await
                        else {
                            return;
                        };
                        let conn = http.serve_connection(TokioIo::new(stream), service);
                        let _ = watcher.watch(conn).await;
                    }
                }
            };
            // Closed by the policy to make room: dropping the connection closes it.
            tokio::select! {
                _ = served => {}
                _ = ticket.closed() => {}
            }
        });
    }
    // No new connections: the listeners close with their tasks.
    for t in accepting {
        t.abort();
    }
    drop(accepted);
    if tokio::time::timeout(options.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open after --shutdown-timeout {:?}: closing them",
            options.shutdown_timeout
        );
    }
}

/// How long a new connection waits for room when every open one (of its
/// source, at that limit) is new or busy: the connections accepted just before it are read meanwhile, and
/// those that sent half a head become ones to close (a burst of accepts must
/// not get ahead of reading them).
const ROOM_WAIT: Duration = Duration::from_millis(250);

/// Accepted connections waiting for room at once; past it a new one is closed at once.
const MAX_PENDING: usize = 256;

/// Close a connection the policy refused: counted, and logged at the 1st,
/// 2nd, 4th, 8th, ... refusal (a flood cannot flood the log).
fn refuse(
    metrics: &Metrics,
    refused: &std::sync::atomic::AtomicU64,
    options: &ServerOptions,
    ip: std::net::IpAddr,
    why: Rejected,
) {
    metrics.connection_rejected(why.as_str());
    let n = refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if n.is_power_of_two() {
        tracing::warn!(
            "closed a new connection from {ip}: {} (--web.max-connections {}, --web.max-connections-per-source {}); {n} so far",
            match why {
                Rejected::PerSource => "every connection of its source is serving a request",
                _ => "every open connection is serving a request",
            },
            options.max_connections,
            options.max_connections_per_source,
        );
    }
}

/// Admit a connection from `ip`, waiting up to [`ROOM_WAIT`] for room.
async fn admit(
    table: &Arc<Connections>,
    ip: std::net::IpAddr,
) -> Result<super::connections::Admitted, Rejected> {
    let until = tokio::time::Instant::now() + ROOM_WAIT;
    loop {
        match table.admit(Source::of(ip), std::time::Instant::now()) {
            Err(Rejected::MaxConnections | Rejected::PerSource)
                if tokio::time::Instant::now() < until =>
            {
                let _ = tokio::time::timeout_at(until, table.room()).await;
            }
            r => return r,
        }
    }
}

/// A connection's stream that tells its [`Ticket`] when a read found nothing
/// more to read (the client has not sent what the server waits for).
struct Watched {
    inner: tokio::net::TcpStream,
    ticket: Arc<super::connections::Ticket>,
}

impl tokio::io::AsyncRead for Watched {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if r.is_pending() {
            self.ticket.stalled();
        }
        r
    }
}

impl tokio::io::AsyncWrite for Watched {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Basic-auth checks: successes cached by user and password digest, bcrypt
/// run on the blocking pool, at most [`AUTH_WORKERS`] at once.
#[derive(Default)]
struct Auth {
    ok: Mutex<HashMap<(String, [u8; 32]), String>>,
    workers: Option<Semaphore>,
}

impl Auth {
    async fn check(
        &self,
        users: &std::collections::BTreeMap<String, String>,
        user: &str,
        password: &str,
    ) -> bool {
        // An unknown user is checked against a hash of the same cost, so the
        // answer takes as long as for a known one.
        const DUMMY: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
        let hash = users.get(user).map_or(DUMMY, String::as_str).to_string();
        let key = (user.to_string(), crate::cache::digest(password.as_bytes()));
        if self
            .ok
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .is_some_and(|h| *h == hash)
        {
            return true;
        }
        let _worker = match &self.workers {
            Some(w) => w.acquire().await.ok(),
            None => None,
        };
        let password = password.to_string();
        let h = hash.clone();
        let good =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &h).unwrap_or(false))
                .await
                .unwrap_or(false)
                && users.contains_key(user);
        if good {
            let mut ok = self.ok.lock().unwrap_or_else(|p| p.into_inner());
            if ok.len() >= AUTH_CACHE {
                ok.clear();
            }
            ok.insert(key, hash);
        }
        good
    }
}

/// `user:password` from a `Basic` authorization header.
fn basic_credentials(req: &Request<hyper::body::Incoming>) -> Option<(String, String)> {
    use base64::Engine;
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(format!("{text}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// One request: authentication, then the router within the request timeout,
/// then the configured headers.
async fn handle(
    req: Request<hyper::body::Incoming>,
    router: Router,
    config: Arc<WebConfig>,
    auth: Arc<Auth>,
    timeout: Duration,
) -> Result<Response<Body>, std::convert::Infallible> {
    let mut response = 'answer: {
        if !config.users.is_empty() {
            let ok = match basic_credentials(&req) {
                Some((u, p)) => auth.check(&config.users, &u, &p).await,
                None => false,
            };
            if !ok {
                let mut r = plain(StatusCode::UNAUTHORIZED, "Unauthorized");
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"netkit watch\""),
                );
                break 'answer r;
            }
        }
        match tokio::time::timeout(timeout, router.oneshot(req.map(Body::new))).await {
            Ok(Ok(r)) => r,
            Ok(Err(never)) => match never {},
            Err(_) => plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request took longer than --web.request-timeout",
            ),
        }
    };
    for (name, value) in &config.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(response)
}
