#!/bin/sh
# build.sh SRC OUT.wasm - build one bxwasm guest written in C.
#
# SRC is a .c file or a directory of .c files; they are compiled together
# with the SDK (bxwasm.c, bxwasm_window.c) into a WASI reactor: optimised, without debug
# information, importing only wasi_snapshot_preview1.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SRC OUT.wasm  (SRC: a .c file or a directory of .c files)" >&2
	exit 2
fi
src=$1
out=$2
sdk=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-clang}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "$0: $CC not found; install: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32" >&2
	exit 1
fi
if ! command -v wasm-ld >/dev/null 2>&1 && ! command -v wasm-ld-14 >/dev/null 2>&1; then
	echo "$0: wasm-ld not found; install it: apt-get install lld" >&2
	exit 1
fi

pkgs="clang lld wasi-libc libclang-rt-14-dev-wasm32"
reactor=$("$CC" --target=wasm32-wasi -print-file-name=crt1-reactor.o 2>/dev/null || true)
if [ ! -f "$reactor" ]; then
	echo "$0: wasi-libc for wasm32-wasi not found ($CC finds no crt1-reactor.o); install: apt-get install $pkgs" >&2
	exit 1
fi
builtins=$("$CC" --target=wasm32-wasi -print-libgcc-file-name 2>/dev/null || true)
if [ ! -f "$builtins" ]; then
	echo "$0: the compiler runtime for wasm32 is missing ($builtins); install: apt-get install $pkgs" >&2
	exit 1
fi

if [ -d "$src" ]; then
	files=$(find "$src" -maxdepth 1 -name '*.c' | sort)
	if [ -z "$files" ]; then
		echo "$0: no .c files in $src" >&2
		exit 1
	fi
elif [ -f "$src" ]; then
	files=$src
else
	echo "$0: $src: no such file or directory" >&2
	exit 1
fi

mkdir -p "$(dirname "$out")"
# -mexec-model=reactor: _initialize runs wasi-libc's constructors (so no
# -nostartfiles); -Wl,--strip-debug and -g0: no debug information.
# shellcheck disable=SC2086
"$CC" --target=wasm32-wasi -mexec-model=reactor -O2 -g0 -std=c11 \
	-Wall -Wextra -Wno-unused-parameter \
	-I"$sdk" "$sdk/bxwasm.c" "$sdk/bxwasm_window.c" $files \
	-Wl,--strip-debug -o "$out"
