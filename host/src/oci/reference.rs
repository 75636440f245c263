//! `oci://REGISTRY/REPO[:TAG]` and `oci://REGISTRY/REPO@sha256:HEX`, as users write
//! them. Pure: parsed, checked and shown here; the client's own type is made from it.

use std::fmt;
use std::str::FromStr;

/// The scheme that marks a registry reference where a file path is also accepted.
pub const SCHEME: &str = "oci://";

/// A component in a registry: by tag (which can move) or by digest (which cannot).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciRef {
    /// `HOST[:PORT]`, as written (no default registry: it is always named).
    pub registry: String,
    /// `NAME[/NAME…]`, lower case.
    pub repository: String,
    /// What it asks for.
    pub pin: Pin,
}

/// A tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pin {
    /// `:TAG` (`latest` when none is written).
    Tag(String),
    /// `@sha256:HEX`: the manifest's digest.
    Digest(String),
}

impl OciRef {
    /// Whether `text` is meant as a registry reference (it starts with `oci://`).
    pub fn is_reference(text: &str) -> bool {
        text.starts_with(SCHEME)
    }

    /// The same repository pinned to `digest` (what a tag resolved to).
    pub fn with_digest(&self, digest: &str) -> OciRef {
        OciRef {
            pin: Pin::Digest(digest.to_string()),
            ..self.clone()
        }
    }

    /// The manifest digest it is pinned to, if any.
    pub fn digest(&self) -> Option<&str> {
        match &self.pin {
            Pin::Digest(d) => Some(d),
            Pin::Tag(_) => None,
        }
    }

    /// oci-client's reference (registry, repository, tag or digest).
    pub fn client_ref(&self) -> oci_client::Reference {
        match &self.pin {
            Pin::Tag(t) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                t.clone(),
            ),
            Pin::Digest(d) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                d.clone(),
            ),
        }
    }

    /// The registry's host, without a port (what `--insecure-registry HOST` names).
    pub fn host(&self) -> &str {
        registry_host(&self.registry)
    }
}

/// `HOST` of `HOST[:PORT]` (an `[IPv6]` keeps its brackets).
pub fn registry_host(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry
            .split_once(']')
            .map_or(registry, |(h, _)| &registry[..=h.len()]);
    }
    registry.split_once(':').map_or(registry, |(h, _)| h)
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry, self.repository)?;
        match &self.pin {
            Pin::Tag(t) => write!(f, ":{t}"),
            Pin::Digest(d) => write!(f, "@{d}"),
        }
    }
}

/// A manifest or blob digest as OCI writes it: `sha256:` and 64 lower-case hex digits
/// (the one algorithm netkit verifies).
pub fn check_digest(digest: &str) -> Result<(), String> {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Err(format!(
            "digest {digest:?} is not sha256:HEX (netkit verifies SHA-256 digests only)"
        ));
    };
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "digest {digest:?} does not have 64 lower-case hex digits after sha256:"
        ));
    }
    Ok(())
}

fn check_registry(registry: &str) -> Result<(), String> {
    let host = registry_host(registry);
    let port = &registry[host.len()..];
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner
            .strip_suffix(']')
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!(
            "registry {registry:?} is not HOST[:PORT] (e.g. ghcr.io or 127.0.0.1:5000)"
        ))
    }
}

/// A repository path: `/`-separated components of lower-case letters and digits,
/// joined inside by `.`, `_`, `__` or dashes (the OCI distribution grammar).
fn check_repository(repo: &str) -> Result<(), String> {
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|&x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"._-".contains(&x))
            && !c.contains("..")
            && !c.contains("___")
    };
    if repo.len() <= 255 && repo.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(format!(
            "repository {repo:?} is not a valid OCI name (lower-case letters, digits and . _ - \
             inside, / between parts, e.g. netkit/dns-probe)"
        ))
    }
}

fn check_tag(tag: &str) -> Result<(), String> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || b"._-".contains(&x));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag {tag:?} is not a valid OCI tag (letters, digits, _ . -, at most 128, e.g. 0.1.0)"
        ))
    }
}

impl FromStr for OciRef {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage =
            "write oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:DIGEST";
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| format!("{text:?} does not start with oci:// ({usage})"))?;
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| format!("{text:?} names no repository ({usage})"))?;
        check_registry(registry).map_err(|e| format!("{e} in {text:?}"))?;
        let (repository, pin) = if let Some((repo, digest)) = path.split_once('@') {
            check_digest(digest).map_err(|e| format!("{e} in {text:?}"))?;
            (repo, Pin::Digest(digest.to_string()))
        } else {
            let last = path.rfind('/').map_or(0, |i| i + 1);
            match path[last..].split_once(':') {
                Some((_, tag)) => {
                    check_tag(tag).map_err(|e| format!("{e} in {text:?}"))?;
                    (
                        &path[..last + path[last..].len() - tag.len() - 1],
                        Pin::Tag(tag.into()),
                    )
                }
                None => (path, Pin::Tag("latest".into())),
            }
        };
        check_repository(repository).map_err(|e| format!("{e} in {text:?}"))?;
        Ok(OciRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            pin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tags_digests_and_defaults() {
        let r: OciRef = "oci://127.0.0.1:5000/netkit/dns-probe:0.1.0"
            .parse()
            .unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "netkit/dns-probe");
        assert_eq!(r.pin, Pin::Tag("0.1.0".into()));
        assert_eq!(r.host(), "127.0.0.1");
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/netkit/dns-probe:0.1.0");
        let r: OciRef = format!("oci://ghcr.io/a/b@{D}").parse().unwrap();
        assert_eq!(r.digest(), Some(D));
        assert_eq!(r.to_string(), format!("oci://ghcr.io/a/b@{D}"));
        let r: OciRef = "oci://localhost/probe".parse().unwrap();
        assert_eq!(r.pin, Pin::Tag("latest".into()));
        let r: OciRef = "oci://[::1]:5000/p:v1".parse().unwrap();
        assert_eq!(r.host(), "[::1]");
        assert_eq!(
            r.with_digest(D).to_string(),
            format!("oci://[::1]:5000/p@{D}")
        );
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (text, says) in [
            ("ghcr.io/a:b", "does not start with oci://"),
            ("oci://ghcr.io", "names no repository"),
            ("oci://ghcr.io/", "repository \"\""),
            ("oci://gh cr.io/a", "is not HOST[:PORT]"),
            ("oci://host:0/a", "is not HOST[:PORT]"),
            ("oci://host:99999/a", "is not HOST[:PORT]"),
            ("oci://host/Upper", "not a valid OCI name"),
            ("oci://host/a//b", "not a valid OCI name"),
            ("oci://host/a:", "not a valid OCI tag"),
            ("oci://host/a:-x", "not a valid OCI tag"),
            ("oci://host/a@sha256:12", "64 lower-case hex"),
            ("oci://host/a@md5:12", "sha256:HEX"),
        ] {
            let e = text.parse::<OciRef>().unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn a_port_is_not_a_tag() {
        let e = "oci://host:5000".parse::<OciRef>().unwrap_err();
        assert!(e.contains("names no repository"), "{e}");
        let r: OciRef = "oci://host:5000/a/b".parse().unwrap();
        assert_eq!(
            (r.repository.as_str(), r.pin),
            ("a/b", Pin::Tag("latest".into()))
        );
    }
}
