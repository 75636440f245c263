//! Value parsers for durations and sizes on every netkit command line, the host's
//! and the components' own: `500ms`, `2s`, `1.5m`; `64MiB`, `1k`. Plain numbers
//! keep the unit each flag always had. Pure, so unit-tested natively.

use std::time::Duration;

/// The longest duration any flag accepts: a day (no wrap, no panic past it).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Parse `text` as a duration; a plain number is in `plain_unit` (`"s"` or `"ms"`).
pub fn duration(text: &str, plain_unit: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = if unit.is_empty() {
        plain_unit
    } else {
        unit.trim()
    };
    let scale = match unit {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "{text:?} is not a duration: unknown unit {unit:?} (use e.g. 500ms, 2s, 1.5m, 1h)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (use e.g. 500ms, 2s, 1.5m)"))?;
    let secs = value * scale;
    if !secs.is_finite() || secs > MAX_DURATION.as_secs_f64() {
        return Err(format!("{text:?} is longer than the maximum of 24h"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A clap value parser: a duration, plain numbers in seconds.
pub fn secs(text: &str) -> Result<Duration, String> {
    duration(text, "s")
}

/// A clap value parser: a duration above zero, plain numbers in seconds.
pub fn positive_secs(text: &str) -> Result<Duration, String> {
    positive_duration(text, "s")
}

/// A clap value parser: a duration, plain numbers in milliseconds.
pub fn millis(text: &str) -> Result<Duration, String> {
    duration(text, "ms")
}

/// A clap value parser: a size, plain numbers in bytes.
pub fn bytes(text: &str) -> Result<u64, String> {
    size(text, 1)
}

/// Whole milliseconds of `d`, at least 1 (for the WIT records' `*-ms` fields).
pub fn ms_at_least_1(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

/// Parse `text` as a positive duration (more than zero).
pub fn positive_duration(text: &str, plain_unit: &str) -> Result<Duration, String> {
    let d = duration(text, plain_unit)?;
    if d.is_zero() {
        return Err(format!("{text:?} must be more than 0 (e.g. 500ms, 2s)"));
    }
    Ok(d)
}

/// Parse `text` as a size in bytes; a plain number is in units of `plain_unit` bytes.
/// `k`/`KiB` = 1024, `M`/`MiB` = 1024², `G`/`GiB` = 1024³; `KB`, `MB`, `GB` are powers of 1000.
pub fn size(text: &str, plain_unit: u64) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim() {
        "" => plain_unit,
        "B" | "b" => 1,
        "k" | "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "{text:?} is not a size: unknown unit {other:?} (use e.g. 4096, 64KiB, 16MiB, 1GiB)"
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (use e.g. 4096, 64KiB, 16MiB)"))?;
    n.checked_mul(scale)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(duration("500ms", "s"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2s", "s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("1.5m", "s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1h", "s"), Ok(Duration::from_secs(3600)));
    }

    #[test]
    fn plain_numbers_keep_their_unit() {
        assert_eq!(duration("2", "s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("0.25", "s"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2000", "ms"), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn rejects_bad_durations_with_the_valid_form() {
        for bad in ["", "abc", "5 parsecs", "-1s", "1e20", "inf", "NaN"] {
            let e = duration(bad, "s").unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        assert!(duration("25h", "s").unwrap_err().contains("maximum"));
        assert!(
            positive_duration("0", "s")
                .unwrap_err()
                .contains("more than 0")
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(size("64", 1 << 20), Ok(64 << 20));
        assert_eq!(size("64MiB", 1 << 20), Ok(64 << 20));
        assert_eq!(size("1k", 1), Ok(1024));
        assert_eq!(size("2GB", 1), Ok(2_000_000_000));
        assert!(size("1TiB", 1).unwrap_err().contains("unknown unit"));
        assert!(size("99999999999999999999", 1).is_err());
        assert!(
            size("18446744073709551615GiB", 1)
                .unwrap_err()
                .contains("too large")
        );
    }
}
