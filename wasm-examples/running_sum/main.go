// Command running_sum keeps a running total per user over a stream of
// "user,amount" events and emits the new total after every event.
//
// Build it as a bxwasm guest and run it with the CLI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o running_sum.wasm .
//	bxwasm run running_sum.wasm -w2
package main

import (
	"strconv"
	"strings"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

// Events are the flow's input: payments as "user,amount" lines, in the
// order they happened. A line that does not parse is skipped.
var Events = []string{
	"alice,5", "bob,3", "alice,7", "carol,10", "bob,-1",
	"not an event", "alice,1", "carol,2", "dave,100", "bob,4",
	"alice,-3", "dave,-50", "carol,x", "carol,8", "erin,0",
}

func init() {
	bx.Register("flow", runningSum)
}

// runningSum builds the flow: parse each event into a keyed amount, add it
// to the user's total and print "user<TAB>total" after every event.
func runningSum() *bx.Dataflow {
	flow := bx.NewDataflow("running_sum")
	events := bx.Input("inp", flow, bx.TestingSource(Events, 4))
	amounts := bx.FilterMap("parse", events, parse)
	totals := bx.StatefulMap("total", amounts, add)
	out := bx.Map("format", totals, format)
	bx.Output("out", out, bx.StdOutSink())
	return flow
}

// parse turns "user,amount" into the amount keyed by user, and reports
// false for anything else.
func parse(line string) (bx.KV[int], bool) {
	user, amount, ok := strings.Cut(line, ",")
	if !ok || user == "" {
		return bx.KV[int]{}, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(amount))
	if err != nil {
		return bx.KV[int]{}, false
	}
	return bx.KV[int]{Key: strings.TrimSpace(user), Value: n}, true
}

// add is the StatefulMap mapper: the state is the user's total so far (nil
// for a user not seen yet); it returns the new state and emits the total.
func add(total *int, amount int) (*int, int) {
	if total == nil {
		total = new(int)
	}
	*total += amount
	return total, *total
}

// format renders one total as "user<TAB>total".
func format(kv bx.KV[int]) string { return kv.Key + "\t" + strconv.Itoa(kv.Value) }

func main() {}
