//! A 64 KiB stack instead of Rust's 1 MiB default for wasm32: a small linear
//! memory is cheaper to reset for each embedded query (the pooling allocator
//! rewrites it in place). The client's deepest path, clap rendering `--help`,
//! ran with a 4 KiB stack and trapped with 1 KiB (checked by hand), so 64 KiB
//! leaves ample room; the wasmtime_cli tests run `--help`. Overflowing traps
//! (out-of-bounds access below address 0): the stack sits below the data, so
//! it cannot corrupt memory.

fn main() {
    println!("cargo::rustc-link-arg=-zstack-size=65536");
}
