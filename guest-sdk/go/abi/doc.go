// Package abi is the single source of truth for the wire between the bxwasm
// host and a guest module: export names, the ABI version, request and
// response layouts, and the batch frame that carries items.
//
// It is imported by the host (internal/wasm, internal/engine) and by the Go
// guest SDK (guest-sdk/go), so it uses the standard library only and builds
// for GOOS=wasip1 GOARCH=wasm. docs/abi.md describes the same wire in prose
// for authors of SDKs in other languages.
//
// # Calling convention
//
// The guest exports three functions besides the WASI reactor's _initialize:
//
//	bxwasm_abi_version() -> i32            ABI version the guest speaks (Version)
//	bxwasm_buffer(size i32) -> i32         pointer to a guest-owned buffer of at least size bytes
//	bxwasm_call(len i32) -> i64            run the request in the buffer; returns ptr<<32 | len of the response
//	bxwasm_last_error() -> i64             optional: after a trap, ptr<<32 | len of an ErrorInfo body, or 0
//
// For every call the host asks for a buffer, writes a request there, and
// calls bxwasm_call with the request's length. The response lives in guest
// memory until the next call into the guest; the host bounds-checks it and
// copies it out before anything else runs.
//
// # Encoding
//
// All integers are unsigned LEB128 varints (Writer.Uvarint) unless stated;
// signed times are zig-zag varints (Writer.Varint); strings and byte strings
// are a varint length followed by the bytes. A request is one Op byte followed
// by the op's body; a response is one Status byte followed by the body, or by
// an ErrorInfo when the status is StatusError.
package abi
