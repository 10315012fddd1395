// Command wordcount is the classic first dataflow: it counts the words of
// a text file and prints one "word<TAB>count" line per distinct word.
//
// Build it as a bxwasm guest and run it with the CLI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o wordcount.wasm .
//	bxwasm run wordcount.wasm:"get_flow('testdata/demo.txt')" -w2
package main

import (
	"strconv"
	"strings"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("get_flow", wordcount, "path")
}

// wordcount reads the lines of the file at path (the host reads it, so the
// path is resolved and checked by the host), lower-cases them, splits them
// into words, counts every word across all workers and writes the counts
// to standard output.
func wordcount(path string) *bx.Dataflow {
	flow := bx.NewDataflow("wordcount")
	lines := bx.Input("inp", flow, bx.FileSource(path))
	// One file is one partition, read by one worker; spreading its lines
	// over every worker lets all of them lower-case and split.
	spread := bx.Redistribute("spread", lines)
	lower := bx.Map("lower", spread, strings.ToLower)
	words := bx.FlatMap("split", lower, strings.Fields)
	counts := bx.CountFinal("count", words, identity)
	out := bx.Map("format", counts, format)
	bx.Output("out", out, bx.StdOutSink())
	return flow
}

// identity keys every word by itself, so CountFinal counts each word.
func identity(word string) string { return word }

// format renders one count as "word<TAB>count".
func format(kv bx.KV[int]) string { return kv.Key + "\t" + strconv.Itoa(kv.Value) }

func main() {}
