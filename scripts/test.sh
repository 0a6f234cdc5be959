#!/usr/bin/env bash
# Command 2 of README.md: sets up whatever is missing, then runs every check and test:
# formatting, clippy, native unit tests and the black-box suite against workerd.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "setup"
bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets -- -D warnings

step "build the Worker"
bash scripts/build.sh
ls -l build/index_bg.wasm 2>/dev/null || true

step "tests (native unit tests, then black-box against wrangler dev)"
# The fixture reuses the build above instead of rebuilding in every test binary.
TWENTY_EDGE_PREBUILT=1 cargo test --all-targets "$@"
