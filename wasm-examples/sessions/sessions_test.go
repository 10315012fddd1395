//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// want is the output on testdata/clicks.txt, worked out by hand: alice's
// 09:15 click comes after her 09:22 one, more than Wait later, and bob's
// 09:27 after his 09:30; bob's 09:28:30 is within Wait and joins his last
// session; dave's 09:05 click is exactly Gap after his first and joins
// it; the malformed and blank lines are skipped.
var want = []string{
	"late alice 2024-03-01T09:15:00Z checkout",
	"late bob 2024-03-01T09:27:00Z pricing",
	"session alice 0 2024-03-01T09:00:00Z 2024-03-01T09:07:00Z home,search,product,cart",
	"session alice 1 2024-03-01T09:20:00Z 2024-03-01T09:22:00Z home,faq,blog",
	"session bob 0 2024-03-01T09:02:00Z 2024-03-01T09:04:00Z home,about",
	"session bob 1 2024-03-01T09:10:00Z 2024-03-01T09:12:00Z home,contact",
	"session bob 2 2024-03-01T09:28:30Z 2024-03-01T09:30:00Z about,home",
	"session carol 0 2024-03-01T09:05:00Z 2024-03-01T09:05:00Z pricing",
	"session dave 0 2024-03-01T09:00:00Z 2024-03-01T09:05:00Z landing,docs",
	"session dave 1 2024-03-01T09:10:30Z 2024-03-01T09:10:30Z signup",
}

// TestSessions runs the flow on testdata/clicks.txt and on generated
// clicks, on one and two workers, and checks every line: against the
// hand-made list, and against a brute-force model of the sessions.
func TestSessions(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	clicks, err := os.ReadFile(filepath.Join("testdata", "clicks.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := model(string(clicks)); !slices.Equal(got, want) {
		t.Fatalf("the model disagrees with the hand-made list:\n got %q\nwant %q", got, want)
	}
	gen := generated(2000)
	if late, sessions := kinds(model(gen)); late < 20 || sessions < 24 {
		t.Fatalf("the generated clicks give %d late clicks and %d sessions: too few to test lateness and splitting", late, sessions)
	}
	cases := []struct {
		name  string
		input string
		want  []string
	}{
		{"testdata", string(clicks), want},
		{"generated", gen, model(gen)},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/w%d", tc.name, workers), func(t *testing.T) {
				got := run(t, wasm, tc.input, workers)
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %d lines, want %d\n got %.600q\nwant %.600q", len(got), len(tc.want), got, tc.want)
				}
			})
		}
	}
}

// run writes input to a file, runs get_flow on it and returns the sorted
// output lines.
func run(t *testing.T, wasm, input string, workers int) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "clicks.txt"), []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	opts := host.Options{WorkersPerProcess: workers, WorkDir: dir, Stdout: &out, CacheDir: testutil.CacheDir(t)}
	if err := host.Run(context.Background(), wasm, "get_flow('clicks.txt')", opts); err != nil {
		t.Fatal(err)
	}
	return sortedLines(out.String())
}

// model computes the flow's output without it: per user, in file order, a
// click more than Wait older than the user's newest is late; the others,
// in time order, form sessions wherever two clicks are more than Gap
// apart, numbered from 0.
func model(input string) []string {
	var out []string
	kept := map[string][]Click{}
	newest := map[string]time.Time{}
	for _, l := range strings.Split(input, "\n") {
		c, ok := parse(l)
		if !ok {
			continue
		}
		if n, seen := newest[c.User]; seen && c.At.Before(n.Add(-Wait)) {
			out = append(out, strings.Join([]string{"late", c.User, c.At.Format(time.RFC3339), c.Page}, " "))
			continue
		}
		if n, seen := newest[c.User]; !seen || c.At.After(n) {
			newest[c.User] = c.At
		}
		kept[c.User] = append(kept[c.User], c)
	}
	for user, cs := range kept {
		slices.SortStableFunc(cs, func(a, b Click) int { return a.At.Compare(b.At) })
		id, start := 0, 0
		for i := range cs {
			if i == len(cs)-1 || cs[i+1].At.Sub(cs[i].At) > Gap {
				out = append(out, sessionLine(user, id, cs[start:i+1]))
				id, start = id+1, i+1
			}
		}
	}
	slices.Sort(out)
	return out
}

func sessionLine(user string, id int, cs []Click) string {
	var pages []string
	for _, c := range cs {
		pages = append(pages, c.Page)
	}
	return strings.Join([]string{"session", user, strconv.Itoa(id), cs[0].At.Format(time.RFC3339),
		cs[len(cs)-1].At.Format(time.RFC3339), strings.Join(pages, ",")}, " ")
}

// generated returns n clicks of 12 users over about four hours, one in
// six of them up to five minutes out of order, so some are late; times
// are whole seconds and users pause often enough to start new sessions.
func generated(n int) string {
	rng := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	var b strings.Builder
	for i := range n {
		ms := base + int64(i)*7_000
		if rng.IntN(6) == 0 {
			ms -= rng.Int64N(300) * 1000
		}
		fmt.Fprintf(&b, "user%02d,%d,page%d\n", rng.IntN(12), ms, rng.IntN(9))
	}
	return b.String()
}

// kinds counts the late and the session lines.
func kinds(lines []string) (late, sessions int) {
	for _, l := range lines {
		if strings.HasPrefix(l, "late ") {
			late++
		} else {
			sessions++
		}
	}
	return late, sessions
}

func sortedLines(s string) []string {
	lines := strings.Split(s, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	slices.Sort(lines)
	return lines
}
