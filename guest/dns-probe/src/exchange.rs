//! One DNS exchange: UDP (the first reply that passes the checks; others are
//! ignored as spoofing attempts or strays), then TCP when it was truncated or
//! when asked for.

use crate::netkit::diag::dns_types::{DnsAnswer, DnsError, DnsQuery, DnsRecord};
use dns_proto::{Question, Reply, ReplyError, TcpFrames, check_reply};
use netio::wasip2::clocks::monotonic_clock;
use netio::wasip2::random::random::get_random_u64;
use netio::{Cause, NetError, Read, TcpStream, UdpStream};
use std::net::{IpAddr, SocketAddr};

fn net_error(e: NetError) -> DnsError {
    let text = e.to_string();
    match e.cause() {
        Cause::Denied => DnsError::Denied(text),
        Cause::Refused | Cause::Reset | Cause::Unreachable => DnsError::Unreachable(text),
        Cause::Timeout => DnsError::Timeout(text),
        Cause::AddressInUse | Cause::Other => DnsError::Network(text),
    }
}

fn records(rs: Vec<dns_proto::Rr>) -> Vec<DnsRecord> {
    rs.into_iter()
        .map(|r| DnsRecord {
            name: r.name,
            ttl: r.ttl,
            class: r.class,
            record_type: r.rtype,
            data: r.data,
        })
        .collect()
}

/// Ask as `q` says.
pub fn query(q: &DnsQuery) -> Result<DnsAnswer, DnsError> {
    let rtype = dns_proto::parse_type(&q.record_type).map_err(DnsError::InvalidRequest)?;
    let ip: IpAddr = q.server.parse().map_err(|_| {
        DnsError::InvalidRequest(format!("server {:?} is not an IP address", q.server))
    })?;
    if q.timeout_ms == 0 {
        return Err(DnsError::InvalidRequest(
            "timeout must be more than 0".into(),
        ));
    }
    let addr = SocketAddr::new(ip, q.port);
    let id = get_random_u64() as u16;
    let (bytes, question) =
        dns_proto::build_query(&q.name, rtype, id, q.recurse).map_err(DnsError::InvalidRequest)?;
    let timeout = q.timeout_ms.saturating_mul(1_000_000);
    let start = monotonic_clock::now();
    let mut retried = false;
    if !q.tcp {
        let (reply, size) = over_udp(addr, &bytes, id, &question, start.saturating_add(timeout))?;
        if !reply.truncated {
            return Ok(answer(addr, "udp", reply, size, &question, start, false));
        }
        retried = true;
    }
    let tcp_start = monotonic_clock::now();
    let (reply, size) = over_tcp(
        addr,
        &bytes,
        id,
        &question,
        tcp_start.saturating_add(timeout),
    )?;
    Ok(answer(addr, "tcp", reply, size, &question, start, retried))
}

fn answer(
    addr: SocketAddr,
    transport: &str,
    r: Reply,
    size: usize,
    question: &Question,
    start: u64,
    retried: bool,
) -> DnsAnswer {
    DnsAnswer {
        server: addr.to_string(),
        transport: transport.into(),
        id: r.id,
        rcode: r.rcode,
        flags: r.flags,
        question: question.text(),
        query_ns: monotonic_clock::now().saturating_sub(start),
        size: size as u32,
        retried_over_tcp: retried,
        answer: records(r.answer),
        authority: records(r.authority),
        additional: records(r.additional),
    }
}

fn over_udp(
    addr: SocketAddr,
    bytes: &[u8],
    id: u16,
    question: &Question,
    deadline: u64,
) -> Result<(Reply, usize), DnsError> {
    let socket = UdpStream::connect(addr).map_err(net_error)?;
    socket.send(bytes.to_vec()).map_err(net_error)?;
    let mut rejected: Option<ReplyError> = None;
    loop {
        match socket.receive(deadline).map_err(net_error)? {
            Some(d) => match check_reply(&d.data, id, question) {
                Ok(reply) => return Ok((reply, d.data.len())),
                // Not our answer: keep waiting for the real one (an attacker's
                // guess or a stray must not end the exchange).
                Err(e) => rejected = Some(e),
            },
            None => {
                return Err(match rejected {
                    Some(e) => DnsError::BadReply(format!("{addr}: {e}")),
                    None => {
                        DnsError::Timeout(format!("{addr}: no reply over UDP before the timeout"))
                    }
                });
            }
        }
    }
}

fn over_tcp(
    addr: SocketAddr,
    bytes: &[u8],
    id: u16,
    question: &Question,
    deadline: u64,
) -> Result<(Reply, usize), DnsError> {
    let timeout = || DnsError::Timeout(format!("{addr}: no answer over TCP before the timeout"));
    let stream = TcpStream::connect_until(addr, deadline)
        .map_err(net_error)?
        .ok_or_else(timeout)?;
    if !stream
        .write_until(&dns_proto::tcp_frame(bytes), deadline)
        .map_err(net_error)?
    {
        return Err(timeout());
    }
    let mut frames = TcpFrames::new();
    loop {
        if let Some(msg) = frames.next_message() {
            stream.shutdown_send();
            return check_reply(&msg, id, question)
                .map(|r| (r, msg.len()))
                .map_err(|e| DnsError::BadReply(format!("{addr} (TCP): {e}")));
        }
        match stream.read_until(65_537, deadline).map_err(net_error)? {
            Some(Read::Data(d)) => frames.push(&d),
            Some(Read::Empty) => {}
            Some(Read::Closed) => {
                return Err(DnsError::BadReply(format!(
                    "{addr} (TCP): the server closed the connection before a whole answer"
                )));
            }
            None => return Err(timeout()),
        }
    }
}
