// Package flowspec reads the flow part of a run target, the text after the
// module path in
//
//	bxwasm run wc.wasm:"get_flow('in.txt', 3)"
//
// A spec is either a flow name (`flow`) or a call of a flow factory with
// literal arguments written as in Python, as Bytewax's
// `python -m bytewax.run module:get_flow('in.txt')` accepts them:
//
//	'single' "double"   strings, with Python's backslash escapes
//	42 -7 0x1f 1_000    ints (64-bit)
//	2.5 -1e3 .5         floats
//	true false True False
//
// Whitespace between tokens and a trailing comma are allowed. Keyword
// arguments are not: factories take their arguments by position.
//
// Parse turns a spec into the flow name and the arguments of an
// abi.BuildRequest; Format writes them back. SplitTarget separates the
// module path from the spec in a command-line target.
package flowspec
