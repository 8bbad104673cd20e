#!/usr/bin/env bash
# Installs the build tools Depot needs, idempotently: the wasm target, cargo-leptos,
# the wasm-bindgen CLI matching Cargo.lock, and wasm-opt (npm's binaryen).
# Everything lands under ~/.cargo/bin or ./node_modules, so CI caches it across runs.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
# Must equal the wasm-bindgen crate pinned in Cargo.toml (the CLI and the crate share a schema).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$(dirname "$0")/../Cargo.toml")
REG_SRC=$(echo "$HOME"/.cargo/registry/src/index.crates.io-*)

say() { printf '\033[1m[tools]\033[0m %s\n' "$*"; }

# Copies a crate's source out of the registry cache (downloading it with a failing
# `cargo install` if needed), pins one dependency to a version the mirror and our rustc
# have, and installs from the copy.
install_from_source() {
  local crate=$1 version=$2 pin_pkg=$3 pin_ver=$4
  local src
  src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n1 || true)
  if [ -z "$src" ]; then
    say "fetching $crate $version source"
    cargo install "$crate" --version "$version" --locked >/dev/null 2>&1 || true
    src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n1 || true)
  fi
  [ -n "$src" ] || { echo "error: could not fetch $crate $version from crates.io" >&2; exit 1; }
  local work
  work=$(mktemp -d)
  cp -r "$src" "$work/$crate"
  (cd "$work/$crate" && cargo update -p "$pin_pkg" --precise "$pin_ver" && cargo install --path . --locked)
  rm -rf "$work"
}

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (one time, ~20 min)"
  install_from_source cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (one time, ~4 min)"
  install_from_source wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
fi

TOOLS_NPM="$HOME/.cargo/depot-tools"
if [ ! -x "$TOOLS_NPM/node_modules/.bin/wasm-opt" ]; then
  say "installing wasm-opt (npm binaryen)"
  npm install --prefix "$TOOLS_NPM" --no-save --silent binaryen@132 >/dev/null
fi
say "tools ready"
