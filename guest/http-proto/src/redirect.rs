//! Redirects: where a `Location` leads, and whether its origin (scheme, host,
//! port) is one the user granted. The probe follows only granted ones.

use url::Url;

/// Redirect statuses.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The method after a redirect: 303 (and 301/302 after POST) become GET, as browsers and Go do.
pub fn method_after(status: u16, method: &str) -> String {
    match (status, method) {
        (_, "HEAD") => "HEAD".into(),
        (303, _) => "GET".into(),
        (301 | 302, "POST") => "GET".into(),
        _ => method.into(),
    }
}

/// Where `location` leads from `from`.
pub fn resolve(from: &Url, location: &str) -> Result<Url, String> {
    let to = from
        .join(location.trim())
        .map_err(|e| format!("redirect Location {location:?} is not a URL: {e}"))?;
    if !matches!(to.scheme(), "http" | "https") {
        return Err(format!("redirect to {to} is not http or https"));
    }
    if !to.username().is_empty() || to.password().is_some() {
        // Its password would be sent, and shown with the URL: refused as a typed one is.
        return Err(format!(
            "redirect to a URL with user information ({}://…@{}) refused: credentials do not belong in a URL",
            to.scheme(),
            to.host_str().unwrap_or("")
        ));
    }
    if to.port() == Some(0) {
        return Err(format!(
            "redirect Location {location:?} names port 0, which nothing listens on"
        ));
    }
    Ok(to)
}

/// Whether header `name` carries credentials (`Authorization`,
/// `Proxy-Authorization`, `Cookie`): redacted when shown, and dropped on a
/// redirect to another origin (curl's CVE-2022-27776 class).
pub fn is_credential(name: &str) -> bool {
    ["authorization", "proxy-authorization", "cookie"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

/// The headers to send after a redirect from `from` to `to`: those carrying
/// credentials only when the origin is the same.
pub fn headers_after(from: &Url, to: &Url, headers: &[(String, String)]) -> Vec<(String, String)> {
    let same = Origin::of(from) == Origin::of(to);
    headers
        .iter()
        .filter(|(k, _)| same || !is_credential(k))
        .cloned()
        .collect()
}

/// A granted origin: a scheme (or either, from `HOST:PORT`), a host, a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http`, `https`, or `None` for both.
    pub scheme: Option<String>,
    /// Host name or IP, lower case, IPv6 without brackets.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match &self.scheme {
            Some(s) => write!(f, "{s}://{host}:{}", self.port),
            None => write!(f, "{host}:{}", self.port),
        }
    }
}

fn host_of(url: &Url) -> String {
    match url.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string().to_ascii_lowercase(),
        None => String::new(),
    }
}

impl Origin {
    /// A URL's origin.
    pub fn of(url: &Url) -> Origin {
        Origin {
            scheme: Some(url.scheme().to_string()),
            host: host_of(url),
            port: url.port_or_known_default().unwrap_or(0),
        }
    }

    /// From `--allow-redirect`: a URL (its scheme, host and port) or `HOST:PORT` (either scheme).
    pub fn parse(text: &str) -> Result<Origin, String> {
        if text.contains("://") {
            let url = Url::parse(text).map_err(|e| format!("--allow-redirect {text:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!(
                    "--allow-redirect {text:?}: only http and https URLs"
                ));
            }
            return Ok(Origin::of(&url));
        }
        let (host, port) = probe_split(text).map_err(|e| format!("--allow-redirect {e}"))?;
        Ok(Origin {
            scheme: None,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether `url` is within this origin.
    pub fn covers(&self, url: &Url) -> bool {
        let o = Origin::of(url);
        self.host == o.host
            && self.port == o.port
            && self
                .scheme
                .as_ref()
                .is_none_or(|s| Some(s) == o.scheme.as_ref())
    }
}

fn probe_split(text: &str) -> Result<(String, u16), String> {
    let (h, p) = if let Some(rest) = text.strip_prefix('[') {
        rest.split_once("]:")
            .ok_or_else(|| format!("{text:?}: write [IPv6]:PORT"))?
    } else {
        text.rsplit_once(':')
            .ok_or_else(|| format!("{text:?}: write a URL or HOST:PORT"))?
    };
    let port = p
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{text:?}: {p:?} is not a port"))?;
    if h.is_empty() {
        return Err(format!("{text:?} has no host"));
    }
    Ok((h.to_string(), port))
}
