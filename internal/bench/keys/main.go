// Command keys is the guest of the benchmark's resume figure: it reads a
// file of keys, one a line, and keeps a count per key with StatefulMap,
// so that a store written with -r holds one snapshot per distinct key.
// It prints the keys it has seen more than once: nothing, on the file of
// distinct keys the benchmark generates, so its output costs nothing.
//
// The counts are kept at EOF (a nil state would discard them), so a rerun
// with the same store resumes at the end of the input with every key's
// state loaded back into the guest:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o keys.wasm .
//	bxwasm run keys.wasm:"get_flow('keys.txt')" -r store
package main

import (
	"strconv"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("get_flow", keys, "path")
}

// keys builds the flow over the file at path.
func keys(path string) *bx.Dataflow {
	flow := bx.NewDataflow("keys")
	lines := bx.Input("inp", flow, bx.FileSource(path))
	keyed := bx.KeyOn("key", lines, identity)
	counts := bx.StatefulMap("count", keyed, count)
	repeats := bx.Filter("repeats", counts, repeated)
	out := bx.Map("format", repeats, format)
	bx.Output("out", out, bx.StdOutSink())
	return flow
}

// identity keys every line by itself.
func identity(line string) string { return line }

// count is the StatefulMap mapper: the state is how many times the key was
// seen (nil the first time); it never returns nil, so every key's state
// outlives EOF.
func count(seen *int, _ string) (*int, int) {
	if seen == nil {
		seen = new(int)
	}
	*seen++
	return seen, *seen
}

// repeated keeps the counts of keys seen more than once.
func repeated(kv bx.KV[int]) bool { return kv.Value > 1 }

// format renders one count as "key<TAB>count".
func format(kv bx.KV[int]) string { return kv.Key + "\t" + strconv.Itoa(kv.Value) }

func main() {}
