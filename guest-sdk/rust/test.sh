#!/bin/sh
# Runs the Rust SDK's native unit tests (the wire against the golden bytes
# of docs/abi.md, codecs, the dispatcher, stateful rules, the panic hook,
# the stream connectors' arguments and Message codec), then builds every
# example for wasm with build.sh (BXWASM_SKIP_EXAMPLES=1 skips that).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rustc=${RUSTC:-}
if [ -z "$rustc" ]; then
	for c in rustc /usr/bin/rustc; do
		if command -v "$c" >/dev/null 2>&1; then
			rustc=$c
			break
		fi
	done
fi
if [ -z "$rustc" ]; then
	echo "$0: no rustc found; install it with: apt-get install rustc (Debian)" >&2
	exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$rustc" --edition 2021 --test -C opt-level=1 -o "$out/bxwasm-tests" "$here/src/lib.rs"
"$out/bxwasm-tests" "$@"
if [ -z "${BXWASM_SKIP_EXAMPLES:-}" ]; then
	for ex in "$here"/examples/*/; do
		name=$(basename "$ex")
		"$here/build.sh" "$ex" "$out/$name-rust.wasm"
		echo "ok: built examples/$name"
	done
fi
