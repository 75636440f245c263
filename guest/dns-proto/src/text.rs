//! dig-style text, the same from the component's command line and from netkit.

/// The header values of an answer.
#[derive(Debug, Clone)]
pub struct HeaderText<'a> {
    /// Message id.
    pub id: u16,
    /// NOERROR, NXDOMAIN, ...
    pub rcode: &'a str,
    /// Flags set.
    pub flags: &'a [String],
    /// `example.test. IN A`.
    pub question: &'a str,
    /// Query time in nanoseconds.
    pub query_ns: u64,
    /// `IP:PORT`.
    pub server: &'a str,
    /// udp or tcp.
    pub transport: &'a str,
    /// Reply size in bytes.
    pub size: u32,
    /// Whether a truncated UDP answer was asked again over TCP.
    pub retried_over_tcp: bool,
}

/// One record's values.
#[derive(Debug, Clone)]
pub struct RecordText<'a> {
    /// Owner.
    pub name: &'a str,
    /// TTL.
    pub ttl: u32,
    /// Class.
    pub class: &'a str,
    /// Type.
    pub rtype: &'a str,
    /// Data.
    pub data: &'a str,
}

/// What an rcode means, for the line netkit prints when it is not NOERROR.
pub fn rcode_meaning(rcode: &str) -> &'static str {
    match rcode {
        "NOERROR" => "no error",
        "NXDOMAIN" => "the name does not exist",
        "SERVFAIL" => "the server failed to answer (upstream or DNSSEC failure)",
        "REFUSED" => "the server refused to answer this query",
        "FORMERR" => "the server could not parse the query",
        "NOTIMP" => "the server does not implement this kind of query",
        "NOTAUTH" => "the server is not authoritative for the zone",
        _ => "an error code",
    }
}

fn section(out: &mut String, title: &str, records: &[RecordText<'_>]) {
    if records.is_empty() {
        return;
    }
    out.push_str(&format!("\n;; {title} SECTION:\n"));
    for r in records {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            r.name, r.ttl, r.class, r.rtype, r.data
        ));
    }
}

/// The answer as dig prints it: header, question, sections, statistics.
pub fn dig_text(
    h: &HeaderText<'_>,
    answer: &[RecordText<'_>],
    authority: &[RecordText<'_>],
    additional: &[RecordText<'_>],
) -> String {
    let mut out = format!(
        ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}\n;; flags: {}; QUERY: 1, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}\n",
        h.rcode,
        h.id,
        h.flags.join(" "),
        answer.len(),
        authority.len(),
        additional.len()
    );
    if h.retried_over_tcp {
        out.push_str(";; Truncated over UDP, retried over TCP.\n");
    }
    out.push_str(&format!(
        "\n;; QUESTION SECTION:\n;{}\n",
        h.question.replacen(' ', "\t\t", 1)
    ));
    section(&mut out, "ANSWER", answer);
    section(&mut out, "AUTHORITY", authority);
    section(&mut out, "ADDITIONAL", additional);
    let (ip, port) = h.server.rsplit_once(':').unwrap_or((h.server, "53"));
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    out.push_str(&format!(
        "\n;; Query time: {:.1} msec\n;; SERVER: {ip}#{port}({ip}) ({})\n;; MSG SIZE  rcvd: {}",
        h.query_ns as f64 / 1e6,
        h.transport.to_ascii_uppercase(),
        h.size
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_dig() {
        let flags = vec!["qr".to_string(), "aa".to_string()];
        let t = dig_text(
            &HeaderText {
                id: 5,
                rcode: "NOERROR",
                flags: &flags,
                question: "www.example.test. IN A",
                query_ns: 1_250_000,
                server: "127.0.0.1:5353",
                transport: "udp",
                size: 61,
                retried_over_tcp: false,
            },
            &[RecordText {
                name: "www.example.test.",
                ttl: 300,
                class: "IN",
                rtype: "A",
                data: "192.0.2.10",
            }],
            &[],
            &[],
        );
        assert!(t.starts_with(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 5\n;; flags: qr aa; QUERY: 1, ANSWER: 1"), "{t}");
        assert!(
            t.contains("\n;; ANSWER SECTION:\nwww.example.test.\t300\tIN\tA\t192.0.2.10\n"),
            "{t}"
        );
        assert!(
            t.contains(";; SERVER: 127.0.0.1#5353(127.0.0.1) (UDP)"),
            "{t}"
        );
        assert!(!t.contains("AUTHORITY SECTION"));
    }
}
