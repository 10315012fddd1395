//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestRunningSum checks the exact sequence of running totals of every user,
// on one and on three workers, for the flow's own events and for inputs the
// test puts in their place.
func TestRunningSum(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	file, err := os.ReadFile(filepath.Join("testdata", "events.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		events  []string
		replace bool // feed events instead of the flow's own Events
	}{
		{"built-in events", Events, false},
		{"testdata events", strings.Split(strings.TrimSpace(string(file)), "\n"), true},
		{"generated events", generatedEvents(3000), true},
		{"no events", []string{}, true},
	}
	for _, tc := range cases {
		want := totals(tc.events)
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/w%d", tc.name, workers), func(t *testing.T) {
				var inputs host.TestInputs
				if tc.replace {
					inputs = host.TestInputs{"running_sum.inp": toItems(tc.events)}
				}
				opts := host.Options{WorkersPerProcess: workers, CacheDir: testutil.CacheDir(t)}
				out, err := host.TestRun(context.Background(), wasm, "flow", inputs, opts)
				if err != nil {
					t.Fatal(err)
				}
				got := perUser(t, out.Strings("running_sum.out"))
				if !maps.EqualFunc(got, want, slices.Equal) {
					t.Errorf("got  %v\nwant %v", got, want)
				}
			})
		}
	}
}

// totals computes, without the flow, the running total after every valid
// event, per user, in event order.
func totals(events []string) map[string][]int {
	sums := map[string]int{}
	seq := map[string][]int{}
	for _, e := range events {
		fields := strings.Split(e, ",")
		if len(fields) != 2 {
			continue
		}
		user := strings.TrimSpace(fields[0])
		n, err := strconv.ParseInt(strings.TrimSpace(fields[1]), 10, 0)
		if user == "" || err != nil {
			continue
		}
		sums[user] += int(n)
		seq[user] = append(seq[user], sums[user])
	}
	return seq
}

// perUser splits the flow's "user<TAB>total" lines by user, keeping their
// order.
func perUser(t *testing.T, lines []string) map[string][]int {
	t.Helper()
	seq := map[string][]int{}
	for _, l := range lines {
		user, total, ok := strings.Cut(l, "\t")
		n, err := strconv.Atoi(total)
		if !ok || err != nil {
			t.Fatalf("bad output line %q", l)
		}
		seq[user] = append(seq[user], n)
	}
	return seq
}

func toItems(lines []string) [][]byte {
	items := make([][]byte, len(lines))
	for i, l := range lines {
		items[i] = []byte(l)
	}
	return items
}

// generatedEvents returns n events of 50 users, some of them malformed.
func generatedEvents(n int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	events := make([]string, n)
	for i := range events {
		var b bytes.Buffer
		fmt.Fprintf(&b, "user%02d,%d", rng.IntN(50), rng.IntN(2001)-1000)
		if rng.IntN(20) == 0 {
			b.WriteString(",junk")
		}
		events[i] = b.String()
	}
	return events
}
