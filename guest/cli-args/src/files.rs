//! Every file a user names (a CA bundle, a token, a request body, a config, a
//! component) is read here: only a regular file (or a pipe), and only up to a
//! limit for what it is, so `--ca /dev/zero` or a runaway file is one clear
//! error instead of memory without bound (issue 31).

use std::io::Read;
use std::path::Path;

/// What a file is for, and the most netkit reads of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A password, token or credentials file: 64 KiB.
    Secret,
    /// A PEM bundle of certificates or a key: 16 MiB (the system's bundle is ~200 KiB).
    Pem,
    /// A config file (watch, web config, Docker's config.json): 16 MiB.
    Config,
    /// A request body: 16 MiB.
    Body,
    /// A WebAssembly component: 256 MiB.
    Component,
}

impl Kind {
    /// The most bytes read.
    pub fn limit(self) -> u64 {
        match self {
            Kind::Secret => 64 << 10,
            Kind::Pem | Kind::Config | Kind::Body => 16 << 20,
            Kind::Component => 256 << 20,
        }
    }

    /// What such a file is called in messages.
    fn noun(self) -> &'static str {
        match self {
            Kind::Secret => "secret file",
            Kind::Pem => "PEM file",
            Kind::Config => "config",
            Kind::Body => "body file",
            Kind::Component => "component",
        }
    }

    fn shown_limit(self) -> String {
        let n = self.limit();
        if n >= 1 << 20 {
            format!("{} MiB", n >> 20)
        } else {
            format!("{} KiB", n >> 10)
        }
    }
}

fn readable(path: &Path, kind: Kind) -> Result<(), String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {} {}: {e}", kind.noun(), path.display()))?;
    let ft = meta.file_type();
    #[cfg(unix)]
    let pipe = std::os::unix::fs::FileTypeExt::is_fifo(&ft);
    #[cfg(not(unix))]
    let pipe = false;
    if ft.is_dir() {
        return Err(format!("{} is a directory, not a file", path.display()));
    }
    if !ft.is_file() && !pipe {
        return Err(format!(
            "{} is not a regular file (a device or socket): give a file",
            path.display()
        ));
    }
    Ok(())
}

/// The bytes of `path`, a regular file or a pipe, at most `kind`'s limit.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, String> {
    readable(path, kind)?;
    let cannot = |e: std::io::Error| format!("cannot read {} {}: {e}", kind.noun(), path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut out = Vec::new();
    file.take(kind.limit() + 1)
        .read_to_end(&mut out)
        .map_err(cannot)?;
    if out.len() as u64 > kind.limit() {
        return Err(format!(
            "{} is larger than the {} netkit reads for such a file",
            path.display(),
            kind.shown_limit()
        ));
    }
    Ok(out)
}

/// The text of `path` (UTF-8), as [`read`].
pub fn read_text(path: &Path, kind: Kind) -> Result<String, String> {
    String::from_utf8(read(path, kind)?)
        .map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused() {
        // Issue 31: --ca /dev/zero grew to 13.9 GB in 30 s.
        let e = read(Path::new("/dev/zero"), Kind::Pem).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read(Path::new("/"), Kind::Pem).unwrap_err();
        assert!(e.contains("directory"), "{e}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_by_name() {
        let p = std::env::temp_dir().join(format!("cli-args-files-{}", std::process::id()));
        std::fs::write(&p, vec![b'x'; (Kind::Secret.limit() + 1) as usize]).unwrap();
        let e = read(&p, Kind::Secret).unwrap_err();
        assert!(e.contains("larger than the 64 KiB"), "{e}");
        std::fs::write(&p, b"token\n").unwrap();
        assert_eq!(read_text(&p, Kind::Secret).unwrap(), "token\n");
        let _ = std::fs::remove_file(&p);
    }
}
