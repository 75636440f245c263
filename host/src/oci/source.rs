//! Where a component comes from: a file, or `oci://…` in a registry. Every place
//! that takes a component (`netkit run`, `--component`, watch's `component =`)
//! takes either.

use super::reference::OciRef;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A component's source as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A `.wasm` file.
    File(PathBuf),
    /// A registry reference.
    Oci(OciRef),
}

impl FromStr for Source {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if OciRef::is_reference(text) {
            text.parse().map(Source::Oci)
        } else if text.is_empty() {
            Err("empty: give a .wasm file or oci://REGISTRY/REPO:TAG".into())
        } else {
            Ok(Source::File(PathBuf::from(text)))
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Oci(r) => write!(f, "{r}"),
        }
    }
}
