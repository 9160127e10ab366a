#!/usr/bin/env bash
# Builds both example plugins into their dist/ dirs (used by tests/sdk/test/46-*).
# Needs: rustup target wasm32-wasip2 (rust-hello); node >= 20 + npm (js-hello).
set -euo pipefail
cd "$(dirname "$0")"
bash rust-hello/build.sh
(cd js-hello && { [ -d node_modules/@bytecodealliance/componentize-js ] || npm ci --no-audit --no-fund; } && node build.mjs)
