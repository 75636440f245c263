//! The dns prober's settings beyond the query (blackbox_exporter's
//! `transport_protocol`, `recursion_desired`, `valid_rcodes` and
//! `validate_*_rrs`), and their checks on an answer: pure, so they are unit
//! tested without a server. A leaf: the config and the run both use it.

/// blackbox's `DNSRRValidator`: regexes over each record's text, which is
/// miekg/dns's (`NAME\tTTL\tCLASS\tTYPE\tDATA`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RrValidator {
    /// Fail if any record matches any of these.
    pub fail_if_matches: Vec<String>,
    /// Fail if every record matches one of these.
    pub fail_if_all_match: Vec<String>,
    /// Fail if any record does not match one of these (or there is no record).
    pub fail_if_not_matches: Vec<String>,
    /// Fail if no record matches one of these (or there is no record).
    pub fail_if_none_matches: Vec<String>,
}

/// The dns prober's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// Ask over TCP (`transport_protocol: tcp`).
    pub tcp: bool,
    /// Set RD (`recursion_desired`, default true).
    pub recursion: bool,
    /// The rcodes that pass (`valid_rcodes`, default NOERROR).
    pub valid_rcodes: Vec<String>,
    /// `validate_answer_rrs`.
    pub answer: RrValidator,
    /// `validate_authority_rrs`.
    pub authority: RrValidator,
    /// `validate_additional_rrs`.
    pub additional: RrValidator,
}

impl Default for DnsSettings {
    fn default() -> Self {
        Self {
            tcp: false,
            recursion: true,
            valid_rcodes: vec!["NOERROR".into()],
            answer: RrValidator::default(),
            authority: RrValidator::default(),
            additional: RrValidator::default(),
        }
    }
}

/// The rcode names blackbox knows (miekg's `StringToRcode`).
pub const RCODES: &[&str] = &[
    "NOERROR",
    "FORMERR",
    "SERVFAIL",
    "NXDOMAIN",
    "NOTIMP",
    "REFUSED",
    "YXDOMAIN",
    "YXRRSET",
    "NXRRSET",
    "NOTAUTH",
    "NOTZONE",
    "BADSIG",
    "BADVERS",
    "BADKEY",
    "BADTIME",
    "BADMODE",
    "BADNAME",
    "BADALG",
    "BADTRUNC",
    "BADCOOKIE",
];

/// The dns prober's metrics, with their help.
pub const VALUES: &[(&str, &str)] = &[
    (
        "probe_dns_rcode",
        "Response code of the DNS answer (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ...)",
    ),
    ("probe_dns_answer_rrs", "Records in the answer section"),
    (
        "probe_dns_query_succeeded",
        "Whether the DNS query got an answer (1) or not (0), whatever its checks found",
    ),
    (
        "probe_dns_serial",
        "The serial number of the SOA record (a query of type SOA)",
    ),
    (
        "probe_dns_authority_rrs",
        "Records in the authority section",
    ),
    (
        "probe_dns_additional_rrs",
        "Records in the additional section",
    ),
];

/// The dns prober's labelled metrics.
pub const LABELED: &[(&str, &str)] = &[(
    "probe_dns_duration_seconds",
    "Duration of the DNS request by phase (resolve: the target's lookup; request: the exchange, a TCP connect included)",
)];

/// A record as miekg/dns prints it, which is what blackbox's regexes see.
pub fn rr_text(name: &str, ttl: u32, class: &str, kind: &str, data: &str) -> String {
    format!("{name}\t{ttl}\t{class}\t{kind}\t{data}")
}

fn matches(re: &str, text: &str) -> bool {
    // Checked at load: a pattern that does not compile never gets here.
    http_proto::expect::regex("", re).is_ok_and(|r| r.is_match(text))
}

impl RrValidator {
    /// Whether any check is set.
    pub fn any(&self) -> bool {
        !(self.fail_if_matches.is_empty()
            && self.fail_if_all_match.is_empty()
            && self.fail_if_not_matches.is_empty()
            && self.fail_if_none_matches.is_empty())
    }

    /// Every pattern, for checking at load.
    pub fn patterns(&self) -> impl Iterator<Item = &String> {
        self.fail_if_matches
            .iter()
            .chain(&self.fail_if_all_match)
            .chain(&self.fail_if_not_matches)
            .chain(&self.fail_if_none_matches)
    }

    /// Check `rrs` (their texts) as blackbox's `validRRs` does: `Err` says why not.
    pub fn check(&self, rrs: &[String]) -> Result<(), String> {
        if rrs.is_empty() && !self.fail_if_not_matches.is_empty() {
            return Err("fail_if_not_matches_regexp specified but no RRs returned".into());
        }
        if rrs.is_empty() && !self.fail_if_none_matches.is_empty() {
            return Err("fail_if_none_matches_regexp specified but no RRs returned".into());
        }
        let mut all = true;
        let mut any = false;
        for rr in rrs {
            if let Some(re) = self.fail_if_matches.iter().find(|re| matches(re, rr)) {
                return Err(format!("{rr:?} matched fail_if_matches_regexp {re:?}"));
            }
            if self.fail_if_all_match.iter().any(|re| !matches(re, rr)) {
                all = false;
            }
            if let Some(re) = self.fail_if_not_matches.iter().find(|re| !matches(re, rr)) {
                return Err(format!(
                    "{rr:?} did not match fail_if_not_matches_regexp {re:?}"
                ));
            }
            if self.fail_if_none_matches.iter().any(|re| matches(re, rr)) {
                any = true;
            }
        }
        if !self.fail_if_all_match.is_empty() && all {
            return Err("every record matched fail_if_all_match_regexp".into());
        }
        if !self.fail_if_none_matches.is_empty() && !any {
            return Err("no record matched fail_if_none_matches_regexp".into());
        }
        Ok(())
    }
}

/// What an answer is worth, as blackbox's dns prober judges it: the
/// values (counts, `probe_dns_query_succeeded`, `probe_dns_serial` for SOA),
/// and a detail, or why it fails (a reason label and a detail): the rcode is
/// not valid, or a validator failed.
pub type Judged = (Vec<(&'static str, f64)>, Result<String, (String, String)>);

/// Judge answer `a` to a query of `record_type` by `s`.
pub fn judge(s: &DnsSettings, record_type: &str, a: &crate::dns_probe::DnsAnswer) -> Judged {
    let mut values = vec![
        (
            "probe_dns_rcode",
            dns_proto::rcode_number(&a.rcode).map_or(-1.0, f64::from),
        ),
        ("probe_dns_answer_rrs", a.answer.len() as f64),
        ("probe_dns_authority_rrs", a.authority.len() as f64),
        ("probe_dns_additional_rrs", a.additional.len() as f64),
        ("probe_dns_query_succeeded", 1.0),
    ];
    if record_type == "SOA" {
        let serial = a
            .answer
            .iter()
            .find(|r| r.record_type == "SOA")
            .and_then(|r| r.data.split_whitespace().nth(2)?.parse::<u32>().ok());
        values.push(("probe_dns_serial", serial.map_or(0.0, f64::from)));
    }
    let detail = format!("{} with {} answers", a.rcode, a.answer.len());
    if !s.valid_rcodes.contains(&a.rcode) {
        let why = format!(
            "{detail}: rcode {} is not in valid_rcodes ({})",
            a.rcode,
            s.valid_rcodes.join(", ")
        );
        return (values, Err((a.rcode.clone(), why)));
    }
    let texts = |rrs: &[crate::dns_probe::DnsRecord]| -> Vec<String> {
        rrs.iter()
            .map(|r| rr_text(&r.name, r.ttl, &r.class, &r.record_type, &r.data))
            .collect()
    };
    for (section, v, rrs) in [
        ("validate_answer_rrs", &s.answer, &a.answer),
        ("validate_authority_rrs", &s.authority, &a.authority),
        ("validate_additional_rrs", &s.additional, &a.additional),
    ] {
        if let Err(why) = v.check(&texts(rrs)) {
            let why = format!("{detail}: {section}: {why}");
            return (values, Err(("validation".into(), why)));
        }
    }
    (values, Ok(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(f: impl FnOnce(&mut RrValidator)) -> RrValidator {
        let mut r = RrValidator::default();
        f(&mut r);
        r
    }

    #[test]
    fn validators_as_blackbox() {
        let a = rr_text("h.test.", 0, "IN", "A", "192.0.2.10");
        assert_eq!(a, "h.test.\t0\tIN\tA\t192.0.2.10");
        let rrs = vec![a.clone()];
        let ok = v(|r| r.fail_if_not_matches = vec!["h.test.\t0\tIN\tA\t192.0.2.10".into()]);
        assert!(ok.check(&rrs).is_ok());
        assert!(
            ok.check(&[]).is_err(),
            "no records: fail_if_not_matches fails"
        );
        let bad = v(|r| r.fail_if_matches = vec![".*127.0.0.1".into()]);
        assert!(bad.check(&rrs).is_ok());
        assert!(
            bad.check(&[rr_text("x.", 1, "IN", "A", "127.0.0.1")])
                .is_err()
        );
        let all = v(|r| r.fail_if_all_match = vec!["IN\tA\t".into()]);
        assert!(all.check(&rrs).is_err());
        let mixed = vec![a, rr_text("h.test.", 0, "IN", "AAAA", "2001:db8::10")];
        assert!(all.check(&mixed).is_ok());
        let none = v(|r| r.fail_if_none_matches = vec!["AAAA".into()]);
        assert!(none.check(&mixed).is_ok());
        assert!(none.check(&rrs).is_err());
        assert!(DnsSettings::default().valid_rcodes == ["NOERROR"]);
    }
}
