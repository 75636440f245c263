//! netkit's HTTP/1.1 client, shared by the http-probe component and netkit:
//!
//! - [`request`]: the request bytes (method, target, headers, body).
//! - [`response`]: the response read off any [`tls_proto::Transport`]
//!   (content-length, chunked, until close; heads and bodies bounded).
//! - [`decode`]: gzip, deflate and br, bounded.
//! - [`redirect`]: where a `Location` leads, and whether that origin is granted.
//! - [`expect`]: blackbox_exporter's checks (status codes, versions, regexes on body and headers).
//! - [`text`]: the summary line, `-v`'s headers, and the JSON.

pub mod decode;
pub mod expect;
pub mod redirect;
pub mod request;
pub mod response;
pub mod text;

pub use response::{Head, Response, ResponseError};

#[cfg(test)]
mod tests;
