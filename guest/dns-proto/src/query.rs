//! The query: name and type from the command line, the message bytes.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use std::net::{IpAddr, SocketAddr};

/// The record types `--type` takes.
pub const TYPES: [&str; 11] = [
    "A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "SRV", "PTR", "CAA", "ANY",
];

/// A DNS server as written: `IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 by
/// default). Never a name: finding the DNS server would need a DNS server.
pub fn parse_server(text: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    text.parse::<SocketAddr>()
        .map_err(|_| format!("{text:?} is not an address: write IP, IP:PORT or [IPv6]:PORT"))
}

/// What to ask for, from the command line: the name and type, or for `-x IP`
/// the reverse name and PTR (unless another type was asked for).
pub fn query_of(name: Option<&str>, reverse: Option<IpAddr>, rtype: &str) -> (String, String) {
    match (name, reverse) {
        (_, Some(ip)) if rtype.eq_ignore_ascii_case("A") => (reverse_name(ip), "PTR".into()),
        (_, Some(ip)) => (reverse_name(ip), rtype.to_ascii_uppercase()),
        (Some(n), None) => (n.to_string(), rtype.to_ascii_uppercase()),
        (None, None) => (String::new(), rtype.to_ascii_uppercase()),
    }
}

/// A record type from its name (any case); the message lists the valid ones.
pub fn parse_type(text: &str) -> Result<RecordType, String> {
    let upper = text.to_ascii_uppercase();
    if !TYPES.contains(&upper.as_str()) {
        return Err(format!(
            "unknown record type {text:?} (one of {})",
            TYPES.join(", ")
        ));
    }
    upper
        .parse::<RecordType>()
        .map_err(|e| format!("record type {text:?}: {e}"))
}

/// The name a reverse lookup asks for: `10.2.0.192.in-addr.arpa.`,
/// `0.1.0.0....8.b.d.0.1.0.0.2.ip6.arpa.`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for b in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s.push_str("ip6.arpa.");
            s
        }
    }
}

/// What was asked: the reply must carry the same question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name, fully qualified.
    pub name: Name,
    /// The type.
    pub rtype: RecordType,
}

impl Question {
    /// `example.test. IN A`.
    pub fn text(&self) -> String {
        format!("{} IN {}", self.name, self.rtype)
    }
}

/// The query message for `name` and `rtype` with message id `id`: one question,
/// RD as `recurse` says, EDNS(0) advertising [`crate::EDNS_PAYLOAD`].
pub fn build_query(
    name: &str,
    rtype: RecordType,
    id: u16,
    recurse: bool,
) -> Result<(Vec<u8>, Question), String> {
    if name.is_empty() {
        return Err("the name to look up is empty".into());
    }
    let mut fqdn =
        Name::from_utf8(name).map_err(|e| format!("{name:?} is not a valid DNS name: {e}"))?;
    fqdn.set_fqdn(true);
    let mut query = Query::query(fqdn.clone(), rtype);
    query.set_query_class(DNSClass::IN);
    let mut m = Message::new();
    m.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(recurse)
        .add_query(query);
    let mut edns = Edns::new();
    edns.set_max_payload(crate::EDNS_PAYLOAD).set_version(0);
    m.set_edns(edns);
    let bytes = m
        .to_vec()
        .map_err(|e| format!("cannot encode a query for {name:?}: {e}"))?;
    Ok((bytes, Question { name: fqdn, rtype }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_name_in_any_case() {
        assert_eq!(parse_type("mx").unwrap(), RecordType::MX);
        assert_eq!(parse_type("CAA").unwrap(), RecordType::CAA);
        assert_eq!(parse_type("ANY").unwrap(), RecordType::ANY);
        let e = parse_type("HINFO").unwrap_err();
        assert!(e.contains("HINFO") && e.contains("AAAA"), "{e}");
    }

    #[test]
    fn servers_default_to_port_53() {
        assert_eq!(
            parse_server("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("[::1]:5353").unwrap(),
            "[::1]:5353".parse().unwrap()
        );
        assert!(
            parse_server("dns.example")
                .unwrap_err()
                .contains("not an address")
        );
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.10".parse().unwrap()),
            "10.2.0.192.in-addr.arpa."
        );
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
    }

    #[test]
    fn a_query_round_trips() {
        let (bytes, q) = build_query("www.example.test", RecordType::AAAA, 0x1234, true).unwrap();
        let m = Message::from_vec(&bytes).unwrap();
        assert_eq!(m.id(), 0x1234);
        assert!(m.recursion_desired());
        assert_eq!(m.queries().len(), 1);
        assert_eq!(m.queries()[0].name(), &q.name);
        assert_eq!(m.extensions().as_ref().map(|e| e.max_payload()), Some(1232));
        assert_eq!(q.text(), "www.example.test. IN AAAA");
    }

    #[test]
    fn bad_names_are_named() {
        assert!(build_query("", RecordType::A, 1, true).is_err());
        let long = "a".repeat(64);
        let e = build_query(&long, RecordType::A, 1, true).unwrap_err();
        assert!(e.contains("not a valid DNS name"), "{e}");
    }
}
