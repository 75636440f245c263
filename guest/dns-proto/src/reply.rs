//! The reply: decoded, checked against the query, its records as text.

use crate::Question;
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::{RData, Record};
use std::fmt;

/// One record in presentation format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Owner name, fully qualified.
    pub name: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// Class (IN).
    pub class: String,
    /// Type (A, MX, ...).
    pub rtype: String,
    /// The data as dig prints it.
    pub data: String,
}

/// A reply that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Message id.
    pub id: u16,
    /// NOERROR, NXDOMAIN, ...
    pub rcode: String,
    /// Header flags set, in dig's order.
    pub flags: Vec<String>,
    /// TC: the answer did not fit (ask again over TCP).
    pub truncated: bool,
    /// The sections.
    pub answer: Vec<Rr>,
    /// The authority section.
    pub authority: Vec<Rr>,
    /// The additional section (without OPT).
    pub additional: Vec<Rr>,
}

/// Why a reply was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// Not a DNS message, or a broken one (bad lengths, a compression loop, ...).
    Malformed(String),
    /// A query, not a response.
    NotAResponse,
    /// A response to another query (a spoofing attempt or a stale reply).
    WrongId {
        /// The id in the reply.
        got: u16,
        /// The id sent.
        want: u16,
    },
    /// The question in the reply is not the one asked.
    WrongQuestion {
        /// The question in the reply.
        got: String,
        /// The question asked.
        want: String,
    },
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Malformed(why) => write!(f, "malformed reply: {why}"),
            ReplyError::NotAResponse => write!(f, "the reply is a query, not a response"),
            ReplyError::WrongId { got, want } => {
                write!(f, "reply id {got} does not match the query's id {want}")
            }
            ReplyError::WrongQuestion { got, want } => {
                write!(
                    f,
                    "reply is for {got:?}, not for the question asked ({want:?})"
                )
            }
        }
    }
}

impl std::error::Error for ReplyError {}

/// TXT strings as dig shows them: each quoted, `"` and `\` escaped, bytes
/// outside printable ASCII as `\DDD`.
fn txt_data(strings: &[Box<[u8]>]) -> String {
    strings
        .iter()
        .map(|s| {
            let mut out = String::from("\"");
            for &b in s.iter() {
                match b {
                    b'"' | b'\\' => {
                        out.push('\\');
                        out.push(b as char);
                    }
                    0x20..=0x7e => out.push(b as char),
                    _ => out.push_str(&format!("\\{b:03}")),
                }
            }
            out.push('"');
            out
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn rr(r: &Record) -> Rr {
    let data = match r.data() {
        RData::TXT(txt) => txt_data(txt.txt_data()),
        other => other.to_string(),
    };
    Rr {
        name: r.name().to_string(),
        ttl: r.ttl(),
        class: r.dns_class().to_string(),
        rtype: r.record_type().to_string(),
        data,
    }
}

/// The rcodes dig names (RFC 6895 §2.3).
const RCODES: [(u16, &str); 13] = [
    (0, "NOERROR"),
    (1, "FORMERR"),
    (2, "SERVFAIL"),
    (3, "NXDOMAIN"),
    (4, "NOTIMP"),
    (5, "REFUSED"),
    (6, "YXDOMAIN"),
    (7, "YXRRSET"),
    (8, "NXRRSET"),
    (9, "NOTAUTH"),
    (10, "NOTZONE"),
    (16, "BADVERS"),
    (23, "BADCOOKIE"),
];

/// The mnemonic dig prints for an rcode (`RCODE{n}` for unnamed ones).
pub fn rcode_name(code: u16) -> String {
    RCODES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| format!("RCODE{code}"), |(_, n)| n.to_string())
}

/// The number of an rcode mnemonic, [`rcode_name`] backwards.
pub fn rcode_number(name: &str) -> Option<u16> {
    RCODES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(c, _)| *c)
        .or_else(|| name.strip_prefix("RCODE")?.parse().ok())
}

/// Decode `bytes` and check them against the query: a response, with the id
/// sent and the same question (names compared without regard to case).
pub fn check_reply(bytes: &[u8], id: u16, question: &Question) -> Result<Reply, ReplyError> {
    let m = Message::from_vec(bytes).map_err(|e| ReplyError::Malformed(e.to_string()))?;
    if m.message_type() != MessageType::Response {
        return Err(ReplyError::NotAResponse);
    }
    if m.id() != id {
        return Err(ReplyError::WrongId {
            got: m.id(),
            want: id,
        });
    }
    let want = question.text();
    match m.queries() {
        [q] if q.name().eq_case(&question.name) || q.name() == &question.name => {
            if q.query_type() != question.rtype {
                return Err(ReplyError::WrongQuestion {
                    got: format!("{} IN {}", q.name(), q.query_type()),
                    want,
                });
            }
        }
        [q] => {
            return Err(ReplyError::WrongQuestion {
                got: format!("{} IN {}", q.name(), q.query_type()),
                want,
            });
        }
        qs => {
            return Err(ReplyError::WrongQuestion {
                got: format!("{} questions", qs.len()),
                want,
            });
        }
    }
    let h = m.header();
    let flags = [
        ("qr", true),
        ("aa", h.authoritative()),
        ("tc", h.truncated()),
        ("rd", h.recursion_desired()),
        ("ra", h.recursion_available()),
        ("ad", h.authentic_data()),
        ("cd", h.checking_disabled()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(f, _)| f.to_string())
    .collect();
    Ok(Reply {
        id: m.id(),
        rcode: rcode_name(u16::from(m.response_code())),
        flags,
        truncated: m.truncated(),
        answer: m.answers().iter().map(rr).collect(),
        authority: m.name_servers().iter().map(rr).collect(),
        additional: m.additionals().iter().map(rr).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build_query;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::rdata::{MX, TXT};
    use hickory_proto::rr::{Name, RecordType};

    fn answer_to(query: &[u8]) -> Message {
        let q = Message::from_vec(query).unwrap();
        let mut m = Message::new();
        m.set_id(q.id())
            .set_message_type(MessageType::Response)
            .set_authoritative(true)
            .set_recursion_desired(q.recursion_desired());
        m.add_query(q.queries()[0].clone());
        m
    }

    #[test]
    fn a_good_reply_is_accepted_with_its_records() {
        let (query, q) = build_query("example.test", RecordType::MX, 7, true).unwrap();
        let mut m = answer_to(&query);
        let owner = Name::from_utf8("example.test.").unwrap();
        m.add_answer(Record::from_rdata(
            owner.clone(),
            300,
            RData::MX(MX::new(10, Name::from_utf8("mail.example.test.").unwrap())),
        ));
        m.add_additional(Record::from_rdata(
            owner,
            60,
            RData::TXT(TXT::new(vec!["say \"hi\"".into(), "caf\u{e9}".into()])),
        ));
        let r = check_reply(&m.to_vec().unwrap(), 7, &q).unwrap();
        assert_eq!(r.rcode, "NOERROR");
        assert_eq!(r.flags, ["qr", "aa", "rd"]);
        assert_eq!(
            r.answer,
            [Rr {
                name: "example.test.".into(),
                ttl: 300,
                class: "IN".into(),
                rtype: "MX".into(),
                data: "10 mail.example.test.".into()
            }]
        );
        assert_eq!(r.additional[0].data, r#""say \"hi\"" "caf\195\169""#);
    }

    #[test]
    fn replies_to_something_else_are_refused() {
        let (query, q) = build_query("example.test", RecordType::A, 7, true).unwrap();
        let good = answer_to(&query);
        let bytes = good.to_vec().unwrap();
        assert_eq!(
            check_reply(&bytes, 8, &q),
            Err(ReplyError::WrongId { got: 7, want: 8 })
        );
        let (_, other) = build_query("other.test", RecordType::A, 7, true).unwrap();
        assert!(matches!(
            check_reply(&bytes, 7, &other),
            Err(ReplyError::WrongQuestion { .. })
        ));
        let (_, aaaa) = build_query("example.test", RecordType::AAAA, 7, true).unwrap();
        assert!(matches!(
            check_reply(&bytes, 7, &aaaa),
            Err(ReplyError::WrongQuestion { .. })
        ));
        assert_eq!(check_reply(&query, 7, &q), Err(ReplyError::NotAResponse));
        // Case does not matter (0x20 randomisation, RFC 4343).
        let (_, upper) = build_query("EXAMPLE.test", RecordType::A, 7, true).unwrap();
        assert!(check_reply(&bytes, 7, &upper).is_ok());
    }

    #[test]
    fn rcode_names_and_numbers_round_trip() {
        for code in [0, 3, 5, 16, 42] {
            assert_eq!(rcode_number(&rcode_name(code)), Some(code));
        }
        assert_eq!(rcode_number("NOPE"), None);
    }

    #[test]
    fn error_codes_are_replies_too() {
        let (query, q) = build_query("nope.test", RecordType::A, 9, true).unwrap();
        let mut m = answer_to(&query);
        m.set_response_code(ResponseCode::NXDomain);
        assert_eq!(
            check_reply(&m.to_vec().unwrap(), 9, &q).unwrap().rcode,
            "NXDOMAIN"
        );
    }

    #[test]
    fn a_compression_loop_is_malformed_not_a_hang() {
        // Header (id 1, response, 1 question), then a name that points at itself.
        let mut bytes = vec![0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let (_, q) = build_query("x.test", RecordType::A, 1, true).unwrap();
        assert!(matches!(
            check_reply(&bytes, 1, &q),
            Err(ReplyError::Malformed(_))
        ));
    }

    #[test]
    fn random_bytes_never_panic_and_never_pass() {
        let (_, q) = build_query("x.test", RecordType::A, 0x4242, true).unwrap();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..20_000 {
            let len = i % 300;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            assert!(check_reply(&bytes, 0x4242, &q).is_err());
        }
    }
}
