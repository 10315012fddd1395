// Command plain is a WASI reactor that is not a bxwasm guest: it exports
// a function of its own and none of the bxwasm exports.
package main

func main() {}

//go:wasmexport add
func add(a, b int32) int32 { return a + b }
