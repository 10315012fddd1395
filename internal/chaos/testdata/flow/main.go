// Command flow is the guest of the chaos harness: a running word count
// whose output, as a multiset of lines, does not depend on how often the
// run was killed and resumed, nor on how many workers ran it.
//
//	bxwasm run flow.wasm:"get_flow('in.txt', 'out.txt')" -r DIR
package main

import (
	"strconv"
	"strings"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("get_flow", runningCount, "in", "out")
}

// runningCount reads the lines of the file in, splits them into words,
// keeps a count per word and writes "word count" to the file out after
// every occurrence. The input is one partition read by one worker, so the
// occurrences of a word reach its owner in file order.
func runningCount(in, out string) *bx.Dataflow {
	flow := bx.NewDataflow("chaos")
	lines := bx.Input("inp", flow, bx.FileSource(in))
	words := bx.FlatMap("split", lines, strings.Fields)
	keyed := bx.KeyOn("key", words, identity)
	counts := bx.StatefulMap("count", keyed, count)
	formatted := bx.Map("format", counts, format)
	bx.Output("out", formatted, bx.FileSink(out))
	return flow
}

// identity keys every word by itself.
func identity(word string) string { return word }

// count adds one occurrence to the word's count (nil for a new word) and
// emits the new count.
func count(n *int, _ string) (*int, int) {
	if n == nil {
		n = new(int)
	}
	*n++
	return n, *n
}

// format renders one count as "word count".
func format(kv bx.KV[int]) string { return kv.Key + " " + strconv.Itoa(kv.Value) }

func main() {}
