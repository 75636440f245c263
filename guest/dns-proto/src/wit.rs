//! Macros that read the WIT `dns-answer` record (generated separately for the
//! guest and the host) into the shared text.

/// The dig-style text of any value with the `dns-answer` record's fields.
#[macro_export]
macro_rules! dns_answer_text {
    ($a:expr) => {{
        let a = $a;
        $crate::dig_text(
            &$crate::HeaderText {
                id: a.id,
                rcode: &a.rcode,
                flags: &a.flags,
                question: &a.question,
                query_ns: a.query_ns,
                server: &a.server,
                transport: &a.transport,
                size: a.size,
                retried_over_tcp: a.retried_over_tcp,
            },
            &$crate::dns_records!(a.answer),
            &$crate::dns_records!(a.authority),
            &$crate::dns_records!(a.additional),
        )
    }};
}

/// The shared text's view of a list of WIT `dns-record`s.
#[macro_export]
macro_rules! dns_records {
    ($rs:expr) => {
        $rs.iter()
            .map(|r| $crate::RecordText {
                name: &r.name,
                ttl: r.ttl,
                class: &r.class,
                rtype: &r.record_type,
                data: &r.data,
            })
            .collect::<::std::vec::Vec<_>>()
    };
}

/// The WIT name of a `dns-error` case.
#[macro_export]
macro_rules! dns_error_kind {
    ($E:ident, $e:expr) => {
        match $e {
            $E::InvalidRequest(_) => "invalid-request",
            $E::Timeout(_) => "timeout",
            $E::BadReply(_) => "bad-reply",
            $E::Denied(_) => "denied",
            $E::Unreachable(_) => "unreachable",
            $E::Network(_) => "network",
        }
    };
}

/// The message of a `dns-error` (every case carries its own line).
#[macro_export]
macro_rules! dns_error_text {
    ($E:ident, $e:expr) => {
        match $e {
            $E::InvalidRequest(m)
            | $E::Timeout(m)
            | $E::BadReply(m)
            | $E::Denied(m)
            | $E::Unreachable(m)
            | $E::Network(m) => m.clone(),
        }
    };
}
