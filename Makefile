# Depot's two everyday commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

export PATH := $(HOME)/.cargo/bin:$(HOME)/.cargo/depot-tools/node_modules/.bin:$(PATH)
export DEPOT_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
export DEPOT_BIN := $(abspath $(TARGET_DIR))/debug/depot
RELEASE_BIN := $(abspath $(TARGET_DIR))/release/depot

.PHONY: run test tools browser proxy lint unit e2e build require-postgres bench stress fuzz fuzz-tools
CARGO_FUZZ_VERSION := 0.13.2

## run: install what is missing, build the optimised (release) site with pre-compressed assets,
## serve http://127.0.0.1:3000 with the demo warehouse in an empty database (SQLite
## depot.db by default). The release build is what a handheld should get: a debug build's wasm
## is 9 MB and takes seconds before a page answers a scan.
run: tools
	cargo leptos build --release --precompress --split
	$(RELEASE_BIN) serve --demo-if-empty

## test: formatting, lints, unit and integration tests on SQLite and PostgreSQL, browser tests
test: tools browser proxy require-postgres lint unit e2e
	@echo "make test: all checks passed"

tools:
	@scripts/install-tools.sh

## browser: Debian's Chromium and the Playwright package (no browser download)
browser:
	@scripts/install-browser.sh

## proxy: Debian's nginx, for the test of several nodes behind a reverse proxy
proxy:
	@scripts/install-nginx.sh

require-postgres:
	@psql "$$DEPOT_TEST_DATABASE_URL" -Atqc 'SELECT 1' >/dev/null 2>&1 || { \
	  echo "error: PostgreSQL is required by the tests and does not answer at $$DEPOT_TEST_DATABASE_URL." >&2; \
	  echo "       Start it (pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start)" >&2; \
	  echo "       or point DEPOT_TEST_DATABASE_URL at a server whose user may create databases." >&2; \
	  exit 1; }

lint:
	cargo fmt --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --features ssr

## build: the debug site the browser tests run; `--split` because the islands of pages other
## than the handheld's first view are lazy (their code is fetched on their page only)
build:
	cargo leptos build --split

e2e: build
	cd end2end && npx playwright test

## bench: release build (assets pre-compressed), then 100 000 demo items per backend under HTTP load beside the same work
## sent straight to the database; prints a table, writes target/bench/latest.{json,md}
## (BENCH_ARGS="--seconds 2 --items 20000" for a quicker look)
bench: tools require-postgres
	cargo leptos build --release --precompress --split
	cargo run --release --features ssr --example bench -- \
	  --depot $(abspath $(TARGET_DIR))/release/depot $(BENCH_ARGS)

## stress: the invariant stress, crash (SIGKILL) and PostgreSQL outage suites at full size;
## `make test` runs them small (DEPOT_STRESS_REQUESTS=400, DEPOT_STRESS_CRASHES=3); then the
## request-decoding fuzzer for FUZZ_SECONDS (default 60) on the nightly toolchain
FUZZ_SECONDS ?= 60
stress: require-postgres fuzz-tools
	DEPOT_STRESS_REQUESTS=$${DEPOT_STRESS_REQUESTS:-20000} DEPOT_STRESS_CRASHES=$${DEPOT_STRESS_CRASHES:-10} \
	  cargo test --features ssr --test depot -- stress:: --nocapture
	$(MAKE) fuzz

## fuzz: every request body and query string through Depot's decoders (cargo fuzz, libFuzzer).
## Memory-safe code with no `unsafe`: no sanitizer, debug assertions (overflow checks) on.
fuzz: fuzz-tools
	mkdir -p fuzz/corpus/decode_request
	cd fuzz && cargo +nightly fuzz run --sanitizer none --debug-assertions decode_request \
	  corpus/decode_request seeds/decode_request -- -max_total_time=$(FUZZ_SECONDS) -max_len=4096

fuzz-tools:
	@rustup toolchain list | grep -q '^nightly' || { \
	  echo "error: cargo fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2; exit 1; }
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked
