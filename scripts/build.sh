#!/usr/bin/env bash
# Builds the Worker (wasm + JS shim) into build/. Called by wrangler (wrangler.jsonc
# "build.command") and by the test fixture. Two toolchain paths, see docs/DEVELOPMENT.md:
#  - rustup with the wasm32 target (a developer laptop): worker-build --panic-unwind, which
#    uses rustup's nightly to rebuild std with unwinding;
#  - Debian's rustc-web (these machines, CI): std is built from the vendored sources with
#    RUSTC_BOOTSTRAP, also with panic=unwind.
# Unwinding matters: src/lib.rs catches panics at every entry point and turns them into a
# 500 with the standard error body, and the instance keeps serving.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests build once, then start many servers with TWENTY_EDGE_PREBUILT=1.
if [ -n "${TWENTY_EDGE_PREBUILT:-}" ] && [ -f build/index.js ]; then exit 0; fi

export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
WORKER_BUILD="${CARGO_HOME:-$HOME/.cargo}/bin/worker-build"

path=$(cat .toolchain-path 2>/dev/null || echo debian)
if [ "$path" = rustup ]; then
  exec "$WORKER_BUILD" --release --panic-unwind
fi

export PATH=/usr/bin:$PATH                     # Debian's cargo + rustc first
export RUSTC_BOOTSTRAP=1                       # -Zbuild-std on a stable compiler
export CARGO_UNSTABLE_BUILD_STD=std,panic_unwind
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Cpanic=unwind"
# Keep Debian's artefacts apart from rustup's native ones (different rustc, same crates).
export CARGO_TARGET_DIR="$PWD/target/debian"
# TWENTY_EDGE_FAST=1: a development build (no LTO, parallel codegen, incremental) in its
# own target dir, about 4x quicker to rebuild; never used by CI or the benchmarks.
if [ -n "${TWENTY_EDGE_FAST:-}" ]; then
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  export CARGO_PROFILE_RELEASE_INCREMENTAL=true CARGO_PROFILE_RELEASE_OPT_LEVEL=1
  export CARGO_TARGET_DIR="$PWD/target/debian-fast"
  export WASM_OPT_BIN="$PWD/scripts/wasm-opt-skip.sh"
fi
exec "$WORKER_BUILD" --release
