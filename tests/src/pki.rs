//! Test certificates made with rcgen: a root CA, an intermediate, and leaves
//! of every kind a TLS probe must tell apart (good, expired, not yet valid,
//! wrong name, self-signed), written as PEM files for nginx and openssl.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// A CA chain in a directory.
pub struct Pki {
    dir: PathBuf,
    /// The root's PEM file (what `--ca` is given).
    pub ca: PathBuf,
    intermediate: Issuer<'static, KeyPair>,
    intermediate_pem: String,
}

/// A leaf: the chain nginx sends (leaf + intermediate), its key, the leaf alone.
#[derive(Clone)]
pub struct Leaf {
    /// Leaf then intermediate, PEM (nginx's ssl_certificate).
    pub chain: PathBuf,
    /// The leaf's key, PEM.
    pub key: PathBuf,
    /// The leaf alone, PEM (for openssl x509).
    pub leaf: PathBuf,
    /// The intermediate alone, PEM ("" for a self-signed leaf).
    pub intermediate: Option<PathBuf>,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::OrganizationName, "netkit tests");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    p.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    p
}

impl Pki {
    /// A root and an intermediate under `dir`.
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let root_key = KeyPair::generate().unwrap();
        let root_params = ca_params("netkit test root");
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(root_params, root_key);
        let int_key = KeyPair::generate().unwrap();
        let int_params = ca_params("netkit test intermediate");
        let int = int_params.signed_by(&int_key, &root_issuer).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, root.pem()).unwrap();
        Pki {
            dir: dir.to_path_buf(),
            ca,
            intermediate: Issuer::new(int_params, int_key),
            intermediate_pem: int.pem(),
        }
    }

    /// A leaf named `name` for `sans`, valid from `from` to `until` days from now
    /// (negative: in the past), signed by the intermediate.
    pub fn leaf(&self, name: &str, sans: &[&str], from: i64, until: i64) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let params = leaf_params(sans, from, until);
        let cert = params.signed_by(&key, &self.intermediate).unwrap();
        self.write(name, &cert.pem(), Some(&self.intermediate_pem), &key)
    }

    /// A self-signed leaf for `sans`.
    pub fn self_signed(&self, name: &str, sans: &[&str]) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let cert = leaf_params(sans, -1, 90).self_signed(&key).unwrap();
        self.write(name, &cert.pem(), None, &key)
    }

    fn write(&self, name: &str, leaf: &str, intermediate: Option<&str>, key: &KeyPair) -> Leaf {
        let path = |suffix: &str| self.dir.join(format!("{name}{suffix}"));
        let chain = format!("{leaf}{}", intermediate.unwrap_or(""));
        std::fs::write(path(".chain.pem"), chain).unwrap();
        std::fs::write(path(".key.pem"), key.serialize_pem()).unwrap();
        std::fs::write(path(".leaf.pem"), leaf).unwrap();
        let intermediate = intermediate.map(|pem| {
            std::fs::write(path(".int.pem"), pem).unwrap();
            path(".int.pem")
        });
        Leaf {
            chain: path(".chain.pem"),
            key: path(".key.pem"),
            leaf: path(".leaf.pem"),
            intermediate,
        }
    }
}

fn leaf_params(sans: &[&str], from: i64, until: i64) -> CertificateParams {
    let mut p =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name
        .push(DnType::OrganizationName, "netkit tests");
    p.distinguished_name.push(DnType::CommonName, sans[0]);
    let now = OffsetDateTime::now_utc();
    p.not_before = now + Duration::days(from);
    p.not_after = now + Duration::days(until);
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&rand_serial()));
    p
}

fn rand_serial() -> [u8; 8] {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut s = (t ^ u64::from(std::process::id()).rotate_left(32)).to_be_bytes();
    s[0] = (s[0] & 0x7f) | 0x10;
    s
}
