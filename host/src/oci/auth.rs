//! Registry credentials: `NETKIT_REGISTRY_USERNAME` and `NETKIT_REGISTRY_PASSWORD`,
//! else the registry's entry in `auths` of Docker's config (`$DOCKER_CONFIG/config.json`
//! or `~/.docker/config.json`), else anonymous. Credential helpers (`credsStore`)
//! are not run: netkit starts no programs. Secrets are never printed: errors name
//! the file and the registry, not what was in it.

use anyhow::{Context, Result};
use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use std::path::PathBuf;

/// Where Docker keeps its config.
fn docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The credentials for `registry` (`HOST[:PORT]`).
pub fn for_registry(registry: &str) -> Result<RegistryAuth> {
    if let (Ok(user), Ok(pass)) = (
        std::env::var("NETKIT_REGISTRY_USERNAME"),
        std::env::var("NETKIT_REGISTRY_PASSWORD"),
    ) {
        return Ok(RegistryAuth::Basic(user, pass));
    }
    let Some(path) = docker_config() else {
        return Ok(RegistryAuth::Anonymous);
    };
    if !path.exists() {
        return Ok(RegistryAuth::Anonymous);
    }
    let text = cli_args::files::read_text(&path, cli_args::files::Kind::Config)
        .map_err(anyhow::Error::msg)?;
    from_docker_config(&text, registry)
        .with_context(|| format!("{}: the entry for {registry}", path.display()))
}

/// The `auths` entry for `registry` in a Docker config's text. Pure.
pub fn from_docker_config(text: &str, registry: &str) -> Result<RegistryAuth> {
    #[derive(serde::Deserialize)]
    struct Entry {
        auth: Option<String>,
        username: Option<String>,
        password: Option<String>,
        identitytoken: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        auths: std::collections::HashMap<String, Entry>,
    }
    // serde's message could quote the file: say only where it went wrong.
    let file: File = serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "not a Docker config (JSON error at line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let entry = file.auths.iter().find(|(k, _)| {
        let k = k
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .trim_end_matches("/v2")
            .trim_end_matches("/v1");
        k == registry
    });
    let Some((_, entry)) = entry else {
        return Ok(RegistryAuth::Anonymous);
    };
    if let Some(token) = &entry.identitytoken {
        return Ok(RegistryAuth::Bearer(token.clone()));
    }
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Ok(RegistryAuth::Basic(u.clone(), p.clone()));
    }
    if let Some(auth) = &entry.auth {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .context("its auth is not base64 of USER:PASSWORD")?;
        let (u, p) = decoded
            .split_once(':')
            .context("its auth is not base64 of USER:PASSWORD")?;
        return Ok(RegistryAuth::Basic(u.to_string(), p.to_string()));
    }
    Ok(RegistryAuth::Anonymous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_auths_entries() {
        let text = r#"{"auths":{"127.0.0.1:5000":{"auth":"dXNlcjpzM2NyZXQ="},
            "https://ghcr.io/v2/":{"username":"u","password":"p"}}}"#;
        assert!(
            matches!(from_docker_config(text, "127.0.0.1:5000").unwrap(),
            RegistryAuth::Basic(u, p) if u == "user" && p == "s3cret")
        );
        assert!(matches!(from_docker_config(text, "ghcr.io").unwrap(),
            RegistryAuth::Basic(u, p) if u == "u" && p == "p"));
        assert!(matches!(
            from_docker_config(text, "other:5000").unwrap(),
            RegistryAuth::Anonymous
        ));
        let e = from_docker_config(r#"{"auths":{"h":{"auth":"!!secret!!"}}}"#, "h").unwrap_err();
        assert!(!format!("{e:#}").contains("secret"), "{e:#}");
        let e = from_docker_config("{\"auths\": \"s3cret", "h").unwrap_err();
        assert!(!format!("{e:#}").contains("s3cret"), "{e:#}");
    }
}
