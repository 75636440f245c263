//! Text shared by every front end: parsing `SERVER[:PORT]` and the one-line summary.

use crate::civil::format_utc;

/// Split `SERVER[:PORT]`: `host`, `host:123`, `1.2.3.4:123`, `::1`, `[::1]`, `[::1]:123`.
pub fn split_server(text: &str, default_port: u16) -> Result<(String, u16), String> {
    let bad = |why: &str| format!("server {text:?}: {why} (use HOST, HOST:PORT or [IPv6]:PORT)");
    if text.is_empty() {
        return Err(bad("empty"));
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("'[' without ']'"))?;
        let port = match after {
            "" => default_port,
            p => p
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| bad("bad port after ']'"))?,
        };
        return Ok((host.to_string(), port));
    }
    if text.matches(':').count() > 1 {
        // A bare IPv6 address: no port possible without brackets.
        return Ok((text.to_string(), default_port));
    }
    match text.split_once(':') {
        None => Ok((text.to_string(), default_port)),
        Some((host, port)) if !host.is_empty() => {
            let port = port
                .parse()
                .map_err(|_| bad(&format!("port {port:?} is not a number from 0 to 65535")))?;
            Ok((host.to_string(), port))
        }
        Some(_) => Err(bad("empty host")),
    }
}

/// A duration for people: `500 ms`, `2 s`, `1.5 s`, `750 µs`.
pub fn duration_text(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        let secs = ns as f64 / 1e9;
        format!("{} s", trim_float(secs))
    } else if ns >= 1_000_000 {
        format!("{} ms", trim_float(ns as f64 / 1e6))
    } else {
        format!("{} µs", trim_float(ns as f64 / 1e3))
    }
}

/// Up to three decimals, trailing zeros dropped.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Error bound of a sample: half the round trip plus the server's own distance to
/// its reference (half its root delay plus its root dispersion), in nanoseconds.
pub fn error_bound_ns(delay_ns: i64, root_delay_ns: u64, root_dispersion_ns: u64) -> u64 {
    delay_ns.max(0) as u64 / 2 + root_delay_ns / 2 + root_dispersion_ns
}

/// The corrected time at the reply's arrival, T3 + delay/2 (= T4 + offset), as Unix (secs, nanos).
pub fn arrival_time(transmit_secs: i64, transmit_nanos: u32, delay_ns: i64) -> (i64, u32) {
    let total = i128::from(transmit_secs) * 1_000_000_000
        + i128::from(transmit_nanos)
        + i128::from(delay_ns / 2);
    (
        total.div_euclid(1_000_000_000) as i64,
        total.rem_euclid(1_000_000_000) as u32,
    )
}

/// A report's values as plain data, for [`ReportLine::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine<'a> {
    /// The server that answered, `IP:PORT`.
    pub server: &'a str,
    /// Its stratum.
    pub stratum: u8,
    /// Its leap indicator.
    pub leap: crate::LeapIndicator,
    /// T3 as Unix seconds and nanoseconds.
    pub transmit: (i64, u32),
    /// Offset θ.
    pub offset_ns: i64,
    /// Delay δ.
    pub delay_ns: i64,
    /// The server's root delay.
    pub root_delay_ns: u64,
    /// The server's root dispersion.
    pub root_dispersion_ns: u64,
}

impl ReportLine<'_> {
    /// The error bound (see [`error_bound_ns`]).
    pub fn error_ns(&self) -> u64 {
        error_bound_ns(self.delay_ns, self.root_delay_ns, self.root_dispersion_ns)
    }

    /// The ntpdig-style line (the server shown without its port, as ntpdig does).
    pub fn text(&self) -> String {
        let host = self
            .server
            .parse::<std::net::SocketAddr>()
            .map_or_else(|_| self.server.to_string(), |a| a.ip().to_string());
        summary_line(
            arrival_time(self.transmit.0, self.transmit.1, self.delay_ns),
            self.offset_ns,
            self.error_ns(),
            &host,
            self.stratum,
            self.leap.name(),
        )
    }
}

/// The ntpdig-style line: corrected time, offset, error bound, server, stratum, leap.
///
/// `2026-11-25 02:01:36.167580 (+0000) -0.000023 +/- 0.000315 127.0.0.1 s10 no-leap`
pub fn summary_line(
    time: (i64, u32),
    offset_ns: i64,
    error_ns: u64,
    server: &str,
    stratum: u8,
    leap: &str,
) -> String {
    format!(
        "{} (+0000) {:+.6} +/- {:.6} {server} s{stratum} {leap}",
        format_utc(time.0, time.1),
        offset_ns as f64 / 1e9,
        error_ns as f64 / 1e9,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_form() {
        assert_eq!(
            split_server("pool.ntp.org", 123),
            Ok(("pool.ntp.org".into(), 123))
        );
        assert_eq!(
            split_server("127.0.0.1:11123", 123),
            Ok(("127.0.0.1".into(), 11123))
        );
        assert_eq!(split_server("::1", 123), Ok(("::1".into(), 123)));
        assert_eq!(split_server("[::1]", 123), Ok(("::1".into(), 123)));
        assert_eq!(split_server("[::1]:5", 123), Ok(("::1".into(), 5)));
    }

    #[test]
    fn rejects_bad_forms() {
        assert!(split_server("", 1).is_err());
        assert!(split_server("host:abc", 1).unwrap_err().contains("\"abc\""));
        assert!(split_server("[::1", 1).is_err());
        assert!(split_server("[::1]x", 1).is_err());
        assert!(split_server(":5", 1).is_err());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(2_000_000_000), "2 s");
        assert_eq!(duration_text(1_500_000_000), "1.5 s");
        assert_eq!(duration_text(500_000_000), "500 ms");
        assert_eq!(duration_text(750_000), "750 µs");
    }

    #[test]
    fn error_bound_and_arrival_time() {
        assert_eq!(error_bound_ns(2_000, 1_000, 300), 1_800);
        assert_eq!(error_bound_ns(-5, 0, 0), 0);
        assert_eq!(arrival_time(10, 999_999_000, 4_000), (11, 1_000));
    }

    #[test]
    fn summary_matches_ntpdig_layout() {
        let line = summary_line(
            (1_795_573_296, 167_580_000),
            -23_000,
            315_000,
            "127.0.0.1",
            10,
            "no-leap",
        );
        assert_eq!(
            line,
            "2026-11-25 02:21:36.167580 (+0000) -0.000023 +/- 0.000315 127.0.0.1 s10 no-leap"
        );
    }
}
