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

// want is the output on testdata/readings.txt, worked out by hand. Window
// k covers [00:00 + 5k min, +10 min), so a reading is in two windows:
// temp1's 00:09 reading comes after its 00:12 one, more than Wait later,
// and is late for windows 0 and 1; its 00:11:30 reading is within Wait
// and counts; hum's 00:15 reading is in windows 2 and 3, not 1.
var want = []string{
	"hum 2024-01-01T00:05:00Z 40.00 1",
	"hum 2024-01-01T00:10:00Z 40.50 2",
	"hum 2024-01-01T00:15:00Z 41.00 1",
	"late temp1 2024-01-01T00:09:00Z 23 window 0",
	"late temp1 2024-01-01T00:09:00Z 23 window 1",
	"temp1 2023-12-31T23:55:00Z 20.50 2",
	"temp1 2024-01-01T00:00:00Z 21.00 3",
	"temp1 2024-01-01T00:05:00Z 23.67 3",
	"temp1 2024-01-01T00:10:00Z 24.50 2",
	"temp2 2023-12-31T23:55:00Z 10.00 1",
	"temp2 2024-01-01T00:00:00Z 10.75 2",
	"temp2 2024-01-01T00:05:00Z 11.50 1",
}

// TestSensorAverage runs the flow on testdata/readings.txt and on
// generated readings, on one and two workers, and checks every line:
// against the hand-made list, and against a brute-force model.
func TestSensorAverage(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	readings, err := os.ReadFile(filepath.Join("testdata", "readings.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := model(string(readings)); !slices.Equal(got, want) {
		t.Fatalf("the model disagrees with the hand-made list:\n got %q\nwant %q", got, want)
	}
	gen := generated(3000)
	if late := countPrefix(model(gen), "late "); late < 20 {
		t.Fatalf("the generated readings give %d late lines: too few to test lateness", late)
	}
	cases := []struct {
		name  string
		input string
		want  []string
	}{
		{"testdata", string(readings), want},
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
	if err := os.WriteFile(filepath.Join(dir, "readings.txt"), []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	opts := host.Options{WorkersPerProcess: workers, WorkDir: dir, Stdout: &out, CacheDir: testutil.CacheDir(t)}
	if err := host.Run(context.Background(), wasm, "get_flow('readings.txt')", opts); err != nil {
		t.Fatal(err)
	}
	return sortedLines(out.String())
}

// model computes the flow's output without it: per sensor, in file order,
// a reading more than Wait older than the sensor's newest is late for
// every window holding its time; the others are summed, in time order,
// into every window whose [start, start+Length) holds their time, the
// windows tried one by one.
func model(input string) []string {
	var out []string
	kept := map[string][]Reading{}
	newest := map[string]time.Time{}
	for _, l := range strings.Split(input, "\n") {
		r, ok := parse(l)
		if !ok {
			continue
		}
		if n, seen := newest[r.Sensor]; seen && r.At.Before(n.Add(-Wait)) {
			for _, id := range windowsOf(r.At) {
				out = append(out, fmt.Sprintf("late %s %s %s window %d", r.Sensor, r.At.Format(time.RFC3339),
					strconv.FormatFloat(r.Value, 'f', -1, 64), id))
			}
			continue
		}
		if n, seen := newest[r.Sensor]; !seen || r.At.After(n) {
			newest[r.Sensor] = r.At
		}
		kept[r.Sensor] = append(kept[r.Sensor], r)
	}
	for sensor, rs := range kept {
		slices.SortStableFunc(rs, func(a, b Reading) int { return a.At.Compare(b.At) })
		means := map[int64]Mean{}
		for _, r := range rs {
			for _, id := range windowsOf(r.At) {
				means[id] = add(means[id], r)
			}
		}
		for id, m := range means {
			out = append(out, fmt.Sprintf("%s %s %.2f %d", sensor, WindowStart(id).Format(time.RFC3339), m.Sum/float64(m.Count), m.Count))
		}
	}
	slices.Sort(out)
	return out
}

// windowsOf returns the ids of the windows holding t, found by trying
// every window within a day of it.
func windowsOf(t time.Time) []int64 {
	var ids []int64
	around := int64(t.Sub(AlignTo) / Offset)
	for id := around - int64(24*time.Hour/Offset); id <= around+int64(24*time.Hour/Offset); id++ {
		if start := WindowStart(id); !t.Before(start) && t.Before(start.Add(Length)) {
			ids = append(ids, id)
		}
	}
	return ids
}

// generated returns n readings of 6 sensors over about five hours, in
// tenths, one in five up to three minutes out of order, so some are late.
func generated(n int) string {
	rng := rand.New(rand.NewPCG(5, 6))
	base := AlignTo.Add(-time.Hour).UnixMilli()
	var b strings.Builder
	for i := range n {
		ms := base + int64(i)*6_000
		if rng.IntN(5) == 0 {
			ms -= rng.Int64N(180_000)
		}
		fmt.Fprintf(&b, "sensor%d,%d,%.1f\n", rng.IntN(6), ms, float64(rng.IntN(1000))/10)
	}
	return b.String()
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func sortedLines(s string) []string {
	lines := strings.Split(s, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	slices.Sort(lines)
	return lines
}
