//! What a component is, read from its own bytes before anything runs: digest,
//! size, world, imports and exports (wit-component's decoder, the one
//! `wasm-tools component wit` uses), the functions of its non-WASI interfaces, and
//! its metadata sections (producers, version, description). Pure.

use serde::Serialize;
use wit_parser::{Resolve, Type, TypeDefKind, WorldItem, WorldKey};

/// One import or export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// `wasi:sockets/tcp@0.2.6`, `netkit:diag/sntp-client`, or a bare function's name.
    pub name: String,
    /// `interface`, `function` or `type`.
    pub kind: &'static str,
    /// Its functions as WIT signatures (`query: func(request: sntp-request) -> result<…>`),
    /// listed for the component's own interfaces (not `wasi:`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
}

/// A component's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Info {
    /// `sha256:HEX` of the bytes.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// The world's name as the binary records it.
    pub world: String,
    /// Imports, in the binary's order.
    pub imports: Vec<Item>,
    /// Exports, in the binary's order.
    pub exports: Vec<Item>,
    /// The producers section: `(field, tool, version)` (language, processed-by, sdk).
    pub producers: Vec<(String, String, String)>,
    /// The `version` custom section, if any.
    pub version: Option<String>,
    /// Its description section, if any.
    pub description: Option<String>,
}

impl Info {
    /// The imports' and exports' names, as the OCI config's `component` lists them.
    pub fn claims(&self) -> (Vec<String>, Vec<String>) {
        let names = |v: &[Item]| v.iter().map(|i| i.name.clone()).collect();
        (names(&self.imports), names(&self.exports))
    }
}

/// The facts of the component in `bytes`, or one line saying what it is instead.
pub fn inspect(bytes: &[u8]) -> Result<Info, String> {
    if !bytes.starts_with(b"\0asm") {
        return Err("not a WebAssembly file (it does not start with \\0asm)".into());
    }
    if bytes.get(6..8) == Some(&[0, 0]) {
        return Err("a core WebAssembly module, not a component".into());
    }
    sections_fit(bytes, 0)?;
    let decoded = wit_component::decode(bytes).map_err(|e| {
        let text = format!("{e:#}");
        format!(
            "not a valid WebAssembly component: {}",
            text.lines().next().unwrap_or("invalid")
        )
    })?;
    let wit_component::DecodedWasm::Component(resolve, world_id) = decoded else {
        return Err("a WIT package, not a component".into());
    };
    let world = &resolve.worlds[world_id];
    let items = |map: &wit_parser::IndexMap<WorldKey, WorldItem>| {
        map.iter()
            .map(|(key, item)| describe(&resolve, key, item))
            .collect::<Vec<_>>()
    };
    let mut info = Info {
        digest: crate::oci::store::sha256(bytes),
        size: bytes.len() as u64,
        world: world.name.clone(),
        imports: items(&world.imports),
        exports: items(&world.exports),
        producers: Vec::new(),
        version: None,
        description: None,
    };
    // Custom sections, the component's own and its modules' (where rustc and
    // wit-bindgen record themselves): producers (wasm-metadata's reader),
    // component-name's first entry, version and description (UTF-8 text).
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(wasmparser::Payload::CustomSection(c)) = payload else {
            continue;
        };
        match c.name() {
            "producers" => {
                if let Ok(p) = wasm_metadata::Producers::from_bytes(c.data(), c.data_offset()) {
                    for (field, tools) in p.iter() {
                        for (tool, version) in tools.iter() {
                            let e = probe_proto::escape_controls;
                            let row = (e(field), e(tool), e(version));
                            if !info.producers.contains(&row) {
                                info.producers.push(row);
                            }
                        }
                    }
                }
            }
            "version" if info.version.is_none() => {
                info.version = std::str::from_utf8(c.data())
                    .ok()
                    .map(probe_proto::escape_controls);
            }
            "description" if info.description.is_none() => {
                info.description = std::str::from_utf8(c.data())
                    .ok()
                    .map(probe_proto::escape_controls);
            }
            _ => {}
        }
    }
    Ok(info)
}

/// Every section's stated size fits in what is left of the file, in the
/// component and in every module and component nested in it, checked before
/// any decoder sees the bytes (issue 31: an 18-byte file whose custom section
/// claimed 4 GiB made inspect take 4.2 GB).
fn sections_fit(bytes: &[u8], at: usize) -> Result<(), String> {
    let bad = |what: String| Err(format!("not a valid WebAssembly component: {what}"));
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return bad(format!("no WebAssembly header at offset {at}"));
    }
    let component = bytes[6..8] != [0, 0];
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let (size, n) = leb_u32(&bytes[pos..]).ok_or_else(|| {
            format!(
                "not a valid WebAssembly component: a section size at offset {} is not a number",
                at + pos
            )
        })?;
        pos += n;
        let left = bytes.len() - pos;
        if size as usize > left {
            return bad(format!(
                "section {id} at offset {} says it is {size} bytes, only {left} follow",
                at + pos - n - 1
            ));
        }
        // Core modules (1) and components (4) nested in a component.
        if component && matches!(id, 1 | 4) {
            sections_fit(&bytes[pos..pos + size as usize], at + pos)?;
        }
        pos += size as usize;
    }
    Ok(())
}

/// An unsigned LEB128 `u32` and the bytes it took.
fn leb_u32(b: &[u8]) -> Option<(u32, usize)> {
    let mut v: u64 = 0;
    for (i, &byte) in b.iter().take(5).enumerate() {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(v).ok().map(|v| (v, i + 1));
        }
    }
    None
}

fn describe(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> Item {
    let name = resolve.name_world_key(key);
    match item {
        WorldItem::Interface { id, .. } => {
            let own = !name.starts_with("wasi:");
            let functions = if own {
                resolve.interfaces[*id]
                    .functions
                    .values()
                    .map(|f| signature(resolve, f))
                    .collect()
            } else {
                Vec::new()
            };
            Item {
                name,
                kind: "interface",
                functions,
            }
        }
        WorldItem::Function(f) => Item {
            name,
            kind: "function",
            functions: vec![signature(resolve, f)],
        },
        WorldItem::Type { .. } => Item {
            name,
            kind: "type",
            functions: Vec::new(),
        },
    }
}

/// `name: func(a: t, …) -> r` in WIT.
fn signature(resolve: &Resolve, f: &wit_parser::Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, type_name(resolve, &p.ty)))
        .collect();
    let result = f
        .result
        .as_ref()
        .map(|t| format!(" -> {}", type_name(resolve, t)))
        .unwrap_or_default();
    format!("{}: func({}){result}", f.name, params.join(", "))
}

/// A type as WIT writes it where it is used.
fn type_name(resolve: &Resolve, ty: &Type) -> String {
    let id = match ty {
        Type::Bool => return "bool".into(),
        Type::U8 => return "u8".into(),
        Type::U16 => return "u16".into(),
        Type::U32 => return "u32".into(),
        Type::U64 => return "u64".into(),
        Type::S8 => return "s8".into(),
        Type::S16 => return "s16".into(),
        Type::S32 => return "s32".into(),
        Type::S64 => return "s64".into(),
        Type::F32 => return "f32".into(),
        Type::F64 => return "f64".into(),
        Type::Char => return "char".into(),
        Type::String => return "string".into(),
        Type::ErrorContext => return "error-context".into(),
        Type::Id(id) => *id,
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    let t = |t: &Type| type_name(resolve, t);
    let opt = |o: &Option<Type>| o.as_ref().map_or("_".to_string(), t);
    match &def.kind {
        TypeDefKind::List(e) => format!("list<{}>", t(e)),
        TypeDefKind::FixedLengthList(e, n) => format!("list<{}, {n}>", t(e)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", t(k), t(v)),
        TypeDefKind::Option(e) => format!("option<{}>", t(e)),
        TypeDefKind::Result(r) => match (&r.ok, &r.err) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", t(ok)),
            (ok, Some(err)) => format!("result<{}, {}>", opt(ok), t(err)),
        },
        TypeDefKind::Tuple(tu) => format!(
            "tuple<{}>",
            tu.types.iter().map(t).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Handle(wit_parser::Handle::Own(r)) => t(&Type::Id(*r)),
        TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) => {
            format!("borrow<{}>", t(&Type::Id(*r)))
        }
        TypeDefKind::Future(e) => format!("future<{}>", opt(e)),
        TypeDefKind::Stream(e) => format!("stream<{}>", opt(e)),
        TypeDefKind::Type(inner) => t(inner),
        _ => "_".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::Builtin;

    #[test]
    fn the_sntp_client_shows_its_typed_interface() {
        let info = inspect(Builtin::SntpClient.bytes()).unwrap();
        assert_eq!(
            info.digest,
            crate::oci::store::sha256(Builtin::SntpClient.bytes())
        );
        let own = info
            .exports
            .iter()
            .find(|e| e.name.starts_with("netkit:diag/sntp-client"))
            .expect("the typed export");
        assert!(
            own.functions.iter().any(|f| f.starts_with("query: func(")),
            "{own:?}"
        );
        assert!(
            info.exports
                .iter()
                .any(|e| e.name.starts_with("wasi:cli/run@"))
        );
        assert!(
            info.imports
                .iter()
                .any(|e| e.name.starts_with("wasi:sockets/udp@"))
        );
        assert!(
            info.producers
                .iter()
                .any(|(f, t, _)| f == "language" && t == "Rust")
        );
    }

    #[test]
    fn not_components_are_named() {
        assert!(
            inspect(b"hello")
                .unwrap_err()
                .contains("not a WebAssembly file")
        );
        assert!(
            inspect(b"\0asm\x01\0\0\0")
                .unwrap_err()
                .contains("core WebAssembly module")
        );
    }

    #[test]
    fn a_section_claiming_more_than_the_file_is_refused_before_decoding() {
        // Issue 31: 18 bytes whose custom section claims 4 GiB took 4.2 GB.
        let mut file = b"\0asm\x0d\0\x01\0".to_vec();
        file.extend([0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        file.extend(b"name");
        assert_eq!(file.len(), 18);
        let e = inspect(&file).unwrap_err();
        assert!(
            e.contains("says it is 4294967295 bytes, only 4 follow"),
            "{e}"
        );
        // A nested module claiming more than its parent holds.
        let mut nested = b"\0asm\x0d\0\x01\0".to_vec();
        let inner = [&b"\0asm\x01\0\0\0"[..], &[0x00, 0xff, 0xff, 0x03]].concat();
        nested.push(0x01);
        nested.push(inner.len() as u8);
        nested.extend(&inner);
        let e = inspect(&nested).unwrap_err();
        assert!(e.contains("says it is"), "{e}");
    }

    #[test]
    fn peer_text_in_metadata_is_escaped() {
        // Issue 31: a description with escape sequences was printed raw.
        assert_eq!(
            probe_proto::escape_controls("ok\x1b[2J\nforged"),
            "ok\\u{1b}[2J\\nforged"
        );
    }
}
