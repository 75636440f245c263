//! The netkit HTTP probe component: `wasi:cli/run` for the command line and
//! `netkit:diag/http-probe` for plugin hosts. The fetch, hop by hop, is in
//! `fetch.rs`; HTTP itself in http-proto, TLS in tls-proto.

mod cli;
mod fetch;

use exports::netkit::diag::http_probe::{Guest, HttpError, HttpRequest, HttpResponse};

wit_bindgen::generate!({
    world: "http-probe-component",
    path: "../../wit",
    generate_all,
});

struct Component;

impl Guest for Component {
    fn probe(request: HttpRequest) -> Result<HttpResponse, HttpError> {
        fetch::probe(&request)
    }
}

export!(Component);

// The bindings above are generated from this WIT; naming it here makes cargo
// rebuild them when it changes (the macro does not tell cargo).
const _: &[u8] = include_bytes!("../../../wit/http.wit");
const _: &[u8] = include_bytes!("../../../wit/tls.wit");
