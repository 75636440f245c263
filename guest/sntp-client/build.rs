//! A 64 KiB stack instead of Rust's 1 MiB default for wasm32: the client's
//! deepest path (clap parsing `--help`) needs a fraction of it, and a small
//! linear memory is cheaper to reset for each embedded query (the pooling
//! allocator rewrites it in place). Overflowing it traps; it cannot corrupt
//! memory, as the stack sits below the data.

fn main() {
    println!("cargo::rustc-link-arg=-zstack-size=65536");
}
