#!/bin/sh
# test.sh: the AssemblyScript SDK's unit tests. Builds tests/flows.ts with
# build.sh and drives it under node (tests/run.mjs): the codec against the
# golden bytes of docs/abi.md, the dispatcher's strictness, the stateful
# rules, the connectors, the stream connectors' JSON arguments and Message
# codec (tests/streams.ts), the ErrorInfo left for bxwasm_last_error and
# the windowing operators (tests/windows.ts);
# then builds every example. Exits non-zero on a failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/build.sh" "$here/tests/flows.ts" "$tmp/flows.wasm"
"$here/build.sh" "$here/tests/parts.ts" "$tmp/parts.wasm"
"$here/build.sh" "$here/tests/streams.ts" "$tmp/streams.wasm"
"$here/build.sh" "$here/tests/windows.ts" "$tmp/windows.wasm"
node "$here/tests/run.mjs" "$tmp/flows.wasm" "$tmp/parts.wasm" "$tmp/streams.wasm" "$tmp/windows.wasm"
for ex in "$here"/examples/*/; do
	name=$(basename "$ex")
	"$here/build.sh" "$ex" "$tmp/$name-as.wasm"
	echo "ok: built examples/$name"
done
