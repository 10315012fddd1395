//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
)

// diffSamples is how many missing and extra lines a Diff keeps.
const diffSamples = 5

// Diff is how a multiset of lines differs from the expected one.
type Diff struct {
	Want, Got    int      // lines in each
	Missing      int      // expected lines absent (counting repeats)
	Extra        int      // lines beyond the expected ones (counting repeats)
	FirstMissing []string // the first missing lines, in sorted order
	FirstExtra   []string // the first extra lines, in sorted order
}

// Equal reports whether the multisets were equal.
func (d Diff) Equal() bool { return d.Missing == 0 && d.Extra == 0 }

// String summarises d on one line, with the sample lines after it.
func (d Diff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d lines, want %d: %d missing, %d extra", d.Got, d.Want, d.Missing, d.Extra)
	for _, l := range d.FirstMissing {
		fmt.Fprintf(&b, "\n  missing %q", l)
	}
	for _, l := range d.FirstExtra {
		fmt.Fprintf(&b, "\n  extra   %q", l)
	}
	return b.String()
}

// compareSorted compares two sorted lists of lines as multisets.
func compareSorted(want, got []string) Diff {
	d := Diff{Want: len(want), Got: len(got)}
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			d.Missing++
			d.FirstMissing = sample(d.FirstMissing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			d.Extra++
			d.FirstExtra = sample(d.FirstExtra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return d
}

// sample appends l to s unless s has diffSamples lines already.
func sample(s []string, l string) []string {
	if len(s) < diffSamples {
		s = append(s, l)
	}
	return s
}

// sortedLines reads the lines of the file at path and sorts them.
func sortedLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("chaos: output: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("chaos: output %s: %w", path, err)
	}
	slices.Sort(lines)
	return lines, nil
}
