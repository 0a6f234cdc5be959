#!/usr/bin/env bash
# Stands in for wasm-opt in TWENTY_EDGE_FAST builds: copies the input to the `-o` output.
set -euo pipefail
in="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -*) shift ;;
    *) [ -z "$in" ] && in="$1"; shift ;;
  esac
done
if [ -n "$out" ] && [ "$in" != "$out" ]; then cp "$in" "$out"; fi
