#!/bin/sh
# test.sh - the C guest SDK's own tests: native unit tests (the codec
# against docs/abi.md's golden bytes, the dispatcher's strictness, the
# stateful rules, the windowing operators), then every example and the conformance module built
# for wasm with build.sh.
set -eu
sdk=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$sdk/../.." && pwd)
CC_NATIVE=${CC_NATIVE:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v "$CC_NATIVE" >/dev/null 2>&1; then
	echo "$0: no native C compiler ($CC_NATIVE); install one: apt-get install gcc" >&2
	exit 1
fi
"$CC_NATIVE" -std=c11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -Werror -fsanitize=address,undefined \
	-I"$sdk" "$sdk/bxwasm.c" "$sdk/bxwasm_window.c" "$sdk/tests/sdk_test.c" "$sdk/tests/window_test.c" -o "$tmp/sdk_test"
ASAN_OPTIONS=detect_leaks=0 "$tmp/sdk_test"

for ex in "$sdk"/examples/*/; do
	name=$(basename "$ex")
	"$sdk/build.sh" "$ex" "$tmp/$name-c.wasm"
	echo "ok: built examples/$name"
done
"$sdk/build.sh" "$root/conformance/c" "$tmp/conformance-c.wasm"
echo "ok: built conformance/c"
