//! One ICMP echo socket: Linux's unprivileged ICMP datagram socket
//! (`SOCK_DGRAM` with `IPPROTO_ICMP` or `IPPROTO_ICMPV6`, as iputils `ping`
//! and blackbox_exporter use it). The kernel picks the identifier, fills in
//! the checksum, and delivers only replies carrying that identifier; no raw
//! socket, no packet crafting, no capability needed, only a group inside
//! `net.ipv4.ping_group_range`.

use super::flight::{self, Flight, Outcome, Refused};
use super::wire;
use socket2::{Domain, MaybeUninitSlice, MsgHdrMut, Protocol, SockAddr, SockRef, Socket, Type};
use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::io::Interest;

/// Why an echo socket could not be opened or a request not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoError {
    /// The system refuses ICMP echo sockets to this process (the text says what to change).
    NotPermitted(String),
    /// The request is outside what the interface allows.
    InvalidArgument(String),
    /// A cap: requests in flight, sockets, file descriptors.
    LimitReached(String),
    /// The send buffer is full.
    WouldBlock,
    /// Anything else, described.
    Other(String),
}

/// A request as the guest gives it.
pub struct Request<'a> {
    pub sequence: u16,
    pub payload: &'a [u8],
    pub hop_limit: Option<u8>,
    pub dont_fragment: bool,
    pub timeout_ns: u64,
}

/// What a readiness wait found.
const INCOMING: Interest = Interest::READABLE.add(Interest::ERROR);
/// Room for the control messages of one receive (TTL, timestamp, an extended error and its address).
const CONTROL_BYTES: usize = 256;

/// A guest's echo socket.
pub struct EchoSocket {
    /// The ICMP datagram socket, registered with tokio as a datagram socket
    /// (what tokio's UDP type does is all a datagram socket needs).
    sock: tokio::net::UdpSocket,
    destination: IpAddr,
    v6: bool,
    flight: Flight,
    /// Where the monotonic clock of [`Flight`] starts.
    epoch: Instant,
    /// One receive buffer, made on the first receive.
    buffer: Vec<MaybeUninit<u8>>,
    /// The TTL / hop limit and don't-fragment setting the socket has now.
    hop_limit: Option<u8>,
    dont_fragment: bool,
}

/// What `net.ipv4.ping_group_range` allows, as the kernel shows it.
fn ping_group_range() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unreadable".into())
}

/// The error for a socket the kernel refused with EACCES.
pub fn not_permitted() -> String {
    // SAFETY: getegid has no preconditions and cannot fail.
    let gid = unsafe { libc::getegid() };
    format!(
        "the system does not allow ICMP echo sockets for this process's group {gid} \
         (net.ipv4.ping_group_range is \"{}\"): allow it with \
         sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" (or any range holding {gid}); \
         netkit needs no raw socket and no CAP_NET_RAW",
        ping_group_range()
    )
}

/// Set an `int` socket option.
fn set_int(
    socket: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the pointer and length describe `value`, alive for the call;
    // the descriptor is owned by `socket`.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl EchoSocket {
    /// A non-blocking echo socket for `destination` (already checked against the grants).
    pub fn open(destination: IpAddr) -> Result<Self, EchoError> {
        let v6 = destination.is_ipv6();
        let (domain, protocol) = if v6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        let socket = Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), Some(protocol))
            .map_err(|e| match e.raw_os_error() {
                Some(libc::EACCES) | Some(libc::EPERM) => EchoError::NotPermitted(not_permitted()),
                Some(libc::EMFILE) | Some(libc::ENFILE) => {
                    EchoError::LimitReached(format!("no file descriptor for an ICMP socket: {e}"))
                }
                _ => EchoError::Other(format!("cannot open an ICMP echo socket: {e}")),
            })?;
        let options = if v6 {
            [
                (libc::SOL_IPV6, libc::IPV6_RECVHOPLIMIT),
                (libc::SOL_IPV6, libc::IPV6_RECVERR),
            ]
        } else {
            [
                (libc::SOL_IP, libc::IP_RECVTTL),
                (libc::SOL_IP, libc::IP_RECVERR),
            ]
        };
        for (level, name) in options
            .into_iter()
            .chain([(libc::SOL_SOCKET, libc::SO_TIMESTAMPNS)])
        {
            set_int(&socket, level, name, 1).map_err(|e| {
                EchoError::Other(format!("cannot set up the ICMP echo socket: {e}"))
            })?;
        }
        let sock = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket))
            .map_err(|e| EchoError::Other(format!("cannot watch the ICMP echo socket: {e}")))?;
        Ok(Self {
            sock,
            destination,
            v6,
            flight: Flight::default(),
            epoch: Instant::now(),
            buffer: Vec::new(),
            hop_limit: None,
            dont_fragment: false,
        })
    }

    /// The destination.
    pub fn destination(&self) -> IpAddr {
        self.destination
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Send one request.
    pub fn send(&mut self, r: &Request<'_>) -> Result<(), EchoError> {
        let max = if self.v6 {
            wire::MAX_PAYLOAD_V6
        } else {
            wire::MAX_PAYLOAD_V4
        };
        if r.payload.len() > max {
            return Err(EchoError::InvalidArgument(format!(
                "a payload of {} bytes is over the largest echo payload ({max} bytes)",
                r.payload.len()
            )));
        }
        if r.hop_limit == Some(0) {
            return Err(EchoError::InvalidArgument(
                "a hop limit of 0 is not allowed (1..=255)".into(),
            ));
        }
        // Replies and timeouts first, so that a finished request frees its place.
        self.drain();
        match self.flight.admit(r.sequence) {
            Ok(()) => {}
            Err(Refused::InFlight(seq)) => {
                return Err(EchoError::InvalidArgument(format!(
                    "sequence number {seq} is still in flight"
                )));
            }
            Err(Refused::Full) => {
                return Err(EchoError::LimitReached(format!(
                    "{} requests in flight on this socket, the cap",
                    flight::MAX_IN_FLIGHT
                )));
            }
        }
        self.configure(r.hop_limit, r.dont_fragment)?;
        let packet = wire::request(self.v6, r.sequence, r.payload);
        let to = SockAddr::from(SocketAddr::new(self.destination, 0));
        match SockRef::from(&self.sock).send_to(&packet, &to) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(EchoError::WouldBlock),
            Err(e) => {
                return Err(EchoError::Other(format!(
                    "sending the echo request failed: {e}"
                )));
            }
        }
        let sent_ns = self.now_ns();
        let sent_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        self.flight.sent(
            r.sequence,
            flight::digest(r.payload),
            sent_ns,
            sent_unix,
            r.timeout_ns,
        );
        Ok(())
    }

    /// Give the socket this TTL / hop limit and don't-fragment setting, if it has another.
    fn configure(&mut self, hop_limit: Option<u8>, dont_fragment: bool) -> Result<(), EchoError> {
        let socket = &self.sock;
        let fail = |e: io::Error| EchoError::Other(format!("cannot set the hop limit: {e}"));
        if hop_limit != self.hop_limit {
            // -1: the system's default again.
            let value = hop_limit.map_or(-1, libc::c_int::from);
            if self.v6 {
                set_int(socket, libc::SOL_IPV6, libc::IPV6_UNICAST_HOPS, value).map_err(fail)?;
            } else {
                set_int(socket, libc::SOL_IP, libc::IP_TTL, value).map_err(fail)?;
            }
            self.hop_limit = hop_limit;
        }
        if dont_fragment != self.dont_fragment && !self.v6 {
            let mode = if dont_fragment {
                libc::IP_PMTUDISC_DO
            } else {
                libc::IP_PMTUDISC_WANT
            };
            set_int(socket, libc::SOL_IP, libc::IP_MTU_DISCOVER, mode)
                .map_err(|e| EchoError::Other(format!("cannot set don't-fragment: {e}")))?;
            self.dont_fragment = dont_fragment;
        }
        Ok(())
    }

    /// Read what the kernel has (replies, then errors) into events, and time out
    /// what is due. Never blocks; stops when the event queue is full.
    pub fn drain(&mut self) {
        if self.buffer.is_empty() {
            self.buffer = vec![MaybeUninit::uninit(); 65536];
        }
        for errqueue in [false, true] {
            while !self.flight.full() {
                match self.receive_one(errqueue) {
                    Ok(true) => {}
                    Ok(false) => break,
                    // A queued error fails an ordinary receive once; the error
                    // queue read next says what it was.
                    Err(_) => break,
                }
            }
        }
        let now = self.now_ns();
        self.flight.expire(now);
    }

    /// One datagram (or one queued error): `Ok(false)` when there was none.
    fn receive_one(&mut self, errqueue: bool) -> io::Result<bool> {
        let mut control = [MaybeUninit::<u8>::uninit(); CONTROL_BYTES];
        // Room for either family's address.
        let mut from = SockAddr::from(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0));
        let (len, control_len) = {
            let mut bufs = [MaybeUninitSlice::new(&mut self.buffer)];
            let mut msg = MsgHdrMut::new()
                .with_addr(&mut from)
                .with_buffers(&mut bufs)
                .with_control(&mut control);
            let flags = if errqueue { libc::MSG_ERRQUEUE } else { 0 };
            match SockRef::from(&self.sock).recvmsg(&mut msg, flags) {
                Ok(n) => (n, msg.control_len()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Tell tokio, so that the next wait really waits.
                    let interest = if errqueue {
                        Interest::ERROR
                    } else {
                        Interest::READABLE
                    };
                    let _ = self
                        .sock
                        .try_io(interest, || Err::<(), _>(io::ErrorKind::WouldBlock.into()));
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        };
        let len = len.min(self.buffer.len());
        // SAFETY: recvmsg initialised the first `len` bytes of the buffer and
        // the first `control_len` bytes of the control buffer.
        let data: &[u8] = unsafe { std::slice::from_raw_parts(self.buffer.as_ptr().cast(), len) };
        let control: &[u8] = unsafe {
            std::slice::from_raw_parts(control.as_ptr().cast(), control_len.min(CONTROL_BYTES))
        };
        let ancillary = wire::ancillary(control);
        let now = self.now_ns();
        if errqueue {
            let (Some(err), Some(seq)) = (ancillary.error, wire::quoted_request(self.v6, data))
            else {
                return Ok(true);
            };
            if err.origin != wire::ORIGIN_ICMP && err.origin != wire::ORIGIN_ICMP6 {
                return Ok(true);
            }
            let outcome = Outcome::Icmp {
                kind: wire::icmp_kind(self.v6, err.icmp_type),
                from: err.offender.unwrap_or(self.destination),
                icmp_type: err.icmp_type,
                code: err.icmp_code,
            };
            self.flight.error(seq, outcome);
            return Ok(true);
        }
        let Some(source) = from.as_socket().map(|a| a.ip().to_canonical()) else {
            return Ok(true);
        };
        if let Some((seq, payload)) = wire::reply(self.v6, data) {
            let destination = self.destination;
            self.flight.reply(
                destination,
                source,
                seq,
                payload,
                ancillary.hop_limit,
                now,
                ancillary.received_unix_ns,
            );
        }
        Ok(true)
    }

    /// Up to `max` events.
    pub fn take(&mut self, max: usize) -> Vec<flight::Event> {
        self.drain();
        self.flight.take(max)
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.flight.in_flight()
    }

    /// Wait until an event is there: a datagram or error to read, or a timeout due.
    pub async fn ready(&mut self) {
        loop {
            self.drain();
            if self.flight.ready() {
                return;
            }
            let deadline = self.flight.next_deadline().map(|ns| {
                tokio::time::Instant::from_std(self.epoch + std::time::Duration::from_nanos(ns))
            });
            let wait = self.sock.ready(INCOMING);
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = wait => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => {
                    let _ = wait.await;
                }
            }
        }
    }
}
