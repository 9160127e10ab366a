#!/usr/bin/env bash
# Builds dist/rust-hello.wasm (a wasm32-wasip2 component; no extra tools needed:
# rustc's own linker wraps the module into a component).
# Needs: rustup target add wasm32-wasip2
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${RUST_HELLO_TARGET_DIR:-$PWD/target}"
cargo build --release --target wasm32-wasip2
mkdir -p dist
cp "$CARGO_TARGET_DIR/wasm32-wasip2/release/rust_hello.wasm" dist/rust-hello.wasm
ls -l dist/rust-hello.wasm
