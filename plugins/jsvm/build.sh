#!/usr/bin/env bash
# Rebuilds the JS runtime component and copies it to host/wasm/assets/jsvm.wasm.
# Needs: rustup target wasm32-wasip2, Debian packages clang-19 llvm-19 wasi-libc
# (see shared/notes/wasm-recipe.md). The output is byte-identical across checkouts:
# machine paths are remapped, so CI can rebuild and compare with the committed file.
set -euo pipefail
cd "$(dirname "$0")"
HERE="$PWD"
ROOT="$(cd ../.. && pwd)"
TARGET_DIR="${JSVM_TARGET_DIR:-$HOME/.cache/pocketbun-jsvm-target}"

# Debian puts wasi-libc in multiarch dirs; clang wants one sysroot dir.
SYSROOT="$TARGET_DIR/sysroot"
mkdir -p "$SYSROOT/lib"
ln -sfn /usr/include/wasm32-wasi "$SYSROOT/include"
ln -sfn /usr/lib/wasm32-wasi "$SYSROOT/lib/wasm32-wasip2"

export RQUICKJS_SYS_NO_WASI_SDK=1   # else rquickjs-sys downloads wasi-sdk
export CC_wasm32_wasip2=clang-19
export AR_wasm32_wasip2=llvm-ar-19
export CARGO_TARGET_DIR="$TARGET_DIR"
cargo fetch --locked --target wasm32-wasip2

# (build scripts copy C sources into the target dir, so that is remapped too)
CFLAGS="--sysroot=$SYSROOT -ffile-prefix-map=$ROOT=/src -ffile-prefix-map=$TARGET_DIR=/target"
RUSTFLAGS="--remap-path-prefix=$ROOT=/src --remap-path-prefix=$TARGET_DIR=/target --remap-path-prefix=${RUSTUP_HOME:-$HOME/.rustup}=/rustup"
shopt -s nullglob
for reg in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  reg="${reg%/}"
  CFLAGS="$CFLAGS -ffile-prefix-map=$reg=/cargo"
  RUSTFLAGS="$RUSTFLAGS --remap-path-prefix=$reg=/cargo"
done
export CFLAGS_wasm32_wasip2="$CFLAGS" RUSTFLAGS

cargo build --locked --release --target wasm32-wasip2
OUT="$ROOT/host/wasm/assets/jsvm.wasm"
mkdir -p "$(dirname "$OUT")"
cp "$TARGET_DIR/wasm32-wasip2/release/pocketbun_jsvm.wasm" "$OUT"
(cd "$ROOT" && sha256sum host/wasm/assets/jsvm.wasm > host/wasm/assets/jsvm.wasm.sha256)
# what it was built from (checked by scripts/test-all's jsvm stage)
"$ROOT/scripts/jsvm-inputs" > "$OUT.inputs"
ls -l "$OUT"; cat "$OUT.sha256"
