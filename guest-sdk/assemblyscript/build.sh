#!/bin/sh
# build.sh SRC OUT.wasm: builds one bxwasm guest written in AssemblyScript.
#
# SRC is your entry .ts file (or a directory holding index.ts). It imports
# this SDK by relative path and registers its flows at the top level. The
# SDK's ABI exports (assembly/exports.ts) are compiled in as a second
# entry. The build is asc -O3 (speed first, then size), the minimal
# runtime (the SDK collects garbage between calls), no debug info, AssemblyScript's abort (throw, failed
# assert) pointed at the SDK's handler and Math.random seeded from WASI,
# so the module imports nothing but wasi_snapshot_preview1.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SRC OUT.wasm  (SRC: an entry .ts file or a directory with index.ts)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd -P)
src=$1
out=$2
if [ -d "$src" ]; then src=$src/index.ts; fi
if [ ! -f "$src" ]; then
	echo "build.sh: $src: no such file" >&2
	exit 2
fi
for tool in node npm; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "build.sh: $tool is missing; install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm)" >&2
		exit 1
	fi
done
asc=$here/node_modules/assemblyscript/bin/asc.js
if [ ! -f "$asc" ]; then
	echo "build.sh: installing the assemblyscript npm package (npm ci in $here)" >&2
	(cd "$here" && npm ci --no-audit --no-fund >&2) || {
		echo "build.sh: npm ci failed; the build needs the assemblyscript package from the npm registry" >&2
		exit 1
	}
fi

# asc names every file by its path from the directory it runs in; running
# it from / gives each file one name, however your entry imports the SDK,
# and lets --use name the abort handler.
abs() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd -P)" "$(basename "$1")"); }
src=$(abs "$src")
mkdir -p "$(dirname "$out")"
out=$(abs "$out")
sdk=${here#/}/assembly
cd /
node "$asc" "${src#/}" "$sdk/exports.ts" -o "$out" \
	-O3 --runtime minimal --exportStart _initialize \
	--use "abort=$sdk/errors/bxAbort" --use "seed=$sdk/wasi/wasiSeed"
node "$here/tools/check.mjs" "$out"
