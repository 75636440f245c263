//! The CNCF "wasm OCI artifact" layout (TAG Runtime's wasm-oci-artifact): an OCI
//! image manifest whose config is `application/vnd.wasm.config.v0+json` and whose
//! one layer is `application/wasm`. Pure: what a pulled manifest must be, and the
//! manifest and config netkit pushes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest's config media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The one layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// An OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media types that are an index of manifests (multi-platform images), not a component.
const INDEX_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The largest manifest or config netkit reads (real ones are under 2 KiB).
pub const MAX_MANIFEST: u64 = 1 << 20;

/// A content descriptor: what a manifest says of a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:HEX`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Annotations, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An OCI image manifest (the fields netkit reads or writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`] (optional in the spec; netkit writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Annotations (version, source, description, licenses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// The config blob's `component` object: the component's imports and exports as
/// the publisher claims them (nothing checks this against the binary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ComponentClaims {
    /// Exported interfaces (`wasi:cli/run@0.2.0`, …).
    #[serde(default)]
    pub exports: Vec<String>,
    /// Imported interfaces.
    #[serde(default)]
    pub imports: Vec<String>,
    /// The world it targets, if said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The config blob (`application/vnd.wasm.config.v0+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// When it was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `wasm`.
    #[serde(default)]
    pub architecture: String,
    /// `wasip2` for a component.
    #[serde(default)]
    pub os: String,
    /// The layers' digests, in order.
    #[serde(default)]
    pub layer_digests: Vec<String>,
    /// The component's claimed imports and exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentClaims>,
}

/// What a checked manifest leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmArtifact {
    /// The manifest as parsed.
    pub manifest: Manifest,
    /// Its config blob's descriptor.
    pub config: Descriptor,
    /// Its one layer: the component.
    pub layer: Descriptor,
}

/// `bytes` as a wasm component artifact's manifest, or one line saying why it is not
/// one: an index, another media type, not exactly one layer, a layer over `max_layer`.
pub fn check_manifest(bytes: &[u8], max_layer: u64) -> Result<WasmArtifact, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Peek {
        #[serde(default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    let peek: Peek =
        serde_json::from_slice(bytes).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    if peek.manifests.is_some()
        || peek
            .media_type
            .as_deref()
            .is_some_and(|m| INDEX_MEDIA_TYPES.contains(&m))
    {
        return Err(
            "it is an image index (a multi-platform image), not a wasm component artifact".into(),
        );
    }
    if let Some(m) = peek.media_type.as_deref()
        && m != MANIFEST_MEDIA_TYPE
    {
        return Err(format!(
            "its manifest media type is {m:?}, not an OCI image manifest ({MANIFEST_MEDIA_TYPE})"
        ));
    }
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| format!("the manifest is not an OCI image manifest: {e}"))?;
    if manifest.schema_version != 2 {
        return Err(format!(
            "its manifest has schemaVersion {} (OCI image manifests have 2)",
            manifest.schema_version
        ));
    }
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(format!(
            "its config media type is {:?}, not {CONFIG_MEDIA_TYPE:?}: not a wasm component artifact",
            manifest.config.media_type
        ));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(format!(
            "it has {} layers; a wasm component artifact has exactly one ({LAYER_MEDIA_TYPE})",
            manifest.layers.len()
        ));
    };
    if layer.media_type != LAYER_MEDIA_TYPE {
        return Err(format!(
            "its layer media type is {:?}, not {LAYER_MEDIA_TYPE:?}",
            layer.media_type
        ));
    }
    for d in [&manifest.config, layer] {
        super::reference::check_digest(&d.digest)?;
    }
    if manifest.config.size > MAX_MANIFEST {
        return Err(format!(
            "its config is {} bytes (netkit reads configs up to {MAX_MANIFEST})",
            manifest.config.size
        ));
    }
    if layer.size > max_layer {
        return Err(format!(
            "its component is {} bytes, over the {} MiB netkit pulls (NETKIT_OCI_MAX_SIZE)",
            layer.size,
            max_layer >> 20
        ));
    }
    Ok(WasmArtifact {
        config: manifest.config.clone(),
        layer: layer.clone(),
        manifest,
    })
}

/// The config blob of a component: its imports, exports and world (`target`), the
/// layer's digest. `created` is fixed at the epoch, as ko and rules_oci do, so that
/// the same component always gets the same config and manifest digest.
pub fn config_for(layer_digest: &str, claims: ComponentClaims) -> WasmConfig {
    WasmConfig {
        created: Some("1970-01-01T00:00:00Z".into()),
        author: None,
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer_digest.to_string()],
        component: Some(claims),
    }
}

/// The manifest for a config and a layer (sizes and digests as given).
pub fn manifest_for(
    config: Descriptor,
    layer: Descriptor,
    annotations: BTreeMap<String, String>,
) -> Manifest {
    Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.into()),
        config,
        layers: vec![layer],
        annotations: (!annotations.is_empty()).then_some(annotations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn desc(media_type: &str, digest: &str, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            annotations: None,
        }
    }

    fn good() -> Manifest {
        manifest_for(
            desc(CONFIG_MEDIA_TYPE, D1, 100),
            desc(LAYER_MEDIA_TYPE, D2, 5000),
            BTreeMap::new(),
        )
    }

    #[test]
    fn the_wasm_layout_passes_and_round_trips() {
        let bytes = serde_json::to_vec(&good()).unwrap();
        let a = check_manifest(&bytes, 1 << 20).unwrap();
        assert_eq!(a.layer.digest, D2);
        assert_eq!(a.config.size, 100);
        assert_eq!(a.manifest, good());
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        let mut two = good();
        two.layers.push(desc(LAYER_MEDIA_TYPE, D1, 1));
        let mut none = good();
        none.layers.clear();
        let mut image = good();
        image.config.media_type = "application/vnd.oci.image.config.v1+json".into();
        let mut tar = good();
        tar.layers[0].media_type = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        let mut big = good();
        big.layers[0].size = 2 << 20;
        let mut md5 = good();
        md5.layers[0].digest = "md5:abc".into();
        let mut docker = good();
        docker.media_type = Some("application/vnd.docker.distribution.manifest.v2+json".into());
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec();
        for (bytes, says) in [
            (serde_json::to_vec(&two).unwrap(), "has 2 layers"),
            (serde_json::to_vec(&none).unwrap(), "has 0 layers"),
            (serde_json::to_vec(&image).unwrap(), "config media type"),
            (serde_json::to_vec(&tar).unwrap(), "layer media type"),
            (serde_json::to_vec(&big).unwrap(), "over the 1 MiB"),
            (serde_json::to_vec(&md5).unwrap(), "not sha256:HEX"),
            (serde_json::to_vec(&docker).unwrap(), "manifest media type"),
            (index, "image index"),
            (b"<html>".to_vec(), "not JSON"),
        ] {
            let e = check_manifest(&bytes, 1 << 20).unwrap_err();
            assert!(e.contains(says), "{says}: {e}");
        }
    }

    #[test]
    fn the_config_is_what_wkg_reads() {
        let c = config_for(
            D2,
            ComponentClaims {
                exports: vec!["wasi:cli/run@0.2.6".into()],
                imports: vec![],
                target: None,
            },
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["architecture"], "wasm");
        assert_eq!(v["os"], "wasip2");
        assert_eq!(v["layerDigests"][0], D2);
        assert_eq!(v["component"]["exports"][0], "wasi:cli/run@0.2.6");
        assert_eq!(v["created"], "1970-01-01T00:00:00Z");
    }
}
