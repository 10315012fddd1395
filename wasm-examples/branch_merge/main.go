// Command branch_merge splits a stream of numbers in two with Branch,
// transforms each half its own way and joins them again with Merge: even
// numbers are squared, odd numbers are negated.
//
// Build it as a bxwasm guest and run it with the CLI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o branch_merge.wasm .
//	bxwasm run branch_merge.wasm:"get_flow(10)" -w2
package main

import (
	"strconv"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("get_flow", branchMerge, "n")
}

// branchMerge builds the flow over the numbers 1..n.
func branchMerge(n int) *bx.Dataflow {
	flow := bx.NewDataflow("branch_merge")
	nums := bx.Input("inp", flow, bx.TestingSource(numbers(n), 16))
	evens, odds := bx.Branch("even_or_odd", nums, isEven)
	squares := bx.Map("square", evens, square)
	negated := bx.Map("negate", odds, negate)
	merged := bx.Merge("merge", squares, negated)
	out := bx.Map("format", merged, strconv.Itoa)
	bx.Output("out", out, bx.StdOutSink())
	return flow
}

func numbers(n int) []int {
	out := make([]int, 0, max(n, 0))
	for i := 1; i <= n; i++ {
		out = append(out, i)
	}
	return out
}

func isEven(x int) bool { return x%2 == 0 }

func square(x int) int { return x * x }

func negate(x int) int { return -x }

func main() {}
