//go:build linux

package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestWriteInput(t *testing.T) {
	cases := []struct {
		name         string
		lines, vocab int
	}{
		{"one word", 50, 1},
		{"small", 1000, 50},
		{"zipf", 20_000, 5000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := input(t, tc.lines, tc.vocab, 7)
			if b := input(t, tc.lines, tc.vocab, 7); !bytes.Equal(a, b) {
				t.Fatal("same seed, different inputs")
			}
			if b := input(t, tc.lines, tc.vocab, 8); tc.vocab > 1 && bytes.Equal(a, b) {
				t.Fatal("other seed, same input")
			}
			counts := checkLines(t, a, tc.lines)
			if len(counts) > tc.vocab {
				t.Errorf("%d distinct words, want at most %d", len(counts), tc.vocab)
			}
			words := slices.Collect(func(yield func(int) bool) {
				for _, n := range counts {
					yield(n)
				}
			})
			slices.Sort(words)
			// Zipf-ish: the most frequent word is far above the median.
			if top, mid := words[len(words)-1], words[len(words)/2]; tc.vocab >= 50 && top < 10*mid {
				t.Errorf("top word %d times, median %d: not skewed", top, mid)
			}
		})
	}
}

// input generates an input and returns its bytes.
func input(t *testing.T, lines, vocab int, seed uint64) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.txt")
	if err := writeInput(path, lines, vocab, seed); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkLines checks the number of lines and of words per line, and counts
// the words.
func checkLines(t *testing.T, b []byte, lines int) map[string]int {
	t.Helper()
	all := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(all) != lines {
		t.Fatalf("%d lines, want %d", len(all), lines)
	}
	counts := map[string]int{}
	for _, l := range all {
		ws := strings.Fields(l)
		if len(ws) < 1 || len(ws) > maxWordsPerLine {
			t.Fatalf("line %q has %d words", l, len(ws))
		}
		for _, w := range ws {
			counts[w]++
		}
	}
	return counts
}

func TestExpectedLines(t *testing.T) {
	cases := []struct {
		name, input string
		want        []string
	}{
		{"empty", "", nil},
		{"one line", "b a b\n", []string{"a 1", "b 1", "b 2"}},
		{"across lines", "x\ny x\n\nx\n", []string{"x 1", "x 2", "x 3", "y 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.txt")
			if err := os.WriteFile(path, []byte(tc.input), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := expectedLines(path)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestVocabulary(t *testing.T) {
	for _, n := range []int{1, 26, 5000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			ws := vocabulary(n, rand.New(rand.NewPCG(1, 1)))
			seen := map[string]bool{}
			for _, w := range ws {
				if seen[w] || len(w) < 2 || len(w) > 9 || strings.ToLower(w) != w {
					t.Fatalf("bad or repeated word %q", w)
				}
				seen[w] = true
			}
			if len(ws) != n {
				t.Fatalf("%d words, want %d", len(ws), n)
			}
		})
	}
}
